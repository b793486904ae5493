"""The ``lipanomaly`` command: extract, fit, score, calibrate, evaluate, demo.

Every subcommand has ``--help`` with examples. Exit codes: 0 success, 1 an input failed
(each failed input is reported on one line, naming the file and the problem; the other inputs
are still processed), 2 bad usage. ``--debug`` shows the traceback of an error.

This module is the parser and the exit codes; each subcommand runs in its own module,
``commands/<name>.py`` (``run(args, console)``), over the library's public API and what the
subcommands share (:mod:`lipanomaly.app.common`). A subcommand's module is imported when it
runs, and the library by the function that needs it, so that ``lipanomaly --help`` is
instant.
"""

import argparse
import sys
import textwrap
import traceback

from .. import __version__
from ..exceptions import LipAnomalyError
from .console import PROG, Console, Failure, one_line

__all__ = ["main"]


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
    return parser


def _run(args, console):
    """Run the subcommand ``args.command``; its module is imported now, not before."""
    if args.command == "extract":
        from .commands.extract import run
    elif args.command == "fit":
        from .commands.fit import run
    elif args.command == "score":
        from .commands.score import run
    elif args.command == "calibrate":
        from .commands.calibrate import run
    elif args.command == "evaluate":
        from .commands.evaluate import run
    elif args.command == "demo":
        from .commands.demo import run
    else:  # the parser admits no other
        raise ValueError(f"no subcommand {args.command!r}")
    return run(args, console)


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
            code = _run(args, console)
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
