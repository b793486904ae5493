"""Read and write FaceMesh track files, and load the development set.

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

Unknown keys are ignored. Files are read with ``allow_pickle=False``: a track file is data,
never code.
"""

import csv
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .exceptions import InputError

__all__ = [
    "FACEMESH_N_POINTS",
    "Track",
    "default_data_dir",
    "load_demo",
    "load_development",
    "read_track",
    "write_track",
]

FACEMESH_N_POINTS = 478
_REQUIRED = ("landmarks", "fps", "width", "height")
_TEXT_KEYS = ("label", "source", "generator", "origin")


@dataclass(frozen=True, eq=False)
class Track:
    """One video's FaceMesh landmarks with what is needed to interpret them.

    Parameters
    ----------
    landmarks : ndarray of shape (T, 478, 2) or (T, 478, 3)
        FaceMesh points per frame, normalised by frame width (x) and height (y); a row of
        NaN where no face was found.
    fps : float
        Frame rate of the video.
    width, height : int
        Frame size in pixels.
    path : str or None
        Where the track came from (used in messages).
    label, source, generator, origin : str or None
        Optional metadata of the development set.
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
        lm = _numeric(self.landmarks, "landmarks", name)
        if lm.ndim != 3 or lm.shape[1] != FACEMESH_N_POINTS or lm.shape[2] not in (2, 3):
            raise InputError(
                f"{name}: 'landmarks' must have shape (T, {FACEMESH_N_POINTS}, 2) or "
                f"(T, {FACEMESH_N_POINTS}, 3) (FaceMesh points per frame), got {lm.shape}"
            )
        object.__setattr__(self, "landmarks", lm)
        fps = float(_scalar(self.fps, "fps", name))
        if not np.isfinite(fps) or fps <= 0:
            raise InputError(f"{name}: 'fps' must be a positive frame rate, got {fps}")
        object.__setattr__(self, "fps", fps)
        for key in ("width", "height"):
            value = _scalar(getattr(self, key), key, name)
            if not np.isfinite(value) or value <= 0 or value != int(value):
                raise InputError(f"{name}: {key!r} must be a positive pixel count, got {value}")
            object.__setattr__(self, key, int(value))

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


def read_track(path):
    """Read a track file.

    Parameters
    ----------
    path : str or path-like
        An ``.npz`` track file.

    Returns
    -------
    track : Track

    Raises
    ------
    InputError
        If the file is missing, not an ``.npz`` archive, lacks a required key
        (``landmarks``, ``fps``, ``width``, ``height``), or holds a wrong shape or a
        non-numeric array. The message names the file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such track file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in _REQUIRED if k not in npz.files]
            if missing:
                raise InputError(
                    f"{path}: not a track file, missing key(s) {missing} "
                    f"(found {sorted(npz.files)}; required {list(_REQUIRED)})"
                )
            data = {k: npz[k] for k in npz.files}
    except InputError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{path}: cannot be read as an .npz track file ({exc})") from exc
    text = {}
    for key in _TEXT_KEYS:
        if key in data:
            value = str(data[key].reshape(()).item()) if data[key].size == 1 else None
            text[key] = value or None
    extra = {k: v for k, v in data.items() if k not in _REQUIRED and k not in _TEXT_KEYS}
    return Track(
        landmarks=data["landmarks"],
        fps=data["fps"],
        width=data["width"],
        height=data["height"],
        path=path,
        extra=extra,
        **text,
    )


def write_track(path, track, *, overwrite=False):
    """Write ``track`` to ``path`` as an ``.npz`` track file.

    Parameters
    ----------
    path : str or path-like
        Destination; ``.npz`` is appended by numpy if missing.
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
    arrays = {
        "landmarks": np.asarray(track.landmarks, dtype=np.float32),
        "fps": np.float64(track.fps),
        "width": np.int64(track.width),
        "height": np.int64(track.height),
    }
    for key in _TEXT_KEYS:
        if getattr(track, key):
            arrays[key] = np.str_(getattr(track, key))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path[: -len(".npz")] + ".partial.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)  # atomic: a reader never sees half a file
    return path


def default_data_dir():
    """The development data folder: ``$LIPANOMALY_DATA``, else ``../shared/data`` of the repo.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    InputError
        If no such folder exists.
    """
    env = os.environ.get("LIPANOMALY_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data")
    for cand in candidates:
        if (cand / "landmarks" / "MANIFEST.csv").is_file():
            return cand
    raise InputError(
        "the development data was not found; set LIPANOMALY_DATA to the folder that holds "
        f"landmarks/MANIFEST.csv (looked in: {', '.join(map(str, candidates))})"
    )


def load_development(data_dir=None, *, label=None):
    """Load the development set: track files of real and fake clips with their metadata.

    Parameters
    ----------
    data_dir : str or path-like, default=None
        The folder holding ``landmarks/MANIFEST.csv``; None uses :func:`default_data_dir`.
    label : {"real", "fake"} or None, default=None
        Keep only clips with this label.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``tracks`` (list of :class:`Track`), ``y`` (int array, +1 real / -1 fake),
        ``files``, ``sources``, ``generators`` (``"real"`` for real clips), ``kinds``
        (the manifest's description) and ``groups`` (the recording source, for
        group-wise cross-validation).
    """
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    manifest = root / "landmarks" / "MANIFEST.csv"
    if not manifest.is_file():
        raise InputError(f"{manifest}: no manifest; expected the development data layout")
    if label not in (None, "real", "fake"):
        raise InputError(f"label must be 'real', 'fake' or None, got {label!r}")
    with open(manifest, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if label is None or r["label"] == label]
    tracks = [read_track(root / "landmarks" / r["file"]) for r in rows]
    return Bunch(
        tracks=tracks,
        y=np.array([1 if r["label"] == "real" else -1 for r in rows], dtype=int),
        files=[r["file"] for r in rows],
        sources=np.array([r["source"] for r in rows]),
        generators=np.array([r["generator"] or "real" for r in rows]),
        kinds=[r["kind"] for r in rows],
        groups=np.array([r["source"] for r in rows]),
    )


# the bundled demo data; imported last because it builds on Track
from ._bundled import load_demo  # noqa: E402
