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
``flicker``            independent per-frame perturbations of the mouth shape, drawn from the
                       clip's own shape modes (frame-by-frame generation without temporal
                       coherence)
``under_articulate``   motion shrunk toward the clip's mean shape (under-articulation, missed
                       bilabial closures)
``transplant``         lip motion taken from another clip (lip-sync: motion that belongs to
                       other speech), laid over the clip's own mean shape
=====================  =====================================================================

Every transformation has a ``strength`` in [0, 1]: the output is
``x + strength * (T(x) - x)`` with ``T(x)`` the fully transformed clip (for ``flicker``, the
perturbation is scaled by ``strength``), so 0 is the identity and the distance from the
input grows monotonically with the strength. Random draws come from a seeded generator: the
same ``random_state`` gives the same spoofs.

:func:`make_spoofs` applies them to a collection; :func:`make_spoof_scorer` turns them into a
scikit-learn scorer (the AUC of real clips against their pseudo-spoofs) for
``GridSearchCV`` and ``cross_validate`` on real clips only.
"""

import numbers

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ._validation import check_clip, check_clips
from .exceptions import InputError

__all__ = [
    "SPOOFS",
    "flicker",
    "frame_blend",
    "frame_hold",
    "make_spoof_scorer",
    "make_spoofs",
    "oversmooth",
    "transplant",
    "under_articulate",
]

#: The transformations :func:`make_spoofs` knows, in a fixed order.
SPOOFS = (
    "oversmooth",
    "frame_hold",
    "frame_blend",
    "flicker",
    "under_articulate",
    "transplant",
)

#: Gaussian smoothing width, in frames, of a full-strength ``oversmooth``.
OVERSMOOTH_SIGMA = 2.0
#: Share of the motion left by a full-strength ``under_articulate``.
UNDER_ARTICULATION_KEEP = 0.3
#: Standard deviation of a full-strength ``flicker``, as a share of the clip's motion along
#: each of its shape modes.
FLICKER_SCALE = 0.5


def _strength(strength):
    if (
        isinstance(strength, bool)
        or not isinstance(strength, numbers.Real)
        or not 0.0 <= strength <= 1.0
    ):
        raise InputError(f"strength must be a number in [0, 1], got {strength!r}")
    return float(strength)


def _blend(x, target, strength):
    return x + strength * (target - x)


def oversmooth(clip, strength=0.5):
    """Over-smooth the lip trajectory in time.

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
    strength : float in [0, 1], default=0.5
        Blend with the clip smoothed by a Gaussian of :data:`OVERSMOOTH_SIGMA` frames.

    Returns
    -------
    spoof : ndarray of shape (T, K, 2), float64
    """
    x, s = check_clip(clip), _strength(strength)
    return _blend(x, gaussian_filter1d(x, OVERSMOOTH_SIGMA, axis=0, mode="nearest"), s)


def frame_hold(clip, strength=0.5):
    """Duplicate every other frame (half the frame rate, held).

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
    strength : float in [0, 1], default=0.5

    Returns
    -------
    spoof : ndarray of shape (T, K, 2), float64
    """
    x, s = check_clip(clip), _strength(strength)
    held = x.copy()
    held[1::2] = x[0:-1:2][: len(held[1::2])]
    return _blend(x, held, s)


def frame_blend(clip, strength=0.5):
    """Replace every other frame by the mean of its two neighbours (frame interpolation).

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
    strength : float in [0, 1], default=0.5

    Returns
    -------
    spoof : ndarray of shape (T, K, 2), float64
    """
    x, s = check_clip(clip), _strength(strength)
    mid = x.copy()
    mid[1:-1:2] = 0.5 * (x[0:-2:2] + x[2::2])
    return _blend(x, mid, s)


def flicker(clip, strength=0.5, *, random_state=None):
    """Independent per-frame perturbations of the mouth shape.

    Each frame gets a random combination of the clip's own principal shape modes (the
    right-singular vectors of its centred frames), each with a standard deviation of
    ``FLICKER_SCALE * strength`` times the clip's motion along that mode: the mouth
    deforms the way it does in this clip, but without temporal coherence.

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
    strength : float in [0, 1], default=0.5
    random_state : int, numpy.random.Generator or None, default=None

    Returns
    -------
    spoof : ndarray of shape (T, K, 2), float64
    """
    x, s = check_clip(clip), _strength(strength)
    rng = np.random.default_rng(random_state)
    flat = x.reshape(len(x), -1)
    _, sv, vt = np.linalg.svd(flat - flat.mean(axis=0), full_matrices=False)
    sd = sv / np.sqrt(max(len(x), 1))
    noise = rng.standard_normal((len(x), len(sd))) * sd
    return x + (FLICKER_SCALE * s) * (noise @ vt).reshape(x.shape)


def under_articulate(clip, strength=0.5):
    """Shrink the lip motion toward the clip's mean shape.

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
    strength : float in [0, 1], default=0.5
        At 1 only :data:`UNDER_ARTICULATION_KEEP` of the motion is left.

    Returns
    -------
    spoof : ndarray of shape (T, K, 2), float64
    """
    x, s = check_clip(clip), _strength(strength)
    mean = x.mean(axis=0, keepdims=True)
    return _blend(x, mean + UNDER_ARTICULATION_KEEP * (x - mean), s)


def transplant(clip, donor, strength=0.5):
    """Replace the clip's lip motion by another clip's, over the clip's own mean shape.

    The donor's motion (its frames minus its mean shape) is rescaled to the clip's motion
    energy and tiled or cut to the clip's length.

    Parameters
    ----------
    clip, donor : array-like of shape (T, K, 2) and (T', K, 2)
    strength : float in [0, 1], default=0.5

    Returns
    -------
    spoof : ndarray of shape (T, K, 2), float64
    """
    x, s = check_clip(clip), _strength(strength)
    d = check_clip(donor, name="donor", n_points=x.shape[1])
    own = x - x.mean(axis=0, keepdims=True)
    other = d - d.mean(axis=0, keepdims=True)
    other = np.resize(other, x.shape)  # tile or cut in time
    scale = np.sqrt(np.mean(own**2) / max(np.mean(other**2), 1e-24))
    return _blend(x, x - own + scale * other, s)


def make_spoofs(X, *, kinds=None, strength=0.5, random_state=None):
    """Pseudo-spoofs of a collection of real clips: every clip through every transformation.

    Parameters
    ----------
    X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
        Real clips.
    kinds : sequence of str or None, default=None
        Transformations of :data:`SPOOFS` to apply; None is all. ``transplant`` takes its
        donor from another clip of ``X`` (the next one, cyclically) and needs 2 clips.
    strength : float in [0, 1], default=0.5
    random_state : int or None, default=None
        Seeds ``flicker``: clip ``i`` uses ``numpy.random.default_rng([random_state, i])``,
        so a clip's spoof does not depend on the other clips.

    Returns
    -------
    spoofs : list of ndarray of shape (T_i, K, 2)
        ``len(kinds) * n_clips`` clips, kind by kind, clips in input order.
    kind : ndarray of str of shape (len(spoofs),)
        The transformation each spoof comes from.
    """
    clips = check_clips(X)
    kinds = SPOOFS if kinds is None else tuple(kinds)
    unknown = sorted(set(kinds) - set(SPOOFS))
    if unknown or not kinds:
        raise InputError(f"kinds must be a non-empty subset of {list(SPOOFS)}, got {list(kinds)}")
    if "transplant" in kinds and len(clips) < 2:
        raise InputError("the 'transplant' spoof needs at least 2 clips (one lends its motion)")
    seed = 0 if random_state is None else random_state
    out, labels = [], []
    for kind in kinds:
        for i, clip in enumerate(clips):
            if kind == "flicker":
                spoof = flicker(clip, strength, random_state=[seed, i])
            elif kind == "transplant":
                spoof = transplant(clip, clips[(i + 1) % len(clips)], strength)
            else:
                spoof = globals()[kind](clip, strength)
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
        from .evaluation import roc_auc

        clips = check_clips(X)
        if y is not None:  # labelled folds: only the real clips are spoofed
            clips = [c for c, label in zip(clips, np.asarray(y)) if label == 1]
        spoofs, _ = make_spoofs(
            clips, kinds=self.kinds, strength=self.strength, random_state=self.random_state
        )
        scores = np.asarray(estimator.score_samples(clips + spoofs), dtype=np.float64)
        labels = np.r_[np.ones(len(clips), int), -np.ones(len(spoofs), int)]
        return roc_auc(labels, scores)

    def __repr__(self):
        return (
            f"make_spoof_scorer(kinds={self.kinds!r}, strength={self.strength!r}, "
            f"random_state={self.random_state!r})"
        )


def make_spoof_scorer(*, kinds=None, strength=0.5, random_state=0):
    """A scorer for model selection without fakes: AUC of real clips against pseudo-spoofs.

    Use it as ``scoring=`` of ``GridSearchCV`` or ``cross_validate`` on real clips only:
    each validation fold's clips are scored with their pseudo-spoofs (:func:`make_spoofs`),
    and the ROC AUC with the real clips as the positive class is returned (1 = every real
    clip more live than every spoof, 0.5 = chance). With labelled folds (``y``), only the
    clips with ``y == +1`` are used and spoofed.

    Parameters
    ----------
    kinds : sequence of str or None, default=None
        Transformations of :data:`SPOOFS`; None is all.
    strength : float in [0, 1], default=0.5
    random_state : int, default=0
        Seeds the spoofs, so every candidate of a search is judged on the same spoofs.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``.
    """
    _strength(strength)
    if kinds is not None:
        make_spoofs([np.zeros((4, 1, 2)), np.zeros((4, 1, 2))], kinds=kinds)  # validates kinds
    return _SpoofScorer(None if kinds is None else tuple(kinds), strength, random_state)
