"""A package's public names imported on first access (PEP 562), so that importing it is fast."""

import importlib
import sys

__all__ = ["attach"]


def attach(package, names, submodules=frozenset()):
    """The ``__getattr__`` and ``__dir__`` of ``package`` for names defined in its modules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of str to str
        Public name -> the module (relative to ``package``) that defines it; imported on
        first access, then kept in the package's namespace.
    submodules : set of str, default=frozenset()
        Sub-modules reachable as attributes, imported on first access.

    Returns
    -------
    __getattr__, __dir__ : callable
    """

    def __getattr__(name):
        if name in names:
            value = getattr(importlib.import_module(f".{names[name]}", package), name)
            setattr(sys.modules[package], name, value)
            return value
        if name in submodules:
            return importlib.import_module(f".{name}", package)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(names) | set(submodules))

    return __getattr__, __dir__
