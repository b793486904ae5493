import pytest
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

import lipanomaly
from lipanomaly._optional import import_optional
from lipanomaly.exceptions import (
    InputError,
    LipAnomalyError,
    MissingDependencyError,
    NotFittedError,
)


def test_tree():
    assert issubclass(NotFittedError, SklearnNotFittedError)
    assert issubclass(NotFittedError, LipAnomalyError)
    assert issubclass(InputError, ValueError)
    assert issubclass(MissingDependencyError, ImportError)


def test_missing_dependency_names_the_extra():
    with pytest.raises(MissingDependencyError, match=r"pip install"):
        import_optional("lipanomaly_no_such_module")


def test_public_names():
    assert lipanomaly.__version__
    for name in lipanomaly.__all__:
        if name not in lipanomaly._LAZY:
            assert getattr(lipanomaly, name) is not None
    with pytest.raises(AttributeError):
        lipanomaly.no_such_name  # noqa: B018
