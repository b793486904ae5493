"""``lipanomaly score``: verdict, score, p-value and window scores per clip."""

import json
import textwrap
from pathlib import Path

from ...exceptions import InputError
from ..common import calibrated, frame_rate, load_model
from ..console import Failure, expand_inputs, extract_all, named

__all__ = ["run"]


def _score_records(pipeline, good, console, threshold):
    """One :func:`lipanomaly.app.report.score_record` per clip that can be scored."""
    from ..report import score_record

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
    fps = frame_rate(pipeline)
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


def run(args, console):
    """Score the inputs; print a table (or JSON) and write the figures of ``--plot``."""
    files = expand_inputs(args.inputs, console, recursive=args.recursive)
    plot_dir = None
    if args.plot is not None:
        plot_dir = Path(args.plot)
        if plot_dir.exists() and any(plot_dir.iterdir()) and not args.force:
            raise Failure(f"{plot_dir}: folder exists and is not empty; pass --force to use it")
    if not files:  # answered before the model loads
        return 1
    pipeline = load_model(args)
    if args.reference:
        pipeline, _ = calibrated(
            pipeline, args.reference, console, args.recursive, args.skip_errors
        )
    detector = pipeline[-1]
    threshold = _threshold(args, detector)
    good = extract_all(pipeline[0], files, console, n_jobs=args.jobs, desc="scoring")
    records = _score_records(pipeline, good, console, threshold)
    from ..report import threshold_note

    given = None if args.threshold is None and args.contamination is None else threshold
    note = threshold_note(detector, given, contamination=args.contamination)
    if args.json:
        (p_threshold,) = detector.p_values_of([threshold])
        for r in records:
            r.update(threshold_p_value=float(p_threshold), threshold_note=note)
        console.out(json.dumps(records, indent=2))
    elif records:
        _print_table(records, detector, threshold, note, console)
    if plot_dir is not None and records:
        _write_figures(records, pipeline, plot_dir, console)
    return 0


def _print_table(records, detector, threshold, note, console):
    """The table of the records, and how to read it."""
    from ..report import score_table

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


def _write_figures(records, pipeline, plot_dir, console):
    """One figure per record in ``plot_dir``: window scores, or what pushed the verdict."""
    from ..report import figure_names, plot_feature_pushes, plot_score_timeline

    fps = frame_rate(pipeline)
    network = getattr(pipeline[-1], "network_", None)
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
