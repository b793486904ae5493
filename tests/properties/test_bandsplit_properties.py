"""Property tests of the band split (hypothesis).

Tolerances, stated once:

- exactness: ``low + high == x`` to ``1e-12`` times the signal's scale (float64 round-off);
- pure sines at 25 fps, cut-off ``fc`` in [2, 6] Hz, order 4, clips of 200 to 300 frames,
  judged away from the edges (the first and last 50 frames, where the odd-reflection
  extension matters): a sine at most ``fc / 2`` keeps 97 % of its amplitude in the low band
  (error < 0.03 of the amplitude; the filter's gain there is > 0.996, the rest is the edge
  transient of the slowest sines); a sine from ``2 fc`` to 0.9 x Nyquist leaves less than
  0.01 of its amplitude in the low band (gain < 0.004).
"""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lipanomaly import BandSplit
from lipanomaly.signal.filters import band_split

FS = 25.0
EDGE = 50

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
cutoffs = st.floats(2.0, 6.0)


def clips(min_t=1, max_t=80, k=None):
    k = st.integers(1, 5) if k is None else k
    return st.tuples(st.integers(min_t, max_t), k).flatmap(
        lambda s: arrays(np.float64, (s[0], s[1], 2), elements=finite)
    )


@given(x=clips(), cutoff=cutoffs, order=st.integers(1, 6))
def test_low_plus_high_is_x(x, cutoff, order):
    low, high = band_split(x, cutoff=cutoff, fs=FS, order=order)
    scale = max(1.0, float(np.abs(x).max()))
    np.testing.assert_allclose(low + high, x, rtol=0, atol=1e-12 * scale)


@given(
    cutoff=cutoffs,
    ratio=st.floats(0.05, 0.5),
    amp=st.floats(0.1, 10.0),
    phase=st.floats(0, 2 * np.pi),
    n=st.integers(200, 300),
)
def test_sine_below_cutoff_stays_in_low(cutoff, ratio, amp, phase, n):
    x = amp * np.sin(2 * np.pi * ratio * cutoff * np.arange(n) / FS + phase)
    _, high = band_split(x, cutoff=cutoff, fs=FS)
    assert np.abs(high[EDGE:-EDGE]).max() < 0.03 * amp


@given(
    cutoff=cutoffs,
    frac=st.floats(0.0, 1.0),
    amp=st.floats(0.1, 10.0),
    phase=st.floats(0, 2 * np.pi),
    n=st.integers(200, 300),
)
def test_sine_above_cutoff_goes_to_high(cutoff, frac, amp, phase, n):
    lo, hi = 2 * cutoff, 0.9 * FS / 2
    freq = lo + frac * (hi - lo)
    x = amp * np.sin(2 * np.pi * freq * np.arange(n) / FS + phase)
    low, high = band_split(x, cutoff=cutoff, fs=FS)
    assert np.abs(low[EDGE:-EDGE]).max() < 0.01 * amp
    np.testing.assert_allclose(high[EDGE:-EDGE], x[EDGE:-EDGE], rtol=0, atol=0.01 * amp)


@given(
    n=st.integers(1, 4),
    t=st.integers(1, 70),
    seed=st.integers(0, 2**32 - 1),
    band=st.sampled_from(["both", "low", "high"]),
)
def test_batch_equals_per_clip_and_list(n, t, seed, band):
    X = np.random.default_rng(seed).normal(size=(n, t, 3, 2))
    bs = BandSplit(band=band).fit(X)
    out = bs.transform(X)
    as_list = bs.transform(list(X))
    channels = 4 if band == "both" else 2
    assert isinstance(out, np.ndarray)
    assert out.shape == (n, t, 3, channels)
    assert out.dtype == np.float64
    assert isinstance(as_list, list)
    for i in range(n):
        single = bs.transform(X[i : i + 1])[0]
        np.testing.assert_array_equal(out[i], single)
        np.testing.assert_array_equal(out[i], as_list[i])


@given(
    x=clips(min_t=1, max_t=60, k=st.just(3)),
    seed=st.integers(0, 2**32 - 1),
    a=st.floats(-10, 10),
    b=st.floats(-10, 10),
)
def test_linearity(x, seed, a, b):
    y = np.random.default_rng(seed).normal(size=x.shape) * 100
    lin = BandSplit(band="both").fit([x])
    lhs = lin.transform([a * x + b * y])[0]
    rhs = a * lin.transform([x])[0] + b * lin.transform([y])[0]
    scale = max(1.0, float(np.abs(a * x).max() + np.abs(b * y).max()))
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-9 * scale)


@given(x=clips(), dtype=st.sampled_from([np.float32, np.float64, np.int64]))
def test_dtype_and_shape(x, dtype):
    x = x.astype(dtype)
    out = BandSplit(band="high").fit_transform([x])[0]
    assert out.shape == x.shape
    assert out.dtype == np.float64
    assert np.isfinite(out).all()
