"""Known answers for the signal toolbox: filters, derivatives, STFT, flatness, mouth geometry."""

import numpy as np
import pytest
from scipy import signal as sps

from lipanomaly.exceptions import InputError
from lipanomaly.signal.filters import (
    DEFAULT_CUTOFF_HZ,
    FACEMESH_LIPS,
    LIP_CORNERS,
    LIP_INNER,
    band_split,
    derivative,
    highpass,
    lowpass,
    mouth_opening,
    mouth_width,
    principal_motion,
    spectral_flatness,
    stft_magnitude,
    stft_weights,
)

FS = 25.0


def sine(freq, n=250, fs=FS, phase=0.3):
    return np.sin(2 * np.pi * freq * np.arange(n) / fs + phase)


# --------------------------------------------------------------------------- filters


def test_lowpass_matches_scipy_sosfiltfilt_on_long_clips(rng):
    """For clips longer than the padding, the explicit edge extension is scipy's own."""
    x = rng.normal(size=(120, 40, 2))
    sos = sps.butter(4, DEFAULT_CUTOFF_HZ, fs=FS, output="sos")
    np.testing.assert_allclose(lowpass(x), sps.sosfiltfilt(sos, x, axis=0), rtol=0, atol=1e-12)


def test_lowpass_is_zero_phase():
    """A 1 Hz sine comes out of the 4 Hz low-pass unchanged and undelayed."""
    x = sine(1.0)
    low = lowpass(x, cutoff=4.0, fs=FS)
    np.testing.assert_allclose(low[30:-30], x[30:-30], atol=1e-4)
    lags = np.arange(-5, 6)
    xcorr = [np.dot(np.roll(low, k)[30:-30], x[30:-30]) for k in lags]
    assert lags[int(np.argmax(xcorr))] == 0


def test_causal_filter_would_leak_slow_motion_into_the_detail():
    """Why zero phase (docs/bandsplit.md): a causal low-pass delays, x - low keeps the motion."""
    x = sine(1.0, n=500)
    causal = x - sps.sosfilt(sps.butter(4, 4.0, fs=FS, output="sos"), x)
    assert np.abs(causal[100:-100]).max() > 0.5
    assert np.abs(highpass(x, cutoff=4.0)[100:-100]).max() < 1e-5


def test_lowpass_keeps_constants_and_ramps():
    t = np.arange(200.0)
    np.testing.assert_allclose(lowpass(np.full(50, 3.5)), 3.5, rtol=0, atol=1e-12)
    # odd reflection continues the slope: a ramp is kept up to small edge transients
    np.testing.assert_allclose(lowpass(0.01 * t), 0.01 * t, rtol=0, atol=1e-4)


@pytest.mark.parametrize(("freq", "in_low"), [(1.5, True), (9.0, False)])
def test_sine_goes_to_the_expected_band(freq, in_low):
    low, high = band_split(sine(freq), cutoff=4.0, fs=FS)
    kept, removed = (low, high) if in_low else (high, low)
    assert np.abs(removed[30:-30]).max() < 0.01
    np.testing.assert_allclose(kept[30:-30], sine(freq)[30:-30], atol=0.01)


def test_gain_at_cutoff_is_half():
    """Forward-backward Butterworth: |H|^2 of one pass, -6 dB (gain 1/2) at the cut-off."""
    low = lowpass(sine(4.0, n=1000), cutoff=4.0, fs=FS)
    amp = np.abs(low[200:-200]).max()
    assert amp == pytest.approx(0.5, abs=0.01)


def test_band_split_is_exact(rng):
    x = rng.normal(size=(64, 40, 2)) * 1e3
    low, high = band_split(x)
    np.testing.assert_allclose(low + high, x, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(high, highpass(x))
    np.testing.assert_array_equal(low, lowpass(x))


def test_axis_argument_filters_time_only(rng):
    batch = rng.normal(size=(3, 50, 40, 2))
    low = lowpass(batch, axis=1)
    for i in range(3):
        np.testing.assert_allclose(low[i], lowpass(batch[i]), rtol=0, atol=1e-13)
    np.testing.assert_allclose(lowpass(batch, axis=-3), low, rtol=0, atol=0)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 14, 15, 16])
def test_clips_shorter_than_the_padding(n, rng):
    """Shorter than 3 * (2 * 2 + 1) = 15 frames: no crash, exact split, finite output."""
    x = rng.normal(size=(n, 40, 2))
    low, high = band_split(x)
    assert low.shape == x.shape
    assert np.isfinite(low).all()
    np.testing.assert_allclose(low + high, x, rtol=0, atol=1e-12)


def test_one_frame_is_its_own_low_band():
    x = np.array([[[0.2, -0.4]]])
    low, high = band_split(x)
    np.testing.assert_allclose(low, x, rtol=0, atol=1e-15)
    np.testing.assert_allclose(high, 0.0, atol=1e-15)


def test_two_frames_stay_close_to_their_line():
    """Repeated odd reflection extends two frames as a ramp; the filter keeps it within 1 %."""
    x = np.array([0.0, 1.0])
    np.testing.assert_allclose(lowpass(x), x, atol=0.01)


def test_nan_is_rejected_with_a_clear_message():
    x = np.zeros((30, 40, 2))
    x[7, 3, 0] = np.nan
    with pytest.raises(InputError, match="NaN or inf"):
        lowpass(x)
    with pytest.raises(InputError, match="NaN or inf"):
        band_split(np.full(10, np.inf))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cutoff": 12.5}, "Nyquist"),
        ({"cutoff": 0.0}, "cutoff"),
        ({"cutoff": 1e-300}, "MIN_CUTOFF_FRACTION"),  # was scipy's LinAlgError
        ({"cutoff": 0.0024}, "MIN_CUTOFF_FRACTION"),
        ({"cutoff": 4.0, "fs": -1.0}, "fs must be"),
        ({"order": 0}, "order"),
        ({"order": 2.5}, "order"),
    ],
)
def test_bad_filter_parameters(kwargs, match):
    with pytest.raises(InputError, match=match):
        lowpass(np.zeros(30), **kwargs)


def test_the_lowest_cutoff_keeps_the_low_band_exact():
    """At fs * MIN_CUTOFF_FRACTION the filter still passes a constant unchanged."""
    from lipanomaly.signal.filters import MIN_CUTOFF_FRACTION

    low = lowpass(np.full(200, 3.0), cutoff=FS * MIN_CUTOFF_FRACTION, fs=FS)
    np.testing.assert_allclose(low, 3.0, rtol=1e-8)


def test_empty_signal_is_rejected():
    with pytest.raises(InputError, match="no frame"):
        lowpass(np.zeros((0, 40, 2)))


def test_float32_input_gives_float64():
    x = np.ones((20, 4, 2), dtype=np.float32)
    assert lowpass(x).dtype == np.float64
    assert highpass(x).dtype == np.float64


# --------------------------------------------------------------------------- derivatives


def test_derivative_known_answers():
    t = np.arange(8.0)
    np.testing.assert_array_equal(derivative(3 * t + 1, 1), np.full(7, 3.0))
    np.testing.assert_array_equal(derivative(t**2, 2), np.full(6, 2.0))
    np.testing.assert_array_equal(derivative(t**3, 3), np.full(5, 6.0))
    # the third difference of a quadratic is zero: jerk sees only changes of acceleration
    np.testing.assert_array_equal(derivative(5 * t**2 - t, 3), np.zeros(5))
    np.testing.assert_array_equal(derivative([0.0, 1.0, 4.0, 9.0], 1), [1.0, 3.0, 5.0])


def test_derivative_in_physical_units():
    t = np.arange(50) / FS  # seconds
    np.testing.assert_allclose(derivative(2.0 * t, 1, fs=FS), 2.0, rtol=1e-12)
    np.testing.assert_allclose(derivative(t**2, 2, fs=FS), 2.0, rtol=1e-9)
    np.testing.assert_allclose(derivative(t**3, 3, fs=FS), 6.0, rtol=1e-6)


def test_derivative_shapes_and_axis(rng):
    x = rng.normal(size=(3, 64, 40, 2))
    for order in (1, 2, 3):
        d = derivative(x, order, axis=1)
        assert d.shape == (3, 64 - order, 40, 2)
        np.testing.assert_array_equal(d[1], derivative(x[1], order))
    assert derivative(np.zeros((2, 4, 2)), 3).shape == (0, 4, 2)


@pytest.mark.parametrize("order", [0, 4, 1.5])
def test_derivative_order_checked(order):
    with pytest.raises(InputError, match="order"):
        derivative(np.zeros(10), order)


# --------------------------------------------------------------------------- STFT


@pytest.mark.parametrize(
    ("n_freq", "expected_top"),
    [(9, 3), (17, 6), (33, 11), (3, 1), (1, 1), (2, 1)],
)
def test_stft_weights_top_third(n_freq, expected_top):
    w = stft_weights(n_freq, top_weight=2.5)
    assert w.shape == (n_freq,)
    assert (w == 2.5).sum() == expected_top
    # the weighted bins are the highest ones, contiguous
    np.testing.assert_array_equal(w[n_freq - expected_top :], 2.5)
    np.testing.assert_array_equal(w[: n_freq - expected_top], 1.0)


def test_stft_weights_default_n_fft_16():
    _, w = stft_magnitude(np.zeros(32), n_fft=16, hop=4, top_weight=3.0)
    np.testing.assert_array_equal(w, [1, 1, 1, 1, 1, 1, 3, 3, 3])


def test_stft_of_a_bin_centred_sine():
    """A sine on bin 4 (6.25 Hz at n_fft=16, 25 fps): Hann gives A n/4 on the bin, A n/8 beside."""
    n_fft, amp = 16, 0.7
    x = amp * np.cos(2 * np.pi * 4 * np.arange(64) / n_fft)
    mag, _ = stft_magnitude(x, n_fft=n_fft, hop=4)
    assert mag.shape == (1 + (64 - n_fft) // 4, n_fft // 2 + 1)
    expected = np.zeros(n_fft // 2 + 1)
    expected[4] = amp * n_fft / 4
    expected[[3, 5]] = amp * n_fft / 8
    np.testing.assert_allclose(mag, np.broadcast_to(expected, mag.shape), atol=1e-12)


def test_stft_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(100, 3, 2))
    mag, _ = stft_magnitude(x, n_fft=16, hop=4)
    ref = torch.stft(
        torch.tensor(x[:, 1, 0]),
        16,
        4,
        window=torch.hann_window(16, dtype=torch.float64),
        center=False,
        return_complex=True,
    ).abs()
    np.testing.assert_allclose(mag[:, :, 1, 0], ref.numpy().T, rtol=0, atol=1e-12)


def test_stft_short_signal_is_zero_padded(rng):
    x = rng.normal(size=(10, 2))
    mag, _ = stft_magnitude(x, n_fft=16, hop=4)
    assert mag.shape == (1, 9, 2)
    padded = np.concatenate([x, np.zeros((6, 2))])
    np.testing.assert_allclose(mag, stft_magnitude(padded, n_fft=16, hop=4)[0], atol=0)


def test_stft_axis(rng):
    x = rng.normal(size=(2, 48, 5))
    mag, _ = stft_magnitude(x, axis=1, n_fft=16, hop=8)
    assert mag.shape == (5, 9, 2, 5)
    np.testing.assert_allclose(mag[:, :, 1], stft_magnitude(x[1], n_fft=16, hop=8)[0], atol=0)


# --------------------------------------------------------------------------- flatness


def test_spectral_flatness_known_cases(rng):
    noise = spectral_flatness(rng.normal(size=4000))
    tone = spectral_flatness(sine(3.0, n=400))
    assert 0.9 < noise <= 1.0
    assert tone < 0.01
    assert spectral_flatness(np.full(64, 2.0)) == 0.0
    assert spectral_flatness(np.zeros(64)) == 0.0
    # unit-free: the same motion in other units has the same flatness
    noise = rng.normal(size=500)
    assert spectral_flatness(1e-6 * noise) == pytest.approx(spectral_flatness(noise), rel=1e-9)


def test_spectral_flatness_shape(rng):
    x = rng.normal(size=(64, 40, 2))
    flat = spectral_flatness(x)
    assert flat.shape == (40, 2)
    assert ((flat >= 0) & (flat <= 1)).all()
    assert flat[3, 1] == pytest.approx(spectral_flatness(x[:, 3, 1]))
    with pytest.raises(InputError, match="at least 2"):
        spectral_flatness(np.zeros(1))


# --------------------------------------------------------------------------- mouth geometry


def test_lip_layout_constants():
    assert len(FACEMESH_LIPS) == 40
    assert list(FACEMESH_LIPS) == sorted(FACEMESH_LIPS)
    assert [FACEMESH_LIPS[i] for i in LIP_INNER] == [13, 14]
    assert [FACEMESH_LIPS[i] for i in LIP_CORNERS] == [61, 291]


def test_mouth_opening_and_width_known_geometry():
    clip = np.zeros((3, 40, 2))
    clip[:, LIP_INNER[0]] = [0.0, -0.1]
    clip[:, LIP_INNER[1], 1] = [0.1, 0.2, 0.5]  # y grows downwards, as in images
    clip[:, LIP_CORNERS[0]] = [-0.5, 0.0]
    clip[:, LIP_CORNERS[1]] = [0.3, 0.0]
    np.testing.assert_allclose(mouth_opening(clip), [0.2, 0.3, 0.6])
    np.testing.assert_allclose(mouth_width(clip), [0.8, 0.8, 0.8])
    batch = np.stack([clip, 2 * clip])
    np.testing.assert_allclose(mouth_opening(batch), [[0.2, 0.3, 0.6], [0.4, 0.6, 1.2]])
    assert mouth_opening(clip, inner=(0, 0)).tolist() == [0.0, 0.0, 0.0]


def test_mouth_opening_bad_layout():
    with pytest.raises(InputError, match="K=20"):
        mouth_opening(np.zeros((5, 20, 2)), inner=(1, 25))
    with pytest.raises(InputError, match=r"\(\.\.\., K, 2\)"):
        mouth_opening(np.zeros((5, 40, 3)))


def test_mouth_opening_on_real_speech(development):
    """On a real talking clip the inner lips open and close: opening varies, stays < width."""
    idx = [j for j, y in enumerate(development.y) if y == 1]
    for j in idx[:5]:
        track = development.tracks[j]
        lm = track.landmarks[:, list(FACEMESH_LIPS)] * [track.width, track.height]
        lm = lm[np.isfinite(lm).all(axis=(1, 2))]
        opening, width = mouth_opening(lm), mouth_width(lm)
        assert (opening >= 0).all()
        assert np.median(opening) < np.median(width)
        assert opening.std() > 0.01 * np.median(width), track.name


def test_principal_motion_recovers_a_rank_one_motion():
    t = np.linspace(0, 1, 32)
    a = np.sin(2 * np.pi * 3 * t)
    v = np.array([3.0, -4.0, 0.0, 0.0]) / 5.0
    x = a[:, None] * v + 7.0  # (32, 4), offset removed by centring
    sig = principal_motion(x)
    # the axis's largest entry (-4/5) is made positive: the sign is fixed
    np.testing.assert_allclose(sig, -(a - a.mean()), atol=1e-12)
    batch = np.stack([x, 2 * x])
    np.testing.assert_allclose(principal_motion(batch), [sig, 2 * sig], atol=1e-12)


def test_principal_motion_is_the_first_singular_direction(rng):
    x = rng.normal(size=(5, 64, 10)) * np.linspace(3, 0.5, 10)
    xc = x - x.mean(axis=1, keepdims=True)
    u, s, _ = np.linalg.svd(xc, full_matrices=False)
    svd = u[:, :, 0] * s[:, :1]
    got = principal_motion(x)
    sign = np.sign(np.sum(got * svd, axis=1, keepdims=True))
    np.testing.assert_allclose(got, sign * svd, atol=1e-10)
