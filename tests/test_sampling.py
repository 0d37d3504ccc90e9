"""agents/sampling.py draws JAX's own numbers: the categorical draw equals
jax.random.categorical's, and the unrolled Threefry gives the bits of JAX's rolled one."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import agents  # noqa: F401  (importing the package unrolls the Threefry hash on CPU)
from agents import sampling

# The draws compared across processes: raw bits, a split, normals, uniforms, Bernoullis.
DRAWS = """
import jax, jax.numpy as jnp, numpy as np
key = jax.random.key(7)
draws = [
    jax.random.bits(key, (3, 1000)),
    jax.random.key_data(jax.random.split(key, 5)),
    jax.random.normal(jax.random.fold_in(key, 1), (257,)),
    jax.random.uniform(jax.random.fold_in(key, 2), (4, 33)),
    jax.random.bernoulli(jax.random.fold_in(key, 3), 0.3, (99,)),
]
print(";".join(np.asarray(d).tobytes().hex() for d in draws))
"""


def draws_in(process_code: str) -> str:
    done = subprocess.run([sys.executable, "-c", process_code], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="the rolled hash is CPU's only")
def test_unrolled_threefry_gives_the_rolled_hash_bits():
    # this process imported agents (unrolled); a fresh one without it runs JAX's own loop
    assert sampling.unroll_threefry_on_cpu(), "this JAX has no unrolled lowering to use"
    hlo = jax.jit(lambda k: jax.random.bits(k, (64,))).lower(jax.random.key(0)).compile()
    assert "while" not in hlo.as_text()  # the hash is straight-line code here
    rolled = draws_in(DRAWS)
    unrolled = draws_in("import agents\n" + DRAWS)
    assert rolled == unrolled
    namespace = {}
    exec(DRAWS.replace("print(", "result = ("), namespace)
    assert namespace["result"] == rolled


@pytest.mark.parametrize("shape", [(500, 32, 32), (7, 4), (3,)])
def test_categorical_is_jax_random_categorical(shape):
    logits = 3 * jax.random.normal(jax.random.key(0), shape)
    for seed in range(5):
        key = jax.random.key(seed)
        ours = sampling.categorical(key, logits)
        assert ours.dtype == jnp.int32 and ours.shape == shape[:-1]
        np.testing.assert_array_equal(ours, jax.random.categorical(key, logits))


def test_categorical_masks_ties_and_nans_like_jax():
    logits = jax.random.normal(jax.random.key(1), (6, 8))
    logits = logits.at[0, :5].set(-jnp.inf)  # masked classes are never drawn
    logits = logits.at[1].set(-jnp.inf)  # all masked: class 0, as argmax says
    logits = logits.at[2].set(jnp.inf)  # all tied at +inf: the first
    logits = logits.at[3, 2].set(jnp.nan).at[3, 6].set(jnp.nan)  # the first NaN
    for seed in range(20):
        key = jax.random.key(seed)
        ours = sampling.categorical(key, logits)
        np.testing.assert_array_equal(ours, jax.random.categorical(key, logits))
        assert ours[0] >= 5 and ours[1] == 0 and ours[2] == 0 and ours[3] == 2


def test_categorical_frequencies_follow_the_softmax():
    probs = jnp.array([0.1, 0.2, 0.3, 0.4])
    draws = sampling.categorical(jax.random.key(3), jnp.log(jnp.tile(probs, (40_000, 1))))
    frequencies = np.bincount(np.asarray(draws), minlength=4) / 40_000
    # binomial standard errors are at most 0.0025
    np.testing.assert_allclose(frequencies, probs, atol=0.01)
