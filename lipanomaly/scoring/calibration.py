"""Calibration to a user's own genuine clips: the network kept, the scoring re-fitted.

A detector learns "live" from the recordings it was trained on; a user's cameras, lighting,
compression or the person to protect may sit elsewhere. :func:`calibrate` re-fits the
scoring half of a fitted detector (:class:`lipanomaly.scoring.scorer.ComponentScorer`) on the
components of a few of the user's own real clips, with the same trained network.

**What a reference must be** (:func:`check_references`). A reference clip is refused, with
an :class:`~lipanomaly.exceptions.InputError` that names it and what was measured, when

- its lips barely move: its :func:`reference_motion` is below
  :data:`~lipanomaly.limits.MIN_REFERENCE_MOTION` (a still face, or someone not speaking:
  the relative errors of such a clip are divided by almost nothing and reach 1e5);
- one of the components the score reads lies farther than
  :data:`~lipanomaly.limits.MAX_REFERENCE_Z` robust scales from the model's live centre
  (no live clip of the development data comes near it).

Identical clips count once. ``errors="skip"`` leaves refused clips out, with a
:class:`CalibrationWarning` each.

**Clips, not windows.** Every statistic a reference contributes is per clip (the median of
its windows), so a long clip weighs what a short one does, and each clip's pull on a centre
is clipped to :data:`MAX_SHIFT` robust scales of the model:

- with fewer than ``refit_from`` reference clips, only the centre of each component the
  score reads moves, to ``c + s * sum_i clip((m_i - c) / s, -MAX_SHIFT, MAX_SHIFT) /
  (n + prior_clips)`` (``c``, ``s`` the model's centre and scale, ``m_i`` clip ``i``'s
  median, ``n`` clips): each clip counts as one observation against ``prior_clips`` for the
  training recordings, so one clip moves a centre a quarter of the way to its median with
  the default ``prior_clips=3``, and **no clip moves a centre by more than
  ``MAX_SHIFT / (n + prior_clips)`` robust scales** (1/2 with 3 references, 1/4 with 9), all
  of them together by less than ``MAX_SHIFT``. The scale, the covariance and the threshold
  stay those of the training recordings;
- from ``refit_from`` reference clips on, the scorer is fitted anew, split-conformally: the
  clips at even positions fit the centre (as above, with ``prior_clips=0``), the scales and
  the covariance (every clip given the same number of windows), the clips at odd positions,
  which the new scorer never saw, give the calibration scores (the p-values) and the
  threshold. Each scale stays within a factor :data:`MAX_SCALE_RATIO` of the model's, and
  the threshold is never below the model's: a re-fit is never more permissive than the
  model's own threshold, so one low-scoring reference cannot open it.

How much this buys is measured in ``docs/quality.md`` ("Calibrated protocol"); what it
refuses, and how hostile references fare, in ``benchmarks/bench_calibration.py``
(``docs/guide/calibration.md``).
"""

import copy
import hashlib
import numbers
import os
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from .._validation import check_clip, check_fitted, user_level
from ..exceptions import InputError
from ..limits import MAX_REFERENCE_Z, MIN_REFERENCE_MOTION
from ..signal.windows import aggregate, make_windows
from . import formulas
from .scorer import ComponentScorer, check_components

__all__ = [
    "MAX_SCALE_RATIO",
    "MAX_SHIFT",
    "REFIT_FROM",
    "CalibrationWarning",
    "calibrate",
    "calibrate_scorer",
    "check_references",
    "reference_motion",
]

#: From this many reference clips on, calibration fits the scorer anew (the default).
REFIT_FROM = 10
#: How far one reference clip pulls a centre, in robust scales of the model: its median is
#: clipped to the model's centre plus or minus this many scales. No centre moves farther.
MAX_SHIFT = 3.0
#: A re-fitted scale lies within this factor of the model's.
MAX_SCALE_RATIO = 2.0


class CalibrationWarning(UserWarning):
    """A reference clip left out of a calibration: a duplicate, or refused (``errors="skip"``)."""


def _check_options(prior_clips, refit_from, errors="raise"):
    if not (
        isinstance(prior_clips, numbers.Real)
        and not isinstance(prior_clips, bool)
        and 0 <= prior_clips < float("inf")
    ):
        raise InputError(f"prior_clips must be a finite number >= 0, got {prior_clips!r}")
    if not (
        isinstance(refit_from, numbers.Integral)
        and not isinstance(refit_from, bool)
        and refit_from >= 2
    ):
        raise InputError(f"refit_from must be an int >= 2, got {refit_from!r}")
    if errors not in ("raise", "skip"):
        raise InputError(f"errors must be 'raise' or 'skip', got {errors!r}")


def reference_motion(clip, *, window=64, stride=16):
    """How much the lips of one clip move: the median of its windows' motion energy.

    The motion energy of a window is the root mean square of its lip coordinates about
    the window's mean shape (:func:`lipanomaly.scoring.formulas.motion_energy`), in the clip's units
    (inter-ocular distances for head-normalised lips); the median over the clip's windows
    ignores a few frames of speech in a still clip.

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
        A head-normalised lip clip.
    window, stride : int, default=64, 16
        The windows (those of the detector's network).

    Returns
    -------
    motion : float
        0 for a still face; the live clips of the development data move 0.016 to 0.21
        (median 0.036).
    """
    clip = check_clip(clip)
    w, _, _ = make_windows([clip], length=window, stride=stride, min_length=1)
    # to 12 decimals: the rounding noise of a still clip about its mean is 0
    return round(float(np.median(formulas.motion_energy(w.reshape(len(w), window, -1)))), 12)


def _motion_problem(motion):
    """Why a clip moving ``motion`` cannot be a reference, or None."""
    if motion >= MIN_REFERENCE_MOTION:
        return None
    what = "a still face" if motion < MIN_REFERENCE_MOTION / 10 else "too little articulation"
    return (
        f"{what}: its lips move {motion:.3g} inter-ocular distances (reference_motion), below "
        f"the {MIN_REFERENCE_MOTION:g} of lipanomaly.limits.MIN_REFERENCE_MOTION (half the "
        "least of any live clip of the development data); a reference must show the person "
        "speaking"
    )


def _model_scale(scorer, names):
    """The model's centre and scale of each of ``names`` (NaN where it has none)."""
    center = np.full(len(names), np.nan)
    scale = np.full(len(names), np.nan)
    for k, name in enumerate(names):
        if name in scorer.component_names_:
            j = scorer.component_names_.index(name)
            center[k], scale[k] = scorer.component_center_[j], scorer.component_scale_[j]
    return center, scale


def _component_problems(scorer, medians, names):
    """Per clip, why its component medians rule it out as a reference, or None."""
    center, scale = _model_scale(scorer, names)
    z = (medians - center) / scale
    problems = []
    for row in z:
        far = np.flatnonzero(np.abs(row) > MAX_REFERENCE_Z)  # NaN (unknown) is never far
        problems.append(
            None
            if far.size == 0
            else (
                f"its {names[far[0]]} lies {row[far[0]]:+.3g} robust scales from the model's "
                f"live centre, beyond the {MAX_REFERENCE_Z:g} of "
                "lipanomaly.limits.MAX_REFERENCE_Z (no live clip of the development data "
                "lies beyond 11.2): it is not a live clip the model can calibrate to"
            )
        )
    return problems


def _digest(a):
    """What identifies an array's content: its dtype, shape and bytes."""
    a = np.ascontiguousarray(a)
    return hashlib.sha256(f"{a.dtype.descr}{a.shape}".encode() + a.tobytes()).hexdigest()


def _distinct(items, names):
    """Positions of the first copy of each item; later copies are left out with a warning."""
    first, keep = {}, []
    for i, item in enumerate(items):
        digest = _digest(item)
        if digest in first:
            warnings.warn(
                f"{names[i]}: the same clip as {names[first[digest]]}; counted once",
                CalibrationWarning,
                stacklevel=user_level(),
            )
        else:
            first[digest] = i
            keep.append(i)
    return keep


def _recentred(scorer, medians, names, prior_clips):
    """A copy of ``scorer`` whose centres moved toward the clips' medians (module docstring)."""
    center, scale = _model_scale(scorer, names)
    pull = np.clip((medians - center) / scale, -MAX_SHIFT, MAX_SHIFT)
    moved = scorer.component_center_.copy()
    for k, name in enumerate(names):
        j = scorer.component_names_.index(name)
        moved[j] = center[k] + scale[k] * pull[:, k].sum() / (len(medians) + prior_clips)
    return scorer.recentred(moved)


def _balanced(C):
    """Every clip's windows repeated evenly to the longest clip's count: equal weights."""
    longest = max(len(a) for a in C)
    return [a[(np.arange(longest) * len(a)) // longest] for a in C]


def _refitted(scorer, C, medians, names):
    """A scorer fitted anew on ``C``, split-conformally and within bounds (module docstring)."""
    fit, held_out = np.arange(0, len(C), 2), np.arange(1, len(C), 2)
    balanced = _balanced([C[i] for i in fit])
    values, _, _ = check_components(balanced, names=names, name="C_reference")
    _, spread = formulas.fit_robust_scale(values)
    model_center, model_scale = _model_scale(scorer, names)
    known = np.isfinite(model_center)  # components the model has: kept within its bounds
    pull = np.clip((medians[fit] - model_center) / model_scale, -MAX_SHIFT, MAX_SHIFT)
    center = np.where(
        known, model_center + model_scale * pull.mean(axis=0), np.median(medians[fit], axis=0)
    )
    bounded = np.clip(spread, model_scale / MAX_SCALE_RATIO, model_scale * MAX_SCALE_RATIO)
    new = clone(scorer).fit_with_scale(balanced, center, np.where(known, bounded, spread))
    # the p-values and the threshold come from clips the new scorer was not fitted on;
    # never more permissive than the model: one low held-out score cannot lower the threshold
    return new.threshold_from([C[i] for i in held_out], at_least=scorer.offset_)


def calibrate_scorer(scorer, C_reference, *, prior_clips=3.0, refit_from=REFIT_FROM):
    """A copy of a fitted scorer, calibrated on the components of reference live clips.

    See the module docstring: re-centring per clip with fewer than ``refit_from`` distinct
    clips, a split-conformal re-fit from there on, every shift bounded.

    Parameters
    ----------
    scorer : ComponentScorer
        A fitted scorer; it is not changed.
    C_reference : list of structured ndarray of shape (n_windows_i,)
        Components of the reference clips (one array per clip), holding at least the
        components the scorer reads (:meth:`ComponentScorer.needed_components`), or with
        ``refit_from`` clips or more those its parameters read
        (:meth:`ComponentScorer.components_read`). Identical arrays count once (a
        :class:`CalibrationWarning` says so).
    prior_clips : float, default=3.0
        Weight of the training statistics, in clips: each reference clip moves a centre
        ``1 / (n + prior_clips)`` of the way to its median (at most :data:`MAX_SHIFT`
        robust scales).
    refit_from : int, default=10
        From this many distinct reference clips on, fit the scorer anew on them.

    Returns
    -------
    scorer : ComponentScorer
        A new fitted scorer.

    Raises
    ------
    InputError
        If a reference's component lies beyond :data:`~lipanomaly.limits.MAX_REFERENCE_Z`
        robust scales from the model's centre (the message names ``C_reference[i]``), or
        the components are not valid (:func:`lipanomaly.scoring.scorer.check_components`).
    """
    _check_options(prior_clips, refit_from)
    if not isinstance(scorer, ComponentScorer):
        raise InputError(f"scorer: expected a fitted ComponentScorer, got {type(scorer).__name__}")
    check_fitted(scorer, "offset_", "the components of live clips")
    check_components(C_reference, names=scorer.needed_components(), name="C_reference")
    items = list(C_reference)
    keep = _distinct(items, [f"C_reference[{i}]" for i in range(len(items))])
    refit = len(keep) >= refit_from
    values, clip_index, names = check_components(
        items, names=None if refit else scorer.needed_components(), name="C_reference"
    )
    medians = aggregate(values, clip_index, len(items), how="median")[keep]
    for i, problem in zip(keep, _component_problems(scorer, medians, names)):
        if problem is not None:
            raise InputError(f"C_reference[{i}]: {problem}")
    if not refit:
        return _recentred(scorer, medians, names, prior_clips)
    return _refitted(scorer, [items[i] for i in keep], medians, names)


def _detector(estimator):
    """The composed detector of ``estimator`` (itself or a Pipeline's last step)."""
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if not (hasattr(final, "network_") and hasattr(final, "scorer_")):
        raise InputError(
            "calibrate needs a fitted LFHFVAEDetector or OCVAEDetector, or a fitted Pipeline "
            f"ending in one; got {type(final).__name__}"
            + ("" if hasattr(final, "fit") else " (not an estimator)")
            + (
                " (a FaceMotionDetector is adapted to your own clips by fitting it again "
                "with them among its live clips)"
                if hasattr(final, "explain")
                else ""
            )
        )
    return final


def _reference_names(X):
    """How each reference is named in messages: ``X_reference[i]``, with its file if known."""
    names = []
    for i, item in enumerate(X):
        path = item if isinstance(item, (str, os.PathLike)) else getattr(item, "path", None)
        names.append(f"X_reference[{i}]" + (f": {os.fspath(path)}" if path else ""))
    return names


def _clips(estimator, X_reference):
    """The reference clips (through the pipeline's first steps) and their names."""
    if isinstance(X_reference, (str, bytes, os.PathLike)) or not hasattr(X_reference, "__len__"):
        raise InputError(
            "X_reference: expected a list of clips, files or tracks, got "
            f"{type(X_reference).__name__} (pass [x] for one)"
        )
    names = _reference_names(X_reference)
    X = X_reference
    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        X = estimator[:-1].transform(X)
    clips = [check_clip(c, name=f"X_reference[{i}]") for i, c in enumerate(X)]
    if len(clips) != len(names):  # an extractor that skips bad inputs
        names = [f"X_reference clip {i}" for i in range(len(clips))]
    return clips, names


def _problems(detector, clips):
    """Per clip, why it cannot be a reference (or None); and the clips' components."""
    network, scorer = detector.network_, detector.scorer_
    read = scorer.components_read(network.component_names)
    C = network.transform(clips, components=read)
    values, clip_index, names = check_components(C, names=read, name="X_reference")
    medians = aggregate(values, clip_index, len(C), how="median")
    problems = [
        _motion_problem(reference_motion(c, window=network.window, stride=network.stride))
        or problem
        for c, problem in zip(clips, _component_problems(scorer, medians, names))
    ]
    return problems, C


def check_references(estimator, X_reference):
    """Why each reference clip cannot calibrate ``estimator``: what :func:`calibrate` refuses.

    Parameters
    ----------
    estimator : LFHFVAEDetector, OCVAEDetector or Pipeline ending in one
        Fitted.
    X_reference : list of array-like or array-like
        Candidate reference clips, in the input format of ``estimator``.

    Returns
    -------
    problems : list of (str or None)
        One per reference, in order: None for a clip that can be a reference, else why
        not (the motion or the component measured, and the bound it breaks), without the
        clip's name.
    """
    detector = _detector(estimator)
    clips, _ = _clips(estimator, X_reference)
    return _problems(detector, clips)[0]


def calibrate(estimator, X_reference, *, prior_clips=3.0, refit_from=REFIT_FROM, errors="raise"):
    """A copy of a fitted detector whose scoring is calibrated on the user's real clips.

    The network is kept; the scorer is re-fitted on the components of ``X_reference``
    (see the module docstring: re-centring toward the references with fewer than
    ``refit_from`` distinct clips, a split-conformal re-fit from there on, every shift
    bounded). References are checked first (:func:`check_references`). The result is an
    ordinary fitted detector (or pipeline): save it with :func:`lipanomaly.save_model`.

    Parameters
    ----------
    estimator : LFHFVAEDetector, OCVAEDetector or Pipeline ending in one
        Fitted (e.g. :func:`lipanomaly.load_pretrained`); it is not changed.
    X_reference : list of array-like or array-like
        Genuine clips of the cameras or the person to calibrate to, in the input format
        of ``estimator`` (lip sequences, or track files / videos for a pipeline that
        starts with a :class:`lipanomaly.LipLandmarkExtractor`). Identical clips count
        once (a :class:`CalibrationWarning` says so).
    prior_clips : float, default=3.0
        Weight of the training statistics, in clips.
    refit_from : int, default=10
        From this many distinct reference clips on, the scorer is fitted anew on them.
    errors : {"raise", "skip"}, default="raise"
        What to do with a reference :func:`check_references` refuses: raise an
        :class:`~lipanomaly.exceptions.InputError` that names it, or leave it out with a
        :class:`CalibrationWarning` that names it.

    Returns
    -------
    estimator : same type as the input
        A new fitted estimator.

    Raises
    ------
    InputError
        If a reference is refused (with ``errors="raise"``), or none is left.

    Examples
    --------
    >>> from lipanomaly import calibrate, load_pretrained  # doctest: +SKIP
    >>> model = calibrate(load_pretrained("lfhf"), ["me_1.mp4", "me_2.mp4"])  # doctest: +SKIP
    >>> model.predict(["suspect.mp4"])  # doctest: +SKIP
    """
    _check_options(prior_clips, refit_from, errors)
    _detector(estimator)
    new = copy.deepcopy(estimator)
    detector = _detector(new)
    clips, names = _clips(new, X_reference)
    keep = _distinct(clips, names)
    problems, C = _problems(detector, [clips[i] for i in keep])
    refused = [(keep[k], p) for k, p in enumerate(problems) if p is not None]
    if refused and errors == "raise":
        i, problem = refused[0]
        more = f" ({len(refused) - 1} more reference(s) refused too)" if len(refused) > 1 else ""
        raise InputError(f"{names[i]}: {problem}{more}; pass errors='skip' to leave such clips out")
    for i, problem in refused:
        warnings.warn(
            f"{names[i]}: left out of the calibration: {problem}",
            CalibrationWarning,
            stacklevel=user_level(),
        )
    usable = [C[k] for k, p in enumerate(problems) if p is None]
    if not usable:
        raise InputError(f"no usable reference clip: all {len(keep)} distinct ones were refused")
    detector.scorer_ = calibrate_scorer(
        detector.scorer_, usable, prior_clips=prior_clips, refit_from=refit_from
    )
    return new
