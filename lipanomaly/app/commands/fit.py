"""``lipanomaly fit``: train a detector on real clips (and known fakes) and save it."""

import contextlib
import sys

from ...exceptions import InputError
from ..common import check_model_destination
from ..console import (
    Failure,
    expand_inputs,
    extract_all,
    labelled_inputs,
    leave_out_fakes,
    one_line,
)

__all__ = ["run"]


def run(args, console):
    """Train the detector of ``--detector`` / ``--with-fakes`` and save its pipeline."""
    out = check_model_destination(args.output, args.force)
    files = expand_inputs(args.inputs, console, recursive=args.recursive)
    if not files:
        raise Failure("no input to train on")
    detector_kind = args.detector or ("face" if args.with_fakes else "lfhf")
    if args.with_fakes and detector_kind != "face":
        raise Failure(
            "--with-fakes trains the face-motion detector (--detector face); lfhf is one-class"
        )
    if detector_kind == "face":
        pipeline = _fit_face(args, console, files)
    else:
        pipeline = _fit_lfhf(args, console, files)
    from ...persistence.pretrained import save_pipeline
    from ..report import threshold_note

    console.info(f"threshold {pipeline[-1].offset_:.3f}: {threshold_note(pipeline[-1])}")
    save_pipeline(pipeline, out, overwrite=args.force)
    console.info(f"model saved to {out}")
    return 0


def _clips_or_fail(extractor, files, console, args):
    clips = extract_all(extractor, files, console, n_jobs=args.jobs)
    if console.n_failed and not args.skip_errors:
        raise Failure(
            f"{console.n_failed} input(s) failed (listed above); fix or remove them, or pass "
            "--skip-errors to train on the others"
        )
    return clips


def _fit_lfhf(args, console, files):
    """The one-class LFHFVAEDetector on the live inputs."""
    from sklearn.pipeline import Pipeline

    from ...detectors.lfhf import LFHFVAEDetector
    from ...io.extraction import LipLandmarkExtractor

    real = leave_out_fakes(files, console, "a one-class model trains on reals")
    extractor = LipLandmarkExtractor(cache_dir=args.cache)
    clips = _clips_or_fail(extractor, real, console, args)
    if len(clips) < 2:
        raise Failure(f"fit needs at least 2 real clips, got {len(clips)}")
    # skorch's epoch table, one line an epoch (a log gets no colours nor batch bars)
    params = {"random_state": args.seed, "verbose": int(not console.quiet)}
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    if args.device is not None:
        params["device"] = args.device
    detector = LFHFVAEDetector(**params)
    console.info(
        f"training on {len(clips)} real clip(s), at most {detector.max_epochs} epochs "
        "(minutes on a CPU) ..."
    )
    from ...nn import torch_threads

    try:
        # skorch's epoch table is not a result; one thread by default: the same weights
        # as scripts/train_pretrained.py, and no stalls on cores shared with other work
        with contextlib.redirect_stdout(sys.stderr), torch_threads(args.threads):
            detector.fit([r.clip for _, r in clips])
    except InputError as exc:
        raise Failure(one_line(exc)) from exc
    summary = detector.network_.training_summary()
    if summary["epochs_run"]:
        console.info(
            f"trained {summary['epochs_run']} epochs; weights of epoch {summary['best_epoch']} kept"
        )
    return Pipeline([("extractor", extractor), ("detector", detector)])


def _fit_face(args, console, files):
    """The FaceMotionDetector: with the fakes of labelled track files (--with-fakes) or
    one-class on the live inputs."""
    from collections import Counter

    from sklearn.pipeline import Pipeline

    from ...detectors.face import FaceMotionDetector, face_extractor

    if args.with_fakes:
        files, y, groups = labelled_inputs(files, console)
        if -1 not in y:
            raise Failure(
                f"--with-fakes: none of the {len(files)} input(s) is a track file labelled "
                "fake (its 'label' key); train one-class without --with-fakes, or add fakes"
            )
    else:
        files = leave_out_fakes(files, console, "a one-class model trains on reals")
        y, groups = [1] * len(files), [None] * len(files)
    label_of = {f: (label, group) for f, label, group in zip(files, y, groups)}
    extractor = face_extractor(cache_dir=args.cache)
    clips = _clips_or_fail(extractor, files, console, args)
    y = [label_of[f][0] for f, _ in clips]
    groups = [label_of[f][1] or f for f, _ in clips]
    n_live = y.count(1)
    if n_live < 2:
        raise Failure(f"fit needs at least 2 live clips, got {n_live}")
    families = Counter(g for g, label in zip(groups, y) if label == -1)
    fakes = ", ".join(f"{name} {n}" for name, n in families.most_common())
    console.info(
        f"training the face-motion detector on {n_live} live clip(s) of "
        f"{len(set(g for g, label in zip(groups, y) if label == 1))} recording(s)"
        + (f" and {sum(families.values())} known fake(s): {fakes}" if families else "")
        + " ..."
    )
    detector = FaceMotionDetector(random_state=args.seed, verbose=int(console.progress))
    try:
        detector.fit([r.clip for _, r in clips], y, groups=groups)
    except InputError as exc:
        raise Failure(one_line(exc)) from exc
    return Pipeline([("extractor", extractor), ("detector", detector)])
