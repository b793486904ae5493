"""The ``lipanomaly`` command: extract, fit, score, evaluate, demo.

Every subcommand has ``--help`` with examples. Exit codes: 0 success, 1 an input failed
(each failed input is reported on one line, naming the file and the problem; the other inputs
are still processed), 2 bad usage. ``--debug`` shows the traceback of an error.

Argparse and printing over the library's public API (extraction, the detectors,
:mod:`lipanomaly.evaluation.metrics`, :mod:`lipanomaly.app.demo`, :mod:`lipanomaly.app.report`),
each
imported by the subcommand that needs it, so that ``lipanomaly --help`` is instant.
"""

import argparse
import contextlib
import json
import sys
import textwrap
import traceback
import warnings
from pathlib import Path

from .. import __version__
from ..exceptions import InputError, LipAnomalyError
from ..limits import DEFAULT_FPS
from .console import (
    TRACK_EXTENSIONS,
    Console,
    Failure,
    distinct_files,
    expand_inputs,
    extract_all,
    labelled_inputs,
    leave_out_fakes,
    named,
    one_line,
)

__all__ = ["main"]

PROG = "lipanomaly"


def _check_new_path(path, force, what="output"):
    """Refuse to replace an existing file or folder unless --force."""
    path = Path(path)
    if path.exists() and not force:
        raise Failure(f"{path}: {what} exists already; pass --force to replace it")
    return path


def _check_model_destination(path, force):
    """The model folder to write, refused now (not after the work) with the real reason."""
    from ..persistence.serialization import check_destination

    # a folder that no --force may replace (it is not a model) says so first, so that
    # "pass --force" is never offered where --force is refused
    check_destination(path, overwrite=True)
    return _check_new_path(path, force, "model folder")


# -- models ----------------------------------------------------------------------------------


def _model_folder(args, default=None):
    """The folder of ``--model``: a model folder, or a pretrained model's name (when no such
    folder exists); ``default`` (the default pretrained model) when not given."""
    from ..persistence.pretrained import DEFAULT_PRETRAINED, PRETRAINED_MODELS

    name = args.model or default or DEFAULT_PRETRAINED
    if args.model is None or (name in PRETRAINED_MODELS and not Path(name).exists()):
        return PRETRAINED_MODELS[name]
    return Path(args.model)


def _load_model(args, default=None):
    """The fitted pipeline of ``--model`` (a folder or a pretrained name), or the pretrained
    ``default`` one."""
    from ..persistence.pretrained import load_pipeline

    try:
        return load_pipeline(
            _model_folder(args, default), n_jobs=1, cache_dir=getattr(args, "cache", None)
        )
    except LipAnomalyError as exc:
        raise Failure(str(exc)) from exc


def _reference_problems(detector, good):
    """Why each extracted reference cannot be one (None where it can), one clip at a time
    when the batch fails (e.g. a clip too short for the network)."""
    from ..scoring.calibration import check_references

    try:
        return check_references(detector, [r.clip for _, r in good])
    except InputError as exc:
        if len(good) == 1:
            return [one_line(str(exc).replace("X[0]: ", ""))]
        return [p for item in good for p in _reference_problems(detector, [item])]


def _calibrated(pipeline, references, console, recursive=False, skip_errors=False):
    """``pipeline`` calibrated on the real clips of ``references`` (files or folders).

    As ``fit`` reads its inputs: track files labelled fake are left out with a note, files
    of the same content count once, and a reference that is missing, unreadable or
    refused (:func:`lipanomaly.scoring.calibration.check_references`) stops the command before
    anything is written, unless ``skip_errors`` (then it is left out).

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
    record : dict
        What the calibration was made from, for the model's ``TRAINING.json``.
    """
    import datetime
    import re

    from sklearn.pipeline import Pipeline

    from ..scoring.calibration import REFIT_FROM, CalibrationWarning, calibrate

    if not hasattr(pipeline[-1], "scorer_"):
        raise Failure(
            f"calibration re-fits the scoring of a lip-motion model (LFHFVAEDetector, "
            f"OCVAEDetector); this model is a {type(pipeline[-1]).__name__}: fit it again with "
            "your genuine clips among its live clips (lipanomaly fit ... --with-fakes), or "
            "calibrate the pretrained lip-motion model (-m lfhf)"
        )
    failed = console.n_failed
    files = expand_inputs(references, console, recursive=recursive)
    files = leave_out_fakes(files, console, "calibration reads genuine clips only")
    digests = dict(distinct_files(files, console))
    good = extract_all(pipeline[0], list(digests), console, desc="references")
    detector = pipeline[-1]
    usable = []
    for (path, r), problem in zip(good, _reference_problems(detector, good) if good else []):
        if problem is None:
            usable.append((path, r.clip))
        elif skip_errors:
            console.warn(f"{path}: left out of the calibration: {problem}")
        else:
            console.fail(f"{path}: cannot be a reference: {problem}")
    if console.n_failed > failed and not skip_errors:
        raise Failure(
            f"{console.n_failed - failed} reference(s) cannot be used (listed above); nothing "
            "was calibrated: fix or remove them, or pass --skip-errors to calibrate on the others"
        )
    if not usable:
        raise Failure("no reference clip to calibrate on")
    paths = [p for p, _ in usable]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CalibrationWarning)
            model = calibrate(detector, [c for _, c in usable])
    except LipAnomalyError as exc:
        raise Failure(one_line(exc)) from exc
    # raising on refusals, calibrate warns of one thing only: identical clips (from files of
    # different content), each counted once; named by file
    n = len(usable) - len(caught)
    for w in caught:
        console.warn(re.sub(r"X_reference\[(\d+)\]", lambda m: paths[int(m[1])], str(w.message)))
    how = "fitted anew" if n >= REFIT_FROM else "re-centred"
    console.info(f"calibrated on {n} reference clip(s): scoring {how}")
    record = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "lipanomaly_version": __version__,
        "scoring": how,
        "references": [{"file": Path(p).name, "sha256": digests[p]} for p in paths],
    }
    return Pipeline([pipeline.steps[0], (pipeline.steps[-1][0], model)]), record


def _frame_rate(pipeline):
    """Frame rate of the clips: the extractor's analysis rate (25 when it keeps the native)."""
    fps = pipeline[0].fps
    return DEFAULT_FPS if fps is None else float(fps)


# -- subcommands -------------------------------------------------------------------------------


def _cmd_extract(args, console):
    from ..io.extraction import ExtractionWarning, extract_folder, extract_videos
    from ..io.tracks import read_track
    from ..io.video import native_logs_silenced

    out_dir = Path(args.output)
    settings = {
        "overwrite": args.force,
        "n_jobs": args.jobs,
        "errors": "skip",  # the failures come back as data: one line each
        "verbose": int(console.progress),
    }
    files = []
    results = []
    with warnings.catch_warnings(), native_logs_silenced(not console.debug):
        warnings.simplefilter("ignore", ExtractionWarning)
        for raw in args.inputs:
            p = Path(raw)
            if p.is_dir():
                try:
                    results.append(extract_folder(p, out_dir, recursive=args.recursive, **settings))
                except InputError as exc:  # no video in the folder
                    console.fail(one_line(exc))
            elif p.is_file():
                files.append(p)
            else:
                console.fail(f"{p}: no such file or folder")
        if files:
            outs = [out_dir / (p.name + ".npz") for p in files]
            results.append(extract_videos(files, outs, **settings))
    n_ok = 0
    for result in results:
        for video, track, status in zip(result.videos, result.tracks, result.status):
            if status == "failed":
                console.fail(named(result.errors[video], video))
            elif status == "existing":
                console.warn(f"{track}: exists already, {video} skipped (pass --force to redo it)")
            else:
                n_ok += 1
                found = float(read_track(track).face_found.mean())
                console.info(f"{video} -> {track} (face in {found:.0%} of frames)")
    console.info(f"{n_ok} track file(s) written to {out_dir}")
    return 0


def _cmd_fit(args, console):
    out = _check_model_destination(args.output, args.force)
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
    from ..persistence.pretrained import save_pipeline
    from .report import threshold_note

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

    from ..detectors.lfhf import LFHFVAEDetector
    from ..io.extraction import LipLandmarkExtractor

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
    from ..nn import torch_threads

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

    from ..detectors.face import FaceMotionDetector, face_extractor

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


def _score_records(pipeline, good, console, threshold):
    """One :func:`lipanomaly.app.report.score_record` per clip that can be scored."""
    from .report import score_record

    detector = pipeline[-1]
    clips = [r.clip for _, r in good]
    if not clips:
        return []
    try:
        scores, per_window = detector.score_with_windows(clips)  # one pass of the network
    except InputError as exc:
        # a clip the detector cannot take (e.g. too short): score them one at a time
        if len(clips) == 1:
            console.fail(named(str(exc).replace("X[0]: ", ""), good[0][0]))
            return []
        return [r for item in good for r in _score_records(pipeline, [item], console, threshold)]
    p_values = detector.p_values_of(scores)  # of the scores above: no second pass
    # a whole-clip detector says which features pushed each verdict
    features = detector.explain(clips) if hasattr(detector, "explain") else [None] * len(clips)
    fps = _frame_rate(pipeline)
    return [
        score_record(
            path,
            len(r.clip),
            s,
            threshold,
            w,
            fps=fps,
            p_value=p,
            start_s=r.start_s,
            face_box=r.face_box,
            features=f,
        )
        for (path, r), s, w, p, f in zip(good, scores, per_window, p_values, features)
    ]


def _threshold(args, detector):
    """The threshold of --threshold, of --contamination, or the model's."""
    if args.threshold is not None:
        return args.threshold
    if args.contamination is not None:
        return detector.threshold_for(args.contamination)
    return float(detector.offset_)


def _cmd_score(args, console):
    files = expand_inputs(args.inputs, console, recursive=args.recursive)
    plot_dir = None
    if args.plot is not None:
        plot_dir = Path(args.plot)
        if plot_dir.exists() and any(plot_dir.iterdir()) and not args.force:
            raise Failure(f"{plot_dir}: folder exists and is not empty; pass --force to use it")
    if not files:  # answered before the model loads
        return 1
    pipeline = _load_model(args)
    if args.reference:
        pipeline, _ = _calibrated(
            pipeline, args.reference, console, args.recursive, args.skip_errors
        )
    detector = pipeline[-1]
    threshold = _threshold(args, detector)
    good = extract_all(pipeline[0], files, console, n_jobs=args.jobs, desc="scoring")
    records = _score_records(pipeline, good, console, threshold)
    from .report import score_table, threshold_note

    given = None if args.threshold is None and args.contamination is None else threshold
    note = threshold_note(detector, given, contamination=args.contamination)
    if args.json:
        (p_threshold,) = detector.p_values_of([threshold])
        for r in records:
            r.update(threshold_p_value=float(p_threshold), threshold_note=note)
        console.out(json.dumps(records, indent=2))
    elif records:
        console.out(score_table(records) + "\n")
        if all("features" in r for r in records):  # a whole-clip detector
            score_is = (
                "one score for the whole clip, higher = more live; a clip is a spoof when its "
                f"score < threshold ({threshold:.3f}); pushed towards spoof by: the features "
                "that lowered it most"
            )
        else:  # the verdict reads the aggregate, not the count of windows below the threshold
            how = getattr(getattr(detector, "scorer_", None), "aggregation", "mean")
            score_is = (
                f"the {how} of the clip's window scores, higher = more live; a clip is a spoof "
                f"when its score < threshold ({threshold:.3f}), whatever the share of its "
                "windows below the threshold (spoof windows)"
            )
        for text in (
            f"score: {score_is}; margin = score - threshold, in score units.",
            f"threshold {threshold:.3f}: {note}",
            "face (s): the analysed face segment, in seconds of the video (window times in "
            "--json and --plot too).",
        ):
            console.out(textwrap.fill(text, width=100))
    if plot_dir is not None and records:
        from .report import figure_names, plot_feature_pushes, plot_score_timeline

        fps = _frame_rate(pipeline)
        network = getattr(detector, "network_", None)
        written = 0
        # one figure per input, even for same or over-long names; one that fails is
        # reported and the others are still written
        for r, name in zip(records, figure_names([r["path"] for r in records])):
            try:
                if network is None:  # a whole-clip detector: what pushed its verdict
                    plot_feature_pushes(r, plot_dir / name)
                else:
                    plot_score_timeline(r, plot_dir / name, window=network.window, fs=fps)
            except Exception as exc:
                console.fail(named(f"figure not written ({type(exc).__name__}: {exc})", r["path"]))
                continue
            written += 1
            if name != Path(r["path"]).name + ".png":
                console.info(f"{r['path']}: figure {name}")
        console.info(f"{written} figure(s) written to {plot_dir}")
    return 0


def _cmd_calibrate(args, console):
    from ..persistence.pretrained import calibration_notes, save_pipeline

    out = _check_model_destination(args.output, args.force)
    pipeline = _load_model(args, default="lfhf")  # the model calibration applies to
    model, record = _calibrated(
        pipeline, args.references, console, args.recursive, args.skip_errors
    )
    # the source's notes travel with the model (read before an in-place save replaces them)
    notes = calibration_notes(_model_folder(args, default="lfhf"), record)
    save_pipeline(model, out, overwrite=args.force, notes=notes)
    console.info(f"calibrated model saved to {out}")
    return 0


def _cmd_evaluate(args, console):
    real_files = expand_inputs(args.real, console, recursive=args.recursive)
    fake_files = expand_inputs(args.fake, console, recursive=args.recursive)
    if not real_files or not fake_files:
        raise Failure("evaluate needs at least one real and one fake input")
    import numpy as np

    from ..evaluation import metrics as evaluation
    from ..io.tracks import read_track

    pipeline = _load_model(args)
    good_real = extract_all(pipeline[0], real_files, console, n_jobs=args.jobs, desc="real")
    good_fake = extract_all(pipeline[0], fake_files, console, n_jobs=args.jobs, desc="fake")
    if not good_real or not good_fake:
        raise Failure("evaluate needs at least one real and one fake clip that can be read")
    families = []
    for path, _ in good_fake:
        family = args.family
        if family is None and path.lower().endswith(TRACK_EXTENSIONS):
            family = read_track(path).generator
        families.append(family or "fake")
    detector = pipeline[-1]
    clips = [r.clip for _, r in good_real] + [r.clip for _, r in good_fake]
    y = np.r_[np.ones(len(good_real), int), -np.ones(len(good_fake), int)]
    generators = np.array(["real"] * len(good_real) + families)
    scores = detector.score_samples(clips)
    result = evaluation.evaluate_scores(
        y, scores, generators=generators, threshold=float(detector.offset_), random_state=0
    )
    if args.json:
        console.out(json.dumps(result, indent=2, default=_jsonable))
    else:
        console.out(evaluation.format_table(result))
    if args.plot is not None:
        from .report import write_evaluation_figures

        plot_dir = _check_new_path(args.plot, args.force, "plot folder")
        written = write_evaluation_figures(
            plot_dir,
            curves={type(detector).__name__: (y, scores)},
            y=y,
            scores=scores,
            generators=generators,
            threshold=float(detector.offset_),
        )
        console.info(f"{len(written)} figure(s) written to {plot_dir}")
    return 0


def _jsonable(obj):
    """What json.dumps cannot write itself: numpy arrays and scalars."""
    return obj.tolist()


def _cmd_demo(args, console):
    import time

    from .demo import run_demo, train_pipeline
    from .report import prepare_report_folder, write_demo_folder

    t0 = time.perf_counter()
    out = prepare_report_folder(args.output, force=args.force)
    if args.train:
        console.info("training LFHFVAEDetector on the bundled real clips (minutes) ...")
        with contextlib.redirect_stdout(sys.stderr):  # skorch's epoch table: not a result
            # one line an epoch (a log gets no colours nor batch bars)
            verbose = int(not console.quiet)
            pipeline = train_pipeline(
                random_state=args.seed, max_epochs=args.epochs, verbose=verbose
            )
        model_name = f"an LFHFVAEDetector trained now (random_state={args.seed})"
    else:
        pipeline = _load_model(args)
        model_name = (
            f"the pretrained {type(pipeline[-1]).__name__}"
            if args.model is None
            else f"the {type(pipeline[-1]).__name__} of {args.model}"
        )
    console.info(f"scoring the demo clips with {model_name} ...")
    result = run_demo(
        pipeline,
        model_name=model_name,
        baselines=not args.no_baselines,
        random_state=args.seed,
    )
    console.out(result.summary())
    console.out(result.table)
    console.out("\n" + result.legend())
    write_demo_folder(out, result, fps=_frame_rate(pipeline))
    console.out(f"\nreport: {out / 'index.html'} ({time.perf_counter() - t0:.0f} s)")
    return 0


# -- the parser ------------------------------------------------------------------------------


def _epilog(text):
    return "examples:\n" + textwrap.indent(textwrap.dedent(text).strip("\n"), "  ")


def _whole(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _jobs(text):
    value = _whole(text)
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1 (or -1: all cores), got {value}")
    return value


def _count_of(what):
    """An argparse type: a whole number of ``what``, at least 1."""

    def count(text):
        value = _whole(text)
        if value < 1:
            raise argparse.ArgumentTypeError(f"expected a number of {what} >= 1, got {value}")
        return value

    return count


_epochs, _threads = _count_of("epochs"), _count_of("threads")


def _number(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _fraction(text):
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {value:g}")
    return value


def _common_options(default):
    """--debug and --quiet, accepted before and after the subcommand.

    The subcommands' copies default to SUPPRESS, so that ``lipanomaly --debug score ...``
    is not reset to False by the subcommand's own default.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=default, help="show the traceback of an error"
    )
    common.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="no progress bars or notes"
    )
    return common


def _add_model_option(p, default="face"):
    p.add_argument(
        "-m",
        "--model",
        metavar="DIR",
        help=f"model folder, or a pretrained model: face, lfhf (default: {default})",
    )


def _add_input_options(p):
    """Options of the subcommands that read many videos / track files."""
    p.add_argument("-j", "--jobs", type=_jobs, default=1, help="inputs in parallel")
    p.add_argument("-r", "--recursive", action="store_true", help="look into sub-folders")
    p.add_argument("--cache", metavar="DIR", default=None, help="landmark cache folder")


def build_parser():
    """The argument parser of the ``lipanomaly`` command."""
    common = _common_options(False)
    sub_common = _common_options(argparse.SUPPRESS)

    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Tell a live talking face from a spoofed or generated one by how the lips move. "
            "One-class: trained on real clips only."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
        epilog=_epilog(
            """
            lipanomaly demo                          # the method on the bundled data
            lipanomaly score suspect.mp4             # verdict with the pretrained model
            lipanomaly extract videos/ -o tracks/ --jobs 2
            lipanomaly fit tracks/ -o my-model/
            lipanomaly score --model my-model/ clips/ --json

            exit status: 0 success, 1 an input failed (one line per failed input on stderr;
            the other inputs are still processed), 2 bad usage. --debug shows tracebacks.
            """
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(name, help_, epilog):
        p = sub.add_parser(
            name,
            help=help_,
            description=help_,
            parents=[sub_common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=_epilog(epilog),
        )
        p.set_defaults(parser=p)  # usage errors print this subcommand's usage
        return p

    p = add(
        "extract",
        "Run MediaPipe FaceMesh over videos and write one track file (.npz) per video.",
        """
        lipanomaly extract interview.mp4 -o tracks/
        lipanomaly extract videos/ -o tracks/ --jobs 4 --recursive
        Track files keep the raw FaceMesh points: later commands read them without
        running FaceMesh again. An existing track file is kept unless --force.
        """,
    )
    p.add_argument("inputs", nargs="+", metavar="VIDEO", help="video files or folders of videos")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for track files")
    p.add_argument("-j", "--jobs", type=_jobs, default=1, help="videos in parallel")
    p.add_argument("-r", "--recursive", action="store_true", help="look into sub-folders")
    p.add_argument("--force", action="store_true", help="redo videos whose track file exists")
    p.set_defaults(func=_cmd_extract)

    p = add(
        "fit",
        "Train a detector on real clips (and known fakes) and save it.",
        """
        lipanomaly fit tracks/ -o my-model/
        lipanomaly fit real1.mp4 real2.mp4 tracks/ -o my-model/ --epochs 40 --seed 1
        lipanomaly fit landmarks/ wild/ modern/ -r --with-fakes -o my-model/
        Without --with-fakes, track files labelled "fake" are left out and the detector
        learns from real clips only (--detector lfhf, the default: the lip-motion VAE;
        --detector face: whole-face motion). With --with-fakes, the face-motion detector
        also learns from them, each generator family (the track's 'generator') weighing
        as one. The model folder is what `lipanomaly score --model` and
        `lipanomaly.persistence.pretrained.load_pipeline` read.
        """,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="real videos, track files, folders")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="model folder to write")
    p.add_argument("--epochs", type=_epochs, default=None, help="maximum training epochs")
    p.add_argument("--seed", type=int, default=0, help="random_state of the detector (0)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="torch device")
    p.add_argument(
        "--threads",
        type=_threads,
        default=1,
        help="torch CPU threads (1: bit-reproducible, and not stalled by other work)",
    )
    p.add_argument(
        "--detector",
        choices=("lfhf", "face"),
        default=None,
        help="lfhf (lip-motion VAE, one-class; the default) or face (whole-face motion)",
    )
    p.add_argument(
        "--with-fakes",
        action="store_true",
        help="learn from the track files labelled fake too (the face detector)",
    )
    _add_input_options(p)
    p.add_argument(
        "--skip-errors", action="store_true", help="train on the inputs that could be read"
    )
    p.add_argument("--force", action="store_true", help="replace an existing model folder")
    p.set_defaults(func=_cmd_fit)

    p = add(
        "score",
        "Score videos or track files: verdict, score, threshold and window scores per clip.",
        """
        lipanomaly score suspect.mp4
        lipanomaly score clips/ --json > scores.json
        lipanomaly score --model my-model/ a.mp4 b.npz --plot figures/
        lipanomaly score clips/ --contamination 0.05
        A clip is "spoof" when its score (higher = more live) is below the threshold
        (the model's: the 20th percentile of its real validation clips' scores). Its
        p-value is (1 + k) / (n + 1), k of the n real validation clips scoring at most
        the clip: a live clip like them gets p <= a with probability at most a. Times are
        seconds of the video. A folder holding a video and its track file scores the
        track file.
        """,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="videos, track files or folders")
    _add_model_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON array of results")
    p.add_argument("--plot", metavar="DIR", default=None, help="write a score figure per clip")
    rule = p.add_mutually_exclusive_group()
    rule.add_argument("--threshold", type=_number, metavar="SCORE", help="spoof below this score")
    rule.add_argument(
        "--contamination", type=_fraction, metavar="F", help="share of real clips called spoof"
    )
    _add_input_options(p)
    p.add_argument(
        "--reference", action="append", metavar="INPUT", help="calibrate on these first (repeat)"
    )
    p.add_argument(
        "--skip-errors", action="store_true", help="calibrate on the references that can be used"
    )
    p.add_argument("--force", action="store_true", help="write into a non-empty --plot folder")
    p.set_defaults(func=_cmd_score)

    p = add(
        "calibrate",
        "Calibrate a model's scoring on your own genuine clips (no training) and save it.",
        """
        lipanomaly calibrate me_1.mp4 me_2.mp4 me_3.mp4 -o my-model/
        lipanomaly score --model my-model/ suspect.mp4
        Fewer than 10 clips re-centre the scoring toward them; from 10 on it is fitted
        anew on them, threshold included (docs/guide/calibration.md). Track files
        labelled "fake" are left out, the same file twice counts once, and a reference
        that cannot be used (unreadable, a still face ...) stops the command unless
        --skip-errors. The model's notes (DATA_NOTICE.md, TRAINING.json) are kept.
        """,
    )
    p.add_argument("references", nargs="+", metavar="INPUT", help="genuine videos, tracks, folders")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="model folder to write")
    _add_model_option(p, default="lfhf")
    _add_input_options(p)
    p.add_argument(
        "--skip-errors", action="store_true", help="calibrate on the references that can be used"
    )
    p.add_argument("--force", action="store_true", help="replace an existing model folder")
    p.set_defaults(func=_cmd_calibrate)

    p = add(
        "evaluate",
        "Measure a detector on real and fake inputs: AUC, EER, APCER/BPCER, plots.",
        """
        lipanomaly evaluate --real real/ --fake fakes/
        lipanomaly evaluate --model my-model/ --real r1.npz r2.npz --fake f.npz --plot eval/
        The fake family of a track file is its `generator` (or --family).
        """,
    )
    p.add_argument("--real", nargs="+", required=True, metavar="INPUT", help="real inputs")
    p.add_argument("--fake", nargs="+", required=True, metavar="INPUT", help="fake inputs")
    _add_model_option(p)
    p.add_argument("--family", default=None, help="generator family of every fake input")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--plot", metavar="DIR", default=None, help="write ROC and score figures")
    _add_input_options(p)
    p.add_argument("--force", action="store_true", help="replace an existing --plot folder")
    p.set_defaults(func=_cmd_evaluate)

    p = add(
        "demo",
        "Score the bundled demo clips with the pretrained model and write a report.",
        """
        lipanomaly demo                       # report in ./lipanomaly-report/
        lipanomaly demo -o report/ --no-baselines
        lipanomaly demo --train               # retrain from scratch first (minutes)
        Real clips of the demo come from recording sources the pretrained model never
        saw; the fakes from three generator families (lipanomaly/data/DATA_NOTICE.md).
        """,
    )
    p.add_argument(
        "-o", "--output", default="lipanomaly-report", metavar="DIR", help="report folder"
    )
    p.add_argument("--train", action="store_true", help="retrain the detector from scratch")
    p.add_argument(
        "-m", "--model", metavar="DIR", default=None, help="score with this model folder instead"
    )
    p.add_argument("--epochs", type=_epochs, default=None, help="epochs with --train")
    p.add_argument("--seed", type=int, default=0, help="random_state with --train (0)")
    p.add_argument("--no-baselines", action="store_true", help="skip the baseline detectors")
    p.add_argument(
        "--force", action="store_true", help="write into a folder that is not a previous report"
    )
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv=None):
    """Run the ``lipanomaly`` command; return its exit code.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    code : int
        0 success, 1 a failed input (each reported on one line), 2 bad usage.
    """
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if unknown:  # the subcommand's usage, not the top-level one
            args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exc:  # --help, --version (0) or a usage error (2)
        return int(exc.code or 0)
    console = Console(quiet=args.quiet, debug=args.debug)
    from threadpoolctl import threadpool_limits

    try:
        # the numpy work of scoring is many small matrices (one SVD per window): a
        # multi-threaded BLAS only adds overhead there (10x slower measured on a busy
        # 2-core machine), so the command runs numpy's BLAS single-threaded
        with threadpool_limits(limits=1, user_api="blas"), console.python_warnings():
            code = args.func(args, console)
    except (Failure, LipAnomalyError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, the traceback with --debug
        if args.debug:
            traceback.print_exc()
        print(
            f"{PROG}: error: unexpected {type(exc).__name__}: {one_line(exc)} "
            "(run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
    if console.n_failed:
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
