"""The on-disk cache of :class:`lipanomaly.LipLandmarkExtractor` (``cache_dir``).

A video's FaceMesh track is stored under :func:`cache_key` (the video's content hash and the
landmark settings) as a track file that also holds its key: an entry is used only when it
is a readable track file of that key; anything else at its path is a miss, recomputed and
replaced. Entries are published atomically; temporaries that crashed writers left are
removed after :data:`~lipanomaly.limits.CACHE_TEMP_MAX_AGE_S`. What goes wrong with the
cache is never fatal (it is only a shortcut): it comes back as notes, which the extractor
turns into :class:`~lipanomaly.io.extraction.CacheWarning` s.
"""

import hashlib
import json
import os
import re

import numpy as np

from ..exceptions import InputError
from .files import clean_temporaries, file_sha256, publish_file
from .tracks import Track, read_track, track_arrays

__all__ = ["cache_key", "cached_video_track"]

# bump when the layout of cache entries changes (2: entries hold their key)
_CACHE_VERSION = 2


def cache_key(path):
    """The cache file name of a video: content hash and landmark settings.

    Parameters
    ----------
    path : str or path-like
        A video file.

    Returns
    -------
    key : str
        ``"<sha256 of the file>-<hash of the settings>.npz"``; the settings are those of
        :func:`lipanomaly.io.video.facemesh_fingerprint` and the cache format version. An
        entry stores its key (``cache_key``) and is used only when it matches.
    """
    from .video import facemesh_fingerprint

    settings = {"cache_version": _CACHE_VERSION, **facemesh_fingerprint()}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
    return f"{file_sha256(path)}-{digest[:16]}.npz"


# a temporary file of publish_file for a cache entry: ".<entry name>.<32 hex digits>.tmp"
_CACHE_TEMP = re.compile(r"\.[0-9a-f]{64}-[0-9a-f]{16}\.npz\.[0-9a-f]{32}\.tmp")


def _read_cache_entry(entry, key, video):
    """The track of a cache entry, or None (a miss) with the reason.

    An entry is used only when it is a readable track file that holds its own key: a
    damaged entry, a directory or other junk at its path, or an entry of another video
    (swapped or copied in) is a miss, recomputed and replaced.
    """
    if not os.path.lexists(entry):
        return None, None
    if not os.path.isfile(entry):
        return None, f"cache entry {entry} is not a file; recomputed"
    try:
        t = read_track(entry, extra_keys=("cache_key",))
    except InputError as exc:
        return None, f"damaged cache entry recomputed ({exc})"
    stored = t.extra.get("cache_key")
    if stored != key:
        return None, (
            f"cache entry {entry} belongs to another video (its key is {stored!r}); recomputed"
        )
    return Track(t.landmarks, fps=t.fps, width=t.width, height=t.height, path=video), None


def _write_cache_entry(entry, key, track):
    """Publish ``track`` as the cache entry ``entry`` (atomically), holding its key."""
    arrays = {**track_arrays(track), "cache_key": np.str_(key)}
    publish_file(entry, lambda fh: np.savez_compressed(fh, **arrays))


def _clean_cache_temporaries(cache_dir, max_age=None):
    """Remove temporary files that crashed writers left in the cache (older than
    :data:`~lipanomaly.limits.CACHE_TEMP_MAX_AGE_S`). Returns how many were removed."""
    return clean_temporaries(cache_dir, _CACHE_TEMP, max_age)


def cached_video_track(path, cache_dir, progress, notes):
    """A video's FaceMesh track through the cache; what went wrong with the cache (never
    fatal: the cache is only a shortcut) is appended to ``notes``."""
    from .video import read_video_track

    if not os.path.isfile(path):
        raise InputError(f"{path}: no such video file")
    key = cache_key(path)
    entry = os.path.join(cache_dir, key)
    track, problem = _read_cache_entry(entry, key, path)
    if track is not None:
        return track
    if problem:
        notes.append(f"{path}: {problem}")
    track = read_video_track(path, progress=progress)
    try:
        os.makedirs(cache_dir, exist_ok=True)  # mode 0o777 minus the umask
        _clean_cache_temporaries(cache_dir)
        _write_cache_entry(entry, key, track)
    except OSError as exc:
        notes.append(f"{path}: cache entry {entry} not written ({type(exc).__name__}: {exc})")
    return track
