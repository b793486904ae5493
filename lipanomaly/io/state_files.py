"""Fitted states as files: JSON that keeps tuples, safetensors arrays, no pickle.

The pieces that :mod:`lipanomaly.persistence.serialization` (model folders) and the network
transformers' ``memory`` (:class:`lipanomaly.scoring.components.LFHFComponents`) share: the JSON
tagging of tuples (:func:`to_json`, :func:`from_json`), the refusal of NaN and inf
(:func:`check_finite`), and a fitted state written into a folder atomically
(:func:`write_state`, :func:`read_state`). Imports nothing of the package but its
exceptions.
"""

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np

from ..exceptions import ModelFileError

__all__ = [
    "STATE_FILE",
    "WEIGHTS_FILE",
    "check_finite",
    "from_json",
    "non_finite_path",
    "read_state",
    "to_json",
    "write_state",
]

#: The arrays of a model folder or of a fitted state (safetensors).
WEIGHTS_FILE = "weights.safetensors"


def to_json(value, where):
    """JSON-able copy of ``value``; tuples are tagged so that they come back as tuples.

    Parameters
    ----------
    value : object
        Numbers, strings, None, lists, tuples, dicts with string keys, numpy scalars.
    where : str
        Named in the ``TypeError`` raised for anything else.

    Returns
    -------
    value : object
        What :func:`json.dumps` writes; :func:`from_json` undoes the tagging.
    """
    if isinstance(value, tuple):
        return {"__tuple__": [to_json(v, where) for v in value]}
    if isinstance(value, list):
        return [to_json(v, where) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"{where}: dict keys must be strings to be saved, got {value!r}")
        if "__tuple__" in value:
            raise TypeError(f"{where}: the key '__tuple__' is reserved")
        return {k: to_json(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(
        f"{where}: {type(value).__name__} values cannot be saved as JSON; keep fitted arrays "
        "in the arrays dict and parameters to numbers, strings, lists, tuples and dicts"
    )


def from_json(value):
    """What :func:`to_json` was given: tagged lists become tuples again."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(from_json(v) for v in value["__tuple__"])
        return {k: from_json(v) for k, v in value.items()}
    return value


def non_finite_path(value, at):
    """The path (``at`` and the keys) of the first NaN or inf in the JSON ``value``, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else at
    if isinstance(value, (dict, list)):
        for k, v in value.items() if isinstance(value, dict) else enumerate(value):
            found = non_finite_path(v, f"{at}[{k!r}]")
            if found:
                return found
    return None


def check_finite(fitted, arrays, where):
    """Refuse NaN or inf in the JSON-able ``fitted`` or in any of ``arrays``, and arrays
    that are not numbers."""
    bad = non_finite_path(fitted, "fitted")
    if bad:
        raise ModelFileError(f"{where}: {bad} is not a finite number")
    for name, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise ModelFileError(f"{where}: array {name!r} has dtype {a.dtype}, not a number")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ModelFileError(f"{where}: array {name!r} holds NaN or inf")


STATE_FILE = "fitted.json"


def write_state(folder, fitted, arrays):
    """Write a fitted state into a new folder: ``fitted.json`` + ``weights.safetensors``.

    The folder is written under a temporary name and renamed: a reader never sees half of
    it, and when several writers race, the first one's folder stays. Used by the network
    transformers' ``memory`` (:class:`lipanomaly.scoring.components.LFHFComponents`).

    Parameters
    ----------
    folder : str or path-like
    fitted : dict
        JSON-able (an estimator's ``get_fitted_state()[0]``).
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
        (tmp / STATE_FILE).write_text(json.dumps(to_json(fitted, "fitted")))
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
        If a file is missing or cannot be read, or holds NaN or inf.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    folder = Path(folder)
    try:
        fitted = from_json(json.loads((folder / STATE_FILE).read_text()))
        arrays = load_file(str(folder / WEIGHTS_FILE))
    except (OSError, ValueError, TypeError, AttributeError, SafetensorError) as exc:
        raise ModelFileError(f"{folder}: cannot be read as a fitted state ({exc})") from exc
    check_finite(fitted, arrays, folder)
    return fitted, arrays
