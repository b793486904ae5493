"""The ``lipanomaly`` command: extract, fit, score, evaluate, demo.

Every subcommand has ``--help`` with examples. Exit codes: 0 success, 1 an input failed
(each failed input is reported on one line, naming the file and the problem; the other inputs
are still processed), 2 bad usage. ``--debug`` shows the traceback of an error.

The command is a thin layer over the library: :class:`~lipanomaly.LipLandmarkExtractor`,
:class:`~lipanomaly.LFHFVAEDetector`, :func:`lipanomaly.load_pretrained`,
:mod:`lipanomaly.evaluation`. Heavy modules are imported by the subcommand that needs them,
so ``lipanomaly --help`` is instant.
"""

import argparse
import contextlib
import json
import os
import re
import sys
import textwrap
import traceback
import warnings
from pathlib import Path

import numpy as np

from ._version import __version__
from .exceptions import InputError, LipAnomalyError

__all__ = ["main"]

PROG = "lipanomaly"
#: File name endings read as track files; every other file is read as a video.
TRACK_EXTENSIONS = (".npz",)


class _Failure(Exception):
    """An error to report on one line and exit with 1 (bad input, unreadable model ...)."""


# -- output helpers ---------------------------------------------------------------------------


class _Console:
    """Where messages go: results on stdout, progress, notes and errors on stderr."""

    def __init__(self, quiet=False, debug=False):
        self.quiet = quiet
        self.debug = debug
        self.n_failed = 0

    def out(self, text=""):
        print(text, file=sys.stdout, flush=True)

    def info(self, text):
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    def warn(self, text):
        print(f"{PROG}: warning: {_one_line(text)}", file=sys.stderr, flush=True)

    def fail(self, text):
        """Report one failed input (the command goes on with the others)."""
        self.n_failed += 1
        print(f"{PROG}: error: {_one_line(text)}", file=sys.stderr, flush=True)

    @property
    def progress(self):
        """Whether to draw progress bars: on a terminal, unless --quiet."""
        return not self.quiet and sys.stderr.isatty()


def _one_line(text):
    return " ".join(str(text).split())


def _input_message(exc, path):
    """One line that names ``path`` and what is wrong with it, from an extraction error.

    The extractor's errors for a list of inputs look like ``"1 of 1 inputs gave no result
    (...):\n  X[0]: clip.mp4: no such video file"``: keep the last line's reason, without
    the ``X[0]`` of the one-element list it was given.
    """
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    reason = lines[-1] if lines else type(exc).__name__
    reason = re.sub(r"^X\[\d+\](?: \([^)]*\))?:\s*", "", reason)
    if str(path) not in reason:
        reason = f"{path}: {reason}"
    return reason


def _format_table(header, rows, *, align=None):
    """A plain-text table: columns padded to their widest cell, numbers right-aligned."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    align = align or ["<"] + [">"] * (len(header) - 1)
    lines = []
    for j, row in enumerate(cells):
        lines.append("  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _check_new_path(path, force, what="output"):
    """Refuse to replace an existing file or folder unless --force."""
    path = Path(path)
    if path.exists() and not force:
        raise _Failure(f"{path}: {what} exists already; pass --force to replace it")
    return path


# -- inputs -------------------------------------------------------------------------------------


def _video_extensions():
    from .extraction import VIDEO_EXTENSIONS

    return VIDEO_EXTENSIONS


def _expand(paths, console, *, tracks=True, recursive=False):
    """Files named on the command line, with folders replaced by the videos / tracks in them.

    Missing paths and empty folders are reported as failed inputs and left out.
    """
    exts = tuple(_video_extensions()) + (TRACK_EXTENSIONS if tracks else ())
    files = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = p.rglob("*") if recursive else p.iterdir()
            inside = sorted(str(f) for f in found if f.is_file() and f.name.lower().endswith(exts))
            if not inside:
                console.fail(f"{p}: no video or track file in this folder (looked for {exts})")
            files.extend(inside)
        elif p.is_file():
            files.append(str(p))
        else:
            console.fail(f"{p}: no such file or folder")
    return files


@contextlib.contextmanager
def _native_stderr_silenced(active=True):
    """Send file descriptor 2 to the null device for a while.

    MediaPipe's C++ code (TensorFlow Lite, absl logging) writes INFO and WARNING lines
    straight to the process's stderr, past Python's ``sys.stderr``, and no environment
    variable silences all of them; on the command line they would bury the one-line
    messages. Nothing of ours is printed while this is active (results and warnings are
    returned and printed afterwards); ``--debug`` keeps the native output.
    """
    if not active:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real file descriptor (e.g. an embedded interpreter)
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _extract_one(extractor, path, quiet_native=True):
    """Extract one input; return (clip, warnings, error message)."""
    with warnings.catch_warnings(record=True) as caught, _native_stderr_silenced(quiet_native):
        warnings.simplefilter("always")
        try:
            clip = extractor.transform([path])[0]
            error = None
        except InputError as exc:
            clip, error = None, _input_message(exc, path)
        except Exception as exc:  # a decoder crash must not stop the others
            clip, error = None, f"{path}: {type(exc).__name__}: {exc}"
    from .extraction import ExtractionWarning

    # the extractor's own notes (dropped frames, split clips); third-party deprecation
    # warnings (protobuf, once per frame) are not the user's business
    notes = [
        re.sub(r"^X\[\d+\] \(([^)]*)\):", r"\1:", str(w.message))
        for w in caught
        if issubclass(w.category, ExtractionWarning)
    ]
    return clip, list(dict.fromkeys(notes)), error


def _extract_all(extractor, files, console, *, n_jobs=1, desc="extracting"):
    """Lip sequences of ``files``, one at a time so that each bad file is reported alone.

    Returns the list of (file, clip) that worked, in input order.
    """
    from joblib import Parallel, delayed
    from sklearn.base import clone
    from tqdm import tqdm

    single = clone(extractor).set_params(n_jobs=1, errors="raise", verbose=0)
    jobs = (delayed(_extract_one)(single, f, not console.debug) for f in files)
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    bar = tqdm(results, total=len(files), desc=desc, unit="file", disable=not console.progress)
    good = []
    for path, (clip, notes, error) in zip(files, bar):
        for note in notes:
            console.warn(note)
        if error is not None:
            console.fail(error)
        else:
            good.append((path, clip))
    return good


# -- models ----------------------------------------------------------------------------------


def _load_model(args):
    """The fitted pipeline of ``--model``, or the pretrained one."""
    from .pretrained import load_pipeline, load_pretrained

    kw = {"n_jobs": 1, "cache_dir": getattr(args, "cache", None)}
    try:
        if args.model is None:
            return load_pretrained(**kw)
        return load_pipeline(args.model, **kw)
    except LipAnomalyError as exc:
        raise _Failure(str(exc)) from exc


def _score_with_windows(detector, clips):
    """Clip scores and window scores from one pass over the windows.

    ``score_windows`` gives every window's score; aggregated per clip with the detector's
    ``aggregation`` they are ``score_samples`` (the detector documents it), so the network
    runs once, not once per method.

    Returns
    -------
    scores : ndarray of shape (n_clips,)
    windows : list of lists of (start_s, end_s, score), one list per clip
    """
    from .windows import aggregate

    table = detector.score_windows(clips)
    index = np.asarray(table["clip_index"])
    scores = aggregate(table["score"], index, len(clips), how=detector.aggregation)
    fps, length = float(detector.fs), int(detector.window)
    windows = [[] for _ in clips]
    for i, start, score in zip(index, table["start"], table["score"]):
        end = min(int(start) + length, len(clips[i]))
        windows[int(i)].append((int(start) / fps, end / fps, float(score)))
    return scores, windows


# -- subcommands -------------------------------------------------------------------------------


def _cmd_extract(args, console):
    from joblib import Parallel, delayed
    from tqdm import tqdm

    out_dir = Path(args.output)
    exts = tuple(_video_extensions())
    jobs = []
    for raw in args.inputs:
        p = Path(raw)
        if p.is_dir():
            found = p.rglob("*") if args.recursive else p.iterdir()
            videos = sorted(f for f in found if f.is_file() and f.name.lower().endswith(exts))
            if not videos:
                console.fail(f"{p}: no video file in this folder (looked for {', '.join(exts)})")
            jobs.extend((v, out_dir / (str(v.relative_to(p)) + ".npz")) for v in videos)
        elif p.is_file():
            jobs.append((p, out_dir / (p.name + ".npz")))
        else:
            console.fail(f"{p}: no such file or folder")
    todo = []
    for video, target in jobs:
        if target.exists() and not args.force:
            console.warn(f"{target}: exists already, {video} skipped (pass --force to redo it)")
        else:
            todo.append((video, target))
    results = Parallel(n_jobs=args.jobs, return_as="generator")(
        delayed(_write_track)(str(v), str(t), not console.debug) for v, t in todo
    )
    bar = tqdm(
        results, total=len(todo), desc="FaceMesh", unit="video", disable=not console.progress
    )
    n_ok = 0
    for (video, target), (error, found) in zip(todo, bar):
        if error:
            console.fail(error)
            continue
        n_ok += 1
        console.info(f"{video} -> {target} (face in {found:.0%} of frames)")
    console.info(f"{n_ok} track file(s) written to {out_dir}")
    return 0


def _write_track(video, target, quiet_native=True):
    """Worker of ``extract``: one video to one track file; errors are returned."""
    from .datasets import Track, write_track
    from .video import read_video_track

    try:
        with _native_stderr_silenced(quiet_native):
            track = read_video_track(video)
        write_track(
            target,
            Track(
                track.landmarks,
                fps=track.fps,
                width=track.width,
                height=track.height,
                origin=os.path.basename(video),
            ),
            overwrite=True,
        )
        return None, float(track.face_found.mean())
    except InputError as exc:
        return _one_line(exc), 0.0
    except OSError as exc:
        return f"{target}: cannot be written ({exc})", 0.0


def _cmd_fit(args, console):
    from sklearn.pipeline import Pipeline

    from .datasets import read_track
    from .detector import LFHFVAEDetector
    from .extraction import LipLandmarkExtractor
    from .pretrained import save_pipeline

    out = _check_new_path(args.output, args.force, "model folder")
    files = _expand(args.inputs, console, recursive=args.recursive)
    real = []
    for f in files:
        if f.lower().endswith(TRACK_EXTENSIONS):
            try:
                label = read_track(f).label
            except InputError as exc:
                console.fail(_input_message(exc, f))
                continue
            if label == "fake":
                console.warn(f"{f}: labelled fake; left out (a one-class model trains on reals)")
                continue
        real.append(f)
    extractor = LipLandmarkExtractor(cache_dir=args.cache)
    clips = _extract_all(extractor, real, console, n_jobs=args.jobs)
    if console.n_failed and not args.skip_errors:
        raise _Failure(
            f"{console.n_failed} input(s) failed (listed above); fix or remove them, or pass "
            "--skip-errors to train on the others"
        )
    if len(clips) < 2:
        raise _Failure(f"fit needs at least 2 real clips, got {len(clips)}")
    params = {"random_state": args.seed, "verbose": 0 if console.quiet else 1}
    if args.epochs is not None:
        params["max_epochs"] = args.epochs
    if args.device is not None:
        params["device"] = args.device
    detector = LFHFVAEDetector(**params)
    console.info(f"training on {len(clips)} real clip(s) ...")
    try:
        with contextlib.redirect_stdout(sys.stderr):  # skorch's epoch table: not a result
            detector.fit([c for _, c in clips])
    except InputError as exc:
        raise _Failure(_one_line(exc)) from exc
    pipeline = Pipeline([("extractor", extractor), ("detector", detector)])
    save_pipeline(pipeline, out, overwrite=args.force)
    console.info(f"model saved to {out}")
    return 0


def _score_records(pipeline, good, console):
    detector = pipeline[-1]
    clips = [c for _, c in good]
    if not clips:
        return []
    try:
        scores, per_window = _score_with_windows(detector, clips)
    except InputError as exc:
        # a clip the detector cannot take (e.g. too short): score them one at a time
        if len(clips) == 1:
            console.fail(_input_message(exc, good[0][0]))
            return []
        records = []
        for item in good:
            records.extend(_score_records(pipeline, [item], console))
        return records
    fps = float(detector.fs)
    threshold = float(detector.offset_)
    records = []
    for (path, clip), s, w in zip(good, scores, per_window):
        d = s - threshold  # decision_function
        records.append(
            {
                "path": str(path),
                "label": "live" if d >= 0 else "spoof",
                "prediction": 1 if d >= 0 else -1,
                "score": float(s),
                "decision": float(d),
                "threshold": threshold,
                "n_frames": len(clip),
                "duration_s": round(len(clip) / fps, 3),
                "windows": [
                    {"start_s": round(a, 3), "end_s": round(b, 3), "score": v} for a, b, v in w
                ],
            }
        )
    return records


def _cmd_score(args, console):
    pipeline = _load_model(args)
    files = _expand(args.inputs, console, recursive=args.recursive)
    plot_dir = None
    if args.plot is not None:
        plot_dir = Path(args.plot)
        if plot_dir.exists() and any(plot_dir.iterdir()) and not args.force:
            raise _Failure(f"{plot_dir}: folder exists and is not empty; pass --force to use it")
    good = _extract_all(pipeline[0], files, console, n_jobs=args.jobs)
    records = _score_records(pipeline, good, console)
    if args.json:
        console.out(json.dumps(records, indent=2))
    elif records:
        rows = [
            (
                r["path"],
                r["label"].upper(),
                f"{r['score']:.3f}",
                f"{r['threshold']:.3f}",
                f"{r['decision']:+.3f}",
                f"{r['duration_s']:.1f}",
                len(r["windows"]),
                _spoof_windows(r),
            )
            for r in records
        ]
        console.out(
            _format_table(
                [
                    "file",
                    "verdict",
                    "score",
                    "threshold",
                    "margin",
                    "seconds",
                    "windows",
                    "spoof windows",
                ],
                rows,
            )
        )
        console.out(
            "\nscore: higher = more live; a clip is a spoof when score < threshold "
            "(margin = score - threshold < 0)."
        )
    if plot_dir is not None and records:
        from .report import plot_score_timeline

        plot_dir.mkdir(parents=True, exist_ok=True)
        detector = pipeline[-1]
        for r in records:
            name = Path(r["path"]).name + ".png"
            plot_score_timeline(r, plot_dir / name, window=detector.window, fs=detector.fs)
        console.info(f"{len(records)} figure(s) written to {plot_dir}")
    return 0


def _spoof_windows(record):
    bad = [w for w in record["windows"] if w["score"] < record["threshold"]]
    return f"{len(bad)}/{len(record['windows'])}"


def _cmd_evaluate(args, console):
    from . import evaluation
    from .datasets import read_track

    pipeline = _load_model(args)
    real_files = _expand(args.real, console, recursive=args.recursive)
    fake_files = _expand(args.fake, console, recursive=args.recursive)
    good_real = _extract_all(pipeline[0], real_files, console, n_jobs=args.jobs, desc="real")
    good_fake = _extract_all(pipeline[0], fake_files, console, n_jobs=args.jobs, desc="fake")
    if not good_real or not good_fake:
        raise _Failure("evaluate needs at least one real and one fake clip that can be read")
    families = []
    for path, _ in good_fake:
        family = args.family
        if family is None and path.lower().endswith(TRACK_EXTENSIONS):
            family = read_track(path).generator
        families.append(family or "fake")
    detector = pipeline[-1]
    clips = [c for _, c in good_real] + [c for _, c in good_fake]
    y = np.r_[np.ones(len(good_real), int), -np.ones(len(good_fake), int)]
    generators = np.array(["real"] * len(good_real) + families)
    scores = detector.score_samples(clips)
    result = evaluation.evaluate_scores(
        y, scores, generators=generators, threshold=float(detector.offset_), random_state=0
    )
    if args.json:
        console.out(json.dumps(_jsonable(result), indent=2))
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
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "to_dict"):
        return _jsonable(obj.to_dict())
    return obj


def _cmd_demo(args, console):
    import time

    from sklearn.pipeline import Pipeline

    from .datasets import load_demo

    t0 = time.perf_counter()
    out = _report_folder(args.output, args.force)
    train, demo = load_demo(split="train"), load_demo(split="demo")
    if args.train:
        from .detector import LFHFVAEDetector
        from .extraction import LipLandmarkExtractor

        extractor = LipLandmarkExtractor()
        params = {"random_state": args.seed, "verbose": 0 if console.quiet else 1}
        if args.epochs is not None:
            params["max_epochs"] = args.epochs
        X_train = extractor.transform(train.tracks)
        console.info(f"training LFHFVAEDetector on {len(X_train)} bundled real clips ...")
        with contextlib.redirect_stdout(sys.stderr):  # skorch's epoch table: not a result
            detector = LFHFVAEDetector(**params).fit(X_train)
        pipeline = Pipeline([("extractor", extractor), ("detector", detector)])
        model_name = f"an LFHFVAEDetector trained now (random_state={args.seed})"
    else:
        pipeline = _load_model(args)
        model_name = (
            "the pretrained LFHFVAEDetector"
            if args.model is None
            else f"the {type(pipeline[-1]).__name__} of {args.model}"
        )
        X_train = None
    extractor, detector = pipeline[0], pipeline[-1]
    X = extractor.transform(demo.tracks)
    console.info(f"scoring {len(X)} demo clips with {model_name} ...")
    scores, windows = _score_with_windows(detector, X)
    results = {"LFHFVAEDetector": (scores, float(detector.offset_))}
    if not args.no_baselines:
        if X_train is None:
            X_train = extractor.transform(train.tracks)
        for name, model in _baselines(args.seed).items():
            model.fit(X_train)
            results[name] = _scores_and_threshold(model, X)
    # real clips of the recording sources the model was trained on (people it never saw),
    # and of new recording sources: false alarms differ, so every metric is given for both
    known = np.isin(demo.sources, np.unique(train.sources)) & (demo.y == 1)
    groups = {"known set-ups": known, "new set-ups": (demo.y == 1) & ~known}
    table, metrics = _demo_table(demo.y, demo.generators, groups, results)
    fakes = demo.y == -1
    console.out(
        f"lipanomaly demo: {int(known.sum())} real clips of people the model never saw, "
        f"recorded like its training clips ({_names(demo.sources[known])}); "
        f"{int(groups['new set-ups'].sum())} real clips of new recording set-ups "
        f"({_names(demo.sources[groups['new set-ups']])}); {int(fakes.sum())} fakes "
        f"({_names(demo.generators[fakes])}).\n"
    )
    console.out(table)
    console.out(
        "\nAUC [95% bootstrap interval]: each fake family against the real clips of known or "
        "of new set-ups (1 = perfect ranking, 0.5 = chance). APCER: fakes called live; "
        "BPCER: reals called spoof; both at each detector's own threshold (T80 for "
        "LFHFVAEDetector)."
    )
    _write_demo_folder(out, demo, X, detector, windows, results, table, metrics, model_name, groups)
    console.out(f"\nreport: {out / 'index.html'} ({time.perf_counter() - t0:.0f} s)")
    return 0


_REPORT_MARK = ".lipanomaly-report"


def _report_folder(path, force):
    """The demo's report folder: new, empty, or a previous demo report (replaced).

    A folder holding anything else is left alone unless --force, so that ``make demo``
    can run again and again without ever replacing a user's files.
    """
    path = Path(path)
    if path.exists():
        previous = (path / _REPORT_MARK).is_file()
        empty = path.is_dir() and not any(path.iterdir())
        if not (previous or empty or force):
            raise _Failure(
                f"{path}: exists and is not a lipanomaly demo report; pass --force to write "
                "into it, or choose another folder with -o"
            )
    path.mkdir(parents=True, exist_ok=True)
    (path / _REPORT_MARK).write_text("written by `lipanomaly demo`; the next run replaces it\n")
    return path


def _threshold_note(detector):
    valid = getattr(detector, "validation_scores_", None)
    if valid is None:
        return "its offset_."
    if getattr(detector, "threshold", "quantile") != "quantile":
        rule = f"Tukey's fence (Q1 - {detector.iqr_factor:g} IQR) of the scores"
    else:
        rule = f"the {100 * detector.contamination:g}th percentile of the scores"
    return (
        f"{rule} of its {len(valid)} "
        f"real validation clips (range {np.min(valid):.2f} to {np.max(valid):.2f}); with "
        "so few clips it moves with every unusual one."
    )


def _names(values):
    return ", ".join(sorted({str(v) for v in values}))


def _demo_table(y, families, groups, results):
    """Per (fake family, detector): AUC and BPCER against each group of reals, APCER.

    Returns the text table and ``{(detector, group): evaluate_scores result}``.
    """
    from .evaluation import evaluate_scores

    fakes = y == -1
    metrics = {}
    for name, (s, t) in results.items():
        for group, reals in groups.items():
            keep = reals | fakes
            metrics[name, group] = evaluate_scores(
                y[keep], s[keep], generators=families[keep], threshold=t, random_state=0
            )

    def auc(r):
        lo, hi = r["auc_ci"]
        return f"{r['auc']:.2f} [{lo:.2f}, {hi:.2f}]"

    names = list(groups)
    family_names = sorted(set(families[fakes]))
    rows = []
    for fam in [None, *family_names]:
        for j, det in enumerate(results):
            parts = []
            for g in names:
                r = metrics[det, g]
                parts.append(r if fam is None else r["per_family"][fam])
            first = metrics[det, names[0]]
            n_fake = first["n_spoof"] if fam is None else parts[0]["n"]
            rows.append(
                (
                    ("all fakes" if fam is None else fam) if j == 0 else "",
                    n_fake if j == 0 else "",
                    det,
                    *[auc(p) for p in parts],
                    f"{parts[0]['apcer']:.2f}",
                    *[f"{metrics[det, g]['bpcer']:.2f}" for g in names],
                )
            )
    header = [
        "fakes",
        "n",
        "detector",
        *[f"AUC vs {g}" for g in names],
        "APCER",
        *[f"BPCER {g}" for g in names],
    ]
    align = ["<", ">", "<"] + [">"] * (len(header) - 3)
    return _format_table(header, rows, align=align), metrics


def _scores_and_threshold(model, X):
    """(score_samples, threshold) of a detector or of a pipeline ending in one.

    For the package's detectors and for scikit-learn's ``OneClassSVM`` and
    ``IsolationForest``, ``decision_function = score_samples - offset_``.
    """
    scores = np.asarray(model.score_samples(X), dtype=np.float64)
    final = model[-1] if hasattr(model, "steps") else model
    return scores, float(np.ravel(final.offset_)[0])  # OneClassSVM.offset_ has shape (1,)


def _baselines(seed):
    """Quick hand-crafted-feature baselines, fitted on the same real clips (seconds)."""
    from sklearn.ensemble import IsolationForest
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import OneClassSVM

    from .features import LipMotionFeatures

    return {
        "LipMotionFeatures + OneClassSVM": make_pipeline(
            LipMotionFeatures(), StandardScaler(), OneClassSVM(nu=0.2, gamma="scale")
        ),
        "LipMotionFeatures + IsolationForest": make_pipeline(
            LipMotionFeatures(), IsolationForest(contamination=0.2, random_state=seed)
        ),
    }


def _write_demo_folder(
    out, demo, X, detector, windows, results, table, metrics, model_name, groups
):
    """The report folder: figures, per-clip scores (CSV) and index.html."""
    import csv
    import html

    from .report import model_decomposition, plot_clip, write_demo_report

    out.mkdir(parents=True, exist_ok=True)
    scores, threshold = results["LFHFVAEDetector"]
    from .report import write_evaluation_figures

    figures = []
    fakes = demo.y == -1
    for group, reals in groups.items():
        keep = reals | fakes
        figures += write_evaluation_figures(
            out,
            curves={name: (demo.y[keep], r[0][keep]) for name, r in results.items()},
            y=demo.y[keep],
            scores=scores[keep],
            generators=demo.generators[keep],
            threshold=threshold,
            prefix=group.split()[0] + "_",
            label=f"against the real clips of {group}",
        )
    # one fake and one real clip: those with the median score of their class
    for label, name in ((-1, "fake"), (1, "real")):
        idx = np.flatnonzero(demo.y == label)
        i = int(idx[np.argsort(scores[idx])[len(idx) // 2]])
        fs = float(detector.fs)
        verdict = "LIVE" if scores[i] >= threshold else "SPOOF"
        title = (
            f"{name} clip {demo.files[i]} ({demo.generators[i]}, {demo.sources[i]}): {verdict}, "
            f"score {scores[i]:.2f}"
        )
        png = plot_clip(
            out / f"example_{name}.png",
            title=title,
            parts=model_decomposition(detector, X[i]),
            window_scores=[w[2] for w in windows[i]],
            starts=[round(w[0] * fs) for w in windows[i]],
            window=detector.window,
            threshold=threshold,
            fs=fs,
        )
        figures.append((f"One {name} clip (median score of the {name} clips): " + title, png))
    names = list(results)
    from .evaluation import format_table

    tables = [
        f"## {det}, against the real clips of {group}\n\n{format_table(r)}\n"
        for (det, group), r in metrics.items()
    ]
    (out / "metrics.md").write_text("# Metrics of every detector\n\n" + "\n".join(tables))
    with open(out / "scores.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        header = ["file", "label", "family", "source"]
        header += [f"score: {n}" for n in names] + [f"threshold: {n}" for n in names]
        writer.writerow(header)
        for i, f in enumerate(demo.files):
            writer.writerow(
                [
                    f,
                    "real" if demo.y[i] == 1 else "fake",
                    demo.generators[i],
                    demo.sources[i],
                    *[f"{results[n][0][i]:.6g}" for n in names],
                    *[f"{results[n][1]:.6g}" for n in names],
                ]
            )
    known, new = groups["known set-ups"], groups["new set-ups"]
    intro = (
        f"<p><b>{html.escape(model_name[0].upper() + model_name[1:])}</b> scored the demo split of "
        "the data bundled in the package (<code>lipanomaly/data/DATA_NOTICE.md</code>): "
        f"{int(known.sum())} real clips of people it never saw, recorded like its training "
        f"clips ({html.escape(_names(demo.sources[known]))}: <i>known set-ups</i>), "
        f"{int(new.sum())} real clips of recording sources it never saw "
        f"({html.escape(_names(demo.sources[new]))}: <i>new set-ups</i>), and "
        f"{int((demo.y == -1).sum())} fakes of "
        f"{html.escape(_names(demo.generators[demo.y == -1]))}. Every metric is given "
        "against each group of real clips: the gap between the two is what a change of "
        "camera, resolution or speaking style costs. The baselines are fitted on the same "
        "real training clips as the pretrained model.</p>"
        f"<p>The detector's threshold is {threshold:.3f}: {_threshold_note(detector)}</p>"
        "<p class='note'>Score: higher = more live; a clip is a spoof when its score is "
        "below the detector's threshold. APCER: share of fakes called live; BPCER: share "
        "of reals called spoof. The sets are small: read differences of a few clips as "
        "noise.</p>"
    )
    sections = [
        ("What was run", intro),
        ("Results per generator family", f"<pre>{html.escape(table)}</pre>"),
        (
            "Files",
            "<p><a href='scores.csv'>scores.csv</a>: every clip's score under every "
            "detector, with the thresholds; <a href='metrics.md'>metrics.md</a>: every "
            "metric with bootstrap confidence intervals (ISO/IEC 30107-3 rates, BPCER at "
            "APCER 5 % and 10 %).</p>",
        ),
    ]
    write_demo_report(out, sections=sections, figures=figures)


# -- the parser ------------------------------------------------------------------------------


def _epilog(text):
    return "examples:\n" + textwrap.indent(textwrap.dedent(text).strip("\n"), "  ")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1 (or -1: all cores), got {value}")
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


def _add_model_option(p):
    p.add_argument(
        "-m",
        "--model",
        metavar="DIR",
        default=None,
        help="model folder (default: the pretrained model)",
    )


def _add_input_options(p):
    """Options of the subcommands that read many videos / track files."""
    p.add_argument("-j", "--jobs", type=_positive_int, default=1, help="inputs in parallel")
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
        return sub.add_parser(
            name,
            help=help_,
            description=help_,
            parents=[sub_common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=_epilog(epilog),
        )

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
    p.add_argument("-j", "--jobs", type=_positive_int, default=1, help="videos in parallel")
    p.add_argument("-r", "--recursive", action="store_true", help="look into sub-folders")
    p.add_argument("--force", action="store_true", help="redo videos whose track file exists")
    p.set_defaults(func=_cmd_extract)

    p = add(
        "fit",
        "Train a detector on real clips (videos, track files or folders) and save it.",
        """
        lipanomaly fit tracks/ -o my-model/
        lipanomaly fit real1.mp4 real2.mp4 tracks/ -o my-model/ --epochs 40 --seed 1
        Track files labelled "fake" are left out. The model folder is what
        `lipanomaly score --model` and `lipanomaly.pretrained.load_pipeline` read.
        """,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="real videos, track files, folders")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="model folder to write")
    p.add_argument("--epochs", type=_positive_int, default=None, help="maximum training epochs")
    p.add_argument("--seed", type=int, default=0, help="random_state of the detector (0)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="torch device")
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
        A clip is "spoof" when its score (higher = more live) is below the model's
        threshold (T80 of real validation clips). Window times are seconds from the
        start of the analysed face segment.
        """,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="videos, track files or folders")
    _add_model_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON array of results")
    p.add_argument("--plot", metavar="DIR", default=None, help="write a score figure per clip")
    _add_input_options(p)
    p.add_argument("--force", action="store_true", help="write into a non-empty --plot folder")
    p.set_defaults(func=_cmd_score)

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
    p.add_argument("--epochs", type=_positive_int, default=None, help="epochs with --train")
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
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2)
        return int(exc.code or 0)
    console = _Console(quiet=args.quiet, debug=args.debug)
    from threadpoolctl import threadpool_limits

    try:
        # the numpy work of scoring is many small matrices (one SVD per window): a
        # multi-threaded BLAS only adds overhead there (10x slower measured on a busy
        # 2-core machine), so the command runs numpy's BLAS single-threaded
        with threadpool_limits(limits=1, user_api="blas"):
            code = args.func(args, console)
    except (_Failure, LipAnomalyError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, the traceback with --debug
        if args.debug:
            traceback.print_exc()
        print(
            f"{PROG}: error: unexpected {type(exc).__name__}: {_one_line(exc)} "
            "(run again with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1
    if console.n_failed:
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
