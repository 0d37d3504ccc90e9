"""A functional FIFO replay buffer, sampled uniformly with replacement, and `Buffer`, the
record of how an agent fills and draws from one: `UNIFORM` (the paper's), or the prioritized
variant of agents/priority.py.

Observations are stored as packed bits (8 per byte): a transition of ProcMaze n=4 keeps its
two 64-bit observations in 16 bytes, where float32 copies would take 512.
"""

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from agents.base import Transition


class Replay(NamedTuple):
    items: Any  # a pytree whose leaves have a leading axis of length `capacity`
    size: jax.Array
    cursor: jax.Array
    priorities: Any = None  # a prioritized buffer's (agents.priority.Priorities)


def init(example: Any, capacity: int) -> Replay:
    items = jax.tree.map(
        lambda x: jnp.zeros((capacity, *jnp.shape(x)), jnp.asarray(x).dtype), example
    )
    return Replay(items, jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))


def add(replay: Replay, item: Any) -> Replay:
    capacity = jax.tree.leaves(replay.items)[0].shape[0]
    items = jax.tree.map(lambda store, x: store.at[replay.cursor].set(x), replay.items, item)
    size = jnp.minimum(replay.size + 1, capacity)
    return replay._replace(items=items, size=size, cursor=(replay.cursor + 1) % capacity)


def sample_indices(replay: Replay, key: jax.Array, batch_size: int) -> jax.Array:
    """Slots drawn uniformly with replacement from the filled ones."""
    return jax.random.randint(key, (batch_size,), 0, replay.size)


def take(replay: Replay, index: jax.Array) -> Any:
    return jax.tree.map(lambda store: store[index], replay.items)


def sample(replay: Replay, key: jax.Array, batch_size: int) -> Any:
    return take(replay, sample_indices(replay, key, batch_size))


def sample_sequences(replay: Replay, key: jax.Array, batch_size: int, length: int):
    """`batch_size` runs of `length` consecutive stored items from slots drawn as `sample`
    draws them with the same key (so step 0 is `sample`'s batch): `sequences`."""
    return sequences(replay, sample_indices(replay, key, batch_size), length)


def sequences(replay: Replay, start: jax.Array, length: int):
    """The runs of `length` consecutive stored items from slots `start`, (batch, length,
    ...), and whether each item is in the buffer and stored after the run's first (batch,
    length).

    The buffer is a FIFO in time order, so item i is followed by item i + 1 (mod
    capacity); a run that reaches the newest item (the cursor, once the buffer is full; its
    size before) continues into the oldest one or unwritten slots, which are marked not
    in the buffer. Whether a stored item continues the trajectory of the one before
    (no terminal, no reset between them) is the caller's to check."""
    capacity = jax.tree.leaves(replay.items)[0].shape[0]
    index = (start[:, None] + jnp.arange(length)) % capacity
    oldest = jnp.where(replay.size < capacity, 0, replay.cursor)
    age = (start - oldest) % capacity  # 0 for the oldest item, size - 1 for the newest
    in_buffer = age[:, None] + jnp.arange(length) < replay.size
    return jax.tree.map(lambda store: store[index], replay.items), in_buffer


# ----------------------------------------------------------------------------- variants


class Sample(NamedTuple):
    """Items drawn from a buffer, their slots, and their importance weights."""

    items: Any
    index: jax.Array
    weight: jax.Array


class Buffer(NamedTuple):
    """A replay variant: how an agent's buffer starts, keeps an item and draws `n` of them,
    and how the TD errors learned from drawn slots feed back to it."""

    init: Callable[[Any, int], Replay]  # (example item, capacity) -> replay
    add: Callable[[Replay, Any], Replay]  # (replay, item) -> replay
    sample: Callable[[Replay, jax.Array, int], Sample]  # (replay, key, n) -> sample
    set_priorities: Callable[[Replay, jax.Array, jax.Array], Replay]  # (replay, slots, TD errors)
    prioritized: bool = False


def sample_uniformly(replay: Replay, key: jax.Array, n: int) -> Sample:
    """`sample`'s draw with its slots, every importance weight 1."""
    index = sample_indices(replay, key, n)
    return Sample(take(replay, index), index, jnp.ones(n, jnp.float32))


# The paper's buffer: uniform draws, and what is learned from them changes nothing here.
UNIFORM = Buffer(init, add, sample_uniformly, lambda replay, index, td_error: replay)


# ----------------------------------------------------------------------------- packed bits


def pack_bits(bits: jax.Array) -> jax.Array:
    return jnp.packbits(bits, axis=-1)


def unpack_bits(packed: jax.Array, size: int) -> jax.Array:
    return jnp.unpackbits(packed, axis=-1, count=size).astype(bool)


# ----------------------------------------------------------------------------- what is kept


class Stored(NamedTuple):
    """A real transition as a replay buffer keeps it: observations as packed bits."""

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    terminal: jax.Array
    next_obs: jax.Array


def store(transition: Transition) -> Stored:
    return Stored(
        pack_bits(transition.obs),
        transition.action.astype(jnp.int32),
        transition.reward.astype(jnp.float32),
        transition.terminal,
        pack_bits(transition.next_obs),
    )


def stored_example(obs_size: int) -> Stored:
    """A zero transition with the shapes and dtypes a replay buffer stores."""
    bits = jnp.zeros(obs_size, bool)
    return store(Transition(bits, jnp.int32(0), jnp.float32(0), jnp.bool_(False), bits, None))


def unstore(stored: Stored, obs_size: int) -> Transition:
    """Stored transitions with their bits unpacked (the env state is not kept)."""
    return Transition(
        unpack_bits(stored.obs, obs_size),
        stored.action,
        stored.reward,
        stored.terminal,
        unpack_bits(stored.next_obs, obs_size),
        None,
    )


class Memory(NamedTuple):
    """What an agent's buffer keeps of each real step."""

    example: Any  # one kept item (its shapes and dtypes size the buffer)
    keep: Callable[[Transition], Any]


def transitions(obs_size: int) -> Memory:
    """Real transitions with packed observations: what every agent but the perfect model keeps."""
    return Memory(stored_example(obs_size), store)
