"""Calibration to a user's own genuine clips: the network kept, the scoring re-fitted.

A detector learns "live" from the recordings it was trained on; a user's cameras, lighting,
compression or the person to protect may sit elsewhere. :func:`calibrate` re-fits the
scoring half of a fitted detector (:class:`lipanomaly.scorer.ComponentScorer`) on the
components of a few of the user's own real clips, with the same trained network:

- with fewer than ``refit_from`` reference clips, only the centre of each component the
  score reads moves toward the references' median, by the weight
  ``w = n / (n + prior_clips)`` (``n`` reference clips): one clip moves it a quarter of the
  way with the default ``prior_clips=3``, many clips nearly all the way. The scale, the
  covariance and the threshold stay those of the training recordings: the references are
  assumed to differ from them by an offset, not by their spread;
- from ``refit_from`` reference clips on, the scorer is fitted anew on them (centre, scale,
  covariance and threshold: the user's clips become the live calibration set).

How much this buys is measured in ``docs/quality.md`` ("Calibrated protocol").
"""

import copy
import numbers

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ._validation import check_fitted
from .exceptions import InputError
from .scorer import ComponentScorer, check_components

__all__ = ["REFIT_FROM", "calibrate", "calibrate_scorer"]

#: From this many reference clips on, calibration fits the scorer anew (the default).
REFIT_FROM = 10


def _check_options(prior_clips, refit_from):
    if not (isinstance(prior_clips, numbers.Real) and prior_clips >= 0):
        raise InputError(f"prior_clips must be a number >= 0, got {prior_clips!r}")
    if not (isinstance(refit_from, numbers.Integral) and refit_from >= 2):
        raise InputError(f"refit_from must be an int >= 2, got {refit_from!r}")


def calibrate_scorer(scorer, C_reference, *, prior_clips=3.0, refit_from=REFIT_FROM):
    """A copy of a fitted scorer, calibrated on the components of reference live clips.

    Parameters
    ----------
    scorer : ComponentScorer
        A fitted scorer; it is not changed.
    C_reference : list of structured ndarray of shape (n_windows_i,)
        Components of the reference clips (one array per clip), holding at least the
        components the scorer reads (:meth:`ComponentScorer.needed_components`), or with
        ``refit_from`` clips or more those its parameters read
        (:meth:`ComponentScorer.components_read`).
    prior_clips : float, default=3.0
        Weight of the training statistics, in clips: the centre moves by
        ``n / (n + prior_clips)`` toward the references' median.
    refit_from : int, default=10
        From this many reference clips on, fit the scorer anew on them.

    Returns
    -------
    scorer : ComponentScorer
        A new fitted scorer.
    """
    _check_options(prior_clips, refit_from)
    if not isinstance(scorer, ComponentScorer):
        raise InputError(f"scorer: expected a fitted ComponentScorer, got {type(scorer).__name__}")
    check_fitted(scorer, "offset_", "the components of live clips")
    n = len(C_reference) if hasattr(C_reference, "__len__") else 0
    if n >= refit_from:
        return clone(scorer).fit(C_reference)
    needed = scorer.needed_components()
    values, _, _ = check_components(C_reference, names=needed, name="C_reference")
    new = copy.deepcopy(scorer)
    weight = n / (n + prior_clips)
    for k, name in enumerate(needed):
        j = scorer.component_names_.index(name)
        new.component_center_[j] += weight * (np.median(values[:, k]) - new.component_center_[j])
    return new


def _detector(estimator):
    """The composed detector of ``estimator`` (itself or a Pipeline's last step)."""
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if not (hasattr(final, "network_") and hasattr(final, "scorer_")):
        raise InputError(
            "calibrate needs a fitted LFHFVAEDetector or OCVAEDetector, or a fitted Pipeline "
            f"ending in one; got {type(final).__name__}"
            + ("" if hasattr(final, "fit") else " (not an estimator)")
        )
    return final


def calibrate(estimator, X_reference, *, prior_clips=3.0, refit_from=REFIT_FROM):
    """A copy of a fitted detector whose scoring is calibrated on the user's real clips.

    The network is kept; the scorer is re-fitted on the components of ``X_reference``
    (see the module docstring: re-centring toward the references with fewer than
    ``refit_from`` clips, a full re-fit from there on). The result is an ordinary fitted
    detector (or pipeline): save it with :func:`lipanomaly.save_model`.

    Parameters
    ----------
    estimator : LFHFVAEDetector, OCVAEDetector or Pipeline ending in one
        Fitted (e.g. :func:`lipanomaly.load_pretrained`); it is not changed.
    X_reference : list of array-like or array-like
        Genuine clips of the cameras or the person to calibrate to, in the input format
        of ``estimator`` (lip sequences, or track files / videos for a pipeline that
        starts with a :class:`lipanomaly.LipLandmarkExtractor`).
    prior_clips : float, default=3.0
        Weight of the training statistics, in clips.
    refit_from : int, default=10
        From this many reference clips on, the scorer is fitted anew on them.

    Returns
    -------
    estimator : same type as the input
        A new fitted estimator.

    Examples
    --------
    >>> from lipanomaly import calibrate, load_pretrained  # doctest: +SKIP
    >>> model = calibrate(load_pretrained(), ["me_1.mp4", "me_2.mp4", "me_3.mp4"])  # doctest: +SKIP
    >>> model.predict(["suspect.mp4"])  # doctest: +SKIP
    """
    _check_options(prior_clips, refit_from)
    _detector(estimator)
    new = copy.deepcopy(estimator)
    detector = _detector(new)
    X = X_reference
    if isinstance(new, Pipeline) and len(new.steps) > 1:
        X = new[:-1].transform(X)
    # what the scorer's parameters read: all that a re-centring or a re-fit needs
    read = detector.scorer_.components_read(detector.network_.component_names)
    C = detector.network_.transform(X, components=read)
    detector.scorer_ = calibrate_scorer(
        detector.scorer_, C, prior_clips=prior_clips, refit_from=refit_from
    )
    detector.offset_ = detector.scorer_.offset_
    detector.validation_scores_ = detector.scorer_.calibration_scores_
    return new
