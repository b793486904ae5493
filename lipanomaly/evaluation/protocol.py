"""An evaluation protocol for one-class detectors that cannot leak.

A one-class detector is trained on real clips only and judged on real clips it never saw and
on fakes. On a small development set it is easy to fool oneself: a held-out real clip whose
speaker and camera are in the training set scores as "live" because the model has seen that
very recording set-up, and a lip-sync fake whose real input video was trained on is judged
against a memorised original. This module makes both impossible:

- **folds by source.** Every clip carries its recording source (the ``source`` column of the
  development manifest: a speaker or a recording set). Sources that show the same person are
  *linked* and always land in the same fold (in the development set, ``eamm`` M030 is the
  same man as ``dreamtalk`` M030, and the man of ``lipsync_assignment`` reappears in
  ``wav2lip_forks``). A fold's test set is every clip, real and fake, of its sources; its
  training set is the *real* clips of all other sources. So no source is in both training and
  test, and fakes are never trained on.
- **paired fakes follow their real input.** A lip-sync or reenactment fake has the source of
  the real video it was made from (HyperLips fakes and their real inputs, the
  ``lipsync_assignment`` Wav2Lip fake and its real video, StyleHEAT reenactments and their
  driving clip), so it is scored by the model of the fold in which that real input is held
  out: the model has seen neither.
- **every clip is scored exactly once**, by the one model whose training it was not part of,
  so the out-of-fold scores of all folds form one set of scores for clip-level metrics.

:class:`SourceFolds` is a scikit-learn cross-validation splitter (``split(X, y, groups)``)
that implements the folds; :func:`cross_val_scores` runs a detector over them and returns
out-of-fold scores; :func:`development_pairs` lists the paired real/fake clips of the
development set; :func:`check_no_leak` verifies a split.
"""

import numbers
from collections.abc import Mapping

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import Bunch

from ..exceptions import InputError
from ..io.datasets import DEVELOPMENT_LINKED_SOURCES

__all__ = [
    "DEVELOPMENT_LINKED_SOURCES",
    "FamilyFolds",
    "SourceFolds",
    "check_no_leak",
    "cross_val_scores",
    "development_pairs",
    "source_pairs",
]

# (real file, fake files) of the development set: fakes made from that very real video.
_DEVELOPMENT_PAIRS = (
    ("hyperlips__real_input__video1.mp4.npz", ("hyperlips__fake_result__result_video1.mp4.npz",)),
    ("hyperlips__real_input__video2.mp4.npz", ("hyperlips__fake_result__result_video2.mp4.npz",)),
    ("hyperlips__real_input__video3.mp4.npz", ("hyperlips__fake_result__result_video3.mp4.npz",)),
    ("hyperlips__real_input__video4.mp4.npz", ("hyperlips__fake_result__result_video4.mp4.npz",)),
    (
        "lipsync_assignment__video_8s_real.mp4.npz",
        ("lipsync_assignment__result_voice_wav2lip.mp4.npz",),
    ),
    (
        "styleheat__docs_demo_videos_video.mp4.npz",
        tuple(f"styleheat__panels__psp3_{n}_right_generated.mp4.npz" for n in (1044, 148, 532, 84)),
    ),
)


def _check_labels_groups(y, groups, n_samples=None):
    if y is None or groups is None:
        raise InputError(
            "SourceFolds needs both y (+1 real / -1 fake) and groups (the recording source of "
            "each clip): call split(X, y, groups)"
        )
    y = np.asarray(y)
    groups = np.asarray(groups)
    if y.ndim != 1 or groups.ndim != 1 or y.shape != groups.shape:
        raise InputError(
            "y and groups must be 1-D with one entry per clip, got shapes "
            f"{y.shape} and {groups.shape}"
        )
    if n_samples is not None and y.shape[0] != n_samples:
        raise InputError(f"y has {y.shape[0]} entries but X has {n_samples} clips")
    bad = sorted(set(np.unique(y).tolist()) - {1, -1})
    if bad:
        raise InputError(f"y must hold +1 (real) and -1 (fake) only, got also {bad}")
    return y.astype(int), groups.astype(str)


class SourceFolds(BaseCrossValidator):
    """Cross-validation folds by recording source, for one-class detectors.

    Sources (``groups``) are first merged with the sources they are ``linked`` to (same
    person); the resulting units are spread over ``n_splits`` folds, deterministically:
    units holding real clips go, largest first, to the fold with the fewest real clips;
    units holding only fakes (a generator's own identity) then go, largest first, to the
    fold with the fewest fakes. Ties go to the lower fold index.

    Fold ``k`` tests on every clip of its units, real and fake, and trains on the real clips
    (``y == +1``) of all other units. A fake therefore always sits in the fold of its own
    source: a lip-sync fake that carries the source of its real input video is scored by a
    model that has seen neither (see the module docstring).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds; at least 2 and at most the number of units holding real clips.
    linked : dict of str to str or None, default=None
        ``{source: other_source}`` pairs that must share a fold (the same person in both).
        None means :data:`DEVELOPMENT_LINKED_SOURCES`; pass ``{}`` for none. Names absent from
        ``groups`` are ignored.
    assignment : dict of str to int or None, default=None
        A fixed ``{source: fold}`` assignment replacing the greedy one; every source of
        ``groups`` must be listed, and linked sources must share their fold.

    See Also
    --------
    cross_val_scores : Out-of-fold scores of a detector over these folds.
    check_no_leak : Verify a (train, test) split.

    Notes
    -----
    ``split`` yields *train* indices of real clips only: ``train`` is not the complement of
    ``test``. The test sets partition the clips, so ``sklearn.model_selection.
    cross_val_predict`` accepts the splitter.

    Examples
    --------
    >>> import numpy as np
    >>> from lipanomaly.evaluation.protocol import SourceFolds
    >>> y = np.array([1, 1, 1, 1, -1, 1, -1])
    >>> groups = np.array(["a", "a", "b", "c", "c", "d", "e"])
    >>> cv = SourceFolds(n_splits=2, linked={})
    >>> for train, test in cv.split(None, y, groups):
    ...     print(train, test)
    [2 3] [0 1 5 6]
    [0 1 5] [2 3 4]
    """

    def __init__(self, n_splits=5, *, linked=None, assignment=None):
        self.n_splits = n_splits
        self.linked = linked
        self.assignment = assignment

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def _units(self, groups):
        """Map each source to its unit (the representative of its linked sources)."""
        linked = DEVELOPMENT_LINKED_SOURCES if self.linked is None else self.linked
        if not isinstance(linked, Mapping):
            raise InputError(
                f"linked must be a dict {{source: linked_source}} or None, got {linked!r}"
            )
        parent = {s: s for s in np.unique(groups).tolist()}

        def root(s):
            while parent[s] != s:
                s = parent[s]
            return s

        for a, b in linked.items():
            if a in parent and b in parent:
                ra, rb = root(a), root(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
        return {s: root(s) for s in parent}

    def assign_folds(self, y, groups):
        """The fold of every clip.

        Parameters
        ----------
        y : array-like of shape (n_clips,)
            +1 for real clips, -1 for fakes.
        groups : array-like of shape (n_clips,)
            Recording source of each clip.

        Returns
        -------
        fold : ndarray of shape (n_clips,), int
            The fold in which each clip is tested.
        """
        y, groups = _check_labels_groups(y, groups)
        if (
            isinstance(self.n_splits, bool)
            or not isinstance(self.n_splits, numbers.Integral)
            or self.n_splits < 2
        ):
            raise InputError(f"n_splits must be an int >= 2, got {self.n_splits!r}")
        unit_of = self._units(groups)
        units = np.array([unit_of[g] for g in groups])
        if self.assignment is not None:
            return self._fixed(units, unit_of)
        names = sorted(set(units.tolist()))
        n_real = {u: int(np.sum((units == u) & (y == 1))) for u in names}
        n_fake = {u: int(np.sum((units == u) & (y == -1))) for u in names}
        with_real = [u for u in names if n_real[u] > 0]
        if len(with_real) < self.n_splits:
            raise InputError(
                f"n_splits={self.n_splits} folds need at least as many source units holding "
                f"real clips, got {len(with_real)} ({with_real})"
            )
        real_in = np.zeros(self.n_splits, dtype=int)
        fake_in = np.zeros(self.n_splits, dtype=int)
        fold_of = {}
        for u in sorted(with_real, key=lambda u: (-n_real[u], u)):
            k = int(np.argmin(real_in))
            fold_of[u] = k
            real_in[k] += n_real[u]
            fake_in[k] += n_fake[u]
        for u in sorted(set(names) - set(with_real), key=lambda u: (-n_fake[u], u)):
            k = int(np.lexsort((real_in, fake_in))[0])
            fold_of[u] = k
            fake_in[k] += n_fake[u]
        return np.array([fold_of[u] for u in units], dtype=int)

    def _fixed(self, units, unit_of):
        assignment = self.assignment
        if not isinstance(assignment, dict):
            raise InputError(f"assignment must be a dict {{source: fold}}, got {assignment!r}")
        missing = sorted(set(unit_of) - set(assignment))
        if missing:
            raise InputError(f"assignment lists no fold for source(s) {missing}")
        fold_of_unit = {}
        for source, unit in unit_of.items():
            k = assignment[source]
            if not isinstance(k, numbers.Integral) or not 0 <= k < self.n_splits:
                raise InputError(
                    f"assignment[{source!r}] must be a fold in [0, {self.n_splits}), got {k!r}"
                )
            if fold_of_unit.setdefault(unit, k) != k:
                raise InputError(
                    f"assignment puts linked sources of {unit!r} in different folds "
                    f"({fold_of_unit[unit]} and {k}); linked sources must share a fold"
                )
        return np.array([fold_of_unit[u] for u in units], dtype=int)

    def split(self, X, y=None, groups=None):
        """Generate (train, test) indices: train on real clips of other sources.

        Parameters
        ----------
        X : array-like of shape (n_clips, ...) or None
            The clips; only their number is used (None is accepted).
        y : array-like of shape (n_clips,)
            +1 real / -1 fake. Required.
        groups : array-like of shape (n_clips,)
            Recording source of each clip. Required.

        Yields
        ------
        train : ndarray of int
            Indices of the real clips of the other folds' sources.
        test : ndarray of int
            Indices of every clip of this fold's sources.
        """
        n = None if X is None else len(X)
        y, groups = _check_labels_groups(y, groups, n)
        fold = self.assign_folds(y, groups)
        for k in range(self.n_splits):
            test = np.flatnonzero(fold == k)
            train = np.flatnonzero((fold != k) & (y == 1))
            yield train, test

    def _iter_test_masks(self, X=None, y=None, groups=None):
        y, groups = _check_labels_groups(y, groups)
        fold = self.assign_folds(y, groups)
        for k in range(self.n_splits):
            yield fold == k

    def describe(self, y, groups, generators=None):
        """A markdown table of the folds: sources, real clips, fakes per generator.

        Parameters
        ----------
        y : array-like of shape (n_clips,)
        groups : array-like of shape (n_clips,)
        generators : array-like of shape (n_clips,) or None, default=None
            Generator family of each fake (anything for real clips).

        Returns
        -------
        table : str
        """
        y, groups = _check_labels_groups(y, groups)
        fold = self.assign_folds(y, groups)
        gens = None if generators is None else np.asarray(generators).astype(str)
        lines = [
            "| fold | held-out sources | real test clips | fakes tested | real training clips |",
            "| --- | --- | --- | --- | --- |",
        ]
        for k in range(self.n_splits):
            m = fold == k
            sources = ", ".join(f"`{s}`" for s in sorted(set(groups[m].tolist())))
            fakes = m & (y == -1)
            if gens is not None and fakes.any():
                names, counts = np.unique(gens[fakes], return_counts=True)
                fake_txt = ", ".join(f"{n} {c}" for n, c in zip(names, counts))
            else:
                fake_txt = str(int(fakes.sum()))
            n_test, n_train = int(np.sum(m & (y == 1))), int(np.sum(~m & (y == 1)))
            lines.append(f"| {k} | {sources} | {n_test} | {fake_txt} | {n_train} |")
        return "\n".join(lines)


class FamilyFolds(BaseCrossValidator):
    """Leave-family-out folds: every fold tests generator families no model of it saw.

    Fakes are dealt to folds by generator family (each family whole, largest first, to the
    fold with the fewest fakes; ``n_splits=None`` gives each family a fold of its own). Live
    clips are dealt by group (the recording or person): a group that holds fakes goes to the
    first fold of its fakes' families (so a lip-sync fake and the real video it was made from
    are tested together), the other groups, largest first, to the fold with the fewest live
    clips. Fold ``k`` tests its clips and trains on every other clip, live or fake, *except*
    those that share a group with a test clip: neither a test family's clips nor any clip of
    a test group (a comparison panel of the same portrait and audio, the same person) is
    ever trained on. A one-class detector keeps the live training clips only (``fit(X, y)``
    with ``y == -1`` left out does so).

    Parameters
    ----------
    families : array-like of shape (n_clips,)
        The generator family of each clip (read for fakes only; ``"real"`` or anything for
        live clips). Like scikit-learn's ``PredefinedSplit``, the splitter is made for one
        set of clips: ``split`` checks that it gets as many.
    n_splits : int or None, default=5
        Number of folds, from 2 to the number of families; None: one fold per family
        (leave one family out).
    random_state : int or None, default=None
        Shuffles families and groups before they are dealt (ties are broken by it); None
        deals them in sorted order.

    Examples
    --------
    >>> import numpy as np
    >>> from lipanomaly.evaluation.protocol import FamilyFolds
    >>> y = np.array([1, 1, 1, 1, -1, -1, -1])
    >>> groups = np.array(["a", "a", "b", "c", "c", "d", "e"])
    >>> families = np.array(["real"] * 4 + ["X", "X", "Y"])
    >>> for train, test in FamilyFolds(families, n_splits=2).split(None, y, groups):
    ...     print(train, test)
    [0 1 6] [2 3 4 5]
    [2 3 4 5] [0 1 6]
    """

    def __init__(self, families, n_splits=5, *, random_state=None):
        self.families = families
        self.n_splits = n_splits
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of folds (one per family of ``y == -1`` clips when ``n_splits`` is None)."""
        if self.n_splits is not None:
            return self.n_splits
        if y is None:
            raise InputError("FamilyFolds(n_splits=None) needs y to count the families")
        return len(np.unique(self._families(len(y))[np.asarray(y) == -1]))

    def _families(self, n):
        families = np.asarray(self.families).astype(str)
        if families.shape != (n,):
            raise InputError(
                f"families must hold one family per clip, {n}, got shape {families.shape}"
            )
        return families

    def assign_folds(self, y, groups):
        """The fold in which each clip is tested: ndarray of shape (n_clips,), int."""
        y, groups = _check_labels_groups(y, groups)
        families = self._families(len(y))
        fams = sorted(set(families[y == -1].tolist()))
        k = len(fams) if self.n_splits is None else self.n_splits
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 2 <= k <= len(fams):
            raise InputError(
                f"n_splits must be an int from 2 to the number of fake families ({len(fams)}) "
                f"or None, got {self.n_splits!r}"
            )
        rng = np.random.RandomState(self.random_state) if self.random_state is not None else None
        if rng is not None:
            rng.shuffle(fams)
        fold = np.full(len(y), -1)
        load = np.zeros(k)
        for fam in sorted(fams, key=lambda f: -np.sum(families[y == -1] == f)):  # stable
            j = int(np.argmin(load))
            fold[(y == -1) & (families == fam)] = j
            load[j] += np.sum((y == -1) & (families == fam))
        names = sorted(set(groups.tolist()))
        if rng is not None:
            rng.shuffle(names)
        live_load = np.zeros(k)
        rest = []
        for g in names:
            live = (groups == g) & (y == 1)
            faked = fold[(groups == g) & (y == -1)]
            if faked.size:
                fold[live] = faked.min()
                live_load[faked.min()] += live.sum()
            else:
                rest.append(g)
        for g in sorted(rest, key=lambda g: -np.sum(groups == g)):
            j = int(np.argmin(live_load))
            fold[groups == g] = j
            live_load[j] += np.sum(groups == g)
        return fold

    def split(self, X, y=None, groups=None):
        """Generate (train, test) indices.

        Parameters
        ----------
        X : array-like of shape (n_clips, ...) or None
            Only its length is read.
        y : array-like of shape (n_clips,)
            +1 live / -1 fake. Required.
        groups : array-like of shape (n_clips,)
            The group of each clip (recording, person, comparison panel). Required.

        Yields
        ------
        train : ndarray of int
            Clips of the other folds, live and fake, that share no group with a test clip.
        test : ndarray of int
            This fold's clips: its families' fakes and its groups' live clips.
        """
        n = None if X is None else len(X)
        y, groups = _check_labels_groups(y, groups, n)
        fold = self.assign_folds(y, groups)
        for j in range(int(fold.max()) + 1):
            test = fold == j
            train = ~test & ~np.isin(groups, groups[test])
            yield np.flatnonzero(train), np.flatnonzero(test)

    def _iter_test_masks(self, X=None, y=None, groups=None):
        y, groups = _check_labels_groups(y, groups)
        fold = self.assign_folds(y, groups)
        for j in range(int(fold.max()) + 1):
            yield fold == j


def check_no_leak(train, test, y, groups, *, linked=None):
    """Check that a (train, test) split of clips cannot leak.

    Parameters
    ----------
    train, test : array-like of int
        Indices of the training and test clips.
    y : array-like of shape (n_clips,)
        +1 real / -1 fake.
    groups : array-like of shape (n_clips,)
        Recording source of each clip.
    linked : dict of str to str or None, default=None
        Sources showing the same person; None means :data:`DEVELOPMENT_LINKED_SOURCES`.

    Raises
    ------
    InputError
        If a fake is in ``train``, a clip is in both, or a source (or a source linked to it)
        has clips in both.
    """
    y, groups = _check_labels_groups(y, groups)
    train = np.asarray(train, dtype=int)
    test = np.asarray(test, dtype=int)
    if np.any(y[train] != 1):
        raise InputError(f"fakes in the training set: {np.flatnonzero(y[train] != 1).tolist()}")
    both = np.intersect1d(train, test)
    if both.size:
        raise InputError(f"clips in both training and test: {both.tolist()}")
    unit_of = SourceFolds(linked=linked)._units(groups)
    shared = {unit_of[g] for g in groups[train]} & {unit_of[g] for g in groups[test]}
    if shared:
        raise InputError(f"source(s) in both training and test: {sorted(shared)}")


def cross_val_scores(estimator, X, y, groups, *, cv=None, return_estimators=False):
    """Out-of-fold scores of a one-class detector over source folds.

    For each fold the detector is cloned, fitted on the fold's real training clips and used
    to score the fold's test clips, so every clip is scored once by a model that saw neither
    its source nor any fake.

    Parameters
    ----------
    estimator : estimator
        A one-class detector with ``fit(X, y)`` and ``score_samples`` (higher = more live);
        its ``offset_`` (or ``decision_function``) gives the fitted threshold.
    X : list of ndarray or ndarray of shape (n_clips, ...)
        The clips; indexed with integer arrays (a list is indexed element by element).
    y : array-like of shape (n_clips,)
        +1 real / -1 fake.
    groups : array-like of shape (n_clips,)
        Recording source of each clip.
    cv : cross-validation splitter or None, default=None
        None means ``SourceFolds()``; anything with ``split(X, y, groups)``. Every split is
        checked with :func:`check_no_leak` (with the splitter's ``linked`` if it has one).
    return_estimators : bool, default=False
        Also return the fitted estimators (one per fold).

    Returns
    -------
    result : sklearn.utils.Bunch
        ``scores`` (n_clips,) float64 out-of-fold ``score_samples`` (NaN for a clip that no
        fold tested), ``decision`` (n_clips,) float64 ``score - offset_`` of the fold's model
        (negative = called a spoof at its fitted threshold), ``fold`` (n_clips,) int (-1 if
        untested) and, if asked, ``estimators``.

    Raises
    ------
    InputError
        If a split leaks (see :func:`check_no_leak`) or a clip is tested twice.
    """
    y, groups = _check_labels_groups(y, groups, len(X))
    cv = SourceFolds() if cv is None else cv
    linked = getattr(cv, "linked", None)
    n = len(X)
    scores = np.full(n, np.nan)
    decision = np.full(n, np.nan)
    fold = np.full(n, -1, dtype=int)
    fitted = []

    def take(idx):
        return X[idx] if isinstance(X, np.ndarray) else [X[i] for i in idx]

    for k, (train, test) in enumerate(cv.split(X, y, groups)):
        check_no_leak(train, test, y, groups, linked=linked)
        if np.any(fold[test] >= 0):
            raise InputError(f"fold {k} tests clips that an earlier fold tested already")
        est = clone(estimator).fit(take(train), y[train])
        X_test = take(test)
        s = np.asarray(est.score_samples(X_test), dtype=np.float64)
        if hasattr(est, "offset_"):
            d = s - est.offset_
        else:
            d = np.asarray(est.decision_function(X_test), dtype=np.float64)
        scores[test], decision[test], fold[test] = s, d, k
        if return_estimators:
            fitted.append(est)
    result = Bunch(scores=scores, decision=decision, fold=fold)
    if return_estimators:
        result.estimators = fitted
    return result


def development_pairs(files):
    """The paired real/fake clips of the development set.

    A pair is a real video and the fakes made from it: the four HyperLips real inputs and
    their lip-sync results, the ``lipsync_assignment`` real video and its Wav2Lip fake, and the
    StyleHEAT driving video and its four reenactments.

    Parameters
    ----------
    files : sequence of str
        The file names of the clips (``load_development().files``).

    Returns
    -------
    pairs : list of (int, ndarray of int)
        ``(index of the real clip, indices of its fakes)`` for every pair found in ``files``
        (pairs with a missing file are left out).
    """
    index = {f: i for i, f in enumerate(files)}
    pairs = []
    for real, fakes in _DEVELOPMENT_PAIRS:
        if real in index and all(f in index for f in fakes):
            pairs.append((index[real], np.array([index[f] for f in fakes], dtype=int)))
    return pairs


def source_pairs(y, sources):
    """Real clips and the fakes made from the same recording: one pair per shared source.

    In ``wild/`` a fake made from a real recording of the set carries that recording's
    ``source``, so a source holding both real clips and fakes is a pair of the same person,
    camera and recording (``landmarks/`` sources are coarser: use :func:`development_pairs`
    there).

    Parameters
    ----------
    y : array-like of shape (n_clips,)
        +1 real / -1 fake.
    sources : array-like of shape (n_clips,)
        The recording source of each clip.

    Returns
    -------
    pairs : list of (ndarray of int, ndarray of int)
        ``(indices of the real clips, indices of the fakes)`` of every source that has both,
        in sorted source order.
    """
    y = np.asarray(y)
    sources = np.asarray(sources).astype(str)
    pairs = []
    for source in np.unique(sources):
        real = np.flatnonzero((sources == source) & (y == 1))
        fake = np.flatnonzero((sources == source) & (y == -1))
        if real.size and fake.size:
            pairs.append((real, fake))
    return pairs
