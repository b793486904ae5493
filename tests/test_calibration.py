"""lipanomaly.calibrate: a fitted detector's scorer re-fitted on reference clips, the network kept.

What calibration refuses, how far one reference can move it and the validity of its p-values
are tested with the pretrained model on the bundled demo clips (it never saw them); the API
with tiny networks. What calibration buys on real data is measured in
``benchmarks/bench_quality.py`` (``docs/quality.md``), hostile references in
``benchmarks/bench_calibration.py``.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from tiny import LFHF, OCVAE

from lipanomaly import (
    LFHFVAEDetector,
    LipLandmarkExtractor,
    OCVAEDetector,
    calibrate,
    load_model,
    load_pretrained,
    save_model,
)
from lipanomaly.exceptions import InputError
from lipanomaly.io.datasets import load_demo
from lipanomaly.limits import MAX_REFERENCE_Z, MIN_REFERENCE_MOTION
from lipanomaly.scoring.calibration import (
    MAX_SCALE_RATIO,
    MAX_SHIFT,
    CalibrationWarning,
    calibrate_scorer,
    check_references,
    reference_motion,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pretrained():
    return load_pretrained("lfhf")[-1]


@pytest.fixture(scope="module")
def demo_clips():
    """The real and the fake clips of the bundled demo split, extracted."""
    demo = load_demo(split="demo")
    clips = LipLandmarkExtractor().transform(demo.tracks)
    return {
        "real": [c for c, y in zip(clips, demo.y) if y == 1],
        "fake": [c for c, y in zip(clips, demo.y) if y == -1],
    }


@pytest.fixture(scope="module")
def demo_components(pretrained, demo_clips):
    """Their components under the pretrained network: what its scorer reads."""
    read = pretrained.scorer_.needed_components()
    return {k: pretrained.network_.transform(v, components=read) for k, v in demo_clips.items()}


def _centre_scale(scorer):
    return scorer.component_center_.copy(), scorer.component_scale_.copy()


# -- re-centring -----------------------------------------------------------------------------


def test_one_reference_moves_each_centre_a_quarter_of_the_way(pretrained, demo_clips):
    scorer = pretrained.scorer_
    before = (pretrained.offset_, *_centre_scale(scorer), scorer.precision_.copy())
    refs = demo_clips["real"][:1]
    new = calibrate(pretrained, refs)
    assert type(new) is LFHFVAEDetector and new is not pretrained
    np.testing.assert_array_equal(scorer.component_center_, before[1])  # input unchanged
    (C,) = pretrained.network_.transform(refs, components=scorer.needed_components())
    center, scale = before[1], before[2]
    for j, name in enumerate(scorer.component_names_):
        target = np.median(C[name])
        assert abs(target - center[j]) < MAX_SHIFT * scale[j]  # not clipped: a plain quarter
        assert new.scorer_.component_center_[j] == pytest.approx(
            center[j] + 0.25 * (target - center[j])
        )
    # scale, covariance, threshold, p-values and network kept
    assert new.offset_ == pretrained.offset_
    np.testing.assert_array_equal(new.scorer_.component_scale_, scale)
    np.testing.assert_array_equal(new.scorer_.precision_, before[3])
    np.testing.assert_array_equal(new.validation_scores_, pretrained.validation_scores_)
    np.testing.assert_array_equal(new.network_.window_mean_, pretrained.network_.window_mean_)


def _shifted(C, name, by):
    """A copy of one clip's components with ``name`` moved by ``by``."""
    out = C.copy()
    out[name] = out[name] + by
    return out


def test_a_reference_pulls_a_centre_at_most_max_shift_scales(pretrained, demo_components):
    scorer = pretrained.scorer_
    center, scale = _centre_scale(scorer)
    j = scorer.component_names_.index("e_smooth_rel")
    C = demo_components["real"][0]
    # the clip's median put 10 robust scales above the centre: within MAX_REFERENCE_Z,
    # beyond MAX_SHIFT
    far = _shifted(C, "e_smooth_rel", center[j] + 10 * scale[j] - np.median(C["e_smooth_rel"]))
    new = calibrate_scorer(scorer, [far])
    assert new.component_center_[j] == pytest.approx(center[j] + MAX_SHIFT * scale[j] / 4)


def test_statistics_are_per_clip_not_per_window(pretrained, demo_components):
    """A clip repeated to 40 times its windows weighs what it did (pooled windows: 40x)."""
    scorer = pretrained.scorer_
    refs = demo_components["real"][:3]
    longer = [np.tile(refs[0], 40), *refs[1:]]
    np.testing.assert_allclose(
        calibrate_scorer(scorer, longer).component_center_,
        calibrate_scorer(scorer, refs).component_center_,
    )
    refs = demo_components["real"][:12]
    longer = [np.tile(refs[0], 40), *refs[1:]]
    np.testing.assert_allclose(
        calibrate_scorer(scorer, longer).component_center_,
        calibrate_scorer(scorer, refs).component_center_,
    )


def test_one_hostile_reference_moves_a_centre_at_most_its_share(pretrained, demo_components):
    """Replacing one of n genuine references by any fake moves a centre by at most
    2 MAX_SHIFT / (n + prior_clips) robust scales."""
    scorer = pretrained.scorer_
    _, scale = _centre_scale(scorer)
    for n in (3, 9):
        refs = demo_components["real"][:n]
        genuine = calibrate_scorer(scorer, refs).component_center_
        for fake in demo_components["fake"]:
            hostile = calibrate_scorer(scorer, [*refs[:-1], fake]).component_center_
            assert (np.abs(hostile - genuine) <= 2 * MAX_SHIFT * scale / (n + 3) + 1e-12).all()


def _live_fakes(scorer, refs, fakes):
    return int((calibrate_scorer(scorer, refs).predict(fakes) == 1).sum())


@pytest.mark.parametrize("n", [3, 9])
def test_one_fake_among_the_references_lets_at_most_one_more_fake_through(
    pretrained, demo_components, n
):
    """The poisoning experiment of benchmarks/bench_calibration.py, 10 draws: 0.5 let
    2.4 more of 12 fakes through with n = 9 (20 draws)."""
    rng = np.random.default_rng(n)
    reals, fakes = demo_components["real"], demo_components["fake"]
    rise = []
    for _ in range(10):
        refs = [reals[i] for i in rng.choice(len(reals), n, replace=False)]
        f = int(rng.integers(len(fakes)))
        others = fakes[:f] + fakes[f + 1 :]
        genuine = _live_fakes(pretrained.scorer_, refs, others)
        rise.append(_live_fakes(pretrained.scorer_, [*refs, fakes[f]], others) - genuine)
    assert np.mean(rise) <= 1.0


# -- what calibration refuses -------------------------------------------------------------------


def _hostile(clip, kind):
    mean = clip.mean(axis=0)
    if kind == "not speaking":  # lip motion at 5 %
        return mean + 0.05 * (clip - mean)
    if kind == "still face":
        return np.repeat(clip[:1], len(clip), axis=0)
    if kind == "exaggerated":  # lip motion at 300 %: e_smooth 17 robust scales off
        return mean + 3.0 * (clip - mean)
    return clip + np.random.default_rng(0).normal(0, 0.05, clip.shape)  # jittering points


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("not speaking", "too little articulation: its lips move 0.00"),
        ("still face", "a still face: its lips move 0 "),
        ("exaggerated", r"its e_smooth lies \+\d\d\.?\d* robust scales .* beyond the 15 of"),
        ("jitter", r"its e_detail_rel lies \+\d\d\.?\d* robust scales .* beyond the 15 of"),
    ],
)
def test_a_hostile_reference_is_refused_by_name(pretrained, demo_clips, kind, match):
    refs = demo_clips["real"][:3]
    bad = _hostile(refs[1], kind)
    bound = "MAX_REFERENCE_Z" if kind in ("exaggerated", "jitter") else "MIN_REFERENCE_MOTION"
    with pytest.raises(InputError, match=r"^X_reference\[1\]: " + match) as info:
        calibrate(pretrained, [refs[1], bad, refs[2]])
    assert bound in str(info.value) and "\n" not in str(info.value)
    problems = check_references(pretrained, [refs[1], bad])
    assert problems[0] is None and str(info.value).startswith(f"X_reference[1]: {problems[1]}")


def test_the_bounds_admit_the_live_demo_clips(pretrained, demo_clips):
    assert check_references(pretrained, demo_clips["real"]) == [None] * len(demo_clips["real"])
    motions = [reference_motion(c) for c in demo_clips["real"]]
    assert min(motions) > 2 * MIN_REFERENCE_MOTION * 0.9
    assert MAX_REFERENCE_Z > 11.2


def test_reference_motion_known_answer():
    """Frames alternating by +-a about a mean shape: an RMS motion of exactly a."""
    shape = np.random.default_rng(0).normal(size=(1, 40, 2)) * 0.1
    sign = np.where(np.arange(128) % 2, 1.0, -1.0)[:, None, None]
    assert reference_motion(shape + 0.02 * sign) == pytest.approx(0.02)
    assert reference_motion(np.repeat(shape, 10, axis=0), window=64) == 0.0


def test_skip_leaves_refused_references_out(pretrained, demo_clips):
    refs = demo_clips["real"][:3]
    still = _hostile(refs[0], "still face")
    with pytest.warns(CalibrationWarning, match=r"X_reference\[1\]: left out .* a still face"):
        new = calibrate(pretrained, [refs[0], still, *refs[1:]], errors="skip")
    expected = calibrate(pretrained, refs)
    # other batches through the network: float32 rounding only
    np.testing.assert_allclose(new.scorer_.component_center_, expected.scorer_.component_center_)
    with (
        pytest.raises(InputError, match="no usable reference clip: all 2 distinct ones"),
        pytest.warns(CalibrationWarning),
    ):
        calibrate(pretrained, [still, _hostile(refs[1], "not speaking")], errors="skip")


def test_duplicates_count_once(pretrained, demo_clips):
    """Five clips given twice re-centre on five; they do not trigger the ten-clip re-fit."""
    refs = demo_clips["real"][:5]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        new = calibrate(pretrained, refs + [c.copy() for c in refs])
    said = [str(w.message) for w in caught if w.category is CalibrationWarning]
    assert said == [
        f"X_reference[{i + 5}]: the same clip as X_reference[{i}]; counted once" for i in range(5)
    ]
    expected = calibrate(pretrained, refs)
    np.testing.assert_allclose(new.scorer_.component_center_, expected.scorer_.component_center_)
    assert new.offset_ == pretrained.offset_  # re-centred, not re-fitted


# -- re-fit ----------------------------------------------------------------------------------------


def test_refit_is_split_conformal_and_bounded(pretrained, demo_clips):
    scorer = pretrained.scorer_
    refs = demo_clips["real"][:12]
    new = calibrate(pretrained, refs)
    # the p-values and the threshold come from the references the scorer was not fitted on
    np.testing.assert_allclose(new.validation_scores_, new.score_samples(refs[1::2]))
    assert len(new.validation_scores_) == 6
    t80 = np.percentile(new.validation_scores_, 20)
    assert new.offset_ == pytest.approx(max(t80, pretrained.offset_))
    assert new.offset_ >= pretrained.offset_  # never more permissive than the model
    center, scale = _centre_scale(scorer)
    assert (np.abs(new.scorer_.component_center_ - center) <= MAX_SHIFT * scale).all()
    ratio = new.scorer_.component_scale_ / scale
    assert ((ratio >= 1 / MAX_SCALE_RATIO) & (ratio <= MAX_SCALE_RATIO)).all()
    assert not np.array_equal(new.scorer_.precision_, scorer.precision_)


def _simulated_p(scorer, pool, n, draws, refit):
    rng = np.random.default_rng(0)
    p = []
    for _ in range(draws):
        idx = rng.choice(len(pool), n + 1, replace=False)
        refs = [pool[i] for i in idx[:n]]
        s = refit(scorer, refs)
        p.append(s.p_values([pool[idx[n]]])[0])
    return np.asarray(p)


def test_p_values_after_a_refit_are_valid(pretrained, demo_components):
    """A live clip exchangeable with the references gets p <= a with probability at most a,
    within three Monte-Carlo standard errors; p-values read off a scorer fitted on the
    references themselves (what lipanomaly 0.5 did) are not valid."""
    pool = demo_components["real"]
    draws = 400
    p = _simulated_p(pretrained.scorer_, pool, 10, draws, calibrate_scorer)
    for a in (1 / 6, 1 / 3, 1 / 2):
        assert np.mean(p <= a + 1e-12) <= a + 3 * np.sqrt(a * (1 - a) / draws)
    p_old = _simulated_p(pretrained.scorer_, pool, 10, draws, lambda s, refs: clone(s).fit(refs))
    a = 1 / 11
    assert np.mean(p_old <= a + 1e-12) > a + 2 * np.sqrt(a * (1 - a) / draws)


# -- the API, with tiny networks ---------------------------------------------------------------


@pytest.fixture(scope="module")
def detector(lips):
    return LFHFVAEDetector(**LFHF).fit(lips["train"])


def test_calibrated_model_saves_and_loads(detector, lips, tmp_path):
    new = calibrate(detector, lips["test"][:2])
    loaded = load_model(save_model(new, tmp_path / "calibrated"))
    X = lips["test"] + lips["fake"]
    np.testing.assert_array_equal(loaded.score_samples(X), new.score_samples(X))
    assert loaded.offset_ == new.offset_


def test_baseline_and_pipeline(lips, development):
    oc = OCVAEDetector(**OCVAE).fit(lips["train"])
    refs = lips["test"][:3]
    new = calibrate(oc, refs, prior_clips=0)  # prior 0: the mean of the clips' pulls
    rmse = [a["rmse"] for a in oc.network_.transform(refs, components=["rmse"])]
    j = oc.scorer_.component_names_.index("rmse")
    c, s = oc.scorer_.component_center_[j], oc.scorer_.component_scale_[j]
    pulls = np.clip([(np.median(a) - c) / s for a in rmse], -MAX_SHIFT, MAX_SHIFT)
    assert new.scorer_.component_center_[j] == pytest.approx(c + s * np.mean(pulls))
    live = np.flatnonzero(development.y == 1)
    tracks = [development.tracks[i] for i in live[::12]]
    pipe = Pipeline(
        [
            ("extractor", LipLandmarkExtractor()),
            ("detector", LFHFVAEDetector(**LFHF)),
        ]
    ).fit(tracks)
    calibrated = calibrate(pipe, tracks[:2])
    assert isinstance(calibrated, Pipeline) and calibrated is not pipe
    assert calibrated[-1].scorer_ is not pipe[-1].scorer_
    scores = calibrated.score_samples(tracks[2:4])
    assert scores.shape == (2,) and np.isfinite(scores).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"prior_clips": -1.0}, "prior_clips"),
        ({"prior_clips": float("inf")}, "prior_clips"),
        ({"refit_from": 1}, "refit_from"),
        ({"refit_from": True}, "refit_from"),
        ({"errors": "ignore"}, "errors must be 'raise' or 'skip'"),
    ],
)
def test_bad_options(detector, lips, kwargs, match):
    with pytest.raises(InputError, match=match):
        calibrate(detector, lips["test"][:1], **kwargs)


def test_not_a_detector(lips):
    from sklearn.svm import OneClassSVM

    with pytest.raises(InputError, match="needs a fitted LFHFVAEDetector or OCVAEDetector"):
        calibrate(OneClassSVM(), lips["test"][:1])
    with pytest.raises(InputError, match="needs a fitted"):
        calibrate(LFHFVAEDetector(), lips["test"][:1])  # not fitted
    with pytest.raises(InputError, match="X_reference: expected a list"):
        calibrate(load_pretrained("lfhf"), "me.mp4")
