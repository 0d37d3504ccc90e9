"""Random draws that give JAX's own numbers faster on a CPU (the categorical latent samples
~330 x 1,024 classes per member and step; scripts/profile_parts.py).

Neither changes a single bit of any result: the Threefry hash is the same integer
arithmetic however it is compiled, and `categorical` returns exactly
`jax.random.categorical`'s draw (tests/test_sampling.py checks both against JAX).
"""

import jax
import jax.numpy as jnp


def unroll_threefry_on_cpu() -> bool:
    """Compile the Threefry hash on CPU as straight-line code, as JAX does on every other
    platform. On CPU JAX rolls its 5 key-injection steps into a while loop to save compile
    time; the loop stores both 32-bit words of every counter each iteration, so a draw of
    ~5M bits took 47 ms where the straight-line hash takes 3.5 (one core; programs also
    compile faster, the loops being the costlier for XLA). JAX's private lowering rule is
    used; if a JAX version no longer has it, nothing changes and False is returned.
    It changes JAX's lowering for the whole process, so programs call it at their start
    (`mbgen`, scripts/benchmark.py, scripts/profile_parts.py, the tests' conftest), never
    on import."""
    try:
        from jax._src.interpreters import mlir
        from jax._src.random import threefry2x32
    except ImportError:
        return False
    rule = getattr(threefry2x32, "_threefry2x32_lowering_rule", None)
    primitive = getattr(threefry2x32, "threefry2x32_p", None)
    if rule is None or primitive is None:
        return False
    mlir.register_lowering(primitive, rule, platform="cpu")
    return True


def categorical(key: jax.Array, logits: jax.Array) -> jax.Array:
    """`jax.random.categorical(key, logits)` over the last axis, the same draw (Gumbel-max:
    the first index of the largest logit + Gumbel noise). The first index of the maximum
    is found by a max and then a min over the indices that reach it: XLA's CPU back end
    vectorizes both, where jnp.argmax's (value, index) reduction runs element by element
    with the Gumbel noise fused into it (76 against 28 ms for 5M classes, one core). As
    with argmax, a NaN counts as the maximum."""
    noisy = jax.random.gumbel(key, logits.shape, logits.dtype) + logits
    classes = logits.shape[-1]
    is_max = (noisy == noisy.max(axis=-1, keepdims=True)) | jnp.isnan(noisy)
    return jnp.min(jnp.where(is_max, jnp.arange(classes), classes), axis=-1)
