"""Mouth opening of one real clip and of each of its pseudo-spoofs at strength 0.5.

Reproduces ``docs/images/spoofs_mouth_opening.png`` (``docs/guide/spoofs.md``)::

    .venv/bin/python docs/scripts/plot_spoofs.py [--data DIR] [--out docs/images]

The clip is a GRID corpus sentence of the development set (``lipnet_grid_samples__bbaf2n``,
3 s at 25 fps, CC BY 4.0), extracted by :class:`lipanomaly.LipLandmarkExtractor`; the donor
of ``transplant`` is the first real clip of another source. ``flicker`` is seeded (0).
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from lipanomaly import LipLandmarkExtractor
from lipanomaly.evaluation import spoofs
from lipanomaly.io.datasets import load_development
from lipanomaly.signal.filters import mouth_opening

CLIP = "lipnet_grid_samples__bbaf2n"
STRENGTH = 0.5
FS = 25.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="development data folder")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "images"))
    args = parser.parse_args(argv)

    dev = load_development(args.data)
    (i,) = [j for j, f in enumerate(dev.files) if Path(f).name.startswith(CLIP)]
    donor_index = next(
        j for j, (s, y) in enumerate(zip(dev.sources, dev.y)) if y == 1 and s != dev.sources[i]
    )
    clip, donor = LipLandmarkExtractor(fps=FS, verbose=0).transform(
        [dev.tracks[i], dev.tracks[donor_index]]
    )
    print(f"clip {Path(dev.files[i]).name} ({len(clip)} frames)")
    print(f"donor {Path(dev.files[donor_index]).name}")

    out = {}
    for kind in spoofs.SPOOFS:
        if kind == "flicker":
            out[kind] = spoofs.flicker(clip, STRENGTH, random_state=0)
        elif kind == "transplant":
            out[kind] = spoofs.transplant(clip, donor, STRENGTH)
        else:
            out[kind] = getattr(spoofs, kind)(clip, STRENGTH)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(len(clip)) / FS
    real = mouth_opening(clip)
    fig, axes = plt.subplots(
        len(out), 1, figsize=(9, 1.55 * len(out)), sharex=True, sharey=True, layout="constrained"
    )
    for ax, (kind, spoof) in zip(axes, out.items()):
        ax.plot(t, real, color="tab:blue", lw=1.6, label="real clip")
        ax.plot(t, mouth_opening(spoof), color="tab:red", lw=1.1, label="pseudo-spoof")
        ax.set_title(f"{kind}", loc="left", fontsize=10, pad=2)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", fontsize=8, ncols=2)
    axes[-1].set_xlabel("time (s), 25 fps")
    fig.supylabel("mouth opening (inter-ocular distances)", fontsize=10)
    fig.suptitle(f"One real GRID clip and its pseudo-spoofs at strength {STRENGTH:g}")
    path = Path(args.out)
    path.mkdir(parents=True, exist_ok=True)
    path = path / "spoofs_mouth_opening.png"
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
