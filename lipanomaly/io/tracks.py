"""FaceMesh track files: the format, reading it safely, writing it atomically.

A *track file* is an ``.npz`` holding one video's MediaPipe FaceMesh landmarks (the format of
the development data; see ``docs/data.md``):

============ ======================== =====================================================
key          shape / type             meaning
============ ======================== =====================================================
landmarks    (T, 478, 2) float        FaceMesh x, y per frame in [0, 1] (x by the frame
                                      width, y by its height); a NaN row where no face
fps          float                    the video's frame rate
width        int                      frame width in pixels
height       int                      frame height in pixels
label        str, optional            ``"real"`` or ``"fake"``
source       str, optional            where the clip comes from
generator    str, optional            for fakes, the generator family
origin       str, optional            provenance
============ ======================== =====================================================

Unknown keys are never read (only their names are listed). A track file is data, never
code: every array is read with :mod:`numpy.lib.format`'s header parser, its declared dtype
and shape are checked against the key (no object or pickled arrays, at most
:data:`~lipanomaly.limits.MAX_FRAMES` frames, ...) and against the size stored in the
archive *before* its data is read, so that a small file cannot make the reader allocate
much (see ``docs/guide/security.md`` and :mod:`lipanomaly.limits`). Files are published
atomically (:func:`lipanomaly.io.files.publish_file`): :func:`write_track` writes a uniquely
named temporary file in the destination folder and renames it, so a reader sees the old file
or the new one, never half of one.
"""

import math
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..exceptions import InputError
from ..limits import (
    COORD_RANGE,
    MAX_COMPRESSION_RATIO,
    MAX_FPS,
    MAX_FRAME_SIZE,
    MAX_FRAMES,
    MAX_TEXT_CHARS,
    MIN_FPS,
    RATIO_FREE_BYTES,
)
from .files import clean_temporaries, publish_file

__all__ = [
    "FACEMESH_N_POINTS",
    "TRACK_TEMPORARY",
    "Track",
    "read_packed_track",
    "read_track",
    "track_arrays",
    "write_track",
]

FACEMESH_N_POINTS = 478
_REQUIRED = ("landmarks", "fps", "width", "height")
_TEXT_KEYS = ("label", "source", "generator", "origin")
# optional arrays that are read into Track.extra (the reference extractions' lip indices)
_EXTRA_KEYS = ("lips_idx",)


@dataclass(frozen=True, eq=False)
class Track:
    """One video's FaceMesh landmarks with what is needed to interpret them.

    Every track is checked on creation, whether read from a file or built in memory: a
    track outside the limits of :mod:`lipanomaly.limits` is refused with an
    :class:`~lipanomaly.exceptions.InputError` that names it.

    Parameters
    ----------
    landmarks : ndarray of shape (T, 478, 2) or (T, 478, 3)
        FaceMesh points per frame, normalised by frame width (x) and height (y), MediaPipe's
        convention; a row of NaN where no face was found. At most
        :data:`~lipanomaly.limits.MAX_FRAMES` frames; x and y within
        :data:`~lipanomaly.limits.COORD_RANGE` (points slightly outside the frame are
        normal), no inf. Landmarks in pixels are refused, not guessed: the message says
        to divide x by ``width`` and y by ``height``.
    fps : float
        Frame rate of the video, from :data:`~lipanomaly.limits.MIN_FPS` to
        :data:`~lipanomaly.limits.MAX_FPS`.
    width, height : int
        Frame size in pixels, at most :data:`~lipanomaly.limits.MAX_FRAME_SIZE`.
    path : str or None
        Where the track came from (used in messages).
    label, source, generator, origin : str or None
        Optional metadata of the development set.
    extra : dict
        Other known optional arrays of a track file: ``lips_idx`` (the reference
        extractions' lip indices) when present. Unknown keys are not read.
    """

    landmarks: np.ndarray
    fps: float
    width: int
    height: int
    path: str | None = None
    label: str | None = None
    source: str | None = None
    generator: str | None = None
    origin: str | None = None
    extra: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        name = self.path or "track"
        lm = np.asarray(self.landmarks)
        if lm.dtype.kind not in "biuf":
            raise InputError(f"{name}: 'landmarks' must be numeric, got dtype {lm.dtype}")
        if lm.ndim != 3 or lm.shape[1] != FACEMESH_N_POINTS or lm.shape[2] not in (2, 3):
            raise InputError(
                f"{name}: 'landmarks' must have shape (T, {FACEMESH_N_POINTS}, 2) or "
                f"(T, {FACEMESH_N_POINTS}, 3) (FaceMesh points per frame), got {lm.shape}"
            )
        if lm.shape[0] > MAX_FRAMES:
            raise InputError(
                f"{name}: {lm.shape[0]} frames, more than the {MAX_FRAMES} a track may hold "
                "(lipanomaly.limits.MAX_FRAMES); split the video"
            )
        lm = _numeric(lm, "landmarks", name)  # checked before this copy
        object.__setattr__(self, "landmarks", lm)
        fps = float(_scalar(self.fps, "fps", name))
        if not np.isfinite(fps) or fps <= 0:
            raise InputError(f"{name}: 'fps' must be a positive frame rate, got {fps}")
        if not MIN_FPS <= fps <= MAX_FPS:
            raise InputError(
                f"{name}: 'fps' is {fps:g}, outside the plausible frame rates {MIN_FPS:g} to "
                f"{MAX_FPS:g} (lipanomaly.limits.MIN_FPS, MAX_FPS)"
            )
        object.__setattr__(self, "fps", fps)
        for key in ("width", "height"):
            value = _scalar(getattr(self, key), key, name)
            if not np.isfinite(value) or value <= 0 or value != int(value):
                raise InputError(f"{name}: {key!r} must be a positive pixel count, got {value}")
            if value > MAX_FRAME_SIZE:
                raise InputError(
                    f"{name}: {key!r} is {int(value)} pixels, more than "
                    f"{MAX_FRAME_SIZE} (lipanomaly.limits.MAX_FRAME_SIZE)"
                )
            object.__setattr__(self, key, int(value))
        _check_coordinates(lm, self.width, self.height, name)

    @property
    def n_frames(self):
        """Number of video frames."""
        return self.landmarks.shape[0]

    @property
    def face_found(self):
        """Boolean array of shape (T,): whether FaceMesh found a face in each frame."""
        return np.isfinite(self.landmarks).all(axis=(1, 2))

    @property
    def name(self):
        """A short name for messages and tables: the file name, or ``"track"``."""
        return Path(self.path).name if self.path else "track"


def _check_coordinates(lm, width, height, name):
    """Refuse inf and x, y outside :data:`COORD_RANGE`; say so when they look like pixels."""
    if lm.shape[0] == 0:
        return
    # fmin / fmax skip NaN (missing faces) and allocate nothing; all-NaN gives NaN
    x_min, x_max = (
        float(np.fmin.reduce(lm[..., 0], axis=None)),
        float(np.fmax.reduce(lm[..., 0], axis=None)),
    )
    y_min, y_max = (
        float(np.fmin.reduce(lm[..., 1], axis=None)),
        float(np.fmax.reduce(lm[..., 1], axis=None)),
    )
    if np.isinf([x_min, x_max, y_min, y_max]).any():
        frames = np.flatnonzero(np.isinf(lm[..., :2]).any(axis=(1, 2)))
        raise InputError(
            f"{name}: 'landmarks' holds inf in {frames.size} frame(s) (first: "
            f"{frames[:5].tolist()}); a frame without a face is a row of NaN"
        )
    if np.isnan(x_min) or np.isnan(y_min):  # no face in any frame
        return
    lo, hi = COORD_RANGE
    if lo <= min(x_min, y_min) and max(x_max, y_max) <= hi:
        return
    span = f"x runs from {x_min:.4g} to {x_max:.4g}, y from {y_min:.4g} to {y_max:.4g}"
    # pixels of this frame: within it (a margin for faces cut by its edge) and past [0, 1]
    in_frame = (
        -0.5 * width <= x_min
        and x_max <= 1.5 * width
        and -0.5 * height <= y_min
        and y_max <= 1.5 * height
    )
    if in_frame and max(x_max, y_max) > hi:
        raise InputError(
            f"{name}: 'landmarks' look like pixel coordinates of the {width}x{height} frame "
            f"({span}); a track holds MediaPipe's normalised coordinates: divide x by the "
            "width and y by the height (landmarks / [width, height])"
        )
    raise InputError(
        f"{name}: 'landmarks' lie far outside MediaPipe's normalised [0, 1] ({span}; "
        f"accepted: {lo:g} to {hi:g}, lipanomaly.limits.COORD_RANGE)"
    )


def _numeric(value, key, name):
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name}: {key!r} must be numeric, got dtype {arr.dtype}")
    return arr.astype(np.float64 if arr.dtype == np.float64 else np.float32, copy=False)


def _scalar(value, key, name):
    arr = _numeric(value, key, name)
    if arr.size != 1:
        raise InputError(f"{name}: {key!r} must be a single number, got shape {arr.shape}")
    return arr.reshape(()).item()


# what each known key may hold: dtype kinds, and a check of the declared shape that
# returns None when it is acceptable, else what was expected
def _landmarks_shape(shape):
    ok = len(shape) == 3 and shape[1] == FACEMESH_N_POINTS and shape[2] in (2, 3)
    if not ok:
        return (
            f"must have shape (T, {FACEMESH_N_POINTS}, 2) or (T, {FACEMESH_N_POINTS}, 3) "
            "(FaceMesh points per frame)"
        )
    if shape[0] > MAX_FRAMES:
        return f"declares {shape[0]} frames, more than {MAX_FRAMES} (lipanomaly.limits.MAX_FRAMES)"
    return None


def _single(shape):
    return None if math.prod(shape) == 1 else "must be a single number"


def _text(shape):
    return None if math.prod(shape) == 1 else "must be a single string"


def _indices(shape):
    return None if len(shape) == 1 and shape[0] <= FACEMESH_N_POINTS else "must be FaceMesh indices"


_SPECS = {
    "landmarks": ("biuf", _landmarks_shape),
    **{k: ("biuf", _single) for k in ("fps", "width", "height")},
    **{k: ("biufUS", _text) for k in _TEXT_KEYS},  # and text keys read by read_track
    "lips_idx": ("iu", _indices),
    # the packed files of the development data's wild/ collection (see read_packed_track)
    "q": ("u", lambda shape: None if len(shape) == 1 else "must be a byte string"),
    "ok": (
        "b",
        lambda shape: (
            None
            if len(shape) == 1 and shape[0] <= MAX_FRAMES
            else f"must be one flag per frame, at most {MAX_FRAMES}"
        ),
    ),
}
_CHUNK = 1 << 20  # bytes decompressed at a time


def _read_member(zf, info, key, path):
    """Read one ``.npy`` member after checking its header against ``_SPECS[key]``.

    Nothing is allocated before the declared dtype and shape are accepted and agree with
    the member's uncompressed size, and that size with its compressed size.
    """
    kinds, check_shape = _SPECS.get(key, ("biufUS", _text))
    where = f"{path}: {key!r}"
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise InputError(f"{where}: unsupported .npy format version {version}")
        if dtype.hasobject or dtype.kind not in kinds or dtype.fields is not None:
            what = "numeric" if "U" not in kinds else "a number or a string"
            raise InputError(f"{where} must be {what}, got dtype {dtype}")
        if dtype.kind in "US" and dtype.itemsize > MAX_TEXT_CHARS * 4:
            raise InputError(
                f"{where}: text longer than {MAX_TEXT_CHARS} characters "
                "(lipanomaly.limits.MAX_TEXT_CHARS)"
            )
        problem = check_shape(shape)
        if problem is not None:
            raise InputError(f"{where} {problem}, got {shape}")
        nbytes = math.prod(shape) * dtype.itemsize
        stored = info.file_size - fh.tell()
        if stored != nbytes:
            raise InputError(
                f"{where}: the header declares {dtype} {shape} ({nbytes} bytes) but the archive "
                f"holds {stored} bytes of data (a corrupt or forged file)"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if nbytes > RATIO_FREE_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise InputError(
                f"{where}: compressed {ratio:.0f} to 1 ({info.compress_size} bytes for "
                f"{info.file_size}), more than {MAX_COMPRESSION_RATIO:g} to 1 "
                "(lipanomaly.limits.MAX_COMPRESSION_RATIO): a deflate bomb, or a long track "
                "with a face in almost no frame (cut it to the part with the face)"
            )
        arr = np.empty(math.prod(shape), dtype=dtype)
        buf = arr.view(np.uint8)
        done = 0
        while done < nbytes:
            chunk = fh.read(min(_CHUNK, nbytes - done))
            if not chunk:
                raise InputError(f"{where}: truncated ({done} of {nbytes} bytes)")
            buf[done : done + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            done += len(chunk)
        if fh.read(1):  # also makes zipfile check the CRC
            raise InputError(f"{where}: more data than its header declares")
    order = "F" if fortran else "C"
    return arr.reshape(shape, order=order)


def _read_npz(path, keys):
    """The members of ``keys`` (those present) of the ``.npz`` at ``path``, checked.

    Other members are never opened.
    """
    try:
        if not zipfile.is_zipfile(path):
            raise InputError(f"{path}: cannot be read as an .npz track file (not a zip archive)")
        with zipfile.ZipFile(path) as zf:
            members = {}
            for info in zf.infolist():
                name = info.filename
                key = name[: -len(".npy")] if name.endswith(".npy") else name
                if key in keys and (name.endswith(".npy") or key not in members):
                    members[key] = info
            found = sorted(n[: -len(".npy")] if n.endswith(".npy") else n for n in zf.namelist())
            return {k: _read_member(zf, info, k, path) for k, info in members.items()}, found
    except InputError:
        raise
    except Exception as exc:  # zipfile, zlib, numpy's header parser, MemoryError, ...
        raise InputError(
            f"{path}: cannot be read as an .npz track file ({type(exc).__name__}: {exc})"
        ) from exc


def _text_value(arr):
    value = arr.reshape(()).item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value) or None


def read_track(path, *, extra_keys=()):
    """Read a track file.

    Only the keys of the format are read (``landmarks``, ``fps``, ``width``, ``height``,
    the optional text keys and ``lips_idx``), or those of a packed track file of the
    development data's ``wild/`` and ``modern/`` (``q``, ``ok`` and the same metadata:
    landmarks in 1/256 pixels, differenced and lzma-compressed, inflated to at most the
    size its frame count allows); each one's ``.npy`` header is checked
    (dtype, shape, size in the archive, compression ratio) before its data is read, and
    the track is then checked like any :class:`Track`. No pickle: an object array is
    refused.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` track file.
    extra_keys : sequence of str, default=()
        Text keys of the file to read into ``Track.extra`` besides those of the format
        (the extractor's cache reads its ``cache_key``).

    Returns
    -------
    track : Track

    Raises
    ------
    InputError
        If the file is missing, not an ``.npz`` archive, lacks a required key
        (``landmarks``, ``fps``, ``width``, ``height``), holds a wrong shape, a
        non-numeric array, a header that does not match its data, or values outside the
        limits of :mod:`lipanomaly.limits`. The message names the file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such track file")
    known = set(_REQUIRED) | set(_TEXT_KEYS) | set(_EXTRA_KEYS) | set(extra_keys)
    data, found = _read_npz(path, known)
    if "landmarks" not in data and {"q", "ok"} <= set(found):  # a packed development file
        return read_packed_track(path)
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise InputError(
            f"{path}: not a track file, missing key(s) {missing} "
            f"(found {found[:20]}{' ...' if len(found) > 20 else ''}; "
            f"required {list(_REQUIRED)})"
        )
    text = {k: _text_value(data[k]) for k in _TEXT_KEYS if k in data}
    extra = {k: data[k] for k in _EXTRA_KEYS if k in data}
    extra.update({k: _text_value(data[k]) for k in extra_keys if k in data})
    return Track(
        landmarks=data["landmarks"],
        fps=data["fps"],
        width=data["width"],
        height=data["height"],
        path=path,
        extra=extra,
        **text,
    )


# a packed wild/ file: landmarks as pixel coordinates * 256 (int32), differenced over time,
# lzma-compressed .npy (key "q"), and a per-frame face mask ("ok")
_PACK_SCALE = 256.0
_NPY_HEADER_MAX = 4096


def read_packed_track(path):
    """Read a packed track file (``wild/``, ``modern/`` of the development data) into a
    :class:`Track`; :func:`read_track` reads them too.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    track : Track
    """
    import io
    import lzma

    arrays, _ = _read_npz(path, ("q", "ok", "fps", "width", "height", *_TEXT_KEYS))
    if "q" not in arrays or "ok" not in arrays:
        raise InputError(f"{path}: not a packed track file (no 'q' and 'ok' arrays)")
    ok = np.asarray(arrays["ok"], dtype=bool).reshape(-1)
    # the decompressed size is known from the frame count: never inflate more than that
    limit = ok.size * FACEMESH_N_POINTS * 2 * 4 + _NPY_HEADER_MAX
    try:
        raw = lzma.LZMADecompressor().decompress(arrays["q"].tobytes(), max_length=limit + 1)
        if len(raw) > limit:
            raise ValueError("more data than the frame count allows")
        q = np.load(io.BytesIO(raw), allow_pickle=False)
    except (lzma.LZMAError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: corrupt packed landmarks ({exc})") from exc
    if q.shape != (ok.size, FACEMESH_N_POINTS, 2) or q.dtype.kind not in "iu":
        raise InputError(
            f"{path}: packed landmarks of shape {q.shape} and dtype {q.dtype}, expected "
            f"({ok.size}, {FACEMESH_N_POINTS}, 2) integers"
        )
    width, height = (float(_scalar(arrays.get(k), k, path)) for k in ("width", "height"))
    pixels = np.cumsum(q, axis=0, dtype=np.int64) / _PACK_SCALE
    landmarks = (pixels / np.array([width, height])).astype(np.float32)
    landmarks[~ok] = np.nan
    text = {k: _text_value(arrays[k]) for k in _TEXT_KEYS if k in arrays}
    return Track(
        landmarks=landmarks,
        fps=arrays.get("fps"),
        width=arrays.get("width"),
        height=arrays.get("height"),
        path=os.fspath(path),
        **text,
    )


#: a temporary file of :func:`publish_file` for a track file: ``.<name>.npz.<32 hex digits>.tmp``
TRACK_TEMPORARY = re.compile(r"\..+\.npz\.[0-9a-f]{32}\.tmp")


def track_arrays(track):
    """The arrays of ``track``'s track file (what :func:`write_track` writes).

    Parameters
    ----------
    track : Track

    Returns
    -------
    arrays : dict of str to ndarray
        ``landmarks`` (float32), ``fps``, ``width``, ``height`` and the text keys it has.
    """
    arrays = {
        "landmarks": np.asarray(track.landmarks, dtype=np.float32),
        "fps": np.float64(track.fps),
        "width": np.int64(track.width),
        "height": np.int64(track.height),
    }
    for key in _TEXT_KEYS:
        if getattr(track, key):
            arrays[key] = np.str_(getattr(track, key))
    return arrays


def write_track(path, track, *, overwrite=False):
    """Write ``track`` to ``path`` as an ``.npz`` track file.

    The file is published atomically: written under a unique temporary name
    (``.<name>.<random>.tmp``) in the destination folder, then renamed, so a concurrent
    reader never sees a partial file and concurrent writers never clash. Temporary files
    of this pattern that an interrupted writer left in the folder are removed once older
    than :data:`~lipanomaly.limits.CACHE_TEMP_MAX_AGE_S` (one listing of the folder per call).

    Parameters
    ----------
    path : str or path-like
        Destination; ``.npz`` is appended if missing.
    track : Track
    overwrite : bool, default=False
        An existing file is never replaced unless this is True.

    Returns
    -------
    path : str
        The path written.
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    if os.path.exists(path) and not overwrite:
        raise InputError(f"{path}: exists already; pass overwrite=True to replace it")
    arrays = track_arrays(track)
    clean_temporaries(os.path.dirname(os.path.abspath(path)), TRACK_TEMPORARY)
    publish_file(path, lambda fh: np.savez_compressed(fh, **arrays))
    return path
