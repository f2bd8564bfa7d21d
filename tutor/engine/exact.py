"""Arithmetic that gives the same bits on every machine: ordered sums, matrix products, exp and log.

numpy's `@` calls BLAS, whose summation order depends on the CPU's kernel and the number of
threads, and numpy's exp, log and tanh have SIMD versions chosen by the CPU. Either can change
the last bits of a result from one machine to the next, and a training run amplifies them. So
the digits network computes with these instead, built only from IEEE operations whose result
is fixed by the standard (+, -, *, /, sqrt, rint, ldexp, frexp, comparisons; and integer shifts to
build a power of two from its exponent bits), each as its own ufunc so no compiler can fuse a
multiply and an add. Where a shortcut is taken for speed (exp without clipping, a strided b copied
before a product), tests/test_exact.py checks that it gives the bits of the long way round.

- `ordered_sum` adds in index order, `acc = a[0]; acc += a[1]; ...` (numpy reduces an axis
  that is not the fastest in memory naively, in this order; only the fastest axis gets pairwise
  summation, see the notes of `numpy.sum`, so the summed axis is laid out outermost).
- `matmul(a, b)[i, j]` is `ordered_sum` over k of the rounded products `a[i, k] * b[k, j]`.
- `exp` and `log` follow fdlibm (Sun's freely distributable libm): a range reduction by
  multiples of ln 2 and a fixed polynomial, within one unit in the last place of the exact value.
- `random_words` is SplitMix64 on 64-bit integers.

tests/test_digits.py replays a run with these rules written out in plain Python and gets every bit.
"""

from __future__ import annotations

import numpy as np

try:  # einsum's C function: its Python wrapper costs a few microseconds a call, 20 calls an update of the network
    from numpy._core.multiarray import c_einsum as _einsum
except ImportError:  # another numpy's layout
    _einsum = np.einsum

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _sum_first_axis(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Sum over axis 0 in order. numpy reduces an axis in order as long as it is not the one fastest in memory,
    so the rest is laid out C-contiguous behind it, at least two wide (a 1-wide rest would make axis 0 the fastest).
    A single column is summed by a running sum, which adds in order too; the reduction starts from 0 (so a sum of
    -0s is +0) and the running sum from a[0], so 0 is added to its end."""
    if a.ndim >= 2 and a.shape[0] and a.size >= 2 * a.shape[0] and a.flags.c_contiguous:  # the usual case: no copy
        return np.add.reduce(a, 0, out=out)
    if a[0].size >= 2:
        return np.add.reduce(np.ascontiguousarray(a), axis=0, out=out)
    total = (np.add.accumulate(a.reshape(a.shape[0]))[-1:] + 0.0).reshape(a.shape[1:])
    if out is None:
        return total
    out[...] = total
    return out


def ordered_sum(a: np.ndarray, axis: int, out: np.ndarray | None = None) -> np.ndarray:
    """Sum along `axis` in index order (a[0] + a[1] first, then + a[2], ...), into `out` if given."""
    if axis and a.ndim == 2:  # a.T is moveaxis(a, 1, 0), without its checks
        return _sum_first_axis(a.T, out)
    return _sum_first_axis(np.moveaxis(a, axis, 0) if axis else a, out)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a @ b with the products of each output summed in order of k, into `out` if given."""
    # products[k, i, j] = a[i, k] * b[k, j], k outermost in memory. einsum without a summed index makes each
    # element one rounded product (it adds it to a zero: a zero product comes out +0 where a * b gives -0).
    # einsum's inner loop runs along b's rows: contiguous, it takes a vector loop ~1.4 times faster than on a strided b
    # (W.T in the backward pass: 31 -> 22 us for 32x32), so a strided b is copied first. The products are the same,
    # except that the vector loop makes a NaN times a NaN b's NaN where the other makes it a's (their sign bits
    # may differ): the copy is taken only when a has no NaN.
    if not b.flags.c_contiguous and a.size and not np.isnan(np.minimum.reduce(a, axis=None)):
        b = np.ascontiguousarray(b)
    return _sum_first_axis(_einsum("ik,kj->kij", a, b, order="C"), out)


def constant(value: float) -> np.ndarray:
    """A read-only 0-d array: a ufunc takes one faster than a Python float (no scalar conversion on each call), same bits."""
    array = np.array(value, dtype=float)
    array.setflags(write=False)
    return array


# fdlibm e_exp.c
_EXP_HIGH = 7.09782712893383973096e02  # above: overflow to inf
_EXP_LOW = -7.45133219101941108420e02  # below: underflow to 0
_LN2_HI = 6.93147180369123816490e-01  # ln 2 to 32 bits: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_P = (1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05, -1.65339022054652515390e-06)
_P5 = 4.13813679705723846039e-08
# Where every x gives k = rint(x / ln 2) in [-1020, 1020]: 2**k and e**x are normal doubles, so y * 2**k is exact
# (what ldexp gives), and nothing needs clipping.
_EXP_FAST = 707.0
_EXPONENT_SHIFT = 2.0**52 + 1023.0  # k + this: a double whose low mantissa bits are k + 1023, 2**k's exponent field
ONE, TWO = constant(1.0), constant(2.0)
_C_LN2_HI, _C_LN2_LO, _C_INV_LN2, _C_P5 = map(constant, (_LN2_HI, _LN2_LO, _INV_LN2, _P5))
_C_P = tuple(map(constant, reversed(_P)))  # the order Horner's rule takes them: _P[3] first, _P[0] last
_C_EXPONENT_SHIFT = constant(_EXPONENT_SHIFT)
_FIFTY_TWO = np.array(52, dtype=np.uint64)


def exp(x: np.ndarray) -> np.ndarray:
    """e**x: x = k ln2 + r with |r| <= ln2/2, e**r from fdlibm's polynomial, times 2**k.

    x is first clipped to a little beyond the range where e**x is a finite non-zero double: there
    ldexp overflows to inf (numpy warns, unless told not to) or underflows to 0 on its own. NaN stays NaN.
    When every x is well inside that range (the usual case) nothing is clipped and 2**k is built from its bits:
    the same numbers, with fewer operations. Each step writes into a buffer of the ones before."""
    x = np.asarray(x, dtype=float)
    k = np.abs(x)
    if x.size and np.maximum.reduce(k, axis=None) <= _EXP_FAST:  # one reduction; NaN fails it
        np.multiply(x, _C_INV_LN2, k)
        np.rint(k, k)
        hi = np.multiply(k, _C_LN2_HI)
        np.subtract(x, hi, hi)  # hi = x - k * ln2_hi
        lo = np.multiply(k, _C_LN2_LO)
        y = _exp_reduced(hi, lo)
        two_k = np.add(k, _C_EXPONENT_SHIFT, k)
        bits = two_k.view(np.uint64)
        np.left_shift(bits, _FIFTY_TWO, bits)  # the exponent field k + 1023 in place, sign and mantissa 0
        return np.multiply(y, two_k, y)
    inside = np.maximum(x, _EXP_LOW - 1.0, out=np.empty(x.shape))  # an array even for one number (out= below)
    np.minimum(inside, _EXP_HIGH + 1.0, out=inside)
    k = np.multiply(inside, _INV_LN2)
    np.rint(k, out=k)
    np.copyto(k, 0.0, where=k != k)  # NaN: any whole k (the NaN goes on through r); ldexp needs one
    hi = np.multiply(k, _LN2_HI)
    np.subtract(inside, hi, out=hi)  # hi = inside - k * ln2_hi
    lo = np.multiply(k, _LN2_LO, out=inside)
    y = _exp_reduced(hi, lo)
    return np.ldexp(y, k.astype(np.int64), out=y)


def _exp_reduced(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """e**r for r = hi - lo, fdlibm's y = 1 - ((lo - (r * c) / (2 - c)) - hi) with c = r - t * poly(t), t = r * r;
    in a new array (hi and lo are left as they are)."""
    r = np.subtract(hi, lo)
    t = np.multiply(r, r)
    poly = np.multiply(t, _C_P5)
    for coefficient in _C_P:  # poly = coefficient + t * poly
        np.add(poly, coefficient, poly)
        if coefficient is not _C_P[-1]:
            np.multiply(poly, t, poly)
    c = np.multiply(t, poly, poly)
    np.subtract(r, c, c)  # c = r - t * poly
    np.subtract(TWO, c, t)
    np.multiply(r, c, c)
    np.divide(c, t, c)  # (r * c) / (2 - c)
    np.subtract(lo, c, c)
    np.subtract(c, hi, c)
    np.subtract(ONE, c, c)  # y = 1 - ((lo - (r * c) / (2 - c)) - hi)
    return c


# fdlibm e_log.c
_LG = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
_SQRT_HALF = 0.7071067811865476
_C_LG = tuple(map(constant, reversed(_LG)))  # Horner's order: _LG[-1] first
_C_SQRT_HALF, _HALF = constant(_SQRT_HALF), constant(0.5)


def log(x: np.ndarray) -> np.ndarray:
    """Natural log of positive finite x: x = m 2**e with m in [sqrt(1/2), sqrt(2)), log(m) from fdlibm's polynomial in
    s = (m - 1) / (m + 1). 0 gives -inf, negative numbers and NaN give NaN, inf gives inf."""
    x = np.asarray(x, dtype=float)
    # the usual case (a loss's sums of exponentials): every x positive and finite, nothing to put back at the end
    every = bool(x.size and np.minimum.reduce(x, axis=None) > 0 and np.maximum.reduce(x, axis=None) < np.inf)
    usable = None if every else (x > 0) & np.isfinite(x)
    m, e = np.frexp(x if usable is None else np.where(usable, x, 1.0))
    low = np.less(m, _C_SQRT_HALF)
    np.multiply(m, TWO, out=m, where=low)
    k = np.subtract(e, low, dtype=float)  # exact: e and low are small whole numbers
    f = np.subtract(m, ONE, m)
    s = np.add(TWO, f)
    np.divide(f, s, s)
    z = np.multiply(s, s)
    poly = np.multiply(z, _C_LG[0])
    for coefficient in _C_LG[1:]:  # poly = coefficient + z * poly
        np.add(poly, coefficient, poly)
        if coefficient is not _C_LG[-1]:
            np.multiply(poly, z, poly)
    r = np.multiply(z, poly, poly)
    half_f2 = np.multiply(_HALF, f)
    np.multiply(half_f2, f, half_f2)
    # result = k * ln2_hi - ((half_f2 - (s * (half_f2 + r) + k * ln2_lo)) - f)
    np.add(half_f2, r, r)
    np.multiply(s, r, r)
    np.multiply(k, _C_LN2_LO, z)
    np.add(r, z, r)
    np.subtract(half_f2, r, r)
    np.subtract(r, f, r)
    result = np.multiply(k, _C_LN2_HI, k)
    np.subtract(result, r, result)
    if usable is None:
        return result
    result = np.where(x == 0, -np.inf, np.where(x == np.inf, np.inf, result))
    return np.where(usable | (x == 0) | (x == np.inf), result, np.nan)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream_key(seed: int, stream: int) -> int:
    """The starting state of stream `stream` of seed `seed`: SplitMix64's mix of the seed's mix plus the stream number."""
    first = int(_mix(np.array([seed & MASK64], dtype=np.uint64))[0])
    return int(_mix(np.array([(first + stream) & MASK64], dtype=np.uint64))[0])


def random_words(key: int, count: int) -> np.ndarray:
    """SplitMix64's first `count` outputs from state `key`: mix(key + (i + 1) * golden) for i = 0, 1, ..."""
    with np.errstate(over="ignore"):
        counters = (np.arange(1, count + 1, dtype=np.uint64) * np.uint64(GOLDEN)) + np.uint64(key)
    return _mix(counters)


def random_uniform(key: int, count: int) -> np.ndarray:
    """Uniform numbers in [0, 1): the top 53 bits of each word times 2**-53 (exact)."""
    return (random_words(key, count) >> np.uint64(11)).astype(float) * 2.0**-53


def random_order(key: int, count: int) -> np.ndarray:
    """A permutation of 0..count-1: the indices sorted by their random word (ties, never seen, by index)."""
    return np.argsort(random_words(key, count), kind="stable")
