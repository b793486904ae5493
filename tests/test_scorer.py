"""ComponentScorer: known answers on synthetic component records, errors, persistence.

Numpy only: no network is trained here (the scorer on a network's output is tested in
``tests/test_detector.py`` and ``tests/test_estimator_contract.py``).
"""

import numpy as np
import pytest

from lipanomaly.exceptions import InputError, NotFittedError
from lipanomaly.scoring import formulas
from lipanomaly.scoring.scorer import COMBINATIONS, ComponentScorer, check_components


def _records(values, names, starts=None):
    """One clip's records: ``values`` of shape (n_windows, len(names))."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    a = np.zeros(len(values), dtype=[("start", np.int64)] + [(n, np.float64) for n in names])
    a["start"] = np.arange(len(values)) * 16 if starts is None else starts
    for j, n in enumerate(names):
        a[n] = values[:, j]
    return a


@pytest.fixture
def live(rng):
    """20 live clips of 4 windows, every component of the dual VAE."""
    return [
        _records(rng.normal(1.0, 0.2, (4, len(formulas.COMPONENTS))), formulas.COMPONENTS)
        for _ in range(20)
    ]


def test_mahalanobis_known_answer(live, rng):
    scorer = ComponentScorer(components=("drs", "delta_e"), sides="both").fit(live)
    assert scorer.component_names_ == formulas.COMPONENTS
    values, clip_index, _ = check_components(live)
    center, scale = formulas.fit_robust_scale(values)
    np.testing.assert_array_equal(scorer.component_center_, center)
    z = (values - center) / scale
    cols = [2, 3]
    np.testing.assert_array_equal(scorer.columns_, cols)
    precision = formulas.fit_mahalanobis(z[:, cols])
    np.testing.assert_allclose(scorer.precision_, precision)
    window = -formulas.mahalanobis(z[:, cols], precision)
    per_clip = [window[clip_index == i].mean() for i in range(len(live))]
    np.testing.assert_allclose(scorer.calibration_scores_, per_clip)
    np.testing.assert_allclose(scorer.score_samples(live), per_clip)
    assert scorer.offset_ == pytest.approx(np.percentile(per_clip, 20))
    windows = scorer.score_windows(live)
    assert [len(w) for w in windows] == [4] * 20
    np.testing.assert_allclose(np.concatenate(windows), window)


def test_linear_known_answer_and_needed_components(live):
    scorer = ComponentScorer(combination="linear", alpha=2.0, beta=0.5, gamma=0.0).fit(live)
    assert scorer.needed_components() == ("drs", "delta_e")
    values, _, _ = check_components(live)
    z = (values - scorer.component_center_) / scorer.component_scale_
    np.testing.assert_allclose(
        np.concatenate(scorer.score_windows(live)), 2 * z[:, 2] - 0.5 * z[:, 3]
    )
    # records holding only what the score reads give the same scores
    partial = [_records(np.c_[a["drs"], a["delta_e"]], ("drs", "delta_e")) for a in live]
    np.testing.assert_array_equal(scorer.score_samples(partial), scorer.score_samples(live))
    default = ("e_smooth", "e_smooth_rel", "e_detail_rel")
    assert ComponentScorer().fit(live).needed_components() == default


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_every_combination_reads_what_it_says(combination, live):
    # one strategy per combination: what a fitted scorer reads is what it said before fit
    scorer = ComponentScorer(combination=combination, beta=0.0).fit(live)
    read = scorer.needed_components()
    assert read == scorer.components_read(formulas.COMPONENTS) and read
    partial = [_records(np.column_stack([a[n] for n in read]), read) for a in live]
    np.testing.assert_array_equal(scorer.score_samples(partial), scorer.score_samples(live))
    assert ComponentScorer.__init__.__kwdefaults__["combination"] in COMBINATIONS


def test_components_read_before_fit():
    names = formulas.COMPONENTS
    assert ComponentScorer().components_read(names) == ("e_smooth", "e_smooth_rel", "e_detail_rel")
    assert ComponentScorer(components=None).components_read(names) == names
    linear = ComponentScorer(combination="linear", gamma=0.0, latent_coef=2.0)
    assert linear.components_read(names) == ("drs", "delta_e", "latent_rmse")
    nothing = ComponentScorer(combination="linear", alpha=0.0, beta=0.0, gamma=0.0)
    assert nothing.components_read(names) == names  # every weight 0: all, as a plain fit


def test_linear_score_without_the_distance_s_components(live):
    """A linear score that does not read DRS fits on records without it."""
    scorer = ComponentScorer(combination="linear", alpha=0.0, beta=1.0, gamma=0.0)
    only_de = [_records(a["delta_e"][:, None], ("delta_e",)) for a in live]
    scorer.fit(only_de)
    assert scorer.needed_components() == ("delta_e",) and scorer.columns_.size == 0
    z = np.concatenate([a["delta_e"] for a in live]) - scorer.component_center_[0]
    z /= scorer.component_scale_[0]
    np.testing.assert_allclose(np.concatenate(scorer.score_windows(only_de)), -z)


def test_a_missing_component_is_a_clear_error(live):
    scorer = ComponentScorer(combination="linear").fit(live)
    only_drs = [_records(a["drs"][:, None], ("drs",)) for a in live]
    with pytest.raises(InputError, match=r"C\[0\]: has no component \['delta_e', 'complexity'\]"):
        scorer.score_samples(only_drs)
    with pytest.raises(InputError, match="components must be a non-empty subset"):
        ComponentScorer(components=("jerk",)).fit(live)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_rejected(live, bad):
    broken = [a.copy() for a in live]
    broken[3]["e_smooth"][1] = bad
    with pytest.raises(InputError, match=r"C\[3\]: a component holds NaN or inf"):
        ComponentScorer().fit(broken)
    scorer = ComponentScorer().fit(live)
    with pytest.raises(InputError, match=r"C\[3\]"):
        scorer.predict(broken)


def test_predict_never_calls_a_nan_decision_live(live):
    scorer = ComponentScorer().fit(live)
    assert set(scorer.predict(live)) == {-1, 1}
    scorer.offset_ = np.nan  # every decision NaN
    labels = scorer.predict(live)
    assert labels.dtype.kind == "i" and (labels == -1).all()


@pytest.mark.parametrize(
    ("C", "match"),
    [
        (np.zeros((3, 2)), "expected a list of per-clip component arrays"),
        (_records([[1.0]], ("drs",)), "got one structured array"),
        ([], "the list is empty"),
        ([np.zeros(3)], r"C\[0\]: expected a 1-D structured array"),
        ([_records(np.zeros((0, 1)), ("drs",))], r"C\[0\]: holds no window"),
    ],
)
def test_bad_collections(C, match):
    with pytest.raises(InputError, match=match):
        ComponentScorer().fit(C)


def test_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ComponentScorer().score_samples([_records([[1.0]], ("drs",))])


def test_refit_on_other_live_clips_recentres(live, rng):
    """Reference calibration: the same scorer parameters, fitted on a user's own clips."""
    shifted = [
        _records(rng.normal(3.0, 0.2, (4, len(formulas.COMPONENTS))), formulas.COMPONENTS)
        for _ in range(20)
    ]
    general = ComponentScorer(sides="both").fit(live)
    mine = ComponentScorer(**general.get_params()).fit(shifted)
    assert np.mean(general.predict(shifted) == -1) > 0.9  # far from the general live
    assert np.mean(mine.predict(shifted) == 1) >= 0.8  # but live for the re-calibrated one


def test_save_and_load(live, tmp_path):
    from lipanomaly import load_model, save_model

    scorer = ComponentScorer(combination="linear", threshold="iqr").fit(live)
    loaded = load_model(save_model(scorer, tmp_path / "scorer"))
    assert loaded.get_params() == scorer.get_params()
    assert loaded.component_names_ == scorer.component_names_
    np.testing.assert_array_equal(loaded.score_samples(live), scorer.score_samples(live))
    assert loaded.offset_ == scorer.offset_


def test_sides_known_answer(live, rng):
    """One-sided components: the distance of the rectified standardised values."""
    params = {"components": ("e_smooth", "e_detail_rel"), "sides": ("low", "high")}
    scorer = ComponentScorer(**params).fit(live)
    assert scorer.sides_ == ("low", "high")
    values, _, _ = check_components(live)
    z = (values - scorer.component_center_) / scorer.component_scale_
    cols = [formulas.COMPONENTS.index("e_smooth"), formulas.COMPONENTS.index("e_detail_rel")]
    r = np.c_[np.minimum(z[:, cols[0]], 0), np.maximum(z[:, cols[1]], 0)]
    np.testing.assert_allclose(scorer.precision_, formulas.fit_mahalanobis(r))
    window = -formulas.mahalanobis(r, scorer.precision_)
    np.testing.assert_allclose(np.concatenate(scorer.score_windows(live)), window)
    # a deviation on the counted side lowers the score; on the other side it does not
    up, down = [a.copy() for a in live], [a.copy() for a in live]
    for a in up:
        a["e_smooth"] += 10.0
    for a in down:
        a["e_smooth"] -= 10.0
    np.testing.assert_array_equal(scorer.score_samples(up) <= 0, True)
    assert (scorer.predict(down) == -1).all()
    assert np.mean(scorer.predict(up) == 1) > 0.5
    two_sided = ComponentScorer(components=params["components"], sides="both").fit(live)
    assert (two_sided.predict(up) == -1).all()


@pytest.mark.parametrize("sides", [("low",), ("low", "high", "up"), "sideways"])
def test_bad_sides(live, sides):
    from sklearn.utils._param_validation import InvalidParameterError

    scorer = ComponentScorer(components=("e_smooth", "rmse"), sides=sides)
    with pytest.raises((InputError, InvalidParameterError), match="sides"):
        scorer.fit(live)


def test_sides_none_takes_the_measured_side_or_both(live):
    assert ComponentScorer().fit(live).sides_ == ("low", "high", "high")
    mixed = ComponentScorer(components=("drs", "rmse", "rmse_rel")).fit(live)
    assert mixed.sides_ == ("both", "low", "high")  # DRS has no measured side
    assert ComponentScorer(components=None, sides="both").fit(live).sides_ == ("both",) * 10


def test_rectify():
    z = np.array([[-1.0, -1.0, -1.0], [2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(
        formulas.rectify(z, ("both", "low", "high")), [[-1, -1, 0], [2, 0, 2]]
    )
    with pytest.raises(InputError, match="sides"):
        formulas.rectify(z, ("both", "low", "middle"))


def test_fit_with_scale_learns_all_but_the_standardisation(live, rng):
    fitted = ComponentScorer().fit(live)
    again = ComponentScorer().fit_with_scale(
        live, fitted.component_center_, fitted.component_scale_
    )
    np.testing.assert_array_equal(again.precision_, fitted.precision_)
    assert again.offset_ == fitted.offset_
    center = fitted.component_center_ + 0.1
    scale = 2 * fitted.component_scale_
    other = ComponentScorer().fit_with_scale(live, center, scale)
    np.testing.assert_array_equal(other.component_center_, center)
    np.testing.assert_array_equal(other.component_scale_, scale)
    assert not np.array_equal(other.precision_, fitted.precision_)
    np.testing.assert_allclose(other.calibration_scores_, other.score_samples(live))
    n = len(formulas.COMPONENTS)
    for bad, match in (
        ((center[:2], scale), "center: expected 10 finite values"),
        ((center, np.full(n, np.nan)), "scale: expected 10 finite values"),
        ((center, -scale), "scale: expected positive values"),
    ):
        with pytest.raises(InputError, match=match):
            ComponentScorer().fit_with_scale(live, *bad)


def test_recentred_and_threshold_from(live):
    """The two ways calibration changes a fitted scorer, as its own methods."""
    scorer = ComponentScorer().fit(live)
    center = scorer.component_center_ + 1.0
    moved = scorer.recentred(center)
    np.testing.assert_array_equal(moved.component_center_, center)
    np.testing.assert_array_equal(moved.component_scale_, scorer.component_scale_)
    assert moved.offset_ == scorer.offset_ and moved is not scorer
    assert not np.array_equal(scorer.component_center_, center)  # the original is kept
    with pytest.raises(InputError, match="finite values"):
        scorer.recentred(center[:-1])
    other = ComponentScorer().fit(live[::2])
    assert other.threshold_from(live[1::2]) is other
    np.testing.assert_array_equal(other.calibration_scores_, other.score_samples(live[1::2]))
    assert other.threshold_from(live[1::2], at_least=1e9).offset_ == 1e9
