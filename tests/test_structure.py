"""The package's structure, read from its source (ast): no import cycle, no private name
imported across modules, few private methods called on other modules' objects.

Every import counts, those inside functions too: a lazy import is still a dependency."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lipanomaly"

#: The private methods of the package that another module calls, and why (at most 3): the
#: parameter checks that parameter constraints cannot express, run again by the model-file
#: checks. (The savable estimators' protocol, ``get_fitted_state`` / ``set_fitted_state``,
#: is public: persistence/serialization.py and the detectors call it on their parts.)
ALLOWED_PRIVATE_CALLS = {"_check_params"}


def _modules():
    """module name -> (path, parsed tree), for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = (path, ast.parse(path.read_text(encoding="utf-8")))
    return out


MODULES = _modules()


def _target(module, path, node):
    """The absolute module an ``ImportFrom`` reads from."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module):
    """``(imported module, name or None)`` of every import of the package in ``module``."""
    path, tree = MODULES[module]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _target(module, path, node)
            for alias in node.names:
                yield target, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None


def _graph():
    graph = {}
    for module in MODULES:
        deps = set()
        for target, name in _imports(module):
            if f"{target}.{name}" in MODULES:  # from package import module
                deps.add(f"{target}.{name}")
            elif target in MODULES:
                deps.add(target)
        graph[module] = deps - {module}
    return graph


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_cycle():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_private_name_is_imported_across_modules():
    found = [
        f"{module}: from {target} import {name}"
        for module in MODULES
        for target, name in _imports(module)
        if target.startswith("lipanomaly")
        and name
        and name.startswith("_")
        and not name.startswith("__")
        and f"{target}.{name}" not in MODULES  # a private module itself is fine
    ]
    assert found == []


def _defined_methods(tree):
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def test_few_private_methods_are_called_on_other_modules_objects():
    """``obj._method(...)`` where ``_method`` is the package's, defined in another module."""
    defined = {module: _defined_methods(tree) for module, (_, tree) in MODULES.items()}
    package_private = {n for names in defined.values() for n in names if n.startswith("_")}
    calls = []
    for module, (_, tree) in MODULES.items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name, owner = node.func.attr, node.func.value
            if not name.startswith("_") or name.startswith("__"):
                continue
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and getattr(owner.func, "id", None) == "super":
                continue
            if name in package_private and name not in defined[module]:
                calls.append(f"{module}:{node.lineno}: {ast.unparse(node.func)}")
    assert {c.rsplit("._", 1)[1] for c in calls} <= {
        n.lstrip("_") for n in ALLOWED_PRIVATE_CALLS
    }, calls
    assert len(ALLOWED_PRIVATE_CALLS) <= 3


def test_no_generated_init():
    """Every estimator writes out its ``__init__`` (no ``__signature__`` set by hand)."""
    for module, (_, tree) in MODULES.items():
        text = ast.unparse(tree)
        assert "__signature__" not in text, module
        assert "keyword_init" not in text, module
