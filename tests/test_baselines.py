"""OCVAEDetector (OC-FakeDect baseline) on real development clips: same contract as the detector."""

import numpy as np
import pytest
from sklearn.base import clone
from tiny import OCVAE

from lipanomaly.detectors.ocvae import OCVAEDetector
from lipanomaly.exceptions import InputError, NotFittedError

pytestmark = pytest.mark.slow

TINY = OCVAE


@pytest.fixture(scope="module")
def fitted(lips):
    return OCVAEDetector(**TINY).fit(lips["train"])


def test_outlier_contract_and_t80(fitted, lips):
    X = lips["test"] + lips["fake"]
    scores = fitted.score_samples(X)
    assert scores.shape == (len(X),) and scores.dtype == np.float64
    np.testing.assert_array_equal(fitted.decision_function(X), scores - fitted.offset_)
    labels = fitted.predict(X)
    assert labels.dtype.kind == "i" and set(labels) <= {-1, 1}
    valid = [lips["train"][i] for i in fitted.network_.validation_index_]
    np.testing.assert_allclose(fitted.score_samples(valid), fitted.validation_scores_)
    assert fitted.offset_ == pytest.approx(np.percentile(fitted.validation_scores_, 20))


def test_score_is_minus_the_standardised_error(fitted, lips):
    """OC-FakeDect: one-sided, a larger reconstruction error is more fake."""
    win = fitted.score_windows(lips["test"][:2])
    scorer = fitted.scorer_
    assert scorer.component_names_ == ("rmse",)  # what the score reads
    z = (win.rmse - scorer.component_center_[0]) / scorer.component_scale_[0]
    np.testing.assert_allclose(win.score, -z)
    comps = fitted.score_components(lips["test"][:2])
    assert set(comps) == {"rmse", "latent_rmse", "score"}
    assert np.all(comps["rmse"] > 0) and np.all(comps["latent_rmse"] >= 0)


def test_latent_score_reuses_the_network(lips, tmp_path):
    first = OCVAEDetector(**TINY, memory=tmp_path).fit(lips["train"])
    det = clone(first).set_params(score="latent").fit(lips["train"])
    assert det.network_.network_from_cache_
    assert det.scorer_.needed_components() == ("latent_rmse",)
    win = det.score_windows(lips["test"][:2])
    assert det.scorer_.component_names_ == ("latent_rmse",)
    z = (win.latent_rmse - det.scorer_.component_center_[0]) / det.scorer_.component_scale_[0]
    np.testing.assert_allclose(win.score, -z)


def test_parameters_are_the_network_s_and_the_threshold_s():
    from lipanomaly.detectors.ocvae import OCVAEComponents

    expected = set(OCVAEComponents().get_params())
    expected |= {"score", "aggregation", "contamination", "threshold", "iqr_factor"}
    assert set(OCVAEDetector().get_params()) == expected


def test_deterministic_and_save_load(fitted, lips, tmp_path):
    from lipanomaly import load_model, save_model

    s = fitted.score_samples(lips["test"])
    again = OCVAEDetector(**TINY).fit(lips["train"])
    assert not again.network_.network_from_cache_
    np.testing.assert_allclose(again.score_samples(lips["test"]), s, rtol=1e-6)
    save_model(fitted, tmp_path / "oc")
    loaded = load_model(tmp_path / "oc")
    assert type(loaded) is OCVAEDetector
    np.testing.assert_array_equal(loaded.score_samples(lips["test"]), s)


def test_errors(lips):
    det = OCVAEDetector(**TINY)
    with pytest.raises(NotFittedError):
        det.score_samples(lips["test"])
    with pytest.raises(InputError, match="at least 2 live clips"):
        det.fit(lips["train"][:1])
    with pytest.raises(ValueError, match="'score' parameter"):
        OCVAEDetector(**TINY, score="mse").fit(lips["train"])
