"""Most test programs run once, for a few steps on tiny inputs, so compiling is what they
cost: `fast_jit` compiles without XLA's backend optimizations (the same semantics; about
a third less time per compile here, but slower code, so not for the tests that learn)."""

import jax

FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def fast_jit(fn, **jit_options):
    return jax.jit(fn, compiler_options=FAST_COMPILE, **jit_options)
