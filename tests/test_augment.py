"""lipanomaly.signal.augment: time jitter, frame drops, speed and noise (SPEC section 4)."""

import numpy as np
import pytest

from lipanomaly.exceptions import InputError
from lipanomaly.signal.augment import augment, spatial_noise, speed, time_jitter


def _ramp(n=4, length=64, f=3):
    return np.tile(np.arange(length, dtype=np.float64)[None, :, None], (n, 1, f))


def test_time_jitter_moves_frames_by_at_most_max_shift():
    # on a ramp (value = frame index) the output value is the time each frame was read at
    w = _ramp()
    out = time_jitter(w, np.random.default_rng(0), max_shift=1)
    assert out.shape == w.shape and out.dtype == w.dtype
    assert np.abs(out - w).max() <= 1.0 + 1e-12
    assert np.abs(out - w).max() > 0.2
    # time still runs forward: warps are monotone (knots +-1 frame apart over ~21 frames)
    assert (np.diff(out, axis=1) > 0).all()


def test_time_jitter_drops_the_requested_fraction_of_frames():
    # no warp: only drops, re-filled by linear interpolation between kept neighbours
    rng = np.random.default_rng(1)
    w = rng.standard_normal((50, 64, 2))
    out = time_jitter(w, np.random.default_rng(2), max_shift=0, drop_rate=(0.05, 0.10))
    changed = ~np.isclose(out, w).all(axis=2)  # (50, 64)
    n_changed = changed.sum(axis=1)
    # 5 to 10 % of 64 frames: 3 to 6 (round), first and last frames never dropped
    assert n_changed.min() >= 3 and n_changed.max() <= 6
    assert not changed[:, 0].any() and not changed[:, -1].any()
    # a dropped frame lies on the segment between its kept neighbours
    i, t = np.argwhere(changed)[0]
    lo = max(s for s in range(t) if not changed[i, s])
    hi = min(s for s in range(t + 1, 64) if not changed[i, s])
    expected = w[i, lo] + (t - lo) / (hi - lo) * (w[i, hi] - w[i, lo])
    np.testing.assert_allclose(out[i, t], expected)


def test_time_jitter_keeps_a_linear_signal_linear():
    w = _ramp() * 0.5 + 3.0
    out = time_jitter(w, np.random.default_rng(3), max_shift=0)
    np.testing.assert_allclose(out, w)


def test_speed_known_answer_and_range():
    w = _ramp(n=200)
    out = speed(w, np.random.default_rng(0), low=0.95, high=1.05)
    centre = 31.5
    slope = np.diff(out[:, 20:44, 0], axis=1).mean(axis=1)  # factor, away from the clamped ends
    assert slope.min() >= 0.95 - 1e-9 and slope.max() <= 1.05 + 1e-9
    assert slope.std() > 0.02  # really random per window
    # the centre stays put
    np.testing.assert_allclose(out[:, 31:33, 0].mean(axis=1), centre, atol=1e-9)
    fixed = speed(w[:1], np.random.default_rng(0), low=1.0, high=1.0)
    np.testing.assert_allclose(fixed, w[:1])


def test_spatial_noise_scale():
    w = np.zeros((20, 64, 80), dtype=np.float32)
    out = spatial_noise(w, np.random.default_rng(0), scale=0.02)
    assert out.dtype == np.float32
    assert out.std() == pytest.approx(0.02, rel=0.02)


def test_augment_is_seeded_and_keeps_shape_and_dtype(rng):
    w = rng.standard_normal((8, 64, 40, 2)).astype(np.float32)
    a = augment(w, np.random.default_rng(5))
    b = augment(w, np.random.default_rng(5))
    c = augment(w, np.random.default_rng(6))
    assert a.shape == w.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, w)


def test_augment_on_real_windows_is_mild(development):
    # on real lip windows the augmented copy stays close to the original: a +-1 frame warp
    # moves a frame by less than one frame's motion
    from lipanomaly.io.extraction import LipLandmarkExtractor
    from lipanomaly.signal.windows import make_windows

    tracks = [t for t, y in zip(development.tracks, development.y) if y == 1][:5]
    clips = LipLandmarkExtractor().fit_transform(tracks)
    w, _, _ = make_windows(clips)
    out = time_jitter(w, np.random.default_rng(0))
    step = np.abs(np.diff(w, axis=1)).mean()
    assert np.abs(out - w).mean() < step


def test_bad_input():
    with pytest.raises(InputError, match="shape"):
        time_jitter(np.zeros(5), np.random.default_rng(0))
    with pytest.raises(InputError, match="float"):
        speed(np.zeros((2, 10, 3), dtype=int), np.random.default_rng(0))
