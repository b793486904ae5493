"""LFHFVAEDetector on real development clips: the outlier contract, T80, reuse, errors.

A tiny network (a few thousand parameters, two epochs) keeps the file fast; quality is
measured in ``docs/detector.md`` with the real configuration, not here.
"""

import copy
import inspect
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from tiny import LFHF

from lipanomaly.detectors.lfhf import LFHFVAEDetector
from lipanomaly.exceptions import InputError, NotFittedError
from lipanomaly.scoring import formulas

pytestmark = pytest.mark.slow

TINY = LFHF


@pytest.fixture(scope="module")
def fitted(lips):
    return LFHFVAEDetector(**TINY).fit(lips["train"])


def test_outlier_contract(fitted, lips):
    X = lips["test"] + lips["fake"]
    scores = fitted.score_samples(X)
    decision = fitted.decision_function(X)
    labels = fitted.predict(X)
    assert scores.shape == (len(X),) and scores.dtype == np.float64
    assert decision.dtype == np.float64
    np.testing.assert_array_equal(decision, scores - fitted.offset_)
    assert labels.dtype.kind == "i" and set(labels) <= {-1, 1}
    np.testing.assert_array_equal(labels, np.where(decision < 0, -1, 1))
    assert np.all(scores <= 0)  # minus a distance


def test_fitted_attributes(fitted, lips):
    network, scorer = fitted.network_, fitted.scorer_
    assert network.n_points_ == 40
    assert network.window_mean_.shape == (80,)
    n_valid = len(network.validation_index_)
    assert n_valid == round(0.2 * len(lips["train"]))
    assert fitted.validation_scores_.shape == (n_valid,)
    # the scorer was fitted on what the score reads: the default's three components
    assert scorer.component_names_ == ("e_smooth", "e_smooth_rel", "e_detail_rel")
    assert scorer.sides_ == ("low", "high", "high")
    assert scorer.component_scale_.shape == (3,) and (scorer.component_scale_ > 0).all()
    assert hasattr(network.net_, "module_") and len(network.net_.history) >= 1
    assert fitted.offset_ == scorer.offset_


def _signature(cls):
    """``{name: default}`` of the keyword-only ``__init__`` of ``cls``, in order."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert all(p.kind is p.KEYWORD_ONLY for p in params), f"{cls.__name__}: keyword-only"
    return {p.name: p.default for p in params}


def test_parameters_are_those_of_the_two_parts():
    """The written-out signatures of the detectors are the union of their parts' (names,
    defaults, order): a parameter added to a part must be added to the detector."""
    from lipanomaly.detectors.ocvae import OCVAEComponents, OCVAEDetector
    from lipanomaly.scoring.components import LFHFComponents
    from lipanomaly.scoring.scorer import ComponentScorer

    network, scorer = _signature(LFHFComponents), _signature(ComponentScorer)
    assert not set(network) & set(scorer)  # each parameter goes to one part
    assert list(_signature(LFHFVAEDetector).items()) == [*network.items(), *scorer.items()]
    threshold = ("aggregation", "contamination", "threshold", "iqr_factor")
    assert list(_signature(OCVAEDetector).items()) == [
        *_signature(OCVAEComponents).items(),
        *((name, scorer[name]) for name in threshold),
        ("score", "rmse"),
    ]
    # the training parameters of the two networks agree too
    training = list(network)[list(network).index("max_epochs") :]
    assert {k: network[k] for k in training} == {
        k: _signature(OCVAEComponents)[k] for k in training
    }
    det = LFHFVAEDetector(channels=6, alpha=0.5, loss_weights={"kl_lf": 4.0})
    assert det.build_network().channels == 6 and det.build_scorer().alpha == 0.5
    assert det.build_network().loss_weights == {"kl_lf": 4.0}
    with pytest.raises(TypeError, match="unexpected keyword"):
        LFHFVAEDetector(chanels=6)
    with pytest.raises(TypeError):
        LFHFVAEDetector(64)  # keyword-only


def test_loss_weights_over_the_defaults():
    from lipanomaly.nn.specs import DUAL
    from lipanomaly.scoring.components import LFHFComponents

    weights = LFHFComponents(loss_weights={"kl_lf": 4.0})._loss_weights()
    assert weights == {**DUAL.loss_weights, "kl_lf": 4.0}
    assert LFHFComponents()._loss_weights() == dict(DUAL.loss_weights)
    with pytest.raises(InputError, match="unknown term"):
        LFHFVAEDetector(loss_weights={"kl_weight_lf": 4.0}).fit([np.zeros((40, 4, 2))] * 3)
    with pytest.raises(InputError, match="finite number >= 0"):
        LFHFVAEDetector(loss_weights={"kl_lf": -1.0}).fit([np.zeros((40, 4, 2))] * 3)


def test_offset_is_t80_of_the_validation_clips(fitted, lips):
    valid = [lips["train"][i] for i in fitted.network_.validation_index_]
    # the validation scores are the detector's own scores of those clips
    np.testing.assert_allclose(fitted.score_samples(valid), fitted.validation_scores_)
    # linear interpolation between order statistics, like scikit-learn's detectors
    assert fitted.offset_ == pytest.approx(np.percentile(fitted.validation_scores_, 20))
    lowest, second = np.sort(fitted.validation_scores_)[:2]
    assert lowest <= fitted.offset_ <= second  # 3 validation clips: T80 lies between these


@pytest.mark.parametrize(
    ("params", "needed"),
    [
        ({}, ("e_smooth", "e_smooth_rel", "e_detail_rel")),
        ({"components": ("drs",), "sides": "both"}, ("drs",)),
        ({"combination": "linear"}, ("drs", "delta_e", "complexity")),
        ({"combination": "linear", "alpha": 0.0, "gamma": 0.0}, ("delta_e",)),
    ],
)
def test_score_computes_only_what_it_reads(fitted, lips, params, needed, tmp_path):
    det = clone(fitted).set_params(**params, memory=tmp_path)
    det.fit(lips["train"])
    assert det.scorer_.needed_components() == needed
    X = lips["test"][:2]
    # the full component matrix (score_components) and the partial one give the same score
    np.testing.assert_allclose(det.score_components(X)["score"], det.score_samples(X))


def test_iqr_threshold(lips):
    det = LFHFVAEDetector(**TINY, threshold="iqr", iqr_factor=1.0).fit(lips["train"])
    q1, q3 = np.percentile(det.validation_scores_, [25, 75])
    assert det.offset_ == pytest.approx(q1 - (q3 - q1))


def test_components_windows_and_scores_agree(fitted, lips):
    X = [c for c in lips["test"] + lips["fake"] if len(c) == 160][:3]
    comps = fitted.score_components(X)
    assert set(comps) == {*formulas.COMPONENTS, "score"}
    assert all(v.shape == (3,) and v.dtype == np.float64 for v in comps.values())
    np.testing.assert_allclose(comps["score"], fitted.score_samples(X))
    np.testing.assert_allclose(comps["drs"] > 0, True)
    win = fitted.score_windows(X)
    assert set(win.dtype.names) == {"clip_index", "start", "score", *formulas.COMPONENTS}
    # 160 frames, window 32, stride 16: 9 windows per clip
    np.testing.assert_array_equal(win.clip_index, np.repeat(np.arange(3), 9))
    np.testing.assert_array_equal(win.start[:9], np.arange(0, 129, 16))
    per_clip = [win.score[win.clip_index == i].mean() for i in range(3)]
    np.testing.assert_allclose(per_clip, comps["score"])
    for name in formulas.COMPONENTS:
        np.testing.assert_allclose(
            [win[name][win.clip_index == i].mean() for i in range(3)], comps[name]
        )


def test_linear_combination_known_answer(lips):
    det = LFHFVAEDetector(**TINY, combination="linear", alpha=2.0, beta=0.5, gamma=-1.0)
    det.fit(lips["train"])
    win = det.score_windows(lips["test"][:2])
    assert det.scorer_.component_names_ == ("drs", "delta_e", "complexity")
    raw = np.column_stack([win[name] for name in det.scorer_.component_names_])
    z = (raw - det.scorer_.component_center_) / det.scorer_.component_scale_
    np.testing.assert_allclose(win.score, z @ [2.0, -0.5, -1.0])


def test_deterministic_and_batch_independent(fitted, lips):
    X = lips["test"] + lips["fake"]
    s = fitted.score_samples(X)
    np.testing.assert_array_equal(s, fitted.score_samples(X))
    # a clip's score does not depend on the other clips or their order
    np.testing.assert_allclose(fitted.score_samples([X[3]])[0], s[3], rtol=1e-6)
    np.testing.assert_allclose(fitted.score_samples(X[::-1]), s[::-1], rtol=1e-6)
    # nor does its seeded ΔE jitter probe
    delta_e = fitted.score_components(X)["delta_e"]
    np.testing.assert_allclose(fitted.score_components([X[3]])["delta_e"][0], delta_e[3])
    np.testing.assert_allclose(fitted.score_components(X[::-1])["delta_e"], delta_e[::-1])
    # retraining from scratch with the same random_state gives the same scores
    again = LFHFVAEDetector(**TINY).fit(lips["train"])
    assert not again.network_.network_from_cache_
    np.testing.assert_allclose(again.score_samples(X), s, rtol=1e-6)


def test_delta_e_draws_take_turns_over_windows(fitted, lips):
    clip = max(lips["test"], key=len)
    two = fitted.score_windows([clip])  # n_jitter_draws=2: windows 0, 2, 4... get draw 0
    one = copy.deepcopy(fitted)
    one.network_.set_params(n_jitter_draws=1)  # a component parameter: the same network
    single = one.score_windows([clip])  # every window gets draw 0
    k = two.start // fitted.stride
    assert len(k) >= 3
    draw0 = k % 2 == 0
    np.testing.assert_allclose(two.delta_e[draw0], single.delta_e[draw0], rtol=1e-6)
    assert not np.allclose(two.delta_e[~draw0], single.delta_e[~draw0], rtol=1e-3)
    # the other components do not depend on the jitter
    np.testing.assert_allclose(two.e_detail, single.e_detail, rtol=1e-6)


def test_fit_with_labels_trains_on_live_clips_only(fitted, lips):
    X = lips["train"] + lips["fake"]
    y = np.r_[np.ones(len(lips["train"]), int), -np.ones(len(lips["fake"]), int)]
    det = LFHFVAEDetector(**TINY).fit(X, y)  # equality proves the fakes were left out
    np.testing.assert_allclose(det.score_samples(lips["test"]), fitted.score_samples(lips["test"]))
    with pytest.raises(InputError, match=r"\+1 \(live\) and -1 \(spoof\), got values \[0, 1\]"):
        LFHFVAEDetector(**TINY).fit(X, (y > 0).astype(int))
    with pytest.raises(InputError, match="one label per clip"):
        LFHFVAEDetector(**TINY).fit(X, y[:-1])


def test_scoring_parameters_reuse_the_network(lips, tmp_path):
    base = LFHFVAEDetector(**TINY, memory=str(tmp_path)).fit(lips["train"])
    assert not base.network_.network_from_cache_
    other = clone(base).set_params(combination="linear", alpha=3.0, contamination=0.1)
    other.fit(lips["train"])
    assert other.network_.network_from_cache_
    for name, value in base.network_.net_.module_.state_dict().items():
        assert (other.network_.net_.module_.state_dict()[name] == value).all()
    np.testing.assert_array_equal(
        other.network_.transform(lips["test"][:2])[0], base.network_.transform(lips["test"][:2])[0]
    )
    # a network parameter, other data or other groups train anew
    assert not clone(base).set_params(channels=6).fit(lips["train"]).network_.network_from_cache_
    assert not clone(base).fit(lips["train"][1:]).network_.network_from_cache_
    groups = np.arange(len(lips["train"])) % 3
    assert not clone(base).fit(lips["train"], groups=groups).network_.network_from_cache_
    # without memory nothing is kept: no state outside the estimator
    assert not clone(base).set_params(memory=None).fit(lips["train"]).network_.network_from_cache_


def test_grid_search_one_class_with_the_traps_avoided(lips, tmp_path):
    """SPEC section 6: shuffled StratifiedKFold, labels +1/-1, roc_auc, trains on y == +1."""
    X = lips["train"] + lips["fake"]
    y = np.r_[np.ones(len(lips["train"]), int), -np.ones(len(lips["fake"]), int)]
    search = GridSearchCV(
        LFHFVAEDetector(**TINY, combination="linear", memory=tmp_path),
        {"alpha": [0.5, 2.0], "gamma": [-1.0, 1.0]},
        cv=StratifiedKFold(n_splits=2, shuffle=True, random_state=0),
        scoring="roc_auc",
    ).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # 4 candidates x 2 folds + refit = 9 fits, but only 2 + 1 networks were trained
    assert len(list((tmp_path / "lipanomaly_networks").iterdir())) == 3
    assert search.best_estimator_.network_.network_from_cache_ is False


def test_clone_params_and_pickle(fitted, lips):
    params = fitted.get_params()
    assert params["loss_weights"] is None and params["alpha"] == 1.0  # no clash with beta
    est = clone(fitted)
    assert not hasattr(est, "offset_") and est.get_params() == params
    assert est.set_params(alpha=0.3) is est and est.alpha == 0.3
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(
        restored.score_samples(lips["test"]), fitted.score_samples(lips["test"])
    )


def test_save_and_load_model_roundtrip(fitted, lips, tmp_path):
    from lipanomaly import load_model, save_model

    save_model(fitted, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert type(loaded) is LFHFVAEDetector and loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(
        loaded.score_samples(lips["test"]), fitted.score_samples(lips["test"])
    )
    np.testing.assert_array_equal(loaded.scorer_.precision_, fitted.scorer_.precision_)
    np.testing.assert_array_equal(
        loaded.network_.validation_index_, fitted.network_.validation_index_
    )


def test_pipeline_from_track_files(development, lips):
    from sklearn.pipeline import make_pipeline

    from lipanomaly.io.extraction import LipLandmarkExtractor

    files = [str(development_file) for development_file in _track_paths(development)]
    y = development.y
    real = [f for f, label in zip(files, y) if label == 1][::9]
    pipe = make_pipeline(LipLandmarkExtractor(), LFHFVAEDetector(**TINY)).fit(real)
    fakes = [f for f, label in zip(files, y) if label == -1][:3]
    s = pipe.score_samples(fakes)
    assert s.shape == (3,) and s.dtype == np.float64
    assert set(pipe.predict(fakes)) <= {-1, 1}


def _track_paths(development):
    from lipanomaly.io.datasets import default_data_dir

    root = default_data_dir() / "landmarks"
    return [root / f for f in development.files]


def test_pipeline_with_bandsplit_features_and_ocsvm(development):
    features = pytest.importorskip("lipanomaly.detectors.lip_features")
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import OneClassSVM

    from lipanomaly.io.extraction import LipLandmarkExtractor

    files = [str(p) for p in _track_paths(development)]
    real = [f for f, label in zip(files, development.y) if label == 1][::4]
    pipe = make_pipeline(LipLandmarkExtractor(), features.LipMotionFeatures(), OneClassSVM())
    pipe.fit(real)
    s = pipe.decision_function(files[:4])
    assert s.shape == (4,) and np.isfinite(s).all()


def test_threshold_for_and_p_values_of_read_the_validation_scores(fitted, lips):
    """The threshold at any share of the validation clips, and the p-values of scores
    already computed (the command's: no second pass of the network)."""
    valid = fitted.validation_scores_
    assert fitted.threshold_for(0.2) == fitted.offset_  # the default rule: T80
    for share in (0.0, 0.5, 1.0):
        threshold = fitted.threshold_for(share)
        assert threshold == pytest.approx(np.percentile(valid, 100 * share))
        assert np.mean(valid < threshold) <= share
    scores, _ = fitted.score_with_windows(lips["test"])
    np.testing.assert_array_equal(fitted.p_values_of(scores), fitted.p_values(lips["test"]))
    (p,) = fitted.p_values_of([fitted.offset_])
    assert p == formulas.conformal_p_values([fitted.offset_], valid)[0]
    with pytest.raises(InputError, match=r"contamination must be in \[0, 1\], got 1.5"):
        fitted.threshold_for(1.5)
    for method, arg in (("threshold_for", 0.1), ("p_values_of", [0.0])):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(LFHFVAEDetector(**TINY), method)(arg)


def test_not_fitted_errors(lips):
    det = LFHFVAEDetector(**TINY)
    for method in ("score_samples", "decision_function", "predict", "score_components"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(det, method)(lips["test"])
    with pytest.raises(SklearnNotFittedError):
        det.score_windows(lips["test"])


def test_bad_input_errors(fitted, lips):
    clip = lips["test"][0]
    with pytest.raises(InputError, match=r"X\[1\]: expected at least 16 frames, got 10"):
        fitted.score_samples([clip, clip[:10]])
    nan = clip.copy()
    nan[5, 3, 0] = np.nan
    with pytest.raises(InputError, match=r"X\[0\]: contains NaN or inf"):
        fitted.score_samples([nan])
    with pytest.raises(InputError, match=r"shape \(T, K, 2\).*got shape \(160, 40, 3\)"):
        fitted.score_samples([np.zeros((160, 40, 3))])
    with pytest.raises(InputError, match="empty"):
        fitted.score_samples([])
    with pytest.raises(InputError, match=r"X\[0\]: expected 40 lip points \(as at fit\), got 20"):
        fitted.score_samples([clip[:, :20]])
    with pytest.raises(InputError, match="at least 2 live clips"):
        LFHFVAEDetector(**TINY).fit([clip])
    with pytest.raises(InputError, match="components must be a non-empty subset"):
        LFHFVAEDetector(**TINY, components=("drs", "jerk")).fit(lips["train"])
    with pytest.raises(ValueError, match="'combination' parameter"):
        LFHFVAEDetector(**TINY, combination="sum").fit(lips["train"])


def test_short_clips_are_mirror_padded(fitted, lips):
    clip = lips["test"][0]
    short = clip[:20]  # between window // 2 = 16 and window = 32 frames
    win = fitted.score_windows([short])
    assert len(win) == 1 and win.start[0] == 0
    padded = np.pad(short, [(0, 12), (0, 0), (0, 0)], mode="symmetric")
    np.testing.assert_allclose(fitted.score_samples([short]), fitted.score_samples([padded]))


def test_float32_and_array_input_score_like_float64_lists(fitted, lips):
    X = [c for c in lips["test"] + lips["fake"] if len(c) == 160]
    s = fitted.score_samples(X)
    np.testing.assert_allclose(fitted.score_samples(np.stack(X)), s)
    # float32 input is not copied to float64 as a whole; it scores like float64 up to rounding
    s32 = fitted.score_samples(np.stack(X).astype(np.float32))
    np.testing.assert_allclose(s32, s, rtol=1e-3, atol=1e-3)


def test_a_pipeline_refuses_an_extractor_rate_other_than_fs():
    """The extractor's clips carry their rate (ExtractedClips.fps); the detector's fs must be
    it, at fit and at scoring: a band split at the wrong frequencies would pass silently."""
    from sklearn.pipeline import make_pipeline

    from lipanomaly.io.datasets import load_demo
    from lipanomaly.io.extraction import ExtractedClips, LipLandmarkExtractor
    from lipanomaly.limits import DEFAULT_FPS

    tracks = load_demo(split="train").tracks[:3]
    assert LipLandmarkExtractor().fps == DEFAULT_FPS == LFHFVAEDetector().fs
    clips = LipLandmarkExtractor(fps=30.0).fit_transform(tracks)
    assert isinstance(clips, ExtractedClips) and isinstance(clips, list) and clips.fps == 30.0
    pipe = make_pipeline(LipLandmarkExtractor(fps=30.0), LFHFVAEDetector(**LFHF))
    with pytest.raises(InputError, match=r"at 30 frames per second .* fs=25"):
        pipe.fit(tracks)
    # the same rate, or clips that do not say theirs, are read as they are
    with pytest.raises(InputError, match="at 25 frames per second"):
        LFHFVAEDetector(**LFHF, fs=30.0).fit(ExtractedClips(clips, 25.0))
    assert LipLandmarkExtractor(fps=None).fit_transform(tracks).fps is None


def test_scoring_refuses_clips_at_another_rate(fitted, lips):
    from lipanomaly.io.extraction import ExtractedClips

    with pytest.raises(InputError, match="at 50 frames per second"):
        fitted.score_samples(ExtractedClips(lips["test"], 50.0))
    np.testing.assert_array_equal(
        fitted.score_samples(ExtractedClips(lips["test"], 25.0)),
        fitted.score_samples(lips["test"]),
    )


def test_training_summary(fitted, tmp_path):
    from lipanomaly import load_model, save_model

    summary = fitted.network_.training_summary()
    history = fitted.network_.net_.history
    assert summary["epochs_run"] == len(history) >= 1
    assert summary["best_valid_loss"] == min(history[:, "valid_loss"])
    assert history[summary["best_epoch"] - 1, "valid_loss"] == summary["best_valid_loss"]
    loaded = load_model(save_model(fitted, tmp_path / "m"))  # no history kept
    assert loaded.network_.training_summary() == {
        "epochs_run": 0,
        "best_epoch": None,
        "best_valid_loss": None,
    }
