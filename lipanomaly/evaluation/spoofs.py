"""Pseudo-spoofs: seeded transformations of real lip clips that imitate generator artefacts.

A one-class detector learns from real clips only, so it has no fakes to choose its scoring
with (which components, which side, which threshold). Self-blended images (Shiohara &
Yamasaki, CVPR 2022) showed for face images that training-free pseudo-fakes made from real
data can stand in for real fakes; this module does the same for lip motion. Each function
takes one real clip ``(T, K, 2)`` and returns a clip of the same shape that moves the way a
generator's output tends to move wrong:

=====================  =====================================================================
``oversmooth``         temporally over-smoothed motion (generators that regress to the mean
                       trajectory, audio-driven talking heads)
``frame_hold``         every other frame duplicated (frame-rate conversion, frames repeated)
``frame_blend``        every other frame replaced by the mean of its neighbours (frame
                       interpolation)
``resample``           the clip taken down to :data:`RESAMPLE_RATE` of its frame rate (25 to
                       15 fps) and back up, both by linear interpolation (video generated or
                       re-encoded at a lower rate, then converted)
``flicker``            independent per-frame perturbations of the mouth shape, drawn from the
                       clip's own shape modes (frame-by-frame generation without temporal
                       coherence)
``under_articulate``   motion shrunk toward the clip's mean shape (under-articulation, missed
                       bilabial closures)
``transplant``         lip motion taken from another clip (lip-sync: motion that belongs to
                       other speech), laid over the clip's own mean shape
=====================  =====================================================================

Every transformation has a ``strength`` in [0, 1]: the output is
``x + strength * (T(x) - x)`` with ``T(x)`` the fully transformed clip (for ``flicker``,
``T(x)`` is the clip plus its full-strength perturbation), so 0 is exactly the identity and
the distance of every coordinate from the input grows monotonically with the strength. The
outputs are finite and within the coordinate range that the estimators accept
(:data:`~lipanomaly.limits.MAX_LIP_UNITS`; only ``flicker`` and ``transplant`` can reach it,
and are clipped there). Random draws come from a seeded generator: the same
``random_state`` gives the same spoofs. The inputs are never modified.

**Not here: lip motion delayed against the rest of the face.** Generators that animate the
mouth of a driven face can let the lips lag the jaw, the head or the audio. The data
contract keeps the 40 lip points only (head-normalised, no jaw, no head pose, no audio), so
a lips-only clip has nothing to be late against: shifting all its points by the same delay
gives a clip of the same motion, which no transformation of the lips alone can tell from the
original. A faithful form needs the context points of the data contract's optional
extension (jaw line, nose) or the audio; the closest lips-only spoof is ``transplant``,
motion that does not belong to the clip.

:func:`make_spoofs` applies them to a collection; :func:`make_spoof_scorer` turns them into a
scikit-learn scorer (the AUC of real clips against their pseudo-spoofs) for
``GridSearchCV`` and ``cross_validate`` on real clips only.
"""

import numbers

import numpy as np
from scipy.ndimage import gaussian_filter1d
from sklearn.utils import check_random_state

from .._validation import check_clip, check_clips
from ..exceptions import InputError
from ..limits import MAX_LIP_UNITS

__all__ = [
    "RANDOM_SPOOFS",
    "SPOOFS",
    "flicker",
    "frame_blend",
    "frame_hold",
    "make_spoof_scorer",
    "make_spoofs",
    "oversmooth",
    "resample",
    "transplant",
    "under_articulate",
]

#: The transformations :func:`make_spoofs` knows, in a fixed order.
SPOOFS = (
    "oversmooth",
    "frame_hold",
    "frame_blend",
    "resample",
    "flicker",
    "under_articulate",
    "transplant",
)
#: The kinds whose spoofs :func:`make_spoofs` draws at random (the others are deterministic):
#: ``flicker``'s perturbations and ``transplant``'s donor clip.
RANDOM_SPOOFS = ("flicker", "transplant")

#: Gaussian smoothing width, in frames, of a full-strength ``oversmooth``.
OVERSMOOTH_SIGMA = 2.0
#: Share of the frame rate kept by a full-strength ``resample`` (25 fps to 15 fps and back).
RESAMPLE_RATE = 0.6
#: Share of the motion left by a full-strength ``under_articulate``.
UNDER_ARTICULATION_KEEP = 0.3
#: Standard deviation of a full-strength ``flicker``, as a share of the clip's motion along
#: each of its shape modes.
FLICKER_SCALE = 0.5


def _check_strength(strength):
    if (
        isinstance(strength, bool)
        or not isinstance(strength, numbers.Real)
        or not 0.0 <= strength <= 1.0
    ):
        raise InputError(
            f"strength must be a number in [0, 1] (0 = identity, 1 = full spoof), got {strength!r}"
        )
    return float(strength)


def _check_kinds(kinds):
    """``kinds`` as a tuple of known names; None is all of :data:`SPOOFS`, a str is one."""
    valid = ", ".join(SPOOFS)
    if kinds is None:
        return SPOOFS
    if isinstance(kinds, str):
        kinds = (kinds,)
    try:
        kinds = tuple(kinds)
    except TypeError:
        raise InputError(
            f"kinds must be None, a spoof name or a sequence of spoof names ({valid}), "
            f"got {kinds!r}"
        ) from None
    unknown = [k for k in kinds if not isinstance(k, str) or k not in SPOOFS]
    if unknown:
        raise InputError(f"unknown spoof kind(s) {unknown}; the valid kinds are: {valid}")
    if not kinds:
        raise InputError(f"kinds is empty: name at least one of {valid}, or pass None for all")
    repeated = sorted({k for k in kinds if kinds.count(k) > 1})
    if repeated:
        raise InputError(f"kinds names {repeated} more than once; name each kind once")
    return kinds


def _check_random_state(random_state):
    if random_state is None or isinstance(
        random_state, (np.random.RandomState, np.random.Generator)
    ):
        return random_state
    if (
        isinstance(random_state, numbers.Integral)
        and not isinstance(random_state, bool)
        and 0 <= random_state < 2**32
    ):
        return int(random_state)
    raise InputError(
        "random_state must be None, an int in [0, 2**32), a numpy RandomState or a numpy "
        f"Generator, got {random_state!r}"
    )


def _seed(random_state):
    """An int seed from ``random_state`` (None: numpy's global generator, as scikit-learn)."""
    random_state = _check_random_state(random_state)
    if isinstance(random_state, int):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**32))
    return int(check_random_state(random_state).randint(2**32 - 1, dtype=np.int64))


def _prepare(clip, strength):
    """The clip as float64, the strength, and the dtype of the output (a float input's own)."""
    x = check_clip(clip)
    dtype = clip.dtype if isinstance(clip, np.ndarray) and clip.dtype.kind == "f" else np.float64
    return x, _check_strength(strength), dtype


def _blend(x, target, strength, dtype):
    """``x + strength * (target - x)``, clipped to the accepted coordinate range.

    Per coordinate the distance from ``x`` is non-decreasing in ``strength`` (``x`` lies in
    the range, and clipping and rounding to ``dtype`` are monotone), and 0 gives ``x``.
    """
    out = x + strength * (target - x)
    np.clip(out, -MAX_LIP_UNITS, MAX_LIP_UNITS, out=out)
    return out.astype(dtype, copy=False)


def _frames_at(x, positions):
    """Frames of ``x`` at fractional ``positions`` in [0, T - 1], linearly interpolated."""
    i0 = np.clip(np.floor(positions).astype(np.intp), 0, len(x) - 1)
    i1 = np.minimum(i0 + 1, len(x) - 1)
    w = np.clip(positions - i0, 0.0, 1.0)[:, None, None]
    return (1.0 - w) * x[i0] + w * x[i1]


def _fit_length(motion, n):
    """``motion`` cut to ``n`` frames, or extended by mirroring in time (no jump at the seams)."""
    if len(motion) >= n:
        return motion[:n]
    period = np.concatenate([motion, motion[-2:0:-1]]) if len(motion) > 2 else motion
    return np.concatenate([period] * -(-n // len(period)))[:n]


def oversmooth(clip, strength=0.5):
    """Over-smooth the lip trajectory in time.

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
        A real lip clip in head-normalised coordinates.
    strength : float in [0, 1], default=0.5
        Blend with the clip smoothed by a Gaussian of :data:`OVERSMOOTH_SIGMA` frames.

    Returns
    -------
    spoof : ndarray of shape (T, K, 2)
        The input's dtype for a floating input, float64 otherwise.
    """
    x, s, dtype = _prepare(clip, strength)
    return _blend(x, gaussian_filter1d(x, OVERSMOOTH_SIGMA, axis=0, mode="nearest"), s, dtype)


def frame_hold(clip, strength=0.5):
    """Duplicate every other frame (half the frame rate, each frame held twice).

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
        A real lip clip in head-normalised coordinates.
    strength : float in [0, 1], default=0.5
        Blend with the held clip (frame ``2i + 1`` replaced by frame ``2i``).

    Returns
    -------
    spoof : ndarray of shape (T, K, 2)
        The input's dtype for a floating input, float64 otherwise.
    """
    x, s, dtype = _prepare(clip, strength)
    held = x.copy()
    held[1::2] = x[0:-1:2][: len(held[1::2])]
    return _blend(x, held, s, dtype)


def frame_blend(clip, strength=0.5):
    """Replace every other frame by the mean of its two neighbours (frame interpolation).

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
        A real lip clip in head-normalised coordinates.
    strength : float in [0, 1], default=0.5
        Blend with the interpolated clip. Clips of fewer than 3 frames have nothing to
        interpolate and are returned unchanged.

    Returns
    -------
    spoof : ndarray of shape (T, K, 2)
        The input's dtype for a floating input, float64 otherwise.
    """
    x, s, dtype = _prepare(clip, strength)
    mid = x.copy()
    mid[1:-1:2] = 0.5 * (x[0:-2:2] + x[2::2])
    return _blend(x, mid, s, dtype)


def resample(clip, strength=0.5):
    """Take the clip down to a lower frame rate and back up, by linear interpolation.

    The ``T`` frames are sampled at ``round((T - 1) * RESAMPLE_RATE) + 1`` evenly spaced
    instants (first and last frame kept) and interpolated back to the ``T`` original
    instants: at 25 fps, a video made at 15 fps and converted to 25 by blending frames. The
    ratio is not an integer, so the detail lost varies from frame to frame, unlike
    :func:`frame_hold` and :func:`frame_blend`.

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
        A real lip clip in head-normalised coordinates.
    strength : float in [0, 1], default=0.5
        Blend with the resampled clip. Clips of fewer than 3 frames are returned unchanged.

    Returns
    -------
    spoof : ndarray of shape (T, K, 2)
        The input's dtype for a floating input, float64 otherwise.
    """
    x, s, dtype = _prepare(clip, strength)
    n = len(x)
    if n < 3:
        return _blend(x, x, s, dtype)
    m = max(2, round((n - 1) * RESAMPLE_RATE) + 1)
    low = _frames_at(x, np.linspace(0.0, n - 1, m))
    return _blend(x, _frames_at(low, np.arange(n) * ((m - 1) / (n - 1))), s, dtype)


def flicker(clip, strength=0.5, *, random_state=None):
    """Independent per-frame perturbations of the mouth shape.

    Each frame gets a random combination of the clip's own principal shape modes (the
    right-singular vectors of its centred frames), each with a standard deviation of
    ``FLICKER_SCALE * strength`` times the clip's motion along that mode: the mouth
    deforms the way it does in this clip, but without temporal coherence. A clip without
    motion is returned unchanged.

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
        A real lip clip in head-normalised coordinates.
    strength : float in [0, 1], default=0.5
        Scales the perturbation (the same draw for every strength).
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None, default=None
        Seeds the draw: an int in [0, 2**32) or a Generator through
        :func:`numpy.random.default_rng`, a RandomState through a seed drawn from it (as
        :func:`make_spoofs` does); None draws fresh entropy.

    Returns
    -------
    spoof : ndarray of shape (T, K, 2)
        The input's dtype for a floating input, float64 otherwise.

    Raises
    ------
    InputError
        On an invalid clip, a strength outside [0, 1] or an invalid ``random_state``.
    """
    x, s, dtype = _prepare(clip, strength)
    random_state = _check_random_state(random_state)
    if isinstance(random_state, np.random.RandomState):
        random_state = _seed(random_state)
    rng = np.random.default_rng(random_state)
    flat = x.reshape(len(x), -1)
    _, sv, vt = np.linalg.svd(flat - flat.mean(axis=0), full_matrices=False)
    sd = sv / np.sqrt(len(x))
    noise = (rng.standard_normal((len(x), len(sd))) * sd) @ vt
    return _blend(x, x + FLICKER_SCALE * noise.reshape(x.shape), s, dtype)


def under_articulate(clip, strength=0.5):
    """Shrink the lip motion toward the clip's mean shape.

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
        A real lip clip in head-normalised coordinates.
    strength : float in [0, 1], default=0.5
        At 1 only :data:`UNDER_ARTICULATION_KEEP` of the motion is left.

    Returns
    -------
    spoof : ndarray of shape (T, K, 2)
        The input's dtype for a floating input, float64 otherwise.
    """
    x, s, dtype = _prepare(clip, strength)
    mean = x.mean(axis=0, keepdims=True)
    return _blend(x, mean + UNDER_ARTICULATION_KEEP * (x - mean), s, dtype)


def transplant(clip, donor, strength=0.5):
    """Replace the clip's lip motion by another clip's, over the clip's own mean shape.

    The donor's motion (its frames minus its mean shape) is rescaled to the clip's motion
    energy (root mean square) and cut to the clip's length, or extended by playing it
    forward and backward in turn (no jump where it repeats).

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
        A real lip clip in head-normalised coordinates.
    donor : array-like of shape (T', K, 2)
        The clip that lends its motion; any length, the same ``K``.
    strength : float in [0, 1], default=0.5
        Blend with the transplanted clip.

    Returns
    -------
    spoof : ndarray of shape (T, K, 2)
        The input's dtype for a floating input, float64 otherwise.
    """
    x, s, dtype = _prepare(clip, strength)
    d = check_clip(donor, name="donor", n_points=x.shape[1])
    own = x - x.mean(axis=0, keepdims=True)
    other = _fit_length(d - d.mean(axis=0, keepdims=True), len(x))
    scale = np.sqrt(np.mean(own**2) / max(np.mean(other**2), 1e-24))
    return _blend(x, x - own + scale * other, s, dtype)


_FUNCTIONS = {
    "oversmooth": oversmooth,
    "frame_hold": frame_hold,
    "frame_blend": frame_blend,
    "resample": resample,
    "under_articulate": under_articulate,
}


def make_spoofs(X, *, kinds=None, strength=0.5, random_state=None):
    """Pseudo-spoofs of a collection of real clips: every clip through every transformation.

    Parameters
    ----------
    X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
        Real clips in head-normalised coordinates, validated as every estimator's input.
    kinds : str, sequence of str or None, default=None
        Transformations of :data:`SPOOFS` to apply, each named once; None is all.
        ``transplant`` takes its donor from another clip of ``X``, drawn at random, and
        needs at least 2 clips.
    strength : float in [0, 1], default=0.5
        The strength of every transformation (0 = identity).
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=None
        Seeds the kinds of :data:`RANDOM_SPOOFS`: with an int, clip ``i`` of a kind uses
        ``numpy.random.default_rng([random_state, SPOOFS.index(kind), i])``, so the same
        int gives the same spoofs; None draws the seed from numpy's global generator (as
        scikit-learn does).

    Returns
    -------
    spoofs : list of ndarray of shape (T_i, K, 2), float64
        ``len(kinds) * n_clips`` clips, kind by kind, clips in input order.
    kind : ndarray of str of shape (len(spoofs),)
        The transformation each spoof comes from.

    Raises
    ------
    InputError
        On an invalid collection, an unknown or repeated kind, a strength outside [0, 1],
        an invalid ``random_state``, or ``transplant`` with a single clip.

    Examples
    --------
    >>> import numpy as np
    >>> from lipanomaly.evaluation.spoofs import make_spoofs
    >>> X = np.random.default_rng(0).normal(scale=0.1, size=(3, 50, 40, 2))
    >>> spoofs, kind = make_spoofs(X, kinds=["oversmooth", "flicker"], random_state=0)
    >>> len(spoofs), spoofs[0].shape, kind.tolist()[::3]
    (6, (50, 40, 2), ['oversmooth', 'flicker'])
    """
    clips = check_clips(X)
    kinds = _check_kinds(kinds)
    strength = _check_strength(strength)
    if "transplant" in kinds and len(clips) < 2:
        raise InputError(
            "the 'transplant' spoof needs at least 2 clips (another clip lends its motion); "
            f"got {len(clips)}"
        )
    random_state = _check_random_state(random_state)
    seed = _seed(random_state) if set(kinds) & set(RANDOM_SPOOFS) else 0
    out, labels = [], []
    for kind in kinds:
        for i, clip in enumerate(clips):
            rng = np.random.default_rng([seed, SPOOFS.index(kind), i])
            if kind == "flicker":
                spoof = flicker(clip, strength, random_state=rng)
            elif kind == "transplant":
                j = int(rng.integers(len(clips) - 1))
                spoof = transplant(clip, clips[j + (j >= i)], strength)
            else:
                spoof = _FUNCTIONS[kind](clip, strength)
            out.append(spoof)
            labels.append(kind)
    return out, np.array(labels)


class _SpoofScorer:
    """``scorer(estimator, X, y=None)``: ROC AUC of real clips against their pseudo-spoofs."""

    def __init__(self, kinds, strength, random_state):
        self.kinds = kinds
        self.strength = strength
        self.random_state = random_state

    def __call__(self, estimator, X, y=None):
        from .metrics import roc_auc

        clips = check_clips(X)
        if y is not None:  # labelled folds: only the real clips are spoofed
            y = np.asarray(y)
            if y.shape != (len(clips),):
                raise InputError(
                    f"y must hold one label per clip of X ({len(clips)}), got shape {y.shape}"
                )
            clips = [c for c, label in zip(clips, y) if label == 1]
            if not clips:
                raise InputError("no real clip (y == +1) in X: the spoof scorer spoofs real clips")
        spoofs, _ = make_spoofs(
            clips, kinds=self.kinds, strength=self.strength, random_state=self.random_state
        )
        everything = clips + spoofs
        if isinstance(X, np.ndarray) and X.ndim == 4:  # the estimator gets what it was given
            everything = np.stack(everything)
        scores = np.asarray(estimator.score_samples(everything), dtype=np.float64)
        labels = np.r_[np.ones(len(clips), int), -np.ones(len(spoofs), int)]
        return float(roc_auc(labels, scores))

    def __repr__(self):
        return (
            f"make_spoof_scorer(kinds={self.kinds!r}, strength={self.strength!r}, "
            f"random_state={self.random_state!r})"
        )


def make_spoof_scorer(*, kinds=None, strength=0.5, random_state=0):
    """A scorer for model selection without fakes: AUC of real clips against pseudo-spoofs.

    Use it as ``scoring=`` of ``GridSearchCV`` or ``cross_validate`` on real clips only:
    each validation fold's clips are scored together with their pseudo-spoofs
    (:func:`make_spoofs`) by the estimator's ``score_samples`` (higher = more live), and the
    ROC AUC with the real clips as the positive class is returned (1 = every real clip more
    live than every spoof, 0.5 = chance): higher is better, as scikit-learn expects. With
    labelled folds (``y``), only the clips with ``y == +1`` are used and spoofed.

    The folds must hold lip clips (the estimator's input is clips, as for
    :class:`~lipanomaly.LFHFVAEDetector` or a pipeline starting with
    :class:`~lipanomaly.LipMotionFeatures`), not video paths: extract the clips first.
    How well the proxy ranks scorings the way real fakes do is measured in the quality
    benchmark (``docs/quality.md``).

    Parameters
    ----------
    kinds : str, sequence of str or None, default=None
        Transformations of :data:`SPOOFS`; None is all.
    strength : float in [0, 1], default=0.5
        Strength of every transformation.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=0
        Seeds the spoofs. An int (the default) gives every candidate of a search, and every
        call, the same spoofs of the same fold; None or a generator draws new ones each call.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float`` in [0, 1].

    Raises
    ------
    InputError
        On an unknown or repeated kind, a strength outside [0, 1] or an invalid
        ``random_state`` (at once, not at the first call).

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import OneClassSVM
    >>> from lipanomaly import LipMotionFeatures, make_spoof_scorer
    >>> pipe = make_pipeline(LipMotionFeatures(), StandardScaler(), OneClassSVM())
    >>> search = GridSearchCV(
    ...     pipe, {"oneclasssvm__nu": [0.1, 0.5]}, scoring=make_spoof_scorer(), cv=3
    ... )
    >>> # search.fit(real_clips)  # real clips only: no labels, no fakes
    """
    return _SpoofScorer(
        None if kinds is None else _check_kinds(kinds),
        _check_strength(strength),
        _check_random_state(random_state),
    )
