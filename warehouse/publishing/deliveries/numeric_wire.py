"""Decode Postgres NUMERIC wire bytes (`numeric_send`) into exact Arrow decimals with numpy.

The binary form of a numeric is big-endian int16s: ndigits, weight, sign, dscale, then
`ndigits` base-10000 digits; the value is sum(digit[i] * 10000 ** (weight - i)). For a
numeric(p, s) column with p <= 18 the value times 10**s is an integer that fits an int64,
so every row decodes with a handful of vectorised integer operations, exactly, and the
int64s become the low half of Arrow's 128-bit decimals.
(https://github.com/postgres/postgres/blob/REL_15_STABLE/src/backend/utils/adt/numeric.c, numeric_send)
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa

MAX_INT64_PRECISION = 18
_HEADER_WORDS = 4  # ndigits, weight, sign, dscale
_SIGN_NEGATIVE = 0x4000
_SIGN_SPECIAL = 0xC000  # NaN; +-Infinity are 0xD000 / 0xF000
_POWERS_OF_TEN = 10 ** np.arange(MAX_INT64_PRECISION + 1, dtype=np.int64)
# floor(digit / 10**k) == (digit * _DIVIDE_BY_POWER_OF_TEN[k]) >> 32 for every base-10000 digit:
# rounding the multiplier up adds less than 10000 / 2**32, and a quotient's fraction is at most
# 0.999. k = 0 keeps the digit, k >= 4 gives 0. A multiply and a shift cost far less than an
# int64 division.
_DIVIDE_BY_POWER_OF_TEN = np.array([1 << 32, *(-(-(1 << 32) // 10**k) for k in (1, 2, 3)), 0], dtype=np.int64)


class NumericWireError(ValueError):
    """A numeric value that has no decimal(p, s) form: NaN or Infinity."""


def unscaled_int64(values: pa.BinaryArray, scale: int, column: str = "numeric") -> np.ndarray:
    """Each value times 10**scale as an int64 (0 where the value is null).

    Postgres guarantees a numeric(p, s) value has at most s decimal places and p digits, so
    every digit group lands on a whole power of ten and the sum never leaves int64.
    """
    if values.offset:
        values = pa.concat_arrays([values])  # re-base a sliced array so its buffers start at row 0
    count = len(values)
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32, count=count + 1)
    word_count = int(offsets[-1]) // 2 if count else 0
    unscaled = np.zeros(count, dtype=np.int64)
    if word_count == 0:
        return unscaled  # no rows, or only nulls
    # Every wire value is 8 + 2 * ndigits bytes long, so each starts on an even byte and the
    # buffer reads as big-endian 16-bit words. Reads for rows that lack a word (nulls, short
    # values) are clamped into the buffer by take(mode="clip") and masked out, which keeps
    # every step vectorised (take is several times cheaper than fancy indexing here).
    data = values.buffers()[2]
    unsigned_words = np.frombuffer(data, dtype=">u2", count=word_count)
    lengths = np.diff(offsets)
    start = offsets[:-1] >> 1
    ndigits = (lengths - 8) >> 1  # negative for nulls
    weight = np.take(np.frombuffer(data, dtype=">i2", count=word_count), start + 1, mode="clip")
    sign = np.take(unsigned_words, start + 2, mode="clip")
    if np.any((sign >= _SIGN_SPECIAL) & (lengths > 0)):
        raise NumericWireError(f"{column}: holds NaN or Infinity, which a decimal column cannot carry")
    # digit i is worth digit * 10000 ** (weight - i) * 10 ** scale == digit * 10 ** exponent
    exponent = 4 * weight.astype(np.int64) + scale
    first_digit = start + _HEADER_WORDS
    for i in range(int(ndigits.max())):
        digit = np.take(unsigned_words, first_digit + i, mode="clip").astype(np.int64)
        digit[ndigits <= i] = 0
        if exponent.min() < 0:  # a last group below the scale: drop its trailing zeros
            digit *= np.take(_DIVIDE_BY_POWER_OF_TEN, -exponent, mode="clip")  # exponent >= 0: 1 << 32
            digit >>= 32
        digit *= np.take(_POWERS_OF_TEN, exponent, mode="clip")  # exponent < 0: 10 ** 0
        unscaled += digit
        exponent -= 4
    np.negative(unscaled, out=unscaled, where=sign == _SIGN_NEGATIVE)
    return unscaled


def decimal_from_numeric_send(
    values: pa.Array, precision: int, scale: int, column: str = "numeric"
) -> pa.Array:
    """numeric_send bytes of a numeric(precision, scale) column -> decimal128(precision, scale)."""
    if precision > MAX_INT64_PRECISION:
        raise ValueError(f"{column}: numeric({precision}, {scale}) does not fit the int64 fast path")
    if sys.byteorder != "little":  # Arrow decimals are little-endian 128-bit integers
        raise NotImplementedError("numeric wire decoding assumes a little-endian host")
    if isinstance(values, pa.ExtensionArray):
        values = values.storage
    if values.offset:
        values = pa.concat_arrays([values])
    unscaled = unscaled_int64(values, scale, column)
    halves = np.empty((len(unscaled), 2), dtype=np.int64)
    halves[:, 0] = unscaled
    halves[:, 1] = unscaled >> 63  # sign-extend into the high 64 bits
    validity = values.buffers()[0] if values.null_count else None
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale),
        len(unscaled),
        [validity, pa.py_buffer(halves)],
        null_count=values.null_count,
    )
