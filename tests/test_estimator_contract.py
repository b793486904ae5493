"""The estimator contract on real clips, for every estimator of the package.

What scikit-learn's table-based checks (``tests/test_common.py``) cannot feed these
estimators, checked on what they take (development lip sequences; track objects for the
extractor; per-clip component records for the scorer), with the very instances of
``tests/test_common.py``: so every configuration checked there fits.

- ``clone`` gives an unfitted estimator with the same parameters;
- ``fit`` returns self and changes no parameter; fitting again gives the same results;
- results do not depend on the order of the samples or on the other samples of the batch;
- NaN and inf are rejected with an :class:`~lipanomaly.InputError` naming the sample;
- the fitted state survives :func:`~lipanomaly.save_model` / :func:`~lipanomaly.load_model`
  where the estimator can be saved.
"""

import copy

import numpy as np
import pytest
from numpy.lib import recfunctions
from sklearn.base import clone
from test_common import ESTIMATORS

from lipanomaly.exceptions import InputError
from lipanomaly.persistence import serialization

pytestmark = pytest.mark.slow

INSTANCES = {type(est).__name__: est for est, _ in ESTIMATORS}
NAMES = sorted(INSTANCES)
#: checks that do not apply, with the reason
NOT_APPLICABLE = {
    ("LipLandmarkExtractor", "nan"): "NaN in a FaceMesh track means 'no face in this frame' "
    "and is handled (interpolated or cut), never an error",
    ("LipLandmarkExtractor", "refit"): "stateless: fit reads no data",
}
SAVEABLE = set(serialization._REGISTRY)


@pytest.fixture(scope="module")
def data(lips, faces, development):
    """(fit input, test input) per estimator; the scorer gets the records of a network, the
    face-motion estimators face clips."""
    fit, test = lips["train"], lips["test"][:3] + lips["fake"][:2]
    out = {name: (fit, test) for name in NAMES}
    for name in ("FaceMotionFeatures", "FaceMotionDetector"):
        out[name] = (faces["train"], faces["test"][:3] + faces["fake"][:2])
    out["LipLandmarkExtractor"] = (None, list(development.tracks[:5]))
    network = clone(INSTANCES["LFHFComponents"]).fit(fit)
    out["ComponentScorer"] = (network.transform(fit), network.transform(test))
    return out


def _fit(est, name, data, X=None):
    X_fit = data[name][0] if X is None else X
    return est.fit(X_fit) if X_fit is not None else est.fit()


@pytest.fixture(scope="module")
def fitted(data):
    return {name: _fit(clone(INSTANCES[name]), name, data) for name in NAMES}


def _output(est, X):
    """The estimator's result per sample, as a list of float arrays."""
    if hasattr(est, "score_samples"):
        return list(est.score_samples(X)[:, None])
    out = est.transform(X)
    if isinstance(out, list) and out and out[0].dtype.names is not None:  # records
        return [recfunctions.structured_to_unstructured(a, dtype=np.float64) for a in out]
    return [np.asarray(o, dtype=np.float64) for o in out]


def _assert_same(a, b, rtol=1e-7):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=1e-10)


def _skip_if_not_applicable(name, check):
    reason = NOT_APPLICABLE.get((name, check))
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize("name", NAMES)
def test_clone_is_unfitted_with_the_same_parameters(name, fitted):
    est = clone(fitted[name])
    assert est.get_params() == fitted[name].get_params()
    assert not [k for k in vars(est) if k.endswith("_") and not k.startswith("__")]


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_keeps_parameters_and_is_idempotent(name, data, fitted):
    _skip_if_not_applicable(name, "refit")
    est = copy.deepcopy(fitted[name])
    params = copy.deepcopy(est.get_params())
    assert _fit(est, name, data) is est  # fitted a second time
    assert est.get_params() == params
    X_test = data[name][1]
    _assert_same(_output(est, X_test), _output(fitted[name], X_test))


@pytest.mark.parametrize("name", NAMES)
def test_results_do_not_depend_on_order_or_batch(name, data, fitted):
    est, X = fitted[name], data[name][1]
    whole = _output(est, X)
    _assert_same(_output(est, X[::-1]), whole[::-1], rtol=1e-5)
    for i in (0, len(X) - 1):  # float32 networks: a batch of another size rounds otherwise
        _assert_same(_output(est, [X[i]]), [whole[i]], rtol=1e-5)


def _with_bad_value(X, name, value):
    """A copy of X with one value of its second sample replaced by ``value``."""
    X = [x.copy() for x in X]
    if name == "ComponentScorer":
        X[1]["e_smooth"][0] = value  # a component the score reads (only those are read)
    else:
        X[1][min(3, len(X[1]) - 1), 0, 0] = value
    return X


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("name", NAMES)
def test_nan_and_inf_are_rejected(name, bad, data, fitted):
    _skip_if_not_applicable(name, "nan")
    X_fit, X_test = data[name]
    with pytest.raises(InputError, match=r"\[1\].*(NaN|inf)"):
        _fit(clone(fitted[name]), name, data, _with_bad_value(X_fit, name, bad))
    with pytest.raises(InputError, match=r"\[1\].*(NaN|inf)"):
        _output(fitted[name], _with_bad_value(X_test, name, bad))


@pytest.mark.parametrize("name", NAMES)
def test_fitted_state_survives_save_and_load(name, data, fitted, tmp_path):
    if name not in SAVEABLE:
        pytest.skip(f"{name} is not saved with save_model (its parameters are its state)")
    loaded = serialization.load_model(serialization.save_model(fitted[name], tmp_path / "m"))
    assert type(loaded) is type(fitted[name])
    assert loaded.get_params() == fitted[name].get_params()
    X_test = data[name][1]
    _assert_same(_output(loaded, X_test), _output(fitted[name], X_test), rtol=1e-12)
