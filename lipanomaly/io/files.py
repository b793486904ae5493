"""Files the package writes: atomic publishing, clean-up of what crashed writers left, hashes."""

import contextlib
import hashlib
import os
import time
import uuid

from ..limits import CACHE_TEMP_MAX_AGE_S

__all__ = ["clean_temporaries", "file_sha256", "publish_file"]


def publish_file(path, write):
    """Atomically create or replace ``path``: ``write(fh)`` into a unique temporary file of
    the same folder, then rename it over ``path``.

    A reader sees the old file or the complete new one; concurrent writers never share a
    temporary file (created exclusively); the temporary file is removed if anything fails.
    A symbolic link at ``path`` is replaced, never written through. Files are created with
    the user's umask (as ``open`` does).

    Parameters
    ----------
    path : str or path-like
    write : callable
        ``write(fh)`` writes the content into the binary file object ``fh``.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def clean_temporaries(folder, pattern, max_age=None):
    """Remove the temporary files of :func:`publish_file` that crashed writers left in ``folder``.

    Parameters
    ----------
    folder : str or path-like
    pattern : re.Pattern
        Only files whose name matches it fully are removed: the package's own temporaries
        (:data:`lipanomaly.io.tracks.TRACK_TEMPORARY`, the extractor cache's).
    max_age : float or None, default=None
        Only files older than this many seconds;
        None is :data:`~lipanomaly.limits.CACHE_TEMP_MAX_AGE_S`.

    Returns
    -------
    removed : int
        How many were removed; never fails.
    """
    limit = time.time() - (CACHE_TEMP_MAX_AGE_S if max_age is None else max_age)
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for e in entries:
        if not pattern.fullmatch(e.name):  # only the package's own temporaries
            continue
        try:
            if e.is_file(follow_symlinks=False) and e.stat(follow_symlinks=False).st_mtime < limit:
                os.unlink(e.path)
                removed += 1
        except OSError:  # removed by another process meanwhile, or not ours to remove
            continue
    return removed


def file_sha256(path):
    """The SHA-256 of a file's content, as hex digits (read in 1 MiB blocks).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    digest : str
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
