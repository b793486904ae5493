"""Save and load fitted estimators as a folder of JSON + safetensors: no pickle anywhere.

A saved model is a folder with two files (a pipeline folder,
:mod:`lipanomaly.persistence.pretrained`, adds ``extractor.json``):

``config.json``
    ``{"format": "lipanomaly-model", "format_version": 1, "lipanomaly_version": "0.4.0",
    "class": "LFHFVAEDetector", "params": {...}, "fitted": {...}, "weights_sha256": "..."}``:
    the estimator's class *name* (looked up in a fixed registry of the package's estimators,
    never imported from the file), its constructor parameters (``get_params(deep=False)``)
    and its JSON-able fitted attributes.
``weights.safetensors``
    Every array: the network's state dict and the numpy fitted arrays, written with
    :mod:`safetensors.numpy` (plain tensors, no code). Arrays are device-free numpy, so a
    model trained on a GPU loads on a CPU.

Estimators that can be saved implement two methods::

    get_fitted_state(self) -> (fitted: dict (JSON-able), arrays: dict[str, numpy.ndarray])
    set_fitted_state(self, fitted, arrays) -> self   # rebuilds the network and attributes

Tuples in ``params`` and ``fitted`` survive the round trip (JSON lists are tagged); numpy
scalars become Python numbers. Loading checks the format, its version, the package version
(the same major.minor as the one installed) and the SHA-256 of the weights file, and raises
:class:`~lipanomaly.exceptions.ModelFileError` naming the folder and what is wrong.
"""

import importlib
import json
import os
import shutil
import time
import uuid
import warnings
from pathlib import Path

import numpy as np

from .._version import __version__
from ..exceptions import ModelFileError
from ..io.files import file_sha256
from ..io.state_files import WEIGHTS_FILE, from_json, read_state, to_json, write_state
from ..limits import MAX_JSON_BYTES

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "check_destination",
    "load_model",
    "read_json",
    "read_model_folder",
    "read_state",
    "save_model",
    "write_state",
]

FORMAT = "lipanomaly-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
#: Every file the package writes into a model folder: ``save_model`` (config and weights),
#: ``pretrained.save_pipeline`` (``extractor.json``) and ``scripts/train_pretrained.py``
#: (``TRAINING.json``, notes on the training run; ``DATA_NOTICE.md``, what it was trained
#: on). ``overwrite=True`` replaces a folder only when it holds nothing else.
MODEL_FILES = (CONFIG_FILE, WEIGHTS_FILE, "extractor.json", "TRAINING.json", "DATA_NOTICE.md")

# class name -> (module, attribute): the only classes load_model will build
_REGISTRY = {
    "LFHFVAEDetector": ("lipanomaly.detectors.lfhf", "LFHFVAEDetector"),
    "OCVAEDetector": ("lipanomaly.detectors.ocvae", "OCVAEDetector"),
    "LFHFComponents": ("lipanomaly.scoring.components", "LFHFComponents"),
    "OCVAEComponents": ("lipanomaly.detectors.ocvae", "OCVAEComponents"),
    "ComponentScorer": ("lipanomaly.scoring.scorer", "ComponentScorer"),
    "FaceMotionDetector": ("lipanomaly.detectors.face", "FaceMotionDetector"),
}


def _registered_class(name, path):
    if name not in _REGISTRY:
        raise ModelFileError(
            f"{path}: unknown estimator class {name!r}; a lipanomaly model file holds one of "
            f"{sorted(_REGISTRY)}"
        )
    entry = _REGISTRY[name]
    if callable(entry):  # a class or a factory (used by tests)
        return entry if isinstance(entry, type) else entry()
    module, attr = entry
    return getattr(importlib.import_module(module), attr)


def _make_dir(parent, prefix):
    """Create a new, uniquely named folder in ``parent`` with the user's umask (``mkdtemp``
    would make it 0700)."""
    while True:
        path = Path(parent) / f"{prefix}{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()  # mode 0o777 minus the umask
            return path
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue


def check_destination(path, *, overwrite=False):
    """Refuse, before any work, a destination that :func:`save_model` would refuse.

    Call it before training a model that is to be saved to ``path`` (``lipanomaly fit``
    does), so that a refusal comes at once rather than after the training.

    Parameters
    ----------
    path : str or path-like
    overwrite : bool, default=False
        As in :func:`save_model`.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    ModelFileError
        If ``path`` exists and ``overwrite`` is False, or is anything but an empty folder or
        a lipanomaly model folder that holds nothing but the files the package writes.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise ModelFileError(f"{path}: already exists; pass overwrite=True to replace it")
        _check_replaceable(path)
    return path


def _check_replaceable(path):
    """Refuse to replace ``path`` unless it is empty or a lipanomaly model folder that holds
    nothing but files the package writes."""
    if path.is_symlink() or not path.is_dir():
        raise ModelFileError(
            f"{path}: exists and is not a folder; refusing to replace it with a model folder"
        )
    entries = sorted(path.iterdir())
    if not entries:
        return
    foreign = [
        e.name + ("/" if e.is_dir() else "")
        for e in entries
        if e.name not in MODEL_FILES or e.is_symlink() or not e.is_file()
    ]
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise ModelFileError(
            f"{path}: not a lipanomaly model folder, it holds what the package does not write "
            f"({shown}); refusing to replace it (overwrite replaces only a model folder with "
            "nothing else in it: choose another path or move those files)"
        )
    try:
        config = read_json(path / CONFIG_FILE)
    except (ModelFileError, OSError):
        config = None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(
            f"{path}: not a lipanomaly model folder (no {CONFIG_FILE} with format "
            f"{FORMAT!r}); refusing to replace it"
        )


def _write_model_files(tmp, config, arrays, extra_files):
    from safetensors.numpy import save

    # safetensors' save_file creates the file 0600; open() honours the umask
    with open(tmp / WEIGHTS_FILE, "wb") as fh:
        fh.write(save(arrays, metadata={"format": FORMAT}))
    config["weights_sha256"] = file_sha256(tmp / WEIGHTS_FILE)
    with open(tmp / CONFIG_FILE, "w", encoding="utf-8") as fh:
        json.dump(config, fh, indent=2, sort_keys=True)
    for name, text in extra_files.items():
        (tmp / name).write_text(text, encoding="utf-8")


def _swap_in(tmp, path):
    """Move the complete folder ``tmp`` to ``path``; an existing ``path`` (checked by
    :func:`_check_replaceable`) is moved aside first and its known files deleted after."""
    if not path.exists():
        os.replace(tmp, path)
        return
    old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:12]}"
    os.replace(path, old)  # atomic; from here on, a crash leaves the old model under `old`
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old, path)  # put it back
        raise
    # delete only what the package wrote; anything that appeared meanwhile stays
    for name in MODEL_FILES:
        f = old / name
        if f.is_file() and not f.is_symlink():
            f.unlink()
    try:
        old.rmdir()
    except OSError:
        warnings.warn(
            f"{path}: the replaced model folder gained other files while it was written; "
            f"they are kept in {old}",
            UserWarning,
            stacklevel=3,
        )


def save_model(estimator, path, *, overwrite=False, _extra_files=None):
    """Save a fitted estimator to the folder ``path`` (config.json + weights.safetensors).

    The folder is written under a temporary name beside ``path`` and then moved into
    place, so a crash never leaves half a model, and a refusal changes nothing. Folders
    and files are created with the user's umask.

    Parameters
    ----------
    estimator : LFHFVAEDetector, OCVAEDetector, LFHFComponents, OCVAEComponents or ComponentScorer
        A fitted estimator of the package (one that implements ``get_fitted_state``).
    path : str or path-like
        The folder to write. It must not exist, unless ``overwrite=True``.
    overwrite : bool, default=False
        Replace an existing folder, but only an empty one or a lipanomaly model folder
        (a ``config.json`` with the format marker) that holds nothing but the files the
        package writes (:data:`MODEL_FILES`): a folder with anything else in it is
        refused, never deleted.

    Returns
    -------
    path : pathlib.Path
        The folder written.

    Raises
    ------
    ModelFileError
        If ``path`` exists and ``overwrite`` is False, or would replace something that is
        not a lipanomaly model folder (the message names the foreign entries).
    TypeError
        If the estimator is not a registered class or a value cannot be stored as JSON.
    """
    from ..exceptions import NotFittedError

    name = type(estimator).__name__
    if name not in _REGISTRY or _registered_class(name, "save_model") is not type(estimator):
        raise TypeError(
            f"cannot save a {type(estimator).__module__}.{name}: save_model saves the "
            f"package's {sorted(_REGISTRY)}"
        )
    if not hasattr(estimator, "get_fitted_state"):
        raise TypeError(f"{name} does not implement get_fitted_state")
    extra_files = dict(_extra_files or {})
    if not set(extra_files) <= set(MODEL_FILES) - {CONFIG_FILE, WEIGHTS_FILE}:
        raise ValueError(f"_extra_files: only {MODEL_FILES[2:]} may be added")
    path = check_destination(path, overwrite=overwrite)
    try:
        fitted, arrays = estimator.get_fitted_state()
    except (AttributeError, NotFittedError) as exc:
        raise NotFittedError(f"{name} is not fitted; call fit before save_model") from exc
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "lipanomaly_version": __version__,
        "class": name,
        "params": to_json(estimator.get_params(deep=False), "params"),
        "fitted": to_json(fitted, "fitted"),
    }
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    # write into a fresh sibling folder, then swap it in: a crash never leaves half a model
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _make_dir(path.parent, f".{path.name}.new-")
    try:
        _write_model_files(tmp, config, arrays, extra_files)
        _swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_json(path, what="JSON"):
    """Parse a model folder's JSON file, refusing one larger than ``MAX_JSON_BYTES``.

    Parameters
    ----------
    path : pathlib.Path
    what : str, default="JSON"
        What the file is, named in the error.

    Returns
    -------
    value : object
        The parsed JSON.

    Raises
    ------
    ModelFileError
        If the file is too large, not UTF-8 or not JSON.
    """
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ModelFileError(
            f"{path}: {size} bytes, larger than the {MAX_JSON_BYTES} a lipanomaly model's "
            "JSON file may be (lipanomaly.limits.MAX_JSON_BYTES)"
        )
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{path}: corrupt {what} ({type(exc).__name__}: {exc})") from exc


def _read_config(path):
    cfg_path = path / CONFIG_FILE
    if not path.is_dir():
        raise ModelFileError(f"{path}: no such model folder")
    if not cfg_path.is_file():
        raise ModelFileError(f"{path}: not a lipanomaly model folder (no {CONFIG_FILE})")
    config = read_json(cfg_path, "configuration")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{cfg_path}: not a lipanomaly model (format is not {FORMAT!r})")
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{cfg_path}: model format version {version!r}, but this lipanomaly "
            f"({__version__}) reads version {FORMAT_VERSION}"
        )
    saved = str(config.get("lipanomaly_version", "?"))
    if saved.split(".")[:2] != __version__.split(".")[:2]:
        raise ModelFileError(
            f"{cfg_path}: saved by lipanomaly {saved}, but {__version__} is installed; load it "
            f"with lipanomaly {'.'.join(saved.split('.')[:2])}.x, or retrain"
        )
    for key in ("class", "params", "fitted", "weights_sha256"):
        if key not in config:
            raise ModelFileError(f"{cfg_path}: corrupt configuration (no {key!r})")
    return config


#: How long a reader waits for a model folder that is being replaced (seconds).
SWAP_WAIT_S = 10.0


def _folder_state(path):
    """What a swap of the model folder ``path`` changes (None if it cannot be read)."""
    try:
        folder = os.stat(path)
        config = os.stat(os.path.join(path, CONFIG_FILE))
    except OSError:
        return None
    return folder.st_dev, folder.st_ino, config.st_ino, config.st_mtime_ns


def _being_replaced(path):
    """Whether :func:`save_model` is replacing ``path``: its new or old folder lies beside it."""
    path = Path(path)
    try:
        return any(
            e.name.startswith((f".{path.name}.new-", f".{path.name}.old-"))
            for e in os.scandir(path.parent)
        )
    except OSError:
        return False


def read_model_folder(path, read):
    """``read(path)`` of a model folder, read again if :func:`save_model` replaced it meanwhile.

    A model folder is replaced by two renames (the old one aside, the new one in place):
    a reader can find no folder for a moment, or read one file of each. Such a read is
    retried, on exactly that race (the folder or its ``config.json`` changed while it was
    read, or is missing while a new or an old folder lies beside it), for at most
    :data:`SWAP_WAIT_S` seconds; every other error is raised at once. A reader therefore
    gets the old model or the new one.

    Parameters
    ----------
    path : str or path-like
        The model folder.
    read : callable
        ``read(path)`` reads it.

    Returns
    -------
    result
        What ``read`` returned, from one version of the folder.

    Raises
    ------
    ModelFileError
        What ``read`` raised, or if the folder kept changing for :data:`SWAP_WAIT_S`.
    """
    deadline = time.monotonic() + SWAP_WAIT_S
    while True:
        before = _folder_state(path)
        try:
            result = read(path)
        except (ModelFileError, OSError):
            after = _folder_state(path)
            raced = before != after or (after is None and _being_replaced(path))
            if not raced or time.monotonic() > deadline:
                raise
        else:
            if before is not None and _folder_state(path) == before:
                return result
            if time.monotonic() > deadline:
                raise ModelFileError(f"{path}: replaced again and again while it was read")
        time.sleep(0.005)


def load_model(path):
    """Load an estimator saved by :func:`save_model`, on CPU.

    Parameters
    ----------
    path : str or path-like
        The model folder.

    Returns
    -------
    estimator : LFHFVAEDetector, OCVAEDetector, LFHFComponents, OCVAEComponents or ComponentScorer
        Fitted, with the parameters and state it was saved with.

    Raises
    ------
    ModelFileError
        If the folder is missing, is not a lipanomaly model, is corrupt (unreadable JSON, a
        weights file whose checksum does not match, or that safetensors cannot read), or was
        written by another format version or another package version (major.minor); or if
        the configuration does not validate: a parameter outside the estimator's
        ``_parameter_constraints`` or the sizes of :mod:`lipanomaly.limits`, arrays whose
        names, shapes or dtypes do not fit it (read from the safetensors header, before any
        array), NaN or inf anywhere, an index out of range.
    """
    return read_model_folder(Path(path), _load_model)


def _load_model(path):
    """:func:`load_model`, once."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from . import _model_checks

    config = _read_config(path)
    cfg_path = path / CONFIG_FILE
    if not isinstance(config["class"], str):
        raise ModelFileError(f"{cfg_path}: 'class' must be a string, got {config['class']!r:.80}")
    cls = _registered_class(config["class"], path)
    try:
        # parameters, sizes and the arrays they imply, all before anything is allocated
        estimator, fitted = _model_checks.validated_estimator(config, cls, from_json, cfg_path)
        spec = _model_checks.expected_arrays(estimator, fitted, cfg_path)
    except RecursionError as exc:
        raise ModelFileError(f"{cfg_path}: corrupt configuration (nested too deep)") from exc
    weights = path / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelFileError(f"{path}: no {WEIGHTS_FILE}")
    if file_sha256(weights) != config["weights_sha256"]:
        raise ModelFileError(f"{weights}: corrupt weights (checksum does not match config.json)")
    _model_checks.check_header(weights, spec)
    try:
        arrays = load_file(str(weights))
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{weights}: corrupt weights ({exc})") from exc
    _model_checks.check_arrays(estimator, fitted, arrays, weights)
    try:
        return estimator.set_fitted_state(fitted, arrays)
    except (TypeError, KeyError, ValueError, RuntimeError, IndexError, AttributeError) as exc:
        raise ModelFileError(
            f"{path}: the saved {config['class']} does not fit this lipanomaly ({exc})"
        ) from exc
