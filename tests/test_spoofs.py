"""Pseudo-spoofs (``lipanomaly.evaluation.spoofs``) and the spoof scorer: properties, known
answers, errors.

Property tests run on small random clips (hypothesis); the scorer runs on real development
clips with a cheap detector (``LipMotionFeatures`` + ``OneClassSVM``), no network.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

import lipanomaly
from lipanomaly import InputError, LipMotionFeatures, make_spoof_scorer
from lipanomaly._validation import check_clips
from lipanomaly.evaluation.spoofs import (
    RANDOM_SPOOFS,
    SPOOFS,
    UNDER_ARTICULATION_KEEP,
    flicker,
    frame_blend,
    frame_hold,
    make_spoofs,
    oversmooth,
    resample,
    transplant,
    under_articulate,
)
from lipanomaly.limits import MAX_LIP_UNITS

# the whole accepted range, and values near its edges, in float32 and float64
coords = st.floats(-MAX_LIP_UNITS, MAX_LIP_UNITS, allow_nan=False, width=32)
strengths = st.floats(0.0, 1.0)


def clips(max_t=40, dtype=None, k=None):
    dtypes = st.sampled_from([np.float32, np.float64]) if dtype is None else st.just(dtype)
    ks = st.integers(1, 5) if k is None else st.just(k)
    return st.tuples(st.integers(1, max_t), ks, dtypes).flatmap(
        lambda s: arrays(s[2], (s[0], s[1], 2), elements=coords)
    )


def spoof(kind, clip, strength, seed=0, donor=None):
    """One kind applied to one clip (``transplant``'s donor: ``donor`` or the clip reversed)."""
    if kind == "flicker":
        return flicker(clip, strength, random_state=seed)
    if kind == "transplant":
        return transplant(clip, clip[::-1] if donor is None else donor, strength)
    return getattr(lipanomaly.evaluation.spoofs, kind)(clip, strength)


def talking(n=100, k=6, seed=0):
    """A smooth synthetic lip clip with motion in several shape modes."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None, None]
    base = rng.uniform(-1, 1, size=(1, k, 2))
    modes = rng.normal(size=(3, k, 2))
    phases = rng.uniform(0, 2 * np.pi, size=3)
    motion = sum(
        0.05 * m * np.sin(2 * np.pi * f * t / 25 + p)
        for m, f, p in zip(modes, (0.7, 1.3, 2.1), phases)
    )
    return base + motion


kinds = st.sampled_from(SPOOFS)


# --- properties ---------------------------------------------------------------------------


@given(clip=clips(), kind=kinds, strength=strengths, seed=st.integers(0, 2**32 - 1))
def test_shape_dtype_finite_and_in_range(clip, kind, strength, seed):
    out = spoof(kind, clip, strength, seed)
    assert out.shape == clip.shape
    assert out.dtype == clip.dtype
    assert np.isfinite(out).all()
    assert np.abs(out).max() <= MAX_LIP_UNITS
    check_clips([out])  # the estimators accept it


@given(clip=clips(), kind=kinds, seed=st.integers(0, 2**32 - 1))
def test_strength_zero_is_the_identity(clip, kind, seed):
    out = spoof(kind, clip, 0.0, seed)
    np.testing.assert_array_equal(out, clip)
    assert out is not clip and not np.shares_memory(out, clip)


@given(clip=clips(), kind=kinds, a=strengths, b=strengths, seed=st.integers(0, 2**32 - 1))
def test_distance_is_monotone_in_strength(clip, kind, a, b, seed):
    lo, hi = sorted((a, b))
    x = clip.astype(np.float64)
    near = np.abs(spoof(kind, clip, lo, seed).astype(np.float64) - x)
    far = np.abs(spoof(kind, clip, hi, seed).astype(np.float64) - x)
    assert (far >= near).all()  # coordinate by coordinate, so any norm too


@given(clip=clips(), kind=kinds, strength=strengths)
def test_input_is_never_modified(clip, kind, strength):
    before = clip.copy()
    donor = clip[::-1].copy()
    spoof(kind, clip, strength, donor=donor)
    np.testing.assert_array_equal(clip, before)
    np.testing.assert_array_equal(donor, before[::-1])


@given(clip=clips(dtype=np.float64), kind=kinds, strength=strengths, seed=st.integers(0, 99))
def test_same_seed_same_spoof(clip, kind, strength, seed):
    np.testing.assert_array_equal(
        spoof(kind, clip, strength, seed), spoof(kind, clip, strength, seed)
    )


@given(
    n=st.integers(3, 60),
    k=st.integers(1, 5),
    slope=arrays(np.float64, (2,), elements=st.floats(-0.1, 0.1)),
    strength=strengths,
)
def test_smoothing_kinds_keep_a_uniform_motion(n, k, slope, strength):
    """Smoothing, frame interpolation and linear resampling leave a straight constant-speed
    trajectory where it is (frame_hold does not: it holds frames)."""
    x = np.zeros((n, k, 2)) + np.arange(n)[:, None, None] * slope
    for f in (frame_blend, resample):
        np.testing.assert_allclose(f(x, strength), x, atol=1e-12)


@given(list_clips=st.lists(clips(max_t=20, dtype=np.float64, k=3), min_size=2, max_size=4))
def test_make_spoofs_matches_the_functions_and_keeps_inputs(list_clips):
    before = [c.copy() for c in list_clips]
    out, kind = make_spoofs(list_clips, strength=0.7, random_state=3)
    assert len(out) == len(kind) == len(SPOOFS) * len(list_clips)
    assert list(kind) == [k for k in SPOOFS for _ in list_clips]
    for c, b in zip(list_clips, before):
        np.testing.assert_array_equal(c, b)
    for j, (s, name) in enumerate(zip(out, kind)):
        clip = list_clips[j % len(list_clips)]
        assert s.shape == clip.shape and s.dtype == np.float64
        if name not in RANDOM_SPOOFS:
            np.testing.assert_array_equal(s, spoof(name, clip, 0.7))


# --- determinism of the collections ------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic():
    return np.stack([talking(seed=i) for i in range(6)])


def test_make_spoofs_is_deterministic_given_random_state(synthetic):
    a, ka = make_spoofs(synthetic, random_state=7)
    b, kb = make_spoofs(synthetic, random_state=7)
    np.testing.assert_array_equal(ka, kb)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    # a Generator or a RandomState seeded alike give the same spoofs too
    for rs in (np.random.default_rng, np.random.RandomState):
        c, _ = make_spoofs(synthetic, random_state=rs(1))
        d, _ = make_spoofs(synthetic, random_state=rs(1))
        assert all(np.array_equal(x, y) for x, y in zip(c, d))


@pytest.mark.parametrize("kind", RANDOM_SPOOFS)
def test_random_kinds_differ_between_seeds(synthetic, kind):
    a, _ = make_spoofs(synthetic, kinds=kind, random_state=0)
    b, _ = make_spoofs(synthetic, kinds=kind, random_state=1)
    assert not all(np.array_equal(x, y) for x, y in zip(a, b))
    c, _ = make_spoofs(synthetic, kinds=kind, random_state=None)
    d, _ = make_spoofs(synthetic, kinds=kind, random_state=None)
    assert not all(np.array_equal(x, y) for x, y in zip(c, d))


def test_deterministic_kinds_ignore_the_seed(synthetic):
    kinds = [k for k in SPOOFS if k not in RANDOM_SPOOFS]
    a, _ = make_spoofs(synthetic, kinds=kinds, random_state=0)
    b, _ = make_spoofs(synthetic, kinds=kinds, random_state=1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_a_clip_s_spoof_does_not_depend_on_the_other_clips(synthetic):
    a, _ = make_spoofs(synthetic, kinds="flicker", random_state=5)
    b, _ = make_spoofs(list(synthetic[:2]), kinds="flicker", random_state=5)
    np.testing.assert_array_equal(a[1], b[1])


def test_transplant_never_uses_the_clip_itself(synthetic):
    own = synthetic - synthetic.mean(axis=1, keepdims=True)
    for seed in range(5):
        out, _ = make_spoofs(synthetic, kinds="transplant", strength=1.0, random_state=seed)
        for i, s in enumerate(out):
            assert not np.allclose(s - s.mean(axis=0), own[i])


# --- known answers ------------------------------------------------------------------------


def test_known_answers_at_full_strength():
    x = talking(n=51)
    mean = x.mean(axis=0)
    held = frame_hold(x, 1.0)
    np.testing.assert_array_equal(held[1::2], x[0:-1:2])
    np.testing.assert_array_equal(held[0::2], x[0::2])
    blend = frame_blend(x, 1.0)
    np.testing.assert_allclose(blend[1:-1:2], (x[0:-2:2] + x[2::2]) / 2)
    np.testing.assert_array_equal(blend[0::2], x[0::2])
    np.testing.assert_allclose(
        under_articulate(x, 1.0) - mean, UNDER_ARTICULATION_KEEP * (x - mean)
    )
    np.testing.assert_allclose(under_articulate(x, 0.5) - mean, 0.65 * (x - mean))
    # smoothing removes fast motion: less frame-to-frame velocity
    for f in (oversmooth, resample, frame_blend):
        assert np.abs(np.diff(f(x, 1.0), axis=0)).mean() < np.abs(np.diff(x, axis=0)).mean()
    # flicker adds it, in the clip's own shape modes
    jit = flicker(x, 1.0, random_state=0)
    assert np.abs(np.diff(jit, axis=0)).mean() > 1.1 * np.abs(np.diff(x, axis=0)).mean()
    assert np.linalg.matrix_rank((jit - x).reshape(len(x), -1), tol=1e-9) == 3  # 3 modes
    np.testing.assert_allclose(flicker(x[:1], 1.0, random_state=0), x[:1])  # no motion


def test_transplant_takes_the_donor_s_motion_at_the_clip_s_scale():
    x, donor = talking(n=80, seed=0), 3.0 * talking(n=30, seed=1)
    out = transplant(x, donor, 1.0)
    np.testing.assert_allclose(out.mean(axis=0), x.mean(axis=0), atol=0.02)
    rms = lambda c: np.sqrt(np.mean((c - c.mean(axis=0)) ** 2))  # noqa: E731
    assert rms(out) == pytest.approx(rms(x), rel=0.1)
    motion = donor - donor.mean(axis=0)
    scaled = (out - x.mean(axis=0))[:30]
    corr = np.corrcoef(scaled.ravel(), motion.ravel())[0, 1]
    assert corr > 0.999  # the donor's motion, played forward first
    # extended by playing backward: no jump at the seam
    assert np.abs(np.diff(out, axis=0)).max() < 3 * np.abs(np.diff(x, axis=0)).max()


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kinds", "match"),
    [
        (["nope"], "unknown spoof kind.*valid kinds are: oversmooth"),
        (["flicker", 3], "unknown spoof kind"),
        ("flick", "unknown spoof kind"),
        ([], "kinds is empty"),
        (["flicker", "flicker"], "more than once"),
        (3, "kinds must be None, a spoof name or a sequence"),
    ],
)
def test_bad_kinds(kinds, match, synthetic):
    with pytest.raises(InputError, match=match):
        make_spoofs(synthetic, kinds=kinds)
    with pytest.raises(InputError, match=match):
        make_spoof_scorer(kinds=kinds)


@pytest.mark.parametrize("strength", [-0.1, 1.1, np.nan, np.inf, True, "0.5", None])
def test_bad_strength(strength, synthetic):
    with pytest.raises(InputError, match=r"strength must be a number in \[0, 1\]"):
        make_spoofs(synthetic, strength=strength)
    with pytest.raises(InputError, match=r"strength must be a number in \[0, 1\]"):
        make_spoof_scorer(strength=strength)
    for kind in SPOOFS:
        with pytest.raises(InputError, match=r"strength must be a number in \[0, 1\]"):
            spoof(kind, synthetic[0], strength)


@pytest.mark.parametrize("random_state", [-1, 2**32, 1.5, "0", "a", True])
def test_bad_random_state(random_state, synthetic):
    for kinds in (None, "oversmooth"):  # checked even where no kind draws at random
        with pytest.raises(InputError, match="random_state must be"):
            make_spoofs(synthetic, kinds=kinds, random_state=random_state)
    with pytest.raises(InputError, match="random_state must be"):
        make_spoof_scorer(random_state=random_state)
    with pytest.raises(InputError, match="random_state must be"):  # as its siblings
        flicker(synthetic[0], random_state=random_state)


def test_flicker_takes_every_random_state_make_spoofs_takes(synthetic):
    a = flicker(synthetic[0], random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(a, flicker(synthetic[0], random_state=np.random.RandomState(3)))
    b = flicker(synthetic[0], random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(b, flicker(synthetic[0], random_state=3))


def test_bad_clips(synthetic):
    nan = synthetic[0].copy()
    nan[3, 0, 0] = np.nan
    with pytest.raises(InputError, match="NaN or inf"):
        oversmooth(nan)
    with pytest.raises(InputError, match=r"shape \(T, K, 2\)"):
        flicker(np.zeros((10, 40)))
    with pytest.raises(InputError, match="inter-ocular"):
        resample(synthetic[0] + 50.0)
    with pytest.raises(InputError, match="expected 6 lip points"):
        transplant(synthetic[0], np.zeros((10, 5, 2)))
    with pytest.raises(InputError, match="pass \\[clip\\] for one clip"):
        make_spoofs(synthetic[0])
    with pytest.raises(InputError, match="X\\[1\\]: contains NaN"):
        make_spoofs([synthetic[0], nan])
    with pytest.raises(InputError, match="'transplant' spoof needs at least 2 clips"):
        make_spoofs(synthetic[:1])
    make_spoofs(synthetic[:1], kinds=["flicker", "oversmooth"])  # one clip is fine without it


# --- the scorer ---------------------------------------------------------------------------


class _Jerkiness:
    """A toy detector: the smoother the lips for their motion, the more live (no fit)."""

    def score_samples(self, X):
        return np.array([-np.std(np.diff(c, axis=0)) / np.std(c - c.mean(axis=0)) for c in X])


class _Constant:
    def score_samples(self, X):
        return np.zeros(len(X))


def test_scorer_known_answers(synthetic):
    assert make_spoof_scorer(kinds="flicker")(_Jerkiness(), synthetic) == 1.0
    # it prefers smoother clips, so smoothing spoofs look more live than the clips: below chance
    assert make_spoof_scorer(kinds=["oversmooth", "resample"])(_Jerkiness(), synthetic) < 0.5
    assert make_spoof_scorer()(_Constant(), synthetic) == 0.5
    assert repr(make_spoof_scorer(kinds="flicker")) == (
        "make_spoof_scorer(kinds=('flicker',), strength=0.5, random_state=0)"
    )


def test_scorer_uses_only_the_real_clips_of_labelled_folds(synthetic):
    scorer = make_spoof_scorer()
    fakes = list(flicker(c, 1.0, random_state=9) for c in synthetic[:2])
    X = [*synthetic, *fakes]
    y = np.r_[np.ones(len(synthetic)), -np.ones(2)]
    assert scorer(_Jerkiness(), X, y) == scorer(_Jerkiness(), synthetic)
    with pytest.raises(InputError, match="no real clip"):
        scorer(_Jerkiness(), fakes, [-1, -1])
    with pytest.raises(InputError, match="one label per clip"):
        scorer(_Jerkiness(), X, y[:3])
    with pytest.raises(InputError, match="expected a numeric array"):
        scorer(_Jerkiness(), ["video.mp4"])


def test_the_package_exports_the_scorer():
    assert lipanomaly.make_spoof_scorer is make_spoof_scorer
    assert "make_spoof_scorer" in lipanomaly.__all__
    assert "evaluation" in dir(lipanomaly)


@pytest.fixture(scope="module")
def baseline():
    return make_pipeline(LipMotionFeatures(), StandardScaler(), OneClassSVM(nu=0.2))


def test_scorer_on_a_fitted_detector_and_real_clips(baseline, lips):
    fitted = baseline.fit(lips["train"])
    scorer = make_spoof_scorer(random_state=0)
    value = scorer(fitted, lips["test"])
    assert isinstance(value, float) and 0.0 <= value <= 1.0
    assert scorer(fitted, lips["test"]) == value  # deterministic given random_state
    assert make_spoof_scorer(random_state=0)(fitted, lips["test"]) == value


def test_scorer_in_grid_search_and_cross_validate(baseline, lips):
    cv = KFold(3, shuffle=True, random_state=0)
    grid = {"oneclasssvm__gamma": ["scale", 0.01]}
    results = []
    for _ in range(2):
        search = GridSearchCV(baseline, grid, scoring=make_spoof_scorer(), cv=cv)
        search.fit(lips["train"])  # real clips only: no labels
        results.append(search.cv_results_["mean_test_score"])
    scores = results[0]
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()
    np.testing.assert_array_equal(results[0], results[1])
    assert (
        search.best_params_["oneclasssvm__gamma"]
        == grid["oneclasssvm__gamma"][int(np.argmax(scores))]
    )
    out = cross_validate(baseline, lips["train"], scoring=make_spoof_scorer(kinds="flicker"), cv=cv)
    assert ((out["test_score"] >= 0) & (out["test_score"] <= 1)).all()
