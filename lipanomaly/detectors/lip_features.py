"""``LipMotionFeatures``: hand-crafted lip-motion features for classical one-class detectors.

The baseline a user would build without lipanomaly's network: a handful of interpretable
numbers per clip, put in front of scikit-learn's ``OneClassSVM`` or ``IsolationForest``::

    make_pipeline(LipMotionFeatures(), StandardScaler(), OneClassSVM(nu=0.2))

antropy (sample entropy) is imported inside the function that needs it.
"""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from threadpoolctl import threadpool_limits

from .._validation import check_clips
from ..exceptions import InputError, NotFittedError
from ..limits import DEFAULT_FPS
from ..signal.filters import (
    DEFAULT_CUTOFF_HZ,
    LIP_CORNERS,
    LIP_INNER,
    check_cutoff,
    derivative,
    highpass,
    mouth_opening,
    mouth_width,
    principal_motion,
    spectral_flatness,
    stft_magnitude,
)

__all__ = ["FEATURE_NAMES", "LipMotionFeatures", "lip_motion_features"]

#: Names of the features, in column order (``relative=False``).
FEATURE_NAMES = (
    "opening_mean",
    "opening_std",
    "opening_range",
    "width_mean",
    "width_std",
    "opening_to_width",
    "opening_peak_hz",
    "motion_rms",
    "velocity_rms",
    "acceleration_rms",
    "jerk_rms",
    "hf_power_ratio",
    "opening_hf_power_ratio",
    "stft_top_third_ratio",
    "motion_flatness",
    "opening_sampen",
    "motion_sampen",
)
_DERIVATIVES = ("velocity_rms", "acceleration_rms", "jerk_rms")

#: Fewest frames a clip needs: the third derivative, the sample entropy and the spectra
#: need a few frames to mean anything.
MIN_FRAMES = 8

_TINY = 1e-300


def _peak_frequency(sig, fs):
    """Frequency (Hz) of the largest periodogram bin above DC, zero-padded to >= 512 points."""
    if np.std(sig) <= 1e-9 * np.max(np.abs(sig)):  # no motion but round-off: no frequency
        return 0.0
    n_fft = max(512, 1 << int(np.ceil(np.log2(len(sig)))))
    centred = sig - sig.mean()
    power = np.abs(np.fft.rfft(centred * np.hanning(len(sig)), n=n_fft)) ** 2
    return float(np.fft.rfftfreq(n_fft, d=1.0 / fs)[1 + np.argmax(power[1:])])


def _ratio(num, den):
    return float(num / den) if den > _TINY else 0.0


def _energy_ratio(part, whole, scale):
    """``sum(part**2) / sum(whole**2)``; 0 when ``whole`` is only round-off of ``scale``."""
    den = np.sum(whole**2)
    if den <= (1e-9 * scale) ** 2 * whole.size:
        return 0.0
    return float(np.sum(part**2) / den)


def _sample_entropy(signals):
    """Guarded sample entropy (m=2, r=0.2 std) of each row; antropy is imported there."""
    from ..scoring.formulas import sample_entropy

    return sample_entropy(np.atleast_2d(signals), order=2, r=0.2)


def lip_motion_features(
    clip,
    *,
    fs=DEFAULT_FPS,
    cutoff=DEFAULT_CUTOFF_HZ,
    inner=LIP_INNER,
    corners=LIP_CORNERS,
    relative=False,
):
    """Hand-crafted features of one lip sequence.

    Parameters
    ----------
    clip : array-like of shape (T, K, 2)
        One head-normalised lip sequence (finite, at least ``MIN_FRAMES`` frames).
    fs : float, default=25.0
        Frame rate in Hz.
    cutoff : float, default=DEFAULT_CUTOFF_HZ
        Cut-off in Hz of the band-power ratios (the band split of :mod:`lipanomaly.signal.filters`).
    inner, corners : tuple of 2 int
        Positions on the ``K`` axis of the inner-lip midpoints and of the mouth corners
        (defaults: FaceMesh 13 / 14 and 61 / 291 in the 40-point layout).
    relative : bool, default=False
        Divide the velocity, acceleration and jerk RMS by the clip's motion RMS, so that
        they describe *how* the lips move rather than *how much*.

    Returns
    -------
    features : ndarray of shape (17,), float64
        In the order of :data:`FEATURE_NAMES` (see :class:`LipMotionFeatures` for each).
    """
    clip = np.asarray(clip, dtype=np.float64)
    opening = mouth_opening(clip, inner=inner)
    width = mouth_width(clip, corners=corners)
    flat = clip.reshape(len(clip), -1)
    scale = float(np.abs(flat).max())
    motion = flat - flat.mean(axis=0)
    if np.sqrt(np.mean(motion**2)) <= 1e-9 * scale:
        motion = np.zeros_like(motion)  # still lips: what is left is round-off
    # per-frame energies summed over points and coordinates, averaged over frames
    motion_rms = np.sqrt(np.mean(np.sum(motion**2, axis=1)))
    derivs = [np.sqrt(np.mean(np.sum(derivative(flat, k, fs=fs) ** 2, axis=1))) for k in (1, 2, 3)]
    if relative:
        derivs = [_ratio(d, motion_rms) for d in derivs]
    high = highpass(motion, cutoff=cutoff, fs=fs)
    op_centred = opening - opening.mean()
    op_high = highpass(opening, cutoff=cutoff, fs=fs)
    principal = principal_motion(motion)
    # STFT power of the principal motion: share in the top third of the bins (the bins the
    # model's STFT loss weights up); the frame is at most the clip
    n_fft = int(min(16, len(clip) - len(clip) % 2))
    mag, weights = stft_magnitude(principal, n_fft=n_fft, hop=max(1, n_fft // 4))
    power = (mag**2).sum(axis=0)
    top = weights > 1.0
    sampen = _sample_entropy(np.stack([opening, principal]))
    return np.array(
        [
            opening.mean(),
            opening.std(),
            np.percentile(opening, 95) - np.percentile(opening, 5),
            width.mean(),
            width.std(),
            _ratio(opening.mean(), width.mean()),
            _peak_frequency(opening, fs),
            motion_rms,
            *derivs,
            _energy_ratio(high, motion, scale),
            _energy_ratio(op_high, op_centred, float(np.abs(opening).max())),
            _ratio(power[top].sum(), power[1:].sum()),
            spectral_flatness(principal),
            sampen[0],
            sampen[1],
        ],
        dtype=np.float64,
    )


class LipMotionFeatures(TransformerMixin, BaseEstimator):
    """Hand-crafted lip-motion features per clip, for ``OneClassSVM`` / ``IsolationForest``.

    Each clip ``(T, K, 2)`` becomes one row of 17 numbers (:meth:`get_feature_names_out`):

    ==========================  ==========================================================
    ``opening_mean``, ``_std``  mouth opening (inner-lip midpoints) over the clip
    ``opening_range``           its 95th minus 5th percentile
    ``width_mean``, ``_std``    mouth width (corners)
    ``opening_to_width``        mean opening / mean width (scale-free mouth shape)
    ``opening_peak_hz``         dominant frequency of the opening (periodogram peak above DC)
    ``motion_rms``              RMS displacement of all lip coordinates from their mean
    ``velocity_rms``            RMS of the first time derivative (units / s); with
                                ``relative=True`` divided by ``motion_rms``, likewise:
    ``acceleration_rms``        second derivative (units / s^2)
    ``jerk_rms``                third derivative (units / s^3): closures and bursts
    ``hf_power_ratio``          share of the motion power above ``cutoff`` (band split)
    ``opening_hf_power_ratio``  the same for the mouth opening
    ``stft_top_third_ratio``    STFT power of the principal motion in the top third of the
                                frequency bins, over all bins above DC
    ``motion_flatness``         spectral flatness of the principal motion
    ``opening_sampen``          sample entropy (m=2, r=0.2 std) of the opening
    ``motion_sampen``           sample entropy of the principal motion
    ==========================  ==========================================================

    The principal motion is the clip's centred lip coordinates projected on their first
    principal axis. Flat or very regular signals, where antropy's sample entropy is NaN or
    inf, get the guarded values of :func:`lipanomaly.scoring.formulas.sample_entropy` (0 for no
    motion, the largest finite value when no template matches); ratios with a zero
    denominator are 0. Every output is finite.

    The transformer learns nothing: :meth:`fit` checks the parameters and the number of lip
    points.

    Parameters
    ----------
    fs : float, default=25.0
        Frame rate of the clips in Hz.
    cutoff : float, default=DEFAULT_CUTOFF_HZ
        Cut-off of the band-power ratios in Hz, below ``fs / 2``.
    inner : tuple of 2 int, default=LIP_INNER
        Positions on the ``K`` axis of the upper and lower inner-lip midpoints (FaceMesh 13
        and 14 in the 40-point ``FACEMESH_LIPS`` layout of ``LipLandmarkExtractor``).
    corners : tuple of 2 int, default=LIP_CORNERS
        Positions of the mouth corners (FaceMesh 61 and 291).
    relative : bool, default=False
        Divide the derivative RMS features by ``motion_rms`` (names end in ``_rel``): the
        detectors then see how the lips move, not how much, a confound the specification
        warns about.

    Attributes
    ----------
    n_points_ : int
        Number of lip points ``K`` seen at :meth:`fit`.
    n_features_out_ : int
        Number of features (17).

    See Also
    --------
    lip_motion_features : The features of one clip.

    Examples
    --------
    >>> import numpy as np
    >>> from lipanomaly import LipMotionFeatures
    >>> X = np.random.default_rng(0).normal(size=(4, 64, 40, 2))
    >>> LipMotionFeatures().fit_transform(X).shape
    (4, 17)
    """

    _parameter_constraints: ClassVar[dict] = {
        "fs": [Interval(Real, 0, None, closed="neither")],
        "cutoff": [Interval(Real, 0, None, closed="neither")],
        "inner": [tuple, list],
        "corners": [tuple, list],
        "relative": ["boolean"],
    }

    def __init__(
        self,
        *,
        fs=DEFAULT_FPS,
        cutoff=DEFAULT_CUTOFF_HZ,
        inner=LIP_INNER,
        corners=LIP_CORNERS,
        relative=False,
    ):
        self.fs = fs
        self.cutoff = cutoff
        self.inner = inner
        self.corners = corners
        self.relative = relative

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters against the clips.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
            Head-normalised lip sequences of at least 8 frames.
        y : None
            Ignored.

        Returns
        -------
        self : LipMotionFeatures
        """
        check_cutoff(self.cutoff, self.fs)
        clips = check_clips(X, min_length=MIN_FRAMES)
        k = clips[0].shape[1]
        for name in ("inner", "corners"):
            pair = getattr(self, name)
            if len(pair) != 2 or not all(
                isinstance(i, Integral) and not isinstance(i, bool) and -k <= i < k for i in pair
            ):
                raise InputError(
                    f"{name} must be 2 point positions on the K axis, integers in [0, {k}) "
                    f"for these clips of K={k} points, got {pair!r}"
                )
        self.n_points_ = k
        self.n_features_out_ = len(FEATURE_NAMES)
        return self

    def transform(self, X):
        """Compute the features of every clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
            Lip sequences with the ``K`` seen at :meth:`fit`, at least 8 frames each.

        Returns
        -------
        features : ndarray of shape (n_clips, 17), float64
            Finite; columns named by :meth:`get_feature_names_out`.
        """
        if not hasattr(self, "n_points_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call 'fit' first"
            )
        clips = check_clips(X, n_points=self.n_points_, min_length=MIN_FRAMES)
        # the linear algebra per clip is tiny ((2K, 2K) matrices): BLAS threads only cost
        # here, and on a busy machine they cost a lot (30x slower on the shared 2-core dev VM)
        with threadpool_limits(limits=1, user_api="blas"):
            rows = [
                lip_motion_features(
                    clip,
                    fs=self.fs,
                    cutoff=self.cutoff,
                    inner=tuple(self.inner),
                    corners=tuple(self.corners),
                    relative=self.relative,
                )
                for clip in clips
            ]
        return np.stack(rows)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : None
            Ignored: the input is lip sequences, not named columns.

        Returns
        -------
        feature_names_out : ndarray of str objects, shape (17,)
        """
        names = [
            f"{n[: -len('_rms')]}_rel" if self.relative and n in _DERIVATIVES else n
            for n in FEATURE_NAMES
        ]
        return np.asarray(names, dtype=object)
