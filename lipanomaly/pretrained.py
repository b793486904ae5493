"""The pretrained default detector, and saving / loading a whole extraction + detection pipeline.

A *pipeline folder* is the folder :func:`lipanomaly.save_model` writes for the detector
(``config.json`` + ``weights.safetensors``, no pickle) with one more file,
``extractor.json``: the parameters of the :class:`~lipanomaly.LipLandmarkExtractor` in
front of it, so that the clips a saved model scores are extracted exactly as those it was
trained on. :func:`load_pipeline` reads a plain :func:`~lipanomaly.save_model` folder too
(with a default extractor).

The pretrained model in ``lipanomaly/pretrained/`` is such a folder, written by
``scripts/train_pretrained.py``: an :class:`~lipanomaly.LFHFVAEDetector` with default
settings and a fixed seed, trained on the 51 real ``"train"`` clips of the bundled demo
data (:func:`lipanomaly.datasets.load_demo`).
"""

import json
import os
from pathlib import Path

from .exceptions import InputError, ModelFileError

__all__ = ["PRETRAINED_DIR", "load_pipeline", "load_pretrained", "save_pipeline"]

#: Where the pretrained model lives inside the package.
PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
EXTRACTOR_FILE = "extractor.json"
_EXTRACTOR_FORMAT = "lipanomaly-extractor"
# parameters that say how a clip is extracted; the others (n_jobs, cache_dir, errors,
# verbose) say how the work is run and are chosen at load time
_EXTRACTOR_KEYS = ("points", "fps", "max_gap", "min_segment", "smoothing")


def _jsonable(value):
    if hasattr(value, "tolist"):  # numpy arrays of explicit point indices
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


def save_pipeline(pipeline, path, *, overwrite=False):
    """Save a fitted ``Pipeline(LipLandmarkExtractor, detector)`` as a pipeline folder.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Two steps: a :class:`~lipanomaly.LipLandmarkExtractor` and a fitted detector that
        :func:`lipanomaly.save_model` can save.
    path : str or path-like
        The folder to write; it must not exist unless ``overwrite`` is True.
    overwrite : bool, default=False
        Replace an existing folder.

    Returns
    -------
    path : pathlib.Path
    """
    from .extraction import LipLandmarkExtractor
    from .serialization import save_model

    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) != 2 or not isinstance(steps[0][1], LipLandmarkExtractor):
        raise InputError(
            "pipeline: expected a Pipeline of two steps, a LipLandmarkExtractor and a "
            f"detector, got {pipeline!r}"
        )
    extractor, detector = steps[0][1], steps[1][1]
    path = Path(path)
    save_model(detector, path, overwrite=overwrite)
    params = extractor.get_params(deep=False)
    config = {
        "format": _EXTRACTOR_FORMAT,
        "format_version": 1,
        "class": "LipLandmarkExtractor",
        "step_names": [steps[0][0], steps[1][0]],
        "params": {k: _jsonable(params[k]) for k in _EXTRACTOR_KEYS},
    }
    (path / EXTRACTOR_FILE).write_text(json.dumps(config, indent=2) + "\n")
    return path


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
        video files, track files or :class:`~lipanomaly.datasets.Track` objects.

    Raises
    ------
    ModelFileError
        If the folder is missing or its files cannot be read (the message names the file).
    """
    from sklearn.pipeline import Pipeline

    from .extraction import LipLandmarkExtractor
    from .serialization import load_model

    path = Path(path)
    if not path.is_dir():
        raise ModelFileError(f"{path}: no such model folder")
    detector = load_model(path)
    names = ["extractor", "detector"]
    params = {}
    config_file = path / EXTRACTOR_FILE
    if config_file.is_file():
        try:
            config = json.loads(config_file.read_text())
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"{config_file}: cannot be read as JSON ({exc})") from exc
        if not isinstance(config, dict) or config.get("format") != _EXTRACTOR_FORMAT:
            raise ModelFileError(
                f"{config_file}: not a lipanomaly extractor configuration "
                f"(expected format {_EXTRACTOR_FORMAT!r})"
            )
        params = {k: v for k, v in config.get("params", {}).items() if k in _EXTRACTOR_KEYS}
        names = config.get("step_names", names)
    extractor = LipLandmarkExtractor(
        **params,
        n_jobs=n_jobs,
        cache_dir=None if cache_dir is None else os.fspath(cache_dir),
        errors=errors,
        verbose=verbose,
    ).fit()
    return Pipeline([(names[0], extractor), (names[1], detector)])


def load_pretrained(*, n_jobs=None, cache_dir=None, errors="raise", verbose=0):
    """Load the pretrained default detector as a fitted extraction + detection pipeline.

    The model is an :class:`~lipanomaly.LFHFVAEDetector` with default settings and
    ``random_state=0``, trained by ``scripts/train_pretrained.py`` on the 51 real
    ``"train"`` clips of the bundled demo data (StyleTalk YouTube talking heads, MEAD
    studio clips, LivePortrait driving clips; see ``lipanomaly/data/DATA_NOTICE.md``).
    Its threshold is the T80 of its real validation clips. It has seen no fake.

    Parameters
    ----------
    n_jobs, cache_dir, errors, verbose
        How extraction runs; see :func:`load_pipeline`.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``Pipeline([("extractor", LipLandmarkExtractor()), ("detector", LFHFVAEDetector)])``,
        fitted: it scores video files, track files and
        :class:`~lipanomaly.datasets.Track` objects directly.

    Raises
    ------
    ModelFileError
        If the package was installed without its pretrained model.

    Examples
    --------
    >>> import lipanomaly
    >>> detector = lipanomaly.load_pretrained()
    >>> detector.predict(["suspect.mp4"])  # doctest: +SKIP
    array([-1])
    """
    if not (PRETRAINED_DIR / "config.json").is_file():
        raise ModelFileError(
            f"{PRETRAINED_DIR}: the pretrained model is missing from this installation; "
            "build it with `python scripts/train_pretrained.py`"
        )
    return load_pipeline(
        PRETRAINED_DIR, n_jobs=n_jobs, cache_dir=cache_dir, errors=errors, verbose=verbose
    )
