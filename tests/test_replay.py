import jax
import jax.numpy as jnp
import numpy as np

from agents import replay
from agents.base import Transition
from agents.replay import store, stored_example, unstore


def test_fifo_overwrites_the_oldest_item_and_sizes_saturate():
    buffer = replay.init(jnp.int32(0), capacity=3)
    for value in range(5):
        buffer = replay.add(buffer, jnp.int32(value))
    assert int(buffer.size) == 3
    assert sorted(np.asarray(buffer.items).tolist()) == [2, 3, 4]
    assert int(buffer.cursor) == 5 % 3


def test_sampling_is_uniform_with_replacement_over_filled_slots_only():
    buffer = replay.init(jnp.int32(0), capacity=10)
    for value in (7, 8, 9):
        buffer = replay.add(buffer, jnp.int32(value))
    draws = np.asarray(replay.sample(buffer, jax.random.key(0), 30_000))
    values, counts = np.unique(draws, return_counts=True)
    assert values.tolist() == [7, 8, 9]  # never an empty slot
    # Each of 3 items has probability 1/3: 5 standard errors of a binomial proportion.
    assert np.all(np.abs(counts / 30_000 - 1 / 3) < 5 * np.sqrt((1 / 3) * (2 / 3) / 30_000))


def test_observations_are_stored_as_packed_bits_and_come_back_exactly():
    bits = jax.random.bernoulli(jax.random.key(1), 0.5, (64,))
    transition = Transition(bits, jnp.int32(3), jnp.float32(-1), jnp.bool_(True), ~bits, None)
    stored = store(transition)
    assert stored.obs.dtype == jnp.uint8 and stored.obs.shape == (8,)
    back = unstore(jax.tree.map(lambda x: x[None], stored), 64)
    assert np.array_equal(back.obs[0], bits) and np.array_equal(back.next_obs[0], ~bits)
    assert back.obs.dtype == jnp.bool_


def test_a_stored_transition_of_procmaze4_takes_a_quarter_of_float32_or_less():
    nbytes = sum(x.nbytes for x in jax.tree.leaves(stored_example(64)))
    float32_observations = 2 * 64 * 4
    assert nbytes <= float32_observations / 4
