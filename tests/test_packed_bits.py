"""Observations are kept as packed bits (agents/replay.py): every width comes back exactly,
also those that are not a multiple of 8, whose last byte is part padding."""

import jax
import numpy as np
import pytest

from agents import replay


@pytest.mark.parametrize("width", [1, 7, 9, 15, 17, 28, 63, 65])
def test_packed_bits_come_back_exactly_at_every_width(width):
    bits = jax.random.bernoulli(jax.random.key(width), 0.5, (5, width))
    bits = bits.at[:, -1].set(True)  # the last bit on, in the padded byte
    packed = replay.pack_bits(bits)
    assert packed.shape == (5, -(-width // 8))
    back = replay.unpack_bits(packed, width)
    assert back.shape == (5, width) and back.dtype == np.bool_
    np.testing.assert_array_equal(back, bits)
    np.testing.assert_array_equal(replay.unpack_bits(replay.pack_bits(~bits), width), ~bits)
