"""A functional FIFO replay buffer, sampled uniformly with replacement.

Observations are stored as packed bits (8 per byte): a transition of ProcMaze n=4 keeps its
two 64-bit observations in 16 bytes, where float32 copies would take 512.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp


class Replay(NamedTuple):
    items: Any  # a pytree whose leaves have a leading axis of length `capacity`
    size: jax.Array
    cursor: jax.Array


def init(example: Any, capacity: int) -> Replay:
    items = jax.tree.map(
        lambda x: jnp.zeros((capacity, *jnp.shape(x)), jnp.asarray(x).dtype), example
    )
    return Replay(items, jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))


def add(replay: Replay, item: Any) -> Replay:
    capacity = jax.tree.leaves(replay.items)[0].shape[0]
    items = jax.tree.map(lambda store, x: store.at[replay.cursor].set(x), replay.items, item)
    return Replay(items, jnp.minimum(replay.size + 1, capacity), (replay.cursor + 1) % capacity)


def sample(replay: Replay, key: jax.Array, batch_size: int) -> Any:
    index = jax.random.randint(key, (batch_size,), 0, replay.size)
    return jax.tree.map(lambda store: store[index], replay.items)


def pack_bits(bits: jax.Array) -> jax.Array:
    return jnp.packbits(bits, axis=-1)


def unpack_bits(packed: jax.Array, size: int) -> jax.Array:
    return jnp.unpackbits(packed, axis=-1, count=size).astype(bool)
