"""Train the pretrained detectors shipped in ``lipanomaly/pretrained/<name>/``.

Both are reproducible and leave out every clip of the bundled demo
(:func:`lipanomaly.io.datasets.load_demo`), so that ``lipanomaly demo`` scores clips they never
saw; the recordings are the groups of ``fit``, so the thresholds come from whole held-out
recordings. What the training clips are and under which terms: the ``DATA_NOTICE.md`` of
each model's folder.

- ``--model face`` (the default model): a :class:`lipanomaly.FaceMotionDetector`
  (``random_state=0``) fitted on every clip of the development set
  (:func:`lipanomaly.io.datasets.load_development`: ``landmarks/``, ``wild/`` and ``modern/``),
  live clips and known fakes, face clips from ``face_extractor()``. Seconds.
- ``--model lfhf``: an :class:`lipanomaly.LFHFVAEDetector` with default settings and
  ``random_state=0``, trained on CPU on every real clip of ``landmarks/`` and ``wild/``.
  Minutes. One torch thread by default (``--threads``): torch's multi-threaded reductions
  add in another order, so the weights are bit-reproducible for one thread count only; the
  shipped model was trained with one.

Usage::

    python scripts/train_pretrained.py --model face           # refuses to replace a model
    python scripts/train_pretrained.py --model face --force   # retrain and replace it
    python scripts/train_pretrained.py --model lfhf --output /tmp/model
    python scripts/train_pretrained.py --data ../shared/data  # where the development set is
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 0


def main(argv=None):
    from lipanomaly.persistence.pretrained import DEFAULT_PRETRAINED, PRETRAINED_MODELS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", choices=sorted(PRETRAINED_MODELS), default=DEFAULT_PRETRAINED, help="which"
    )
    parser.add_argument("--output", type=Path, default=None, help="model folder")
    parser.add_argument("--force", action="store_true", help="replace an existing model")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.add_argument("--data", type=Path, default=None, help="development data folder")
    args = parser.parse_args(argv)
    args.output = args.output or PRETRAINED_MODELS[args.model]
    if args.output.exists() and not args.force:
        parser.exit(1, f"{args.output} exists already; pass --force to retrain and replace it\n")
    if args.model == "face":
        train_face(args)
    else:
        train_lfhf(args)


def _write_notes(args, name, info):
    notice = Path(__file__).with_name(f"PRETRAINED_DATA_NOTICE_{name.upper()}.md")
    (args.output / "DATA_NOTICE.md").write_text(notice.read_text())
    (args.output / "TRAINING.json").write_text(json.dumps(info, indent=2) + "\n")
    args.output.chmod(0o755)


def train_face(args):
    import numpy as np
    from sklearn.pipeline import Pipeline

    import lipanomaly
    from lipanomaly import FaceMotionDetector
    from lipanomaly.detectors.face import face_extractor
    from lipanomaly.io.datasets import load_demo, load_development
    from lipanomaly.persistence.pretrained import save_pipeline

    data = load_development(args.data, collections=("landmarks", "wild", "modern"))
    demo = set(load_demo(split="demo").files)
    keep = [i for i, f in enumerate(data.files) if Path(str(f)).name not in demo]
    y = data.y[keep]
    # live clips weigh by recording, fakes by generator family (FaceMotionDetector.fit)
    groups = np.where(y == 1, data.groups[keep], data.generators[keep])
    extractor = face_extractor()
    X = extractor.fit_transform([data.tracks[i] for i in keep])
    detector = FaceMotionDetector(random_state=SEED, verbose=0 if args.quiet else 1)
    t0 = time.perf_counter()
    detector.fit(X, y, groups=groups)
    seconds = time.perf_counter() - t0
    detector.set_params(verbose=0)  # progress output was for this run, not for the users
    save_pipeline(
        Pipeline([("extractor", extractor), ("detector", detector)]),
        args.output,
        overwrite=args.force,
    )
    families = {
        str(g): int(n)
        for g, n in zip(*np.unique(data.generators[keep][y == -1], return_counts=True))
    }
    info = {
        "script": "scripts/train_pretrained.py --model face",
        "lipanomaly_version": lipanomaly.__version__,
        "random_state": SEED,
        "training_clips": [Path(str(data.files[i])).name for i in keep],
        "n_live_clips": int((y == 1).sum()),
        "n_live_groups": len(set(data.groups[keep][y == 1].tolist())),
        "n_fake_clips": int((y == -1).sum()),
        "fake_families": families,
        "offset_": float(detector.offset_),
        "fit_seconds": round(seconds, 1),
        "machine": f"{platform.machine()}, {platform.system()}",
    }
    _write_notes(args, "face", info)
    print(
        f"trained on {len(X)} clips ({info['n_live_clips']} live, {info['n_fake_clips']} fakes "
        f"of {len(families)} families) in {seconds:.0f} s, threshold {detector.offset_:.3f}; "
        f"saved to {args.output}"
    )


def train_lfhf(args):
    import torch
    from sklearn.pipeline import Pipeline

    import lipanomaly
    from lipanomaly import LFHFVAEDetector, LipLandmarkExtractor
    from lipanomaly.io.datasets import load_demo, load_development
    from lipanomaly.persistence.pretrained import save_pipeline

    if args.threads:
        torch.set_num_threads(args.threads)

    data = load_development(args.data, label="real", collections=("landmarks", "wild"))
    demo = set(load_demo(split="demo").files)
    keep = [i for i, f in enumerate(data.files) if Path(str(f)).name not in demo]
    files, groups = [data.files[i] for i in keep], data.groups[keep]
    assert (data.y[keep] == 1).all(), "real clips only"
    extractor = LipLandmarkExtractor()
    X = extractor.fit_transform([data.tracks[i] for i in keep])
    detector = LFHFVAEDetector(random_state=SEED, verbose=0 if args.quiet else 1)
    t0 = time.perf_counter()
    detector.fit(X, groups=groups)
    seconds = time.perf_counter() - t0
    detector.set_params(verbose=0)  # progress output was for this run, not for the users
    pipeline = Pipeline([("extractor", extractor), ("detector", detector)])
    save_pipeline(pipeline, args.output, overwrite=args.force)

    summary = detector.network_.training_summary()
    info = {
        "script": "scripts/train_pretrained.py --model lfhf",
        "lipanomaly_version": lipanomaly.__version__,
        "torch_version": torch.__version__,
        "random_state": SEED,
        "training_clips": [Path(str(f)).name for f in files],
        "n_training_clips": len(X),
        "n_training_groups": len(set(groups.tolist())),
        "n_training_frames": int(sum(len(x) for x in X)),
        "validation_clips": [Path(str(files[i])).name for i in detector.network_.validation_index_],
        "epochs_run": summary["epochs_run"],
        "best_valid_loss": summary["best_valid_loss"],
        "offset_": float(detector.offset_),
        "fit_seconds": round(seconds, 1),
        "machine": f"{platform.machine()}, {platform.system()}, torch threads "
        f"{torch.get_num_threads()}",
    }
    _write_notes(args, "lfhf", info)
    print(
        f"trained on {len(X)} clips in {seconds:.0f} s ({summary['epochs_run']} epochs, best "
        f"validation loss {info['best_valid_loss']:.4f}, threshold {detector.offset_:.3f}); "
        f"saved to {args.output}"
    )


if __name__ == "__main__":
    main()
