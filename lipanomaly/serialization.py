"""Save and load fitted estimators as a folder of JSON + safetensors: no pickle anywhere.

A saved model is a folder with two files:

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

    _get_fitted_state(self) -> (fitted: dict (JSON-able), arrays: dict[str, numpy.ndarray])
    _set_fitted_state(self, fitted, arrays) -> self   # rebuilds the network and attributes

Tuples in ``params`` and ``fitted`` survive the round trip (JSON lists are tagged); numpy
scalars become Python numbers. Loading checks the format, its version, the package version
(the same major.minor as the one installed) and the SHA-256 of the weights file, and raises
:class:`~lipanomaly.exceptions.ModelFileError` naming the folder and what is wrong.
"""

import hashlib
import importlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ._version import __version__
from .exceptions import ModelFileError

__all__ = ["FORMAT", "FORMAT_VERSION", "load_model", "read_state", "save_model", "write_state"]

FORMAT = "lipanomaly-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"

# class name -> (module, attribute): the only classes load_model will build
_REGISTRY = {
    "LFHFVAEDetector": ("lipanomaly.detector", "LFHFVAEDetector"),
    "OCVAEDetector": ("lipanomaly.baselines", "OCVAEDetector"),
    "LFHFComponents": ("lipanomaly.components", "LFHFComponents"),
    "OCVAEComponents": ("lipanomaly.baselines", "OCVAEComponents"),
    "ComponentScorer": ("lipanomaly.scorer", "ComponentScorer"),
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


def _to_json(value, where):
    """JSON-able copy of ``value``; tuples are tagged so that they come back as tuples."""
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v, where) for v in value]}
    if isinstance(value, list):
        return [_to_json(v, where) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where}: dict keys must be strings to be saved, got {value!r}")
        if "__tuple__" in value:
            raise TypeError(f"{where}: the key '__tuple__' is reserved")
        return {k: _to_json(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(
        f"{where}: {type(value).__name__} values cannot be saved as JSON; keep fitted arrays "
        "in the arrays dict and parameters to numbers, strings, lists, tuples and dicts"
    )


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_json(v) for v in value["__tuple__"])
        return {k: _from_json(v) for k, v in value.items()}
    return value


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(estimator, path, *, overwrite=False):
    """Save a fitted estimator to the folder ``path`` (config.json + weights.safetensors).

    Parameters
    ----------
    estimator : LFHFVAEDetector, OCVAEDetector, LFHFComponents, OCVAEComponents or ComponentScorer
        A fitted estimator of the package (one that implements ``_get_fitted_state``).
    path : str or path-like
        The folder to write. It must not exist, unless ``overwrite=True``.
    overwrite : bool, default=False
        Replace an existing folder (only one that holds a lipanomaly model, or is empty).

    Returns
    -------
    path : pathlib.Path
        The folder written.

    Raises
    ------
    ModelFileError
        If ``path`` exists and ``overwrite`` is False, or would replace something that is
        not a lipanomaly model folder.
    TypeError
        If the estimator is not a registered class or a value cannot be stored as JSON.
    """
    from safetensors.numpy import save_file

    from .exceptions import NotFittedError

    name = type(estimator).__name__
    if name not in _REGISTRY or _registered_class(name, "save_model") is not type(estimator):
        raise TypeError(
            f"cannot save a {type(estimator).__module__}.{name}: save_model saves the "
            f"package's {sorted(_REGISTRY)}"
        )
    if not hasattr(estimator, "_get_fitted_state"):
        raise TypeError(f"{name} does not implement _get_fitted_state")
    path = Path(path)
    if path.exists():
        if not overwrite:
            raise ModelFileError(f"{path}: already exists; pass overwrite=True to replace it")
        if not path.is_dir() or not ((path / CONFIG_FILE).is_file() or not any(path.iterdir())):
            raise ModelFileError(
                f"{path}: exists and is not a lipanomaly model folder; refusing to replace it"
            )
    try:
        fitted, arrays = estimator._get_fitted_state()
    except (AttributeError, NotFittedError) as exc:
        raise NotFittedError(f"{name} is not fitted; call fit before save_model") from exc
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "lipanomaly_version": __version__,
        "class": name,
        "params": _to_json(estimator.get_params(deep=False), "params"),
        "fitted": _to_json(fitted, "fitted"),
    }
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    # write into a fresh sibling folder, then swap it in: a crash never leaves half a model
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        save_file(arrays, str(tmp / WEIGHTS_FILE), metadata={"format": FORMAT})
        config["weights_sha256"] = _sha256(tmp / WEIGHTS_FILE)
        with open(tmp / CONFIG_FILE, "w", encoding="utf-8") as fh:
            json.dump(config, fh, indent=2, sort_keys=True)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _read_config(path):
    cfg_path = path / CONFIG_FILE
    if not path.is_dir():
        raise ModelFileError(f"{path}: no such model folder")
    if not cfg_path.is_file():
        raise ModelFileError(f"{path}: not a lipanomaly model folder (no {CONFIG_FILE})")
    try:
        with open(cfg_path, encoding="utf-8") as fh:
            config = json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{cfg_path}: corrupt configuration ({exc})") from exc
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
        written by another format version or another package version (major.minor).
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    config = _read_config(path)
    weights = path / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelFileError(f"{path}: no {WEIGHTS_FILE}")
    if _sha256(weights) != config["weights_sha256"]:
        raise ModelFileError(f"{weights}: corrupt weights (checksum does not match config.json)")
    try:
        arrays = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{weights}: corrupt weights ({exc})") from exc
    cls = _registered_class(config["class"], path)
    try:
        estimator = cls(**_from_json(config["params"]))
        return estimator._set_fitted_state(_from_json(config["fitted"]), arrays)
    except (TypeError, KeyError, ValueError, RuntimeError) as exc:
        raise ModelFileError(
            f"{path}: the saved {config['class']} does not fit this lipanomaly ({exc})"
        ) from exc


STATE_FILE = "fitted.json"


def write_state(folder, fitted, arrays):
    """Write a fitted state into a new folder: ``fitted.json`` + ``weights.safetensors``.

    The folder is written under a temporary name and renamed: a reader never sees half of
    it, and when several writers race, the first one's folder stays. Used by the network
    transformers' ``memory`` (:class:`lipanomaly.components.LFHFComponents`).

    Parameters
    ----------
    folder : str or path-like
    fitted : dict
        JSON-able (an estimator's ``_get_fitted_state()[0]``).
    arrays : dict of str to ndarray

    Returns
    -------
    written : bool
        False if the folder existed already (nothing is written).
    """
    import threading

    from safetensors.numpy import save_file

    folder = Path(folder)
    if folder.exists():
        return False
    tmp = folder.with_name(f"{folder.name}.partial-{os.getpid()}-{threading.get_ident()}")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(tmp / WEIGHTS_FILE))
        (tmp / STATE_FILE).write_text(json.dumps(_to_json(fitted, "fitted")))
        os.replace(tmp, folder)
    except OSError:  # another writer was first (or the disk refused): not an error
        shutil.rmtree(tmp, ignore_errors=True)
        return False
    return True


def read_state(folder):
    """The ``(fitted, arrays)`` that :func:`write_state` wrote into ``folder``.

    Raises
    ------
    ModelFileError
        If a file is missing or cannot be read.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    folder = Path(folder)
    try:
        fitted = _from_json(json.loads((folder / STATE_FILE).read_text()))
        return fitted, load_file(str(folder / WEIGHTS_FILE))
    except (OSError, ValueError, SafetensorError) as exc:
        raise ModelFileError(f"{folder}: cannot be read as a fitted state ({exc})") from exc
