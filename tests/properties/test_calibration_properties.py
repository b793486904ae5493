"""Property tests of calibration (hypothesis): random reference sets, hostile ones included.

The references are the pretrained network's components of the bundled demo clips (real
and fake, clips it never saw), and hostile variants of them: a component scaled by up to
1e5 (what near-still lips do to the relative errors) or put anywhere within 40 robust
scales of the model's centre, a clip's windows repeated up to 60 times, a constant clip,
the same clip several times. For every set, ``calibrate_scorer`` either raises an
``InputError`` that names a reference or returns a scorer that

- moves no centre by more than ``MAX_SHIFT`` robust scales of the model (re-centring: by
  at most ``MAX_SHIFT * n / (n + prior_clips)``), and replacing one of n references moves
  a centre by at most ``2 MAX_SHIFT / (n + prior_clips)`` scales;
- is never more permissive than the documented limit: its threshold is never below the
  model's, re-centring keeps the model's scales and covariance, a re-fit keeps each scale
  within ``MAX_SCALE_RATIO`` of the model's, and so a clip 40 robust scales out on the fake
  side of every component stays a spoof;
- gives valid p-values: in ``[1 / (m + 1), 1]`` for its ``m`` calibration scores, which
  after a re-fit are the scores of references the scorer was not fitted on.

That P(p <= a) <= a holds is simulated in ``tests/test_calibration.py``.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lipanomaly import load_pretrained
from lipanomaly.exceptions import InputError
from lipanomaly.io.datasets import load_demo
from lipanomaly.io.extraction import LipLandmarkExtractor
from lipanomaly.scoring.calibration import MAX_SCALE_RATIO, MAX_SHIFT, REFIT_FROM, calibrate_scorer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::lipanomaly.scoring.calibration.CalibrationWarning"),
]

PRIOR = 3.0
FAR = 40.0  # robust scales: the probe that must stay a spoof


@pytest.fixture(scope="module")
def model():
    """The pretrained scorer and the components of the demo clips (what it reads)."""
    detector = load_pretrained("lfhf")[-1]
    demo = load_demo(split="demo")
    clips = LipLandmarkExtractor().transform(demo.tracks)
    read = detector.scorer_.needed_components()
    C = detector.network_.transform(clips, components=read)
    return {
        "scorer": detector.scorer_,
        "real": [c for c, y in zip(C, demo.y) if y == 1],
        "fake": [c for c, y in zip(C, demo.y) if y == -1],
    }


def _clip(model, item):
    """The components of one reference described by ``item`` (see ``references``)."""
    scorer = model["scorer"]
    kind, i, name, value = item
    base = model["fake" if kind == "fake" else "real"]
    c = base[i % len(base)].copy()
    if kind == "scaled":
        c[name] = c[name] * value
    elif kind == "placed":  # its median at the model's centre + value robust scales
        j = scorer.component_names_.index(name)
        target = scorer.component_center_[j] + value * scorer.component_scale_[j]
        c[name] = c[name] - np.median(c[name]) + target
    elif kind == "long":
        c = np.tile(c, int(value))
    elif kind == "constant":
        for n in scorer.needed_components():
            c[n] = value
    return c


NAMES = ("e_smooth", "e_smooth_rel", "e_detail_rel")  # what the pretrained scorer reads
item = st.one_of(
    st.tuples(st.sampled_from(["real", "fake"]), st.integers(0, 60), st.just(""), st.just(0.0)),
    st.tuples(
        st.just("scaled"),
        st.integers(0, 60),
        st.sampled_from(NAMES),
        st.floats(1e-3, 1e5),
    ),
    st.tuples(st.just("placed"), st.integers(0, 60), st.sampled_from(NAMES), st.floats(-FAR, FAR)),
    st.tuples(st.just("long"), st.integers(0, 60), st.just(""), st.integers(2, 60)),
    st.tuples(st.just("constant"), st.just(0), st.just(""), st.floats(0.0, 10.0)),
)
references = st.lists(item, min_size=1, max_size=24)


def _distinct(refs):
    seen, out = set(), []
    for c in refs:
        key = c.tobytes()
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _far_probe(scorer):
    """One clip whose every component lies FAR robust scales out on its fake side."""
    names = scorer.component_names_
    a = np.zeros(3, dtype=[("start", "i8")] + [(n, "f8") for n in names])
    for j, n in enumerate(names):
        k = list(scorer.columns_).index(j) if j in scorer.columns_ else None
        sign = -1.0 if k is not None and scorer.sides_[k] == "low" else 1.0
        a[n] = scorer.component_center_[j] + sign * FAR * scorer.component_scale_[j]
    return a


@given(refs=references)
def test_calibration_is_bounded_and_its_p_values_valid(model, refs):
    scorer = model["scorer"]
    C = [_clip(model, r) for r in refs]
    try:
        new = calibrate_scorer(scorer, C, prior_clips=PRIOR)
    except InputError as exc:  # the only failure: a reference refused by name
        assert str(exc).startswith("C_reference[") and "\n" not in str(exc)
        return
    center, scale = scorer.component_center_, scorer.component_scale_
    shift = np.abs(new.component_center_ - center) / scale
    n = len(_distinct(C))
    refit = n >= REFIT_FROM
    assert (shift <= MAX_SHIFT * (1 if refit else n / (n + PRIOR)) + 1e-9).all()
    # never more permissive than the documented limit
    assert new.offset_ >= scorer.offset_
    if refit:
        ratio = new.component_scale_ / scale
        assert ((ratio >= 1 / MAX_SCALE_RATIO - 1e-12) & (ratio <= MAX_SCALE_RATIO + 1e-12)).all()
        held_out = _distinct(C)[1::2]  # the references the scorer was not fitted on
        np.testing.assert_allclose(new.calibration_scores_, new.score_samples(held_out))
    else:
        np.testing.assert_array_equal(new.component_scale_, scale)
        np.testing.assert_array_equal(new.precision_, scorer.precision_)
        assert new.offset_ == scorer.offset_
    assert new.predict([_far_probe(scorer)])[0] == -1
    # p-values in [1 / (m + 1), 1]
    m = len(new.calibration_scores_)
    assert np.isfinite(new.calibration_scores_).all()
    p = new.p_values(model["real"][:5] + model["fake"][:5])
    assert ((p >= 1 / (m + 1) - 1e-12) & (p <= 1)).all()


@given(
    n=st.integers(3, REFIT_FROM - 1),
    start=st.integers(0, 40),
    hostile=item,
)
def test_one_reference_moves_a_centre_by_at_most_its_share(model, n, start, hostile):
    scorer = model["scorer"]
    genuine = [model["real"][(start + k) % len(model["real"])] for k in range(n)]
    bad = _clip(model, hostile)
    try:
        swapped = calibrate_scorer(scorer, [*genuine[:-1], bad], prior_clips=PRIOR)
    except InputError:
        return  # refused: it moves nothing
    if len(_distinct([*genuine[:-1], bad])) < n:
        return  # a copy of a genuine reference: counted once, n - 1 references
    base = calibrate_scorer(scorer, genuine, prior_clips=PRIOR)
    moved = np.abs(swapped.component_center_ - base.component_center_) / scorer.component_scale_
    assert (moved <= 2 * MAX_SHIFT / (n + PRIOR) + 1e-9).all()
