"""``BandSplit``: the zero-phase low-pass / high-pass split of lip sequences as a transformer."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from .._validation import check_clips
from ..exceptions import InputError, NotFittedError
from ..limits import DEFAULT_FPS
from .filters import DEFAULT_CUTOFF_HZ, band_split, check_cutoff

__all__ = ["BandSplit"]


def _band_is_both(estimator):
    return estimator.band == "both"


class BandSplit(TransformerMixin, BaseEstimator):
    """Zero-phase split of lip sequences into slow trajectory and fast detail.

    Every clip is filtered along time only with :func:`lipanomaly.signal.filters.band_split`: a
    Butterworth low-pass in second-order sections run forward and backward (zero phase: the
    slow trajectory is not delayed against the input, so lip closures stay where they are in
    the detail), and the detail is ``x - low``, so ``low + high`` reproduces the input to
    floating-point precision.

    Parameters
    ----------
    cutoff : float, default=DEFAULT_CUTOFF_HZ
        Cut-off frequency in Hz, strictly below ``fs / 2``. The default (4 Hz) comes from the
        lip-motion spectrum of the development clips (``docs/bandsplit.md``).
    fs : float, default=25.0
        Frame rate of the clips in Hz (the analysis rate of the extractor).
    order : int, default=4
        Butterworth order of one pass; the forward-backward filter has twice its roll-off.
    band : {"both", "low", "high"}, default="both"
        What :meth:`transform` returns:

        - ``"low"``: the slow trajectory, clips of shape ``(T, K, 2)``;
        - ``"high"``: the fast detail ``x - low``, clips of shape ``(T, K, 2)``;
        - ``"both"``: both bands side by side on the last axis, clips of shape ``(T, K, 4)``
          with channels ``[low x, low y, high x, high y]``: ``out[..., :2]`` is the low band,
          ``out[..., 2:]`` the high band, and :meth:`inverse_transform` adds them back.
          This keeps one array per clip and the ``(T, K)`` layout of the data contract, so
          clips stay aligned frame by frame and point by point; a ``(T, K, 4)`` clip is not a
          lip sequence, and the package's other estimators reject it (take one band for them).

    Attributes
    ----------
    n_points_ : int
        Number of lip points ``K`` seen at :meth:`fit`; :meth:`transform` requires the same.

    See Also
    --------
    lipanomaly.signal.filters.band_split : The same split for one array.
    lipanomaly.signal.filters.lowpass : The filter, and how clip edges are handled.

    Notes
    -----
    **Output container.** The output has the input's kind: an ``(n_clips, T, K, 2)`` array
    gives an ``(n_clips, T, K, C)`` float64 array, a list of clips gives a list of float64
    arrays ``(T_i, K, C)`` (``C`` is 2, or 4 for ``"both"``).

    **Short clips.** A clip shorter than the filter's edge padding (15 frames at order 4) is
    filtered after repeated odd reflection at its edges (see
    :func:`lipanomaly.signal.filters.lowpass`): it never fails, the split stays exact and
    zero-phase, but its low band rests mostly on the extension. One frame is its own low
    band (the detail is 0).

    **Invalid input.** NaN or inf anywhere is rejected with an :class:`~lipanomaly.InputError`
    naming the clip and the frames; a filter would smear one missing value over the clip.

    Examples
    --------
    >>> import numpy as np
    >>> from lipanomaly import BandSplit
    >>> X = np.random.default_rng(0).normal(size=(3, 64, 40, 2))
    >>> both = BandSplit().fit_transform(X)
    >>> both.shape
    (3, 64, 40, 4)
    >>> bool(np.allclose(both[..., :2] + both[..., 2:], X, rtol=0, atol=1e-12))
    True
    >>> high = BandSplit(band="high", cutoff=3.0).fit_transform([X[0], X[1, :50]])
    >>> [h.shape for h in high]
    [(64, 40, 2), (50, 40, 2)]
    """

    _parameter_constraints: ClassVar[dict] = {
        "cutoff": [Interval(Real, 0, None, closed="neither")],
        "fs": [Interval(Real, 0, None, closed="neither")],
        "order": [Interval(Integral, 1, None, closed="left")],
        "band": [StrOptions({"both", "low", "high"})],
    }

    def __init__(self, *, cutoff=DEFAULT_CUTOFF_HZ, fs=DEFAULT_FPS, order=4, band="both"):
        self.cutoff = cutoff
        self.fs = fs
        self.order = order
        self.band = band

    def _check_cutoff(self):
        check_cutoff(self.cutoff, self.fs)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and remember the number of lip points.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
            Lip sequences.
        y : None
            Ignored.

        Returns
        -------
        self : BandSplit
        """
        self._check_cutoff()
        clips = check_clips(X, max_abs=None)  # linear: any finite values (pixels too)
        self.n_points_ = clips[0].shape[1]
        return self

    def _split(self, clip):
        return band_split(clip, cutoff=self.cutoff, fs=self.fs, order=self.order, axis=0)

    def transform(self, X):
        """Split every clip along time and return the selected band(s).

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
            Lip sequences with the ``K`` seen at :meth:`fit`.

        Returns
        -------
        Xt : ndarray of shape (n_clips, T, K, C) or list of ndarray of shape (T_i, K, C)
            float64; ``C = 4`` for ``band="both"`` (``[low x, low y, high x, high y]``),
            otherwise 2. An array for an array input, a list for a list.
        """
        _check_fitted(self)
        clips = check_clips(X, n_points=self.n_points_, max_abs=None)
        out = []
        for clip in clips:
            low, high = self._split(clip)
            if self.band == "low":
                out.append(low)
            elif self.band == "high":
                out.append(high)
            else:
                out.append(np.concatenate([low, high], axis=-1))
        return _like_input(X, out)

    @available_if(_band_is_both)
    def inverse_transform(self, X):
        """Add the bands back: ``low + high``, the input of :meth:`transform`.

        Only available for ``band="both"`` (one band alone cannot give the input back).

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 4) or list of array-like of shape (T_i, K, 4)
            Output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_clips, T, K, 2) or list of ndarray of shape (T_i, K, 2)
            float64, equal to the input of :meth:`transform` to floating-point precision.
        """
        _check_fitted(self)
        items = _as_items(X)
        out = []
        for i, item in enumerate(items):
            arr = np.asarray(item)
            if arr.ndim != 3 or arr.shape[-1] != 4 or arr.shape[1] != self.n_points_:
                raise InputError(
                    f"X[{i}]: expected the output of BandSplit(band='both'), a clip of shape "
                    f"(T, {self.n_points_}, 4) ([low x, low y, high x, high y]), "
                    f"got shape {arr.shape}"
                )
            # the 4 channels hold 2 lip sequences: check them with the data contract
            low_high = check_clips(
                [arr[..., :2], arr[..., 2:]], n_points=self.n_points_, max_abs=None
            )
            out.append(low_high[0] + low_high[1])
        return _like_input(X, out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


def _check_fitted(estimator):
    if not hasattr(estimator, "n_points_"):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet; call 'fit' first"
        )


def _as_items(X):
    if isinstance(X, np.ndarray) and X.ndim == 4:
        return list(X)
    if isinstance(X, np.ndarray) and X.ndim == 3:
        raise InputError(
            f"X: got one array of shape {X.shape}; pass a collection: [clip] for one clip"
        )
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__") or len(X) == 0:
        raise InputError("X: expected a non-empty collection of clips")
    return list(X)


def _like_input(X, clips):
    """The output container of the input's kind: one 4-D array in, one array out; else a list."""
    if isinstance(X, np.ndarray) and X.ndim == 4:
        return np.stack(clips)
    return clips
