"""lipanomaly.calibrate: a fitted detector's scorer re-fitted on reference clips, the network kept.

Tiny networks on real clips; what calibration buys on real data is measured in
``benchmarks/bench_quality.py`` (``docs/quality.md``), not here.
"""

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from tiny import LFHF, OCVAE

from lipanomaly import (
    LFHFVAEDetector,
    LipLandmarkExtractor,
    OCVAEDetector,
    calibrate,
    load_model,
    save_model,
)
from lipanomaly.exceptions import InputError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def detector(lips):
    return LFHFVAEDetector(**LFHF).fit(lips["train"])


def _state(det):
    return det.offset_, det.scorer_.component_center_.copy(), det.scorer_.precision_.copy()


def test_few_references_recentre_the_scorer_only(detector, lips):
    before = _state(detector)
    refs = lips["test"][:1]
    new = calibrate(detector, refs)
    assert type(new) is LFHFVAEDetector and new is not detector
    # the input is not changed
    after = _state(detector)
    assert after[0] == before[0]
    np.testing.assert_array_equal(after[1], before[1])
    # one reference clip, prior_clips 3: the centre moves a quarter of the way to its median
    C = detector.network_.transform(refs, components=detector.scorer_.needed_components())
    for j, name in enumerate(detector.scorer_.component_names_):
        target = np.median(C[0][name])
        assert new.scorer_.component_center_[j] == pytest.approx(
            before[1][j] + 0.25 * (target - before[1][j])
        )
    # scale, covariance, threshold and network kept
    assert new.offset_ == detector.offset_
    np.testing.assert_array_equal(new.scorer_.precision_, before[2])
    np.testing.assert_array_equal(new.network_.window_mean_, detector.network_.window_mean_)
    # the reference clip scores closer to live than before
    assert new.score_samples(refs)[0] >= detector.score_samples(refs)[0]


def test_many_references_refit_the_scorer(detector, lips):
    refs = lips["train"][:10]
    new = calibrate(detector, refs, refit_from=10)
    np.testing.assert_allclose(new.validation_scores_, new.score_samples(refs))
    assert new.offset_ == pytest.approx(np.percentile(new.validation_scores_, 20))
    assert len(new.validation_scores_) == 10


def test_calibrated_model_saves_and_loads(detector, lips, tmp_path):
    new = calibrate(detector, lips["test"][:2])
    loaded = load_model(save_model(new, tmp_path / "calibrated"))
    X = lips["test"] + lips["fake"]
    np.testing.assert_array_equal(loaded.score_samples(X), new.score_samples(X))
    assert loaded.offset_ == new.offset_


def test_baseline_and_pipeline(lips, development):
    oc = OCVAEDetector(**OCVAE).fit(lips["train"])
    new = calibrate(oc, lips["test"][:3], prior_clips=0)  # prior 0: fully re-centred
    rmse = oc.network_.transform(lips["test"][:3], components=["rmse"])
    j = oc.scorer_.component_names_.index("rmse")
    assert new.scorer_.component_center_[j] == pytest.approx(
        np.median(np.concatenate([a["rmse"] for a in rmse]))
    )
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
    [({"prior_clips": -1.0}, "prior_clips"), ({"refit_from": 1}, "refit_from")],
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
