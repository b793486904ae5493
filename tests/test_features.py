"""LipMotionFeatures: known answers on synthetic lips, finiteness on real clips, the baselines."""

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from lipanomaly import LipMotionFeatures
from lipanomaly.detectors.lip_features import FEATURE_NAMES, lip_motion_features
from lipanomaly.exceptions import InputError, NotFittedError
from lipanomaly.signal.filters import LIP_CORNERS, LIP_INNER

FS = 25.0
COL = {name: i for i, name in enumerate(FEATURE_NAMES)}


def mouth(n=200, k=40):
    """A static mouth: corners 0.8 apart, inner lips 0.1 apart, other points on a ring."""
    angles = np.linspace(0, 2 * np.pi, k, endpoint=False)
    clip = np.zeros((n, k, 2))
    clip[:] = 0.3 * np.stack([np.cos(angles), 0.4 * np.sin(angles)], axis=-1)
    clip[:, LIP_CORNERS[0]] = [-0.4, 0.0]
    clip[:, LIP_CORNERS[1]] = [0.4, 0.0]
    clip[:, LIP_INNER[0]] = [0.0, -0.05]
    clip[:, LIP_INNER[1]] = [0.0, 0.05]
    return clip


def talking(freq, n=250, amp=0.05, noise=0.0, seed=0):
    """The lower inner lip opens and closes at ``freq`` Hz."""
    clip = mouth(n)
    t = np.arange(n) / FS
    clip[:, LIP_INNER[1], 1] += amp * (1 + np.sin(2 * np.pi * freq * t))
    if noise:
        clip += noise * np.random.default_rng(seed).normal(size=clip.shape)
    return clip


@pytest.fixture(scope="module")
def real_clips(development, development_lips):
    return development_lips, development.y


def test_names_and_shape():
    feats = LipMotionFeatures().fit_transform([talking(3.0), talking(2.0, n=120)])
    assert feats.shape == (2, len(FEATURE_NAMES)) == (2, 17)
    assert feats.dtype == np.float64
    names = LipMotionFeatures().get_feature_names_out()
    assert names.dtype == object
    assert tuple(names) == FEATURE_NAMES
    rel = LipMotionFeatures(relative=True).get_feature_names_out()
    assert {"velocity_rel", "acceleration_rel", "jerk_rel"} <= set(rel)
    assert "velocity_rms" not in set(rel)


@pytest.mark.parametrize("freq", [1.0, 3.0, 5.5])
def test_sine_opening_gives_its_frequency(freq):
    f = lip_motion_features(talking(freq, noise=0.002))
    assert f[COL["opening_peak_hz"]] == pytest.approx(freq, abs=0.06)


def test_mouth_geometry_known_values():
    f = lip_motion_features(mouth(50))
    assert f[COL["opening_mean"]] == pytest.approx(0.1)
    assert f[COL["width_mean"]] == pytest.approx(0.8)
    assert f[COL["opening_to_width"]] == pytest.approx(0.125)
    assert f[COL["opening_std"]] == pytest.approx(0.0, abs=1e-12)


def test_static_lips_are_finite_zeros():
    """No motion: every motion feature is 0 (guarded ratios, flatness and entropy), never NaN."""
    f = lip_motion_features(mouth(64))
    assert np.isfinite(f).all()
    for name in FEATURE_NAMES[6:]:
        assert f[COL[name]] == pytest.approx(0.0, abs=1e-9), name


def test_derivative_energies_known_answer():
    """All 2K coordinates drift at 0.1 units/s: velocity RMS = 0.1 sqrt(2K), the rest 0."""
    clip = mouth(100)
    clip += 0.1 * (np.arange(100) / FS)[:, None, None]
    f = lip_motion_features(clip)
    assert f[COL["velocity_rms"]] == pytest.approx(0.1 * np.sqrt(80), rel=1e-9)
    assert f[COL["acceleration_rms"]] == pytest.approx(0.0, abs=1e-9)
    assert f[COL["jerk_rms"]] == pytest.approx(0.0, abs=1e-6)


def test_band_power_ratio_follows_the_cutoff():
    slow = lip_motion_features(talking(1.0), cutoff=4.0)
    fast = lip_motion_features(talking(11.0), cutoff=4.0)
    for name in ("hf_power_ratio", "opening_hf_power_ratio"):
        assert slow[COL[name]] < 0.01
        assert fast[COL[name]] > 0.9
    # the top third of the STFT bins (n_fft=16 at 25 fps: bins 6 to 8, 9.4 to 12.5 Hz)
    # holds the 11 Hz motion
    assert fast[COL["stft_top_third_ratio"]] > 0.8
    assert slow[COL["stft_top_third_ratio"]] < 0.01


def test_sample_entropy_orders_regular_and_irregular():
    regular = lip_motion_features(talking(2.0))
    irregular = lip_motion_features(talking(2.0, amp=0.0, noise=0.01))
    assert regular[COL["opening_sampen"]] < irregular[COL["opening_sampen"]]
    assert irregular[COL["motion_flatness"]] > 0.5 > regular[COL["motion_flatness"]]


def test_relative_divides_by_motion_rms():
    clip = talking(3.0, noise=0.001)
    base = lip_motion_features(clip)
    rel = lip_motion_features(clip, relative=True)
    for name in ("velocity_rms", "acceleration_rms", "jerk_rms"):
        i = COL[name]
        assert rel[i] == pytest.approx(base[i] / base[COL["motion_rms"]], rel=1e-12)
    # scale-free: the same motion, 3 times bigger, gives the same relative features
    np.testing.assert_allclose(lip_motion_features(3 * clip, relative=True)[8:11], rel[8:11])


def test_batch_and_list_agree():
    clips = [talking(2.0, n=100, noise=0.001, seed=s) for s in range(3)]
    est = LipMotionFeatures().fit(clips)
    np.testing.assert_array_equal(est.transform(np.stack(clips)), est.transform(clips))


def test_errors():
    with pytest.raises(InputError, match="at least 8 frames"):
        LipMotionFeatures().fit([mouth(5)])
    with pytest.raises(InputError, match="inner must be 2 point positions"):
        LipMotionFeatures(inner=(1, 40)).fit([mouth(20)])
    with pytest.raises(InputError, match="Nyquist"):
        LipMotionFeatures(cutoff=12.5).fit([mouth(20)])
    with pytest.raises(InputError, match="MIN_CUTOFF_FRACTION"):
        LipMotionFeatures(cutoff=1e-300).fit([mouth(20)])
    with pytest.raises(NotFittedError):
        LipMotionFeatures().transform([mouth(20)])
    est = LipMotionFeatures().fit([mouth(20)])
    with pytest.raises(InputError, match="expected 40 lip points"):
        est.transform([np.zeros((20, 20, 2))])
    bad = mouth(20)
    bad[3, 0, 0] = np.nan
    with pytest.raises(InputError, match=r"X\[0\]: contains NaN"):
        est.transform([bad])


def test_real_clips_features_are_finite(real_clips):
    clips, _ = real_clips
    feats = LipMotionFeatures().fit_transform(clips)
    assert feats.shape == (len(clips), 17)
    assert np.isfinite(feats).all()
    # head-normalised units (inter-ocular distance 1): a mouth is narrower than the eyes are
    # apart, and opens less than it is wide
    width = feats[:, COL["width_mean"]]
    assert ((width > 0.3) & (width < 1.5)).all()
    assert (feats[:, COL["opening_to_width"]] < 1).all()
    assert (feats[:, COL["opening_peak_hz"]] <= FS / 2).all()
    # lip motion is slow (docs/bandsplit.md): most of it lies below the 4 Hz cut-off
    assert np.median(feats[:, COL["hf_power_ratio"]]) < 0.2


@pytest.mark.parametrize(
    "detector", [OneClassSVM(nu=0.2), IsolationForest(n_estimators=50, random_state=0)]
)
def test_baseline_pipelines_on_real_clips(real_clips, detector):
    """Fit on real clips only; scores are finite, deterministic, one per clip."""
    clips, y = real_clips
    real = [c for c, label in zip(clips, y) if label == 1][::3]  # a third: keep it fast
    test = [c for c, label in zip(clips, y) if label == -1] + real[:5]
    pipe = make_pipeline(LipMotionFeatures(relative=True), StandardScaler(), detector)
    scores = pipe.fit(real).score_samples(test)
    assert scores.shape == (len(test),)
    assert scores.dtype == np.float64
    assert np.isfinite(scores).all()
    np.testing.assert_array_equal(pipe.fit(real).score_samples(test), scores)
    assert set(np.unique(pipe.predict(test))) <= {-1, 1}
