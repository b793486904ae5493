"""Cut clips into fixed-length windows and gather window results back per clip.

Pure numpy; shared by the detector, the baselines and the training code.
"""

import numpy as np

from ..exceptions import InputError

__all__ = ["aggregate", "make_windows", "window_batches"]


def make_windows(clips, *, length=64, stride=16, min_length=None):
    """Cut each clip into windows of ``length`` frames every ``stride`` frames.

    The last window of a clip is aligned to its end, so that every frame is covered.
    A clip shorter than ``length`` but at least ``min_length`` frames long is padded to
    ``length`` by mirroring it in time (``numpy.pad(mode="symmetric")``), which keeps its
    motion statistics (no frozen frames, no jumps); a shorter clip is an error.

    Parameters
    ----------
    clips : list of ndarray of shape (T_i, K, 2)
        Validated clips (see :func:`lipanomaly._validation.check_clips`).
    length : int, default=64
        Window length in frames.
    stride : int, default=16
        Hop between window starts in frames.
    min_length : int or None, default=None
        Shortest clip accepted; None means ``length // 2``.

    Returns
    -------
    windows : ndarray of shape (n_windows, length, K, 2)
    clip_index : ndarray of shape (n_windows,)
        Index of the clip each window comes from.
    starts : ndarray of shape (n_windows,)
        First frame of each window in its clip (0 for padded clips).
    """
    if min_length is None:
        min_length = length // 2
    windows, clip_index, starts = [], [], []
    for i, clip in enumerate(clips):
        n = clip.shape[0]
        if n < min_length:
            raise InputError(
                f"X[{i}]: {n} frames is shorter than the {min_length} frames needed "
                f"(window length {length}); give longer clips or a smaller window"
            )
        if n < length:
            reps = [(0, length - n)] + [(0, 0)] * (clip.ndim - 1)
            windows.append(np.pad(clip, reps, mode="symmetric"))
            clip_index.append(i)
            starts.append(0)
            continue
        first = list(range(0, n - length + 1, stride))
        if first[-1] != n - length:
            first.append(n - length)
        for s in first:
            windows.append(clip[s : s + length])
            clip_index.append(i)
            starts.append(s)
    return np.stack(windows), np.asarray(clip_index), np.asarray(starts)


def window_batches(clips, *, length=64, stride=16, max_windows=256):
    """Consecutive groups of clips holding about ``max_windows`` windows each.

    What a network transformer computes at once: the memory of a batch stays bounded
    whatever the number of clips.

    Parameters
    ----------
    clips : list of ndarray of shape (T_i, ...)
    length, stride : int
        As in :func:`make_windows`.
    max_windows : int, default=256

    Yields
    ------
    batch : range
        Indices of consecutive clips; every clip is in exactly one batch.
    """
    start, count = 0, 0
    for i, c in enumerate(clips):
        n = c.shape[0]
        count += 1 if n <= length else -(-(n - length) // stride) + 1
        if count >= max_windows:
            yield range(start, i + 1)
            start, count = i + 1, 0
    if start < len(clips):
        yield range(start, len(clips))


def aggregate(values, clip_index, n_clips, *, how="mean"):
    """Aggregate per-window ``values`` into one value per clip.

    Parameters
    ----------
    values : ndarray of shape (n_windows,) or (n_windows, n_components)
    clip_index : ndarray of shape (n_windows,)
    n_clips : int
    how : {"mean", "median", "max", "min"}, default="mean"

    Returns
    -------
    per_clip : ndarray of shape (n_clips,) or (n_clips, n_components), float64
    """
    funcs = {"mean": np.mean, "median": np.median, "max": np.max, "min": np.min}
    if how not in funcs:
        raise InputError(f"aggregation must be one of {sorted(funcs)}, got {how!r}")
    values = np.asarray(values, dtype=np.float64)
    out = np.empty((n_clips, *values.shape[1:]), dtype=np.float64)
    for i in range(n_clips):
        out[i] = funcs[how](values[clip_index == i], axis=0)
    return out
