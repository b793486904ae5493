"""The in-memory data contract, checked in one place.

One sample is one clip. A clip is a ``(T, K, 2)`` float array: ``T`` frames at the analysis
rate, ``K`` lip points, x and y in head-normalised units (inter-ocular distances from the
head origin: real lips lie within 3, and values beyond
:data:`~lipanomaly.limits.MAX_LIP_UNITS` are refused). A collection of clips is either an
``(n, T, K, 2)`` array (all clips of one length) or a list of clips of different lengths.
Every estimator of the package goes through :func:`check_clips`, so a bad input gets the
same clear message wherever it enters.
"""

import math
import numbers

import numpy as np

from .exceptions import InputError, NotFittedError
from .limits import MAX_LIP_UNITS

__all__ = [
    "check_clip",
    "check_clip_rate",
    "check_clips",
    "check_fitted",
    "live_index",
    "reject_unsupported",
    "user_level",
]


def reject_unsupported(X, *, name="X"):
    """Reject sparse matrices and complex arrays with a message that says so.

    Neither can be a collection of lip sequences (or of per-clip components); saying which
    it is helps more than a shape error (and is what scikit-learn's checks expect).

    Raises
    ------
    InputError
        If ``X`` is a scipy sparse matrix or array, or a complex numpy array.
    """
    if type(X).__module__.startswith("scipy.sparse"):
        raise InputError(
            f"{name}: sparse input is not supported (got {type(X).__name__}); expected a "
            "collection of clips"
        )
    if isinstance(X, np.ndarray) and X.dtype.kind == "c":
        raise InputError(f"{name}: Complex data not supported; expected real values")


def check_clip(
    clip, *, name="clip", n_points=None, min_length=1, dtype=np.float64, max_abs=MAX_LIP_UNITS
):
    """Validate one clip and return it as a ``(T, K, 2)`` array of ``dtype``.

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
        Lip landmark sequence.
    name : str, default="clip"
        How the clip is named in error messages (``"X[3]"``, a file path, ...).
    n_points : int or None, default=None
        Required number of points ``K`` (the number seen at ``fit``); None accepts any.
    min_length : int, default=1
        Fewest frames accepted.
    dtype : numpy dtype, default=np.float64
        Output dtype.
    max_abs : float or None, default=MAX_LIP_UNITS
        Largest absolute value accepted (:data:`~lipanomaly.limits.MAX_LIP_UNITS`, 20
        inter-ocular distances, for head-normalised lips); None accepts any finite value
        (for linear transforms such as :class:`~lipanomaly.BandSplit`).

    Returns
    -------
    clip : ndarray of shape (T, K, 2)

    Raises
    ------
    InputError
        If the clip is not numeric, not 3-D with a last dimension of 2, too short, holds
        NaN or inf, holds a value beyond ``max_abs`` in absolute value (not
        head-normalised lip coordinates: magnitudes like 1e37 overflow the network's
        float32 arithmetic into NaN scores), or has a ``K`` other than ``n_points``.
    """
    try:
        arr = np.asarray(clip)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise InputError(f"{name}: cannot be read as an array ({exc})") from exc
    if arr.dtype.kind not in "biuf":
        raise InputError(
            f"{name}: expected a numeric array of shape (T, K, 2), got dtype {arr.dtype}"
        )
    if arr.ndim != 3 or arr.shape[-1] != 2:
        raise InputError(
            f"{name}: expected a lip sequence of shape (T, K, 2) (frames, lip points, x/y), "
            f"got shape {arr.shape}"
        )
    if n_points is not None and arr.shape[1] != n_points:
        raise InputError(f"{name}: expected {n_points} lip points (as at fit), got {arr.shape[1]}")
    if arr.shape[0] < min_length:
        raise InputError(f"{name}: expected at least {min_length} frames, got {arr.shape[0]}")
    arr = arr.astype(dtype, copy=False)
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=(1, 2)))
        raise InputError(
            f"{name}: contains NaN or inf in {bad.size} frame(s) (first: {bad[:5].tolist()}); "
            "interpolate or drop missing frames first (LipLandmarkExtractor does)"
        )
    if max_abs is not None and arr.size and not (np.abs(arr) <= max_abs).all():
        bad = np.flatnonzero(~(np.abs(arr) <= max_abs).all(axis=(1, 2)))
        raise InputError(
            f"{name}: values up to {float(np.abs(arr).max()):.3g} in {bad.size} frame(s) "
            f"(first: {bad[:5].tolist()}), beyond the {max_abs:g} inter-ocular distances "
            "of head-normalised lip coordinates (lipanomaly.limits.MAX_LIP_UNITS); "
            "LipLandmarkExtractor gives such coordinates"
        )
    return arr


def check_clips(
    X, *, n_points=None, min_length=1, dtype=np.float64, name="X", max_abs=MAX_LIP_UNITS
):
    """Validate a collection of clips and return it as a list of ``(T_i, K, 2)`` arrays.

    Parameters
    ----------
    X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
        The collection. A single ``(T, K, 2)`` clip is rejected (wrap it in a list), so
        that one clip is never silently read as ``T`` clips.
    n_points, min_length, dtype, max_abs
        As in :func:`check_clip`; every clip must have the same ``K``.
    name : str, default="X"
        How the collection is named in error messages; clip ``i`` is ``f"{name}[{i}]"``.

    Returns
    -------
    clips : list of ndarray of shape (T_i, K, 2)

    Raises
    ------
    InputError
        If the collection is empty, is a single clip, is sparse or complex, or any clip
        fails :func:`check_clip`.
    """
    reject_unsupported(X, name=name)
    if isinstance(X, np.ndarray):
        if X.ndim == 3:
            raise InputError(
                f"{name}: got one array of shape {X.shape}; a collection is an "
                "(n_clips, T, K, 2) array or a list of (T, K, 2) clips: pass [clip] for one clip"
            )
        if X.ndim != 4 and X.dtype != object:
            raise InputError(
                f"{name}: expected a collection of clips, an (n_clips, T, K, 2) array or a list "
                f"of (T, K, 2) arrays, got an array of shape {X.shape}"
            )
        items = list(X)
    elif isinstance(X, (str, bytes, numbers.Number)) or not hasattr(X, "__len__"):
        raise InputError(
            f"{name}: expected a collection of clips (list or array), got {type(X).__name__}"
        )
    else:
        items = list(X)
    if len(items) == 0:
        raise InputError(f"{name}: the collection is empty; expected at least one clip")
    clips = [
        check_clip(
            c,
            name=f"{name}[{i}]",
            n_points=n_points,
            min_length=min_length,
            dtype=dtype,
            max_abs=max_abs,
        )
        for i, c in enumerate(items)
    ]
    k = clips[0].shape[1]
    for i, c in enumerate(clips):
        if c.shape[1] != k:
            raise InputError(
                f"{name}[{i}]: has {c.shape[1]} lip points but {name}[0] has {k}; "
                "all clips of a collection need the same points"
            )
    return clips


def live_index(y, n_clips):
    """Positions of the clips a network learns from: all, or those with ``y == +1``.

    Parameters
    ----------
    y : array-like of shape (n_clips,) or None
        Labels +1 (live) and -1 (spoof), or None (every clip is live).
    n_clips : int

    Returns
    -------
    index : ndarray of int
    """
    if y is None:
        return np.arange(n_clips)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n_clips:
        raise InputError(f"y: expected one label per clip, shape ({n_clips},), got shape {y.shape}")
    values = set(np.unique(y).tolist())
    if not values <= {1, -1}:
        raise InputError(
            f"y: expected labels +1 (live) and -1 (spoof), got values {sorted(values)}"
        )
    return np.flatnonzero(y == 1)


def check_fitted(estimator, attribute, fit_with):
    """Raise :class:`~lipanomaly.NotFittedError` unless ``estimator`` has ``attribute``.

    ``fit_with`` says what to fit it with ("live clips", ...).
    """
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet; call 'fit' with "
            f"{fit_with} before using this method"
        )


def user_level():
    """``warnings.warn``'s stacklevel for the user's line, from the function that warns.

    The first frame outside lipanomaly, scikit-learn (whose ``set_output`` wraps
    ``transform``, and whose ``Pipeline`` calls it) and joblib (the pipeline's ``memory``),
    so that a warning names the line that called the package.
    """
    import os
    import sys

    import joblib
    import sklearn

    skip = tuple(os.path.dirname(m.__file__) for m in (sys.modules[__package__], sklearn, joblib))
    frame, level = sys._getframe(2), 2  # level 1: the function that calls warnings.warn
    while frame is not None and frame.f_code.co_filename.startswith(skip):
        frame, level = frame.f_back, level + 1
    return level


def check_clip_rate(X, fs):
    """Refuse clips that say they are at another rate than ``fs``.

    The clips of :class:`~lipanomaly.LipLandmarkExtractor` carry the rate they were
    resampled to (``X.fps``, :class:`~lipanomaly.io.extraction.ExtractedClips`): in a
    pipeline, an extractor's ``fps`` that differs from the detector's ``fs`` would read
    every frequency wrong, silently. Clips that carry no rate are taken at ``fs``.
    """
    rate = getattr(X, "fps", None)
    if rate is None or fs is None or math.isclose(float(rate), float(fs)):
        return
    raise InputError(
        f"X: the clips are at {rate:g} frames per second (the extractor's fps) but fs="
        f"{fs:g}; give the extractor and the detector the same rate "
        f"(LipLandmarkExtractor(fps={fs:g}) or fs={rate:g})"
    )
