"""The package's exceptions: one base class, and a few that also are the builtin they refine.

Every error that lipanomaly raises on purpose derives from :class:`LipAnomalyError`, so
``except LipAnomalyError`` catches all of them; each also derives from the builtin (or
scikit-learn) exception that code outside the package already expects.
"""

__all__ = [
    "InputError",
    "LipAnomalyError",
    "MissingDependencyError",
    "ModelFileError",
    "NotFittedError",  # noqa: F822 (made on first use: __getattr__)
    "TrainingError",
]


class LipAnomalyError(Exception):
    """Base class of every error raised by lipanomaly."""


class InputError(LipAnomalyError, ValueError):
    """Bad input: a file that cannot be read, an array of the wrong shape, NaN where none may be.

    The message names the input (a file path or ``X[i]``) and what was expected.
    """


def _not_fitted_error():
    from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

    class NotFittedError(LipAnomalyError, _SklearnNotFittedError):
        """An estimator was used before ``fit``; also scikit-learn's ``NotFittedError``."""

    NotFittedError.__module__, NotFittedError.__qualname__ = __name__, "NotFittedError"
    return NotFittedError


def __getattr__(name):
    # NotFittedError derives from scikit-learn's, and importing scikit-learn takes most of a
    # second: it is made on first use, so that `lipanomaly --help` and a command's checks
    # of its inputs answer at once (PEP 562)
    if name == "NotFittedError":
        cls = globals()["NotFittedError"] = _not_fitted_error()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class MissingDependencyError(LipAnomalyError, ImportError):
    """An optional dependency is not installed; the message names the extra that provides it."""


class ModelFileError(LipAnomalyError, ValueError):
    """A saved model cannot be loaded: missing, corrupt, or written by an incompatible version."""


class TrainingError(LipAnomalyError, RuntimeError):
    """Training failed on the data it was given: the loss became NaN or infinite (diverged)."""
