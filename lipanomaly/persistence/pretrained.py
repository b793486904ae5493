"""The pretrained detectors, and saving / loading a whole extraction + detection pipeline.

A *pipeline folder* is the folder :func:`lipanomaly.save_model` writes for the detector
(``config.json`` + ``weights.safetensors``, no pickle) with one more file,
``extractor.json``: the parameters of the :class:`~lipanomaly.LipLandmarkExtractor` in
front of it, so that the clips a saved model scores are extracted exactly as those it was
trained on. :func:`load_pipeline` reads a plain :func:`~lipanomaly.save_model` folder too
(with a default extractor).

The pretrained models in ``lipanomaly/pretrained/<name>/`` are such folders, written by
``scripts/train_pretrained.py`` (``DATA_NOTICE.md`` in each says what it was trained on, and
under which terms); :data:`PRETRAINED_MODELS` names them:

- ``"face"`` (the default, :data:`DEFAULT_PRETRAINED`): a
  :class:`~lipanomaly.FaceMotionDetector` trained with known fakes on the development set
  (every collection) but the bundled demo's clips;
- ``"lfhf"``: the one-class :class:`~lipanomaly.LFHFVAEDetector` of 0.5, trained on every
  real clip of ``landmarks/`` and ``wild/`` but the demo's.

Which is the default, and why: ``docs/quality.md``.
"""

import json
import os
from pathlib import Path
from types import MappingProxyType

from ..exceptions import InputError, ModelFileError
from ..limits import DEFAULT_FPS

__all__ = [
    "DEFAULT_PRETRAINED",
    "NOTES_FILES",
    "PRETRAINED_DIR",
    "PRETRAINED_MODELS",
    "calibration_notes",
    "load_pipeline",
    "load_pretrained",
    "save_pipeline",
]

_ROOT = Path(__file__).resolve().parents[1] / "pretrained"  # lipanomaly/pretrained
#: The pretrained models inside the package: name -> model folder.
PRETRAINED_MODELS = MappingProxyType({"face": _ROOT / "face", "lfhf": _ROOT / "lfhf"})
#: The name of the model that :func:`load_pretrained` and the command load by default.
DEFAULT_PRETRAINED = "face"
#: The default pretrained model's folder.
PRETRAINED_DIR = PRETRAINED_MODELS[DEFAULT_PRETRAINED]
EXTRACTOR_FILE = "extractor.json"
#: The notes a model folder may carry beside the model: how it was trained (and calibrated),
#: and the terms of the data it was trained on. Never read on load.
NOTES_FILES = ("TRAINING.json", "DATA_NOTICE.md")
_EXTRACTOR_FORMAT = "lipanomaly-extractor"
# parameters that say how a clip is extracted; the others (n_jobs, cache_dir, errors,
# verbose) say how the work is run and are chosen at load time
_EXTRACTOR_KEYS = ("points", "head_frame", "pose", "fps", "max_gap", "min_segment", "smoothing")


def _jsonable(value):
    if hasattr(value, "tolist"):  # numpy arrays of explicit point indices
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


def save_pipeline(pipeline, path, *, overwrite=False, notes=None):
    """Save a fitted ``Pipeline(LipLandmarkExtractor, detector)`` as a pipeline folder.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Two steps: a :class:`~lipanomaly.LipLandmarkExtractor` and a fitted detector that
        :func:`lipanomaly.save_model` can save.
    path : str or path-like
        The folder to write; it must not exist unless ``overwrite`` is True.
    overwrite : bool, default=False
        Replace an existing folder: only an empty one or a lipanomaly model folder with
        nothing else in it (see :func:`lipanomaly.save_model`).
    notes : dict of str to str or None, default=None
        The texts of :data:`NOTES_FILES` to write with the model (in the same atomic folder
        swap), e.g. those of :func:`calibration_notes`.

    Returns
    -------
    path : pathlib.Path
    """
    from ..io.extraction import LipLandmarkExtractor
    from .serialization import save_model

    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) != 2 or not isinstance(steps[0][1], LipLandmarkExtractor):
        raise InputError(
            "pipeline: expected a Pipeline of two steps, a LipLandmarkExtractor and a "
            f"detector, got {pipeline!r}"
        )
    extractor, detector = steps[0][1], steps[1][1]
    params = extractor.get_params(deep=False)
    config = {
        "format": _EXTRACTOR_FORMAT,
        "format_version": 1,
        "class": "LipLandmarkExtractor",
        "step_names": [steps[0][0], steps[1][0]],
        "params": {k: _jsonable(params[k]) for k in _EXTRACTOR_KEYS},
    }
    notes = dict(notes or {})
    if not set(notes) <= set(NOTES_FILES):
        raise InputError(f"notes: only {list(NOTES_FILES)} may be written, got {sorted(notes)}")
    # extractor.json and the notes are written with the model, inside the same atomic swap
    text = json.dumps(config, indent=2) + "\n"
    return save_model(
        detector, path, overwrite=overwrite, _extra_files={EXTRACTOR_FILE: text, **notes}
    )


def calibration_notes(path, record):
    """The notes of the model folder ``path``, with a calibration recorded in ``TRAINING.json``.

    ``DATA_NOTICE.md`` is kept as it is: a calibrated model still holds the network
    trained on that data. ``record`` is appended to the list ``"calibrations"`` of
    ``TRAINING.json`` (created when the folder has none). Symbolic links are not followed.

    Parameters
    ----------
    path : str or path-like
        The model folder that was calibrated.
    record : dict
        JSON-able: what the calibration was made from.

    Returns
    -------
    notes : dict of str to str
        For :func:`save_pipeline`'s ``notes``.

    Raises
    ------
    ModelFileError
        If a note is a link or not a file, larger than ``MAX_JSON_BYTES``, or
        ``TRAINING.json`` is not a JSON object (the message names the file).
    """
    from ..limits import MAX_JSON_BYTES

    notes = {}
    for name in NOTES_FILES:
        f = Path(path) / name
        if not (f.exists() or f.is_symlink()):
            continue
        if f.is_symlink() or not f.is_file() or f.stat().st_size > MAX_JSON_BYTES:
            raise ModelFileError(
                f"{f}: not a plain file of at most {MAX_JSON_BYTES} bytes; refusing to copy it "
                "into the calibrated model"
            )
        notes[name] = f.read_text(encoding="utf-8", errors="replace")
    try:
        training = json.loads(notes.get("TRAINING.json", "{}"))
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{Path(path) / 'TRAINING.json'}: not JSON ({exc})") from exc
    if not isinstance(training, dict) or not isinstance(training.get("calibrations", []), list):
        raise ModelFileError(
            f"{Path(path) / 'TRAINING.json'}: expected a JSON object (with a list "
            "'calibrations'); cannot record the calibration in it"
        )
    training.setdefault("calibrations", []).append(record)
    notes["TRAINING.json"] = json.dumps(training, indent=2) + "\n"
    return notes


def load_pipeline(path, *, n_jobs=None, cache_dir=None, errors="raise", verbose=0):
    """Load a pipeline folder as a fitted ``Pipeline(LipLandmarkExtractor, detector)``.

    Parameters
    ----------
    path : str or path-like
        A folder written by :func:`save_pipeline` or by :func:`lipanomaly.save_model`
        (then the extractor has its default parameters).
    n_jobs, cache_dir, errors, verbose
        Passed to the :class:`~lipanomaly.LipLandmarkExtractor`: how extraction runs
        (parallel jobs, an on-disk landmark cache, what to do with a bad input, progress
        bars).

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Fitted: ``score_samples``, ``decision_function`` and ``predict`` take a list of
        video files, track files or :class:`~lipanomaly.io.tracks.Track` objects.

    Raises
    ------
    ModelFileError
        If the folder is missing or its files cannot be read (the message names the file).
    """
    from .serialization import read_model_folder

    settings = {"n_jobs": n_jobs, "cache_dir": cache_dir, "errors": errors, "verbose": verbose}
    # a folder replaced meanwhile is read again: the extractor and the detector of one version
    return read_model_folder(Path(path), lambda p: _load_pipeline(p, **settings))


def _load_pipeline(path, *, n_jobs, cache_dir, errors, verbose):
    """:func:`load_pipeline`, once."""
    from sklearn.pipeline import Pipeline

    from ..io.extraction import LipLandmarkExtractor
    from .serialization import load_model

    if not path.is_dir():
        raise ModelFileError(f"{path}: no such model folder")
    detector = load_model(path)
    names = ["extractor", "detector"]
    params = {}
    config_file = path / EXTRACTOR_FILE
    if config_file.exists():
        params, names = _read_extractor_config(config_file)
    extractor = LipLandmarkExtractor(
        **params,
        n_jobs=n_jobs,
        cache_dir=None if cache_dir is None else os.fspath(cache_dir),
        errors=errors,
        verbose=verbose,
    ).fit()
    return Pipeline([(names[0], extractor), (names[1], detector)])


def _read_extractor_config(config_file):
    """The extractor parameters and step names of ``extractor.json``, validated.

    Everything a hostile or damaged file could hold is refused with a ``ModelFileError``
    naming the file: wrong JSON or format, unknown keys, wrong types, values the
    extractor's own parameter constraints reject, a frame rate outside ``MIN_FPS`` to
    ``MAX_FPS``.
    """
    from sklearn.utils._param_validation import InvalidParameterError

    from ..io.extraction import LipLandmarkExtractor
    from ..limits import MAX_FPS, MAX_FRAMES, MIN_FPS
    from .serialization import read_json

    try:
        config = read_json(config_file)
    except OSError as exc:
        raise ModelFileError(f"{config_file}: cannot be read ({exc})") from exc
    if not isinstance(config, dict) or config.get("format") != _EXTRACTOR_FORMAT:
        raise ModelFileError(
            f"{config_file}: not a lipanomaly extractor configuration "
            f"(expected format {_EXTRACTOR_FORMAT!r})"
        )
    if config.get("format_version") != 1:
        raise ModelFileError(
            f"{config_file}: extractor format version {config.get('format_version')!r}, "
            "this lipanomaly reads version 1"
        )
    names = config.get("step_names", ["extractor", "detector"])
    if (
        not isinstance(names, list)
        or len(names) != 2
        or not all(isinstance(n, str) and n and "__" not in n for n in names)
        or names[0] == names[1]
    ):
        raise ModelFileError(
            f"{config_file}: 'step_names' must be two distinct step names, got {names!r}"[:300]
        )
    params = config.get("params", {})
    if not isinstance(params, dict) or not set(params) <= set(_EXTRACTOR_KEYS):
        unknown = sorted(set(params) - set(_EXTRACTOR_KEYS)) if isinstance(params, dict) else []
        raise ModelFileError(
            f"{config_file}: 'params' must map {list(_EXTRACTOR_KEYS)} to values"
            + (f"; unknown {unknown[:5]}" if unknown else "")
        )
    fps = params.get("fps", DEFAULT_FPS)
    if fps is not None and (
        isinstance(fps, bool) or not isinstance(fps, int | float) or not MIN_FPS <= fps <= MAX_FPS
    ):
        raise ModelFileError(
            f"{config_file}: 'fps' must be a frame rate from {MIN_FPS:g} to {MAX_FPS:g} "
            f"(lipanomaly.limits) or null, got {fps!r}"[:300]
        )
    longest = MAX_FRAMES / MIN_FPS  # seconds: the longest track there can be
    for key in ("max_gap", "min_segment"):
        value = params.get(key, 0.0)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= longest
        ):
            raise ModelFileError(
                f"{config_file}: {key!r} must be a duration from 0 to {longest:g} s, got {value!r}"[
                    :300
                ]
            )
    try:
        LipLandmarkExtractor(**params).fit()  # the extractor's own parameter constraints
    except (InvalidParameterError, InputError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{config_file}: invalid extractor parameters ({exc})") from exc
    return params, names


def load_pretrained(name=None, *, n_jobs=None, cache_dir=None, errors="raise", verbose=0):
    """Load a pretrained detector as a fitted extraction + detection pipeline.

    Parameters
    ----------
    name : {"face", "lfhf"} or None, default=None
        Which model (:data:`PRETRAINED_MODELS`); None is :data:`DEFAULT_PRETRAINED`.

        - ``"face"``: a :class:`~lipanomaly.FaceMotionDetector` (``random_state=0``)
          trained on every clip of the development set, live clips and known fakes of 26
          generator families, except those of the bundled demo. Its threshold is the T80
          of cross-fitted scores of its live clips, each from a model fitted without its
          recording.
        - ``"lfhf"``: the one-class :class:`~lipanomaly.LFHFVAEDetector` (default
          settings, ``random_state=0``) trained by ``scripts/train_pretrained.py`` on every
          real clip of ``landmarks/`` and ``wild/`` except the demo's; it has seen no fake.
          Its threshold is the T80 of its real validation clips, whole recordings held
          out from training. :func:`lipanomaly.calibrate` applies to it.

        Both were trained on clips with terms of their own (several for research use
        only): the ``DATA_NOTICE.md`` of each model's folder.
    n_jobs, cache_dir, errors, verbose
        How extraction runs; see :func:`load_pipeline`.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``Pipeline([("extractor", LipLandmarkExtractor(...)), ("detector", ...)])``,
        fitted: it scores video files, track files and
        :class:`~lipanomaly.io.tracks.Track` objects directly.

    Raises
    ------
    InputError
        If ``name`` is not one of :data:`PRETRAINED_MODELS`.
    ModelFileError
        If the package was installed without that model.

    Examples
    --------
    >>> import lipanomaly
    >>> detector = lipanomaly.load_pretrained()
    >>> detector.predict(["suspect.mp4"])  # doctest: +SKIP
    array([-1])
    >>> lfhf = lipanomaly.load_pretrained("lfhf")  # the one-class lip-motion VAE
    """
    name = DEFAULT_PRETRAINED if name is None else name
    if name not in PRETRAINED_MODELS:
        raise InputError(
            f"name must be one of the pretrained models {sorted(PRETRAINED_MODELS)}, got {name!r}"
        )
    folder = PRETRAINED_MODELS[name]
    if not (folder / "config.json").is_file():
        raise ModelFileError(
            f"{folder}: the pretrained model {name!r} is missing from this installation; "
            f"build it with `python scripts/train_pretrained.py --model {name}`"
        )
    return load_pipeline(folder, n_jobs=n_jobs, cache_dir=cache_dir, errors=errors, verbose=verbose)
