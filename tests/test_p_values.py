"""Conformal p-values: the scale of a verdict (scoring, ComponentScorer, the detectors)."""

import numpy as np
import pytest

from lipanomaly.exceptions import InputError
from lipanomaly.scoring.formulas import conformal_p_values
from lipanomaly.scoring.scorer import ComponentScorer


def test_known_answers():
    cal = [1.0, 2.0, 3.0]
    p = conformal_p_values([0.0, 1.0, 2.5, 3.0, 9.0, np.nan], cal)
    np.testing.assert_allclose(p, [0.25, 0.5, 0.75, 1.0, 1.0, np.nan])
    assert p.dtype == np.float64


def test_order_of_calibration_does_not_matter():
    rng = np.random.default_rng(0)
    cal, s = rng.normal(size=20), rng.normal(size=7)
    np.testing.assert_array_equal(
        conformal_p_values(s, cal), conformal_p_values(s, rng.permutation(cal))
    )


def test_valid_for_exchangeable_live_clips():
    # P(p <= a) <= a for a live clip drawn like the calibration clips
    rng = np.random.default_rng(1)
    hits = 0
    n_trials = 4000
    for _ in range(n_trials):
        scores = rng.normal(size=10)
        hits += conformal_p_values(scores[:1], scores[1:])[0] <= 0.2
    assert hits / n_trials <= 0.2 + 0.02


def test_needs_finite_calibration():
    with pytest.raises(InputError, match="calibration_scores"):
        conformal_p_values([0.0], [])
    with pytest.raises(InputError, match="calibration_scores"):
        conformal_p_values([0.0], [1.0, np.nan])


def _clip(rng, n, shift=0.0):
    a = np.zeros(n, dtype=[("start", "i8"), ("drs", "f8")])
    a["drs"] = rng.normal(1.0 + shift, 0.1, n)
    return a


def test_scorer_p_values_use_its_calibration_scores():
    rng = np.random.default_rng(0)
    scorer = ComponentScorer(components=("drs",)).fit([_clip(rng, 5) for _ in range(9)])
    typical = _clip(rng, 5)
    typical["drs"] = scorer.component_center_[0]  # at the live median: the most live score
    C = [typical, _clip(rng, 5, shift=3.0)]
    p = scorer.p_values(C)
    np.testing.assert_array_equal(
        p, conformal_p_values(scorer.score_samples(C), scorer.calibration_scores_)
    )
    assert p[1] == pytest.approx(0.1)  # below every one of the 9 live clips: 1 / (9 + 1)
    assert p[0] == 1.0
