"""Pure-numpy signal helpers for lip sequences: band split, derivatives, spectra.

Everything works along time: axis 0 of a ``(T, K, 2)`` clip, or the given ``axis`` (axis 1
of an ``(n, T, K, 2)`` batch). The functions take one array; the estimators of the package
(:class:`lipanomaly.BandSplit`, :class:`lipanomaly.LipMotionFeatures`) apply them clip by
clip to validated collections.

The band split
--------------
:func:`lowpass` is a Butterworth low-pass in second-order sections (SOS) run forward and
backward (:func:`scipy.signal.sosfiltfilt`):

- *zero phase*: the forward-backward pass cancels the filter's phase, so the slow trajectory
  is not delayed against the input. A causal filter would shift it by a few frames ``d``, and
  the residual ``x - low`` would then carry the slow motion itself (``x(t) - x_slow(t - d)``
  is about ``d`` times the velocity): every jaw movement would leak into the detail, mixed
  with the closures the detail is meant to isolate.
- *second-order sections*: a cascade of biquads keeps the poles accurate at low normalised
  cut-offs (4 Hz at 25 fps is 0.32 of Nyquist), where the transfer-function (``b, a``) form of
  the same filter loses precision.

:func:`highpass` is ``x - lowpass(x)``, so ``lowpass(x) + highpass(x)`` reproduces ``x`` to
floating-point precision whatever the filter does at the clip's edges.

The default cut-off, :data:`DEFAULT_CUTOFF_HZ`, was chosen from the lip-motion spectrum of
the development clips (``docs/bandsplit.md``, ``docs/scripts/plot_spectrum.py``).
"""

import functools

import numpy as np
from scipy import signal as _sps

from ..exceptions import InputError
from ..io.landmarks import FACEMESH_LIPS
from ..limits import DEFAULT_FPS

__all__ = [
    "DEFAULT_CUTOFF_HZ",
    "FACEMESH_LIPS",
    "LIP_CORNERS",
    "LIP_INNER",
    "MIN_CUTOFF_FRACTION",
    "band_split",
    "check_cutoff",
    "derivative",
    "highpass",
    "lowpass",
    "mouth_opening",
    "mouth_width",
    "principal_motion",
    "spectral_flatness",
    "stft_magnitude",
    "stft_weights",
]

#: Default low-pass cut-off in Hz at the 25 fps analysis rate: below it the slow trajectory
#: (jaw, vowel-to-vowel transitions), above it the fast detail (closures, bursts). Chosen from
#: the development spectrum, see ``docs/bandsplit.md``.
DEFAULT_CUTOFF_HZ = 4.0

#: Positions in :data:`FACEMESH_LIPS` (not FaceMesh indices) of the inner-lip midpoints:
#: upper (FaceMesh 13) and lower (FaceMesh 14).
LIP_INNER = (FACEMESH_LIPS.index(13), FACEMESH_LIPS.index(14))

#: Positions in :data:`FACEMESH_LIPS` of the mouth corners: FaceMesh 61 and 291.
LIP_CORNERS = (FACEMESH_LIPS.index(61), FACEMESH_LIPS.index(291))


#: Lowest cut-off, as a fraction of the sampling rate. Below it the Butterworth design loses
#: its precision (the gain at 0 Hz is off by 1e-5 at ``fs * 1e-6``, the design fails with a
#: singular matrix at ``fs * 1e-9``); at 25 fps it is 0.0025 Hz, a period of 400 s, longer
#: than any clip.
MIN_CUTOFF_FRACTION = 1e-4


def check_cutoff(cutoff, fs):
    """Check a low-pass cut-off against its sampling rate; messages name the parameters.

    Parameters
    ----------
    cutoff : float
        In Hz: at least ``fs * MIN_CUTOFF_FRACTION``, below the Nyquist frequency ``fs / 2``.
    fs : float
        The sampling rate in Hz, positive.

    Returns
    -------
    cutoff, fs : float

    Raises
    ------
    InputError
        If either is out of range (or not finite).
    """
    fs = float(fs)
    cutoff = float(cutoff)
    if not np.isfinite(fs) or fs <= 0:
        raise InputError(f"fs must be a positive sampling rate in Hz, got {fs}")
    low = fs * MIN_CUTOFF_FRACTION
    if not (np.isfinite(cutoff) and low <= cutoff < fs / 2):
        raise InputError(
            f"cutoff must be in Hz from fs * MIN_CUTOFF_FRACTION = {low:g} "
            f"(lipanomaly.signal.filters) to below the Nyquist frequency fs/2 = {fs / 2:g}, "
            f"got cutoff={cutoff!r} with fs={fs!r}"
        )
    return cutoff, fs


def _sos(cutoff, fs, order):
    """Butterworth low-pass SOS, with the parameters checked (messages name them)."""
    cutoff, fs = check_cutoff(cutoff, fs)
    if int(order) != order or order < 1:
        raise InputError(f"order must be a positive integer, got {order!r}")
    return _butter(int(order), cutoff, fs).copy()  # scipy's filters want a writeable array


@functools.lru_cache(maxsize=32)
def _butter(order, cutoff, fs):
    # designing the filter costs more than filtering a clip with it: once per setting
    return _sps.butter(order, cutoff, btype="low", fs=fs, output="sos")


def _padlen(sos):
    """scipy's default ``sosfiltfilt`` padding: 3 * (2 * n_sections + 1) samples."""
    return 3 * (2 * len(sos) + 1)


def lowpass(x, *, cutoff=DEFAULT_CUTOFF_HZ, fs=DEFAULT_FPS, order=4, axis=0):
    """Zero-phase Butterworth low-pass of ``x`` along ``axis``.

    Parameters
    ----------
    x : array-like of shape (T, ...)
        Signal, time along ``axis`` (a ``(T, K, 2)`` clip with ``axis=0``). Must be finite.
    cutoff : float, default=DEFAULT_CUTOFF_HZ
        Cut-off frequency in Hz (-3 dB of each pass; the forward-backward filter is -6 dB there),
        from ``fs * MIN_CUTOFF_FRACTION`` to below ``fs / 2`` (:func:`check_cutoff`).
    fs : float, default=25.0
        Sampling rate of ``x`` in Hz (frames per second).
    order : int, default=4
        Butterworth order of one pass; the forward-backward filter has twice the roll-off.
    axis : int, default=0
        The time axis.

    Returns
    -------
    low : ndarray of the shape of ``x``, float64

    Raises
    ------
    InputError
        If ``x`` holds NaN or inf, has no frame, or a parameter is out of range.

    Notes
    -----
    The edges are handled as in :func:`scipy.signal.sosfiltfilt`: the signal is extended by
    odd reflection (``2 x[0] - x[k]``, which continues its slope) by
    ``3 * (2 * n_sections + 1)`` frames at each end (15 frames at order 4). A clip shorter
    than that padding is extended by *repeated* odd reflection (:func:`numpy.pad` with
    ``mode="reflect", reflect_type="odd"``), which is the same extension for longer clips
    (bit-identical to ``sosfiltfilt``'s default) and is defined for any length: a one-frame
    clip is its own low band, a two-frame clip is extended as a straight line. Short clips
    therefore never fail, but their low band rests mostly on the extension: read it as
    indicative only.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        raise InputError("x must have a time axis, got a scalar")
    axis = axis % x.ndim
    if x.shape[axis] == 0:
        raise InputError(f"x has no frame along axis {axis} (shape {x.shape})")
    if not np.isfinite(x).all():
        raise InputError(
            "x contains NaN or inf; the filter would spread them over the whole clip: "
            "interpolate or drop missing frames first (LipLandmarkExtractor does)"
        )
    sos = _sos(cutoff, fs, order)
    pad = _padlen(sos)
    widths = [(0, 0)] * x.ndim
    widths[axis] = (pad, pad)
    ext = np.pad(x, widths, mode="reflect", reflect_type="odd")
    low = _sps.sosfiltfilt(sos, ext, axis=axis, padlen=0)
    return np.ascontiguousarray(np.take(low, np.arange(pad, pad + x.shape[axis]), axis=axis))


def highpass(x, *, cutoff=DEFAULT_CUTOFF_HZ, fs=DEFAULT_FPS, order=4, axis=0):
    """The fast detail ``x - lowpass(x)``; ``lowpass(x) + highpass(x)`` reproduces ``x``.

    Parameters are those of :func:`lowpass`.

    Returns
    -------
    high : ndarray of the shape of ``x``, float64
    """
    x = np.asarray(x, dtype=np.float64)
    return x - lowpass(x, cutoff=cutoff, fs=fs, order=order, axis=axis)


def band_split(x, *, cutoff=DEFAULT_CUTOFF_HZ, fs=DEFAULT_FPS, order=4, axis=0):
    """Split ``x`` into its slow trajectory and its fast detail: ``low + high == x``.

    Parameters are those of :func:`lowpass`; ``x`` is one clip ``(T, K, 2)`` or any array
    with time along ``axis``.

    Returns
    -------
    low : ndarray of the shape of ``x``, float64
        :func:`lowpass` of ``x``.
    high : ndarray of the shape of ``x``, float64
        ``x - low``.

    Examples
    --------
    >>> import numpy as np
    >>> from lipanomaly.signal.filters import band_split
    >>> clip = np.random.default_rng(0).normal(size=(64, 40, 2))
    >>> low, high = band_split(clip, cutoff=3.0, fs=25.0)
    >>> bool(np.allclose(low + high, clip, rtol=0, atol=1e-12))
    True
    """
    x = np.asarray(x, dtype=np.float64)
    low = lowpass(x, cutoff=cutoff, fs=fs, order=order, axis=axis)
    return low, x - low


def derivative(x, order=1, axis=0, *, fs=None):
    """Temporal derivative of ``order`` 1 to 3 by repeated forward differences.

    ``order=1`` is the velocity, 2 the acceleration, 3 the jerk (which reacts to lip closures
    and bursts). Forward differences are exact for polynomials of degree ``order`` (the
    third difference of ``t**3`` is 6), need no padding and are what the PyTorch losses
    compute with ``torch.diff``.

    Parameters
    ----------
    x : array-like of shape (T, ...)
        Signal, time along ``axis``.
    order : {1, 2, 3}, default=1
        Order of the derivative.
    axis : int, default=0
        The time axis.
    fs : float or None, default=None
        Sampling rate in Hz. None gives differences per frame; a rate scales them to
        units per second**order (multiplies by ``fs**order``).

    Returns
    -------
    d : ndarray of shape (T - order, ...), float64
        One frame shorter per order along ``axis``; empty when ``T <= order``.

    Examples
    --------
    >>> import numpy as np
    >>> from lipanomaly.signal.filters import derivative
    >>> derivative(np.arange(6.0) ** 3, order=3)
    array([6., 6., 6.])
    """
    if order not in (1, 2, 3):
        raise InputError(f"order must be 1, 2 or 3, got {order!r}")
    x = np.asarray(x, dtype=np.float64)
    d = np.diff(x, n=order, axis=axis)
    if fs is not None:
        if not (np.isfinite(fs) and fs > 0):
            raise InputError(f"fs must be a positive sampling rate in Hz or None, got {fs}")
        d *= float(fs) ** order
    return d


def stft_weights(n_freq, top_weight=2.5):
    """Frequency weights of the STFT loss: 1, and ``top_weight`` on the top third of the bins.

    The top third is the last ``ceil(n_freq / 3)`` bins (bins ``(2 * n_freq) // 3`` on):
    bins 6, 7, 8 of 9 for ``n_fft=16``, 9.4 to 12.5 Hz at 25 fps, where consonant closures
    and bursts live. The network's STFT loss
    (:func:`lipanomaly.nn.losses.stft_loss`) uses these weights.

    Parameters
    ----------
    n_freq : int
        Number of frequency bins (``n_fft // 2 + 1`` for a one-sided STFT).
    top_weight : float, default=2.5
        Weight ``k`` of the top third (the specification uses 2 to 3; training uses 2.5).

    Returns
    -------
    weights : ndarray of shape (n_freq,), float64

    Examples
    --------
    >>> from lipanomaly.signal.filters import stft_weights
    >>> stft_weights(9, top_weight=3.0)
    array([1., 1., 1., 1., 1., 1., 3., 3., 3.])
    """
    if int(n_freq) != n_freq or n_freq < 1:
        raise InputError(f"n_freq must be a positive integer, got {n_freq!r}")
    if not (np.isfinite(top_weight) and top_weight >= 0):
        raise InputError(f"top_weight must be a non-negative number, got {top_weight!r}")
    weights = np.ones(int(n_freq), dtype=np.float64)
    weights[(2 * int(n_freq)) // 3 :] = float(top_weight)
    return weights


def stft_magnitude(x, *, n_fft=16, hop=4, axis=0, top_weight=2.5):
    """Magnitude of the short-time Fourier transform along time, and the loss's bin weights.

    Frames of ``n_fft`` samples every ``hop`` samples, a periodic Hann window, no centring
    padding: the same numbers as ``torch.stft(x, n_fft, hop, window=torch.hann_window(n_fft),
    center=False, return_complex=True).abs()``. A signal shorter than ``n_fft`` is
    zero-padded at its end to one frame.

    Parameters
    ----------
    x : array-like of shape (T, ...)
        Signal, time along ``axis``.
    n_fft : int, default=16
        Frame length in samples (0.64 s at 25 fps; bins are ``fs / n_fft`` = 1.56 Hz apart).
    hop : int, default=4
        Hop between frames in samples.
    axis : int, default=0
        The time axis.
    top_weight : float, default=2.5
        Weight of the top third of the frequency bins (see :func:`stft_weights`).

    Returns
    -------
    magnitude : ndarray of shape (n_frames, n_fft // 2 + 1, ...), float64
        ``|STFT|``: time frames first, then frequency bins (0 to Nyquist), then the other axes
        of ``x`` in their order. ``n_frames = 1 + (T - n_fft) // hop`` (1 when ``T < n_fft``).
    weights : ndarray of shape (n_fft // 2 + 1,), float64
        Per-bin weights (:func:`stft_weights`). The network's loss
        (:func:`lipanomaly.nn.losses.stft_loss`) weights the squared modulus of the
        *complex* spectrum of the error, ``mean(weights * |STFT(a) - STFT(b)|**2)``, not a
        difference of magnitudes.
    """
    if int(n_fft) != n_fft or n_fft < 2:
        raise InputError(f"n_fft must be an integer >= 2, got {n_fft!r}")
    if int(hop) != hop or hop < 1:
        raise InputError(f"hop must be a positive integer, got {hop!r}")
    n_fft, hop = int(n_fft), int(hop)
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    if x.shape[0] < n_fft:
        x = np.concatenate([x, np.zeros((n_fft - x.shape[0], *x.shape[1:]))], axis=0)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft, axis=0)[::hop]
    # frames: (n_frames, ..., n_fft); window and transform the last axis
    window = _sps.get_window("hann", n_fft, fftbins=True)
    spec = np.abs(np.fft.rfft(frames * window, axis=-1))
    magnitude = np.moveaxis(spec, -1, 1)
    return np.ascontiguousarray(magnitude), stft_weights(magnitude.shape[1], top_weight)


def spectral_flatness(x, *, axis=0, nperseg=None, eps=1e-12):
    """Spectral flatness (Wiener entropy) of ``x`` along time: a measure of complexity.

    The ratio of the geometric to the arithmetic mean of the Welch power spectrum, the
    constant (DC) bin left out:

    .. math:: F = \\exp\\Big(\\frac{1}{N}\\sum_f \\ln P_f\\Big) \\Big/ \\frac{1}{N}\\sum_f P_f

    It is 1 for a perfectly flat spectrum (white noise comes close), near 0 for a pure tone.

    Parameters
    ----------
    x : array-like of shape (T, ...)
        Signal, time along ``axis``.
    axis : int, default=0
        The time axis.
    nperseg : int or None, default=None
        Welch segment length; None uses ``min(T, 32)``.
    eps : float, default=1e-12
        Floor added to every bin before the logarithm, relative to the mean power (so that the
        flatness does not depend on the units of ``x``).

    Returns
    -------
    flatness : float or ndarray of the shape of ``x`` without ``axis``, float64
        In ``[0, 1]``. A signal without variation (no power off DC) gets 0: no motion is the
        least complex motion.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    if n < 2:
        raise InputError(f"spectral flatness needs at least 2 samples along axis {axis}, got {n}")
    nperseg = min(n, 32) if nperseg is None else int(nperseg)
    _, psd = _sps.welch(x, nperseg=min(nperseg, n), axis=axis, detrend="constant")
    psd = np.moveaxis(psd, axis, -1)[..., 1:]
    arith = psd.mean(axis=-1)
    # no variation beyond round-off of the signal's own scale: no motion
    silent = arith <= (1e-9 * np.max(np.abs(x))) ** 2
    arith_safe = np.where(silent, 1.0, arith)
    geo = np.exp(np.log(psd + eps * arith_safe[..., None]).mean(axis=-1))
    flat = np.where(silent, 0.0, geo / arith_safe)
    flat = np.clip(flat, 0.0, 1.0)
    return float(flat) if flat.ndim == 0 else flat


def principal_motion(x):
    """Lip motion projected on its own first principal axis: one signal per clip or window.

    The motion is centred over time; its principal axis is the leading eigenvector of its
    ``(F, F)`` scatter matrix (the first right-singular vector of the centred motion, far
    cheaper than an SVD for long clips), with its sign fixed so that its largest entry is
    positive.

    Parameters
    ----------
    x : array-like of shape (T, F) or (N, T, F)
        One motion (``T`` frames, ``F`` coordinates, e.g. ``2 K``) or a batch of windows.

    Returns
    -------
    signal : ndarray of shape (T,) or (N, T), float64
        The centred motion's coordinate along its principal axis, frame by frame.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 1, 50)
    >>> motion = np.outer(np.sin(6 * t), [0.6, 0.8])  # rank one: (T, 2)
    >>> bool(np.allclose(principal_motion(motion), np.sin(6 * t) - np.sin(6 * t).mean()))
    True
    """
    from threadpoolctl import threadpool_limits

    x = np.asarray(x, dtype=np.float64)
    xc = x - x.mean(axis=-2, keepdims=True)
    # many small matrices: a multi-threaded BLAS only adds overhead (tenfold on a busy machine)
    with threadpool_limits(1, user_api="blas"):
        _, vecs = np.linalg.eigh(np.swapaxes(xc, -1, -2) @ xc)
        axis = vecs[..., -1]  # (..., F): the eigenvector of the largest eigenvalue
        biggest = np.take_along_axis(axis, np.argmax(np.abs(axis), axis=-1)[..., None], -1)
        axis = np.where(biggest >= 0, axis, -axis)
        return (xc @ axis[..., None])[..., 0]


def _points(x, pair, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2 or x.shape[-1] != 2:
        raise InputError(f"x must have shape (..., K, 2) (lip points, x/y), got {x.shape}")
    i, j = pair
    k = x.shape[-2]
    if not (-k <= i < k and -k <= j < k):
        raise InputError(
            f"{name}={pair} are not valid point positions for K={k} lip points; they index "
            "the K axis of the lip sequence (positions in FACEMESH_LIPS by default)"
        )
    return np.linalg.norm(x[..., i, :] - x[..., j, :], axis=-1)


def mouth_opening(x, *, inner=LIP_INNER):
    """Mouth opening per frame: the distance between the inner-lip midpoints.

    Parameters
    ----------
    x : array-like of shape (T, K, 2) or (..., K, 2)
        Lip sequence(s); the last two axes are points and x/y.
    inner : tuple of 2 int, default=LIP_INNER
        Positions on the ``K`` axis of the upper and lower inner-lip midpoints; the default
        is FaceMesh 13 and 14 in the 40-point :data:`FACEMESH_LIPS` layout (positions 1, 2).

    Returns
    -------
    opening : ndarray of shape (T,) or x.shape[:-2], float64
        In the units of ``x`` (head-normalised units for a lip sequence).
    """
    return _points(x, inner, "inner")


def mouth_width(x, *, corners=LIP_CORNERS):
    """Mouth width per frame: the distance between the mouth corners.

    Parameters
    ----------
    x : array-like of shape (T, K, 2) or (..., K, 2)
        Lip sequence(s).
    corners : tuple of 2 int, default=LIP_CORNERS
        Positions on the ``K`` axis of the corners; default FaceMesh 61 and 291
        (positions 7 and 25 of :data:`FACEMESH_LIPS`).

    Returns
    -------
    width : ndarray of shape (T,) or x.shape[:-2], float64
    """
    return _points(x, corners, "corners")
