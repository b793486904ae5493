"""The development data (``landmarks/``, ``wild/``, ``modern/``) and the bundled demo data.

The clips are FaceMesh track files (:mod:`lipanomaly.io.tracks`); ``wild/`` and ``modern/``
hold them packed (see ``docs/data.md``).
"""

import csv
import os
from pathlib import Path
from types import MappingProxyType

import numpy as np
from sklearn.utils import Bunch

from ..exceptions import InputError
from . import _bundled
from .tracks import FACEMESH_N_POINTS, Track, read_packed_track, read_track

__all__ = [
    "COLLECTIONS",
    "DEVELOPMENT_LINKED_SOURCES",
    "default_data_dir",
    "load_demo",
    "load_development",
]


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
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data")
    for cand in candidates:
        if (cand / "landmarks" / "MANIFEST.csv").is_file():
            return cand
    raise InputError(
        "the development data was not found; set LIPANOMALY_DATA to the folder that holds "
        f"landmarks/MANIFEST.csv (looked in: {', '.join(map(str, candidates))})"
    )


#: The collections of the development data: ``landmarks/`` (track files), ``wild/`` (packed
#: track files of many more recording set-ups) and ``modern/`` (packed track files of recent
#: talking-head and lip-sync generators; see ``docs/data.md``).
COLLECTIONS = ("landmarks", "wild", "modern")

#: Sources of ``landmarks/`` that show the same person, as ``{source: linked_source}``: the
#: EAMM clip ``M030_sad`` is the MEAD speaker M030 of the DreamTalk sources, and the man of
#: ``lipsync_assignment`` is the one in the ``wav2lip_forks`` fake
#: ``kuwarkapur_result_voice`` (manifest ``kind`` column). :func:`load_development` gives
#: linked sources one group.
DEVELOPMENT_LINKED_SOURCES = MappingProxyType(
    {"eamm": "dreamtalk", "lipsync_assignment": "wav2lip_forks"}
)


def _manifest_rows(root, collection, label):
    manifest = root / collection / "MANIFEST.csv"
    if not manifest.is_file():
        raise InputError(f"{manifest}: no manifest; expected the development data layout")
    with open(manifest, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if label is None or r["label"] == label]
    for r in rows:
        r["collection"] = collection
        if collection == "landmarks":  # a source, or the source it shows the same person as
            r["group"] = DEVELOPMENT_LINKED_SOURCES.get(r["source"], r["source"])
    return rows


def load_development(data_dir=None, *, label=None, collections=("landmarks",)):
    """Load the development set: track files of real and fake clips with their metadata.

    Parameters
    ----------
    data_dir : str or path-like, default=None
        The folder holding ``landmarks/MANIFEST.csv`` (and ``wild/``); None uses
        :func:`default_data_dir`.
    label : {"real", "fake"} or None, default=None
        Keep only clips with this label.
    collections : sequence of {"landmarks", "wild", "modern"}, default=("landmarks",)
        Which collections to load, in this order: ``landmarks/`` (140 clips of about 12
        recording sources), ``wild/`` (166 clips of 76 people or recording groups) and
        ``modern/`` (164 clips, 151 of them fakes of 14 recent generator families, in 84
        groups); the last two are read from their packed files in memory: nothing is
        unpacked to disk.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``tracks`` (list of :class:`Track`), ``y`` (int array, +1 real / -1 fake),
        ``files``, ``sources``, ``generators`` (``"real"`` for real clips), ``kinds``
        (the manifest's description), ``collections`` (which collection each clip comes
        from) and ``groups``: the unit a leak-free protocol keeps on one side (the same
        person or recording set-up: for ``landmarks/`` the source, linked sources merged
        (:data:`DEVELOPMENT_LINKED_SOURCES`); for ``wild/`` and ``modern/`` the manifest's
        ``group``: the panels of one side-by-side comparison share one). A fake made from
        a real recording of the set carries that recording's source and group.
    """
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    if label not in (None, "real", "fake"):
        raise InputError(f"label must be 'real', 'fake' or None, got {label!r}")
    collections = (collections,) if isinstance(collections, str) else tuple(collections)
    unknown = sorted(set(collections) - set(COLLECTIONS))
    if unknown or not collections:
        raise InputError(
            f"collections must be a non-empty subset of {list(COLLECTIONS)}, got {collections}"
        )
    rows = [r for c in collections for r in _manifest_rows(root, c, label)]
    tracks = [
        (read_track if r["collection"] == "landmarks" else read_packed_track)(
            root / r["collection"] / r["file"]
        )
        for r in rows
    ]
    return Bunch(
        tracks=tracks,
        y=np.array([1 if r["label"] == "real" else -1 for r in rows], dtype=int),
        files=[r["file"] for r in rows],
        sources=np.array([r["source"] for r in rows]),
        generators=np.array([r["generator"] or "real" for r in rows]),
        kinds=[r["kind"] for r in rows],
        collections=np.array([r["collection"] for r in rows]),
        groups=np.array([r["group"] for r in rows]),
    )


def load_demo(*, split=None, label=None):
    """Load the demo data bundled in the package.

    Parameters
    ----------
    split : {"train", "demo"} or None, default=None
        ``"train"``: the real clips the pretrained model was trained on; ``"demo"``: the
        generated clips and the real clips it never saw; None: both.
    label : {"real", "fake"} or None, default=None
        Keep only clips with this label.

    Returns
    -------
    data : sklearn.utils.Bunch
        With the fields of :func:`lipanomaly.io.datasets.load_development`:

        - ``tracks``: list of :class:`~lipanomaly.io.tracks.Track`, each with landmarks of
          shape ``(T, 478, 2)``. Only the stored points
          (:data:`lipanomaly.io._bundled.STORED_POINTS`, the face points and the head anchors,
          all that the extractor reads) hold coordinates; the other FaceMesh points are NaN,
          so use ``track.landmarks[:, STORED_POINTS]`` to draw
          them, not ``track.face_found``.
        - ``y``: int array, +1 real / -1 fake;
        - ``files``: the file names in the development set;
        - ``sources``, ``groups``: the recording source of each clip;
        - ``generators``: the generator family of each fake, ``"real"`` for real clips;
        - ``kinds``: what each clip is;
        - ``splits``: ``"train"`` or ``"demo"``.

        A demo clip whose source is also a training clip's source shows a person the
        pretrained model never saw, recorded like its training clips.

    Examples
    --------
    >>> from lipanomaly.io.datasets import load_demo
    >>> demo = load_demo(split="demo")
    >>> sorted(set(demo.generators))
    ['DreamTalk', 'SadTalker', 'StyleTalk', 'real']
    """
    if split not in (None, "train", "demo"):
        raise InputError(f"split must be 'train', 'demo' or None, got {split!r}")
    if label not in (None, "real", "fake"):
        raise InputError(f"label must be 'real', 'fake' or None, got {label!r}")
    manifest = _bundled.DATA_DIR / _bundled.MANIFEST_FILE
    with open(manifest, newline="") as fh:
        rows = [
            r
            for r in csv.DictReader(fh)
            if (split is None or r["split"] == split) and (label is None or r["label"] == label)
        ]
    tracks = []
    with np.load(_bundled.DATA_DIR / _bundled.LANDMARKS_FILE, allow_pickle=False) as npz:
        points = npz["points"]
        quantum = float(npz["quantum"])
        for r in rows:
            # int32 frame differences in units of `quantum` pixels -> [0, 1] image coordinates
            pixels = np.cumsum(npz[r["id"]], axis=0, dtype=np.int64) * quantum
            size = np.array([int(r["width"]), int(r["height"])], dtype=np.float64)
            found_key = r["id"] + "_found"
            found = npz[found_key] if found_key in npz.files else None
            landmarks = np.full((len(pixels), FACEMESH_N_POINTS, 2), np.nan, dtype=np.float32)
            landmarks[:, points] = pixels / size
            if found is not None:
                landmarks[~found] = np.nan
            tracks.append(
                Track(
                    landmarks=landmarks,
                    fps=float(r["fps"]),
                    width=int(r["width"]),
                    height=int(r["height"]),
                    path=r["file"],
                    label=r["label"],
                    source=r["source"],
                    generator=r["generator"] or None,
                    origin=r["origin"],
                )
            )
    sources = np.array([r["source"] for r in rows])
    return Bunch(
        tracks=tracks,
        y=np.array([1 if r["label"] == "real" else -1 for r in rows], dtype=int),
        files=[r["file"] for r in rows],
        sources=sources,
        generators=np.array([r["generator"] or "real" for r in rows]),
        kinds=[r["kind"] for r in rows],
        groups=sources.copy(),
        splits=np.array([r["split"] for r in rows]),
    )
