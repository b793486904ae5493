"""What several subcommands of the ``lipanomaly`` command share: the model of ``--model``,
the checks of a folder to write, the calibration on reference clips (``calibrate``,
``score --reference``) and the clips' frame rate."""

import warnings
from pathlib import Path

from .. import __version__
from ..exceptions import InputError, LipAnomalyError
from ..limits import DEFAULT_FPS
from .console import (
    Failure,
    distinct_files,
    expand_inputs,
    extract_all,
    leave_out_fakes,
    one_line,
)

__all__ = [
    "calibrated",
    "check_model_destination",
    "check_new_path",
    "frame_rate",
    "load_model",
    "model_folder",
]


def check_new_path(path, force, what="output"):
    """Refuse to replace an existing file or folder unless --force."""
    path = Path(path)
    if path.exists() and not force:
        raise Failure(f"{path}: {what} exists already; pass --force to replace it")
    return path


def check_model_destination(path, force):
    """The model folder to write, refused now (not after the work) with the real reason."""
    from ..persistence.serialization import check_destination

    # a folder that no --force may replace (it is not a model) says so first, so that
    # "pass --force" is never offered where --force is refused
    check_destination(path, overwrite=True)
    return check_new_path(path, force, "model folder")


# -- models ----------------------------------------------------------------------------------


def model_folder(args, default=None):
    """The folder of ``--model``: a model folder, or a pretrained model's name (when no such
    folder exists); ``default`` (the default pretrained model) when not given."""
    from ..persistence.pretrained import DEFAULT_PRETRAINED, PRETRAINED_MODELS

    name = args.model or default or DEFAULT_PRETRAINED
    if args.model is None or (name in PRETRAINED_MODELS and not Path(name).exists()):
        return PRETRAINED_MODELS[name]
    return Path(args.model)


def load_model(args, default=None):
    """The fitted pipeline of ``--model`` (a folder or a pretrained name), or the pretrained
    ``default`` one."""
    from ..persistence.pretrained import load_pipeline

    try:
        return load_pipeline(
            model_folder(args, default), n_jobs=1, cache_dir=getattr(args, "cache", None)
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


def calibrated(pipeline, references, console, recursive=False, skip_errors=False):
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


def frame_rate(pipeline):
    """Frame rate of the clips: the extractor's analysis rate (25 when it keeps the native)."""
    fps = pipeline[0].fps
    return DEFAULT_FPS if fps is None else float(fps)
