"""Augmentations of lip windows for training (SPEC section 4) and for the detector's ΔE.

Pure numpy. Every function takes windows of shape ``(N, L, ...)`` (time on axis 1; the
trailing axes are features, e.g. ``(N, L, F)`` or ``(N, L, K, 2)``) and a
:class:`numpy.random.Generator`, and returns new windows of the same shape and dtype: the
length ``L`` never changes, so augmented windows go through the same network.

- :func:`time_jitter`: ±``max_shift``-frame smooth time warps, then 5 to 10 % of the frames
  dropped and re-filled by linear interpolation from their kept neighbours;
- :func:`speed`: play the window 0.95 to 1.05 times as fast about its centre;
- :func:`spatial_noise`: weak Gaussian noise on every coordinate;
- :func:`augment`: all of them, in that order: speed, jitter, noise;
- :func:`jitter_probe`: the seeded micro time-jitter of the detector's ΔE, one fixed draw
  per window position.

The same ``rng`` state gives the same output, so a seeded generator makes training and the
detector's ΔE deterministic.
"""

import numpy as np

from ..exceptions import InputError

__all__ = ["augment", "jitter_probe", "spatial_noise", "speed", "time_jitter"]


def _check_windows(windows):
    arr = np.asarray(windows)
    if arr.ndim < 2 or arr.dtype.kind != "f":
        raise InputError(
            "windows must be a float array of shape (N, L, ...) with time on axis 1, "
            f"got dtype {arr.dtype} and shape {arr.shape}"
        )
    if arr.shape[1] < 3:
        raise InputError(f"windows must have at least 3 frames, got L={arr.shape[1]}")
    return arr


def _lerp(windows, lo, hi, w):
    """``windows[lo] * (1 - w) + windows[hi] * w`` per window; lo, hi, w of shape (N, L)."""
    n, length = windows.shape[:2]
    w = w.reshape(n, length, *([1] * (windows.ndim - 2)))
    rows = np.arange(n)[:, None]
    out = windows[rows, lo] * (1.0 - w) + windows[rows, hi] * w
    return out.astype(windows.dtype, copy=False)


def _sample(windows, pos):
    """Linear interpolation of ``windows`` (N, L, ...) at fractional times ``pos`` (N, L)."""
    length = windows.shape[1]
    pos = np.clip(pos, 0.0, length - 1.0)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, length - 1)
    return _lerp(windows, lo, hi, pos - lo)


def time_jitter(windows, rng, *, max_shift=1, drop_rate=(0.05, 0.10), n_knots=4):
    """Warp time by up to ±``max_shift`` frames and drop a fraction of the frames.

    The warp is a smooth random displacement of the time axis: ``n_knots`` knots spread
    over the window get a displacement drawn uniformly in ``[-max_shift, max_shift]`` frames,
    interpolated linearly in between, and each frame is read at its displaced time (linear
    interpolation; the first and last frames are clamped to the window). Then
    ``round(rate * L)`` interior frames (``rate`` uniform in ``drop_rate``, per window) are
    dropped and re-filled by linear interpolation between their nearest kept neighbours, as
    a tracker or a generator that skips frames would leave them.

    Parameters
    ----------
    windows : ndarray of shape (N, L, ...)
        Float windows, time on axis 1.
    rng : numpy.random.Generator
        Source of randomness.
    max_shift : float, default=1
        Largest time displacement in frames.
    drop_rate : (float, float), default=(0.05, 0.10)
        Range of the fraction of frames dropped per window.
    n_knots : int, default=4
        Knots of the piecewise-linear warp.

    Returns
    -------
    jittered : ndarray of shape (N, L, ...)
        Same dtype as ``windows``.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.tile(np.arange(64.0), (2, 1))[..., None]       # (2, 64, 1), a ramp
    >>> out = time_jitter(w, np.random.default_rng(0))
    >>> out.shape, bool(np.abs(out - w).max() <= 1.0)
    ((2, 64, 1), True)
    """
    windows = _check_windows(windows)
    n, length = windows.shape[:2]
    t = np.arange(length, dtype=np.float64)
    knots = np.linspace(0.0, length - 1.0, n_knots)
    shifts = rng.uniform(-max_shift, max_shift, size=(n, n_knots))
    pos = t + np.stack([np.interp(t, knots, s) for s in shifts])
    warped = _sample(windows, pos)

    # Frame drops: replace dropped frames by interpolation between kept neighbours.
    rates = rng.uniform(drop_rate[0], drop_rate[1], size=n)
    frames = np.arange(length)
    lo = np.empty((n, length), dtype=np.intp)
    hi = np.empty((n, length), dtype=np.intp)
    for i in range(n):
        n_drop = min(round(rates[i] * length), length - 2)
        kept = np.ones(length, dtype=bool)
        # never the first or last frame, so every dropped frame has two kept neighbours
        kept[1 + rng.choice(length - 2, size=n_drop, replace=False)] = False
        lo[i] = np.maximum.accumulate(np.where(kept, frames, 0))
        hi[i] = np.minimum.accumulate(np.where(kept, frames, length - 1)[::-1])[::-1]
    span = np.maximum(hi - lo, 1)
    return _lerp(warped, lo, hi, (frames - lo) / span)


def speed(windows, rng, *, low=0.95, high=1.05):
    """Play each window ``s`` times as fast, ``s`` uniform in ``[low, high]``, about its centre.

    Frame ``t`` of the output reads the input at ``c + (t - c) * s`` with ``c`` the centre
    frame (linear interpolation). For ``s > 1`` the few frames that would be read beyond the
    ends (at most ``(s - 1) * L / 2``, under 2 frames at the defaults) repeat the end frame.

    Parameters
    ----------
    windows : ndarray of shape (N, L, ...)
    rng : numpy.random.Generator
    low, high : float, default=0.95, 1.05
        Range of the speed factor.

    Returns
    -------
    faster_or_slower : ndarray of shape (N, L, ...)
    """
    windows = _check_windows(windows)
    n, length = windows.shape[:2]
    factor = rng.uniform(low, high, size=(n, 1))
    centre = (length - 1) / 2.0
    pos = centre + (np.arange(length, dtype=np.float64)[None] - centre) * factor
    return _sample(windows, pos)


def spatial_noise(windows, rng, *, scale=0.02):
    """Add Gaussian noise of standard deviation ``scale`` to every coordinate.

    Parameters
    ----------
    windows : ndarray of shape (N, L, ...)
        In the units the network sees (standardised features: ``scale`` is then a fraction of
        each feature's standard deviation).
    rng : numpy.random.Generator
    scale : float, default=0.02

    Returns
    -------
    noisy : ndarray of shape (N, L, ...)
    """
    windows = _check_windows(windows)
    noise = rng.standard_normal(windows.shape) * scale
    return (windows + noise).astype(windows.dtype, copy=False)


def augment(
    windows,
    rng,
    *,
    max_shift=1,
    drop_rate=(0.05, 0.10),
    speed_range=(0.95, 1.05),
    noise_scale=0.02,
):
    """Apply every training augmentation of SPEC section 4: speed, time jitter, noise.

    Parameters
    ----------
    windows : ndarray of shape (N, L, ...)
    rng : numpy.random.Generator
    max_shift : float, default=1
        See :func:`time_jitter`.
    drop_rate : (float, float), default=(0.05, 0.10)
        See :func:`time_jitter`.
    speed_range : (float, float), default=(0.95, 1.05)
        See :func:`speed`.
    noise_scale : float, default=0.02
        See :func:`spatial_noise`; 0 turns the noise off.

    Returns
    -------
    augmented : ndarray of shape (N, L, ...)
    """
    out = speed(windows, rng, low=speed_range[0], high=speed_range[1])
    out = time_jitter(out, rng, max_shift=max_shift, drop_rate=drop_rate)
    if noise_scale > 0:
        out = spatial_noise(out, rng, scale=noise_scale)
    return out


def jitter_probe(windows, draw, seed, *, max_shift=1.0, drop_rate=(0.05, 0.10)):
    """The ΔE probe: windows time-jittered by seeded draws, the same whatever the batch.

    Draw ``d`` is one :func:`time_jitter` drawn from ``numpy.random.default_rng([seed, d])``
    and applied alike to every window that gets it (the windows are stacked on the feature
    axis), so a window's probe depends only on its draw, never on the other windows, their
    order or the input's float precision.

    Parameters
    ----------
    windows : ndarray of shape (N, L, F)
    draw : array-like of int of shape (N,)
        The draw each window gets (the detector gives window ``k`` of a clip draw
        ``k mod n_draws``).
    seed : int
    max_shift, drop_rate
        As in :func:`time_jitter`.

    Returns
    -------
    jittered : ndarray of shape (N, L, F)
        Same dtype as ``windows``.
    """
    windows = _check_windows(windows)
    draw = np.asarray(draw)
    jittered = np.empty_like(windows)
    for d in np.unique(draw):
        idx = np.flatnonzero(draw == d)
        rng = np.random.default_rng([seed, int(d)])
        stacked = time_jitter(
            np.ascontiguousarray(windows[idx].transpose(1, 0, 2))[None],
            rng,
            max_shift=max_shift,
            drop_rate=tuple(drop_rate),
        )[0]
        jittered[idx] = stacked.transpose(1, 0, 2)
    return jittered
