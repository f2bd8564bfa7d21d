"""The engine's shortcuts give the bits of the long way round (the long way is what tests/test_digits.py replays)."""

from __future__ import annotations

import numpy as np

from tutor.engine import Hyperparameters, exact
from tutor.engine.optimizers import RMS_MOVE, RMS_STEP


def _bits(a: np.ndarray) -> list[int]:
    return np.ascontiguousarray(a).view(np.int64).ravel().tolist()


def test_exp_without_clipping_gives_the_clipped_paths_bits() -> None:
    """Where every x is within +-707, exp skips the clipping and builds 2**k from its bits instead of calling ldexp;
    one NaN in the array sends all of it the long way (clipped, NaN-guarded, ldexp), to compare with."""
    rng = np.random.default_rng(12)
    ln2 = float(np.log(2.0))
    near_halves = (rng.integers(-1020, 1021, 20_000) + 0.5) * ln2 + rng.uniform(-1e-9, 1e-9, 20_000)
    xs = np.concatenate(
        [
            rng.uniform(-707.0, 707.0, 50_000),
            rng.uniform(-4.0, 4.0, 50_000),
            np.clip(near_halves, -707.0, 707.0),  # where rint(x / ln 2) changes
            rng.standard_normal(20_000) * 10.0 ** rng.integers(-320, 3, 20_000),  # down to subnormal x
            [707.0, -707.0, 0.0, -0.0, 5e-324, -5e-324, np.nextafter(707.0, 0.0), 1e-300],
        ]
    )
    fast = exact.exp(xs)
    long_way = exact.exp(np.append(xs, np.nan))
    assert np.isnan(long_way[-1])
    assert _bits(fast) == _bits(long_way[:-1])
    assert _bits(exact.exp(xs.reshape(-1, 8))) == _bits(fast)  # any shape


def test_exp_outside_the_fast_range_and_at_nan_and_inf() -> None:
    """Beyond +-707 (and at NaN or inf) exp takes the long way: within one unit in the last place, inf, 0 or NaN."""
    near = np.array([708.0, -708.0, 709.7, -744.0])  # -708, -744: subnormal results, rounded once by ldexp
    with np.errstate(over="ignore", under="ignore"):
        assert np.all(np.abs(exact.exp(near) - np.exp(near)) <= np.spacing(np.exp(near)))
        far = exact.exp(np.array([710.0, -746.0, 1e308, -1e308, np.inf, -np.inf, np.nan]))
    assert far[:6].tolist() == [np.inf, 0.0, np.inf, 0.0, np.inf, 0.0] and np.isnan(far[6])


def test_rmsprop_reuses_its_denominator_only_for_the_same_v_and_eps() -> None:
    """The step and the move of an update divide by one sqrt(v) + eps, computed once; another v or eps recomputes it."""
    rng = np.random.default_rng(3)
    x, g = rng.standard_normal(50), rng.standard_normal(50)
    for v, eps in [(rng.random(50), 1e-8), (rng.random(50), 1e-8), (rng.random(50), 0.5)]:
        hp = Hyperparameters(lr=0.01, eps=eps)
        for _ in range(2):
            state = {"x": x, "grad": g, "mean_square": v}
            assert _bits(RMS_STEP.compute(state, hp, 1)) == _bits(0.01 / (np.sqrt(v) + eps))
            assert _bits(RMS_MOVE.compute(state, hp, 1)) == _bits(x - 0.01 * g / (np.sqrt(v) + eps))


def test_a_product_with_a_strided_b_has_the_bits_of_einsum_on_the_strided_b() -> None:
    """matmul copies a strided b (W.T) to run einsum's vector loop; the products are the same bits as einsum's loop on
    the strided b itself, NaN times NaN included (a with a NaN keeps b strided: the two loops pick different NaNs)."""
    rng = np.random.default_rng(4)
    specials = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324, 1e308])
    for share in (0.0, 0.1, 0.6):
        a = np.where(rng.random((32, 32)) < share, specials[rng.integers(0, 9, (32, 32))], rng.standard_normal((32, 32)))
        w = np.where(rng.random((10, 32)) < share, specials[rng.integers(0, 9, (10, 32))], rng.standard_normal((10, 32)))
        for b in (w.T, w[:, ::-1].T, np.asfortranarray(w.T)):
            a_rows = a[:, : b.shape[0]]
            with np.errstate(all="ignore"):
                strided = np.add.reduce(np.einsum("ik,kj->kij", a_rows, b, order="C"), axis=0)
                assert _bits(exact.matmul(a_rows, b)) == _bits(strided)


def test_the_ordered_sum_hides_the_sign_of_zero_products() -> None:
    """einsum makes a zero product +0 (it adds it to a zero) where np.multiply keeps -0 (0 * -2): the sum starts from
    +0, and a running sum that starts from +0 is never -0 (x + -x is +0), so x + +0 and x + -0 are x and the two
    product arrays sum to the same bits. (np.multiply is slower here, so matmul keeps einsum; and a NaN times a NaN
    may come out as either NaN, so NaN is in one factor only.)"""
    rng = np.random.default_rng(8)
    specials = np.array([0.0, -0.0, 0.0, -0.0, np.inf, -np.inf, 5e-324, -5e-324, 1e308, -1e308])
    for k, share in [(1, 0.5), (2, 0.9), (32, 0.5), (32, 1.0), (64, 0.8)]:
        a = np.where(rng.random((16, k)) < share, specials[rng.integers(0, 10, (16, k))], rng.standard_normal((16, k)))
        b = np.where(rng.random((k, 8)) < share, specials[rng.integers(0, 10, (k, 8))], rng.standard_normal((k, 8)))
        a[rng.random(a.shape) < 0.05] = np.nan
        with np.errstate(all="ignore"):
            products = np.multiply(a.T[:, :, None], b[:, None, :])
            assert np.signbit(products[products == 0]).any()  # -0 products are there
            assert _bits(np.add.reduce(products, axis=0)) == _bits(exact.matmul(a, b))
