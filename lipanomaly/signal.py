"""Pure-numpy signal helpers for lip sequences: band split, derivatives, spectra.

Everything filters along time (axis 0 of a ``(T, K, 2)`` clip, or the given ``axis``).
"""

import numpy as np
from scipy import signal as _sps

__all__ = ["DEFAULT_CUTOFF_HZ", "highpass", "lowpass"]

#: Default low-pass cut-off in Hz at the 25 fps analysis rate (provisional; see docs).
DEFAULT_CUTOFF_HZ = 4.0


def lowpass(x, *, cutoff=DEFAULT_CUTOFF_HZ, fs=25.0, order=4, axis=0):
    """Zero-phase Butterworth low-pass of ``x`` along ``axis`` (float64)."""
    x = np.asarray(x, dtype=np.float64)
    sos = _sps.butter(order, cutoff, btype="low", fs=fs, output="sos")
    padlen = min(3 * (2 * len(sos) + 1), x.shape[axis] - 1)
    return _sps.sosfiltfilt(sos, x, axis=axis, padlen=max(padlen, 0))


def highpass(x, *, cutoff=DEFAULT_CUTOFF_HZ, fs=25.0, order=4, axis=0):
    """``x - lowpass(x)``: the fast detail; low + high reproduces ``x`` exactly."""
    x = np.asarray(x, dtype=np.float64)
    return x - lowpass(x, cutoff=cutoff, fs=fs, order=order, axis=axis)
