"""The package's exceptions: one base class, and a few that also are the builtin they refine.

Every error that lipanomaly raises on purpose derives from :class:`LipAnomalyError`, so
``except LipAnomalyError`` catches all of them; each also derives from the builtin (or
scikit-learn) exception that code outside the package already expects.
"""

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "InputError",
    "LipAnomalyError",
    "MissingDependencyError",
    "ModelFileError",
    "NotFittedError",
    "TrainingError",
]


class LipAnomalyError(Exception):
    """Base class of every error raised by lipanomaly."""


class InputError(LipAnomalyError, ValueError):
    """Bad input: a file that cannot be read, an array of the wrong shape, NaN where none may be.

    The message names the input (a file path or ``X[i]``) and what was expected.
    """


class NotFittedError(LipAnomalyError, _SklearnNotFittedError):
    """An estimator was used before ``fit``; also scikit-learn's ``NotFittedError``."""


class MissingDependencyError(LipAnomalyError, ImportError):
    """An optional dependency is not installed; the message names the extra that provides it."""


class ModelFileError(LipAnomalyError, ValueError):
    """A saved model cannot be loaded: missing, corrupt, or written by an incompatible version."""


class TrainingError(LipAnomalyError, RuntimeError):
    """Training failed on the data it was given: the loss became NaN or infinite (diverged)."""
