"""The layer rules of the package, read from the source (no import needed).

- the sub-packages are layers, each importing only from itself and the layers below it
  (:data:`LAYERS`), lazy imports inside functions included;
- OpenCV and MediaPipe are imported by ``io/video.py`` only;
- torch and skorch by ``nn/`` only (not by ``nn/specs.py``, what the estimators know of a
  network without torch); another module reaches the networks through ``lipanomaly.nn``,
  imported inside the function that needs it (never at module level);
- the numpy scoring (``scoring/formulas.py``, ``scoring/scorer.py``) imports neither torch nor
  the networks;
- nothing outside ``app/`` imports the applications (the command line, demo, report);
- the applications around the library (benchmarks, docs scripts, examples, the training
  script, the CLI, the demo and the report) use only public API: no ``obj._private``, no
  ``_private`` name imported from another module.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "lipanomaly"


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path):
    """(module name, level, at module level) of every import statement of a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, 0, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.module or "", node.level, id(node) in top))
            # "from . import nn" imports the subpackage nn
            if node.module is None:
                out += [(a.name, node.level, id(node) in top) for a in node.names]
    return out


def _absolute(path, module, level):
    """The absolute dotted name of an import made in ``path``."""
    if level == 0:
        return module
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    base = parts[: len(parts) - level]
    return ".".join(base + ([module] if module else []))


def _root(name):
    return name.split(".")[0]


#: The layers, lowest first: the top-level modules (exceptions, limits, the input checks),
#: I/O, signal processing, the networks, scoring, the detectors, evaluation, model files,
#: the applications. See DEVELOPERS.md.
LAYERS = ("", "io", "signal", "nn", "scoring", "detectors", "evaluation", "persistence", "app")


def _layer(rel_parts):
    """The layer of a module, from its path parts under lipanomaly/."""
    return rel_parts[0] if len(rel_parts) > 1 else ""


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layer_rules(path):
    rel = path.relative_to(PACKAGE).as_posix()
    layer = LAYERS.index(_layer(path.relative_to(PACKAGE).parts))
    for module, level, top in _imports(path):
        name = _absolute(path, module, level)
        root = _root(name)
        if root in ("cv2", "mediapipe"):
            assert rel == "io/video.py", f"{rel} imports {name}: only io/video.py may"
        if root in ("torch", "skorch"):
            assert rel.startswith("nn/") and rel != "nn/specs.py", f"{rel} imports {name}"
        if root == "lipanomaly":
            target = name.split(".")[1] if "." in name else ""
            target = target if target in LAYERS else ""  # a top-level module: the lowest layer
            assert LAYERS.index(target) <= layer, f"{rel} (layer {LAYERS[layer]!r}) imports {name}"
        if name.startswith("lipanomaly.nn") and name != "lipanomaly.nn.specs":
            in_nn = rel.startswith("nn/")
            assert in_nn or not top, f"{rel} imports {name} at module level: import it lazily"
            assert rel not in ("scoring/formulas.py", "scoring/scorer.py"), f"{rel} imports {name}"
        if name.startswith("lipanomaly.app"):
            assert rel.startswith("app/"), f"{rel} imports the applications ({name})"


def test_every_sub_package_is_a_layer():
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages == set(LAYERS) - {""}


APPLICATIONS = [
    *sorted((REPO / "benchmarks").glob("*.py")),
    *sorted((REPO / "docs" / "scripts").glob("*.py")),
    *sorted((REPO / "examples").glob("*.py")),
    REPO / "scripts" / "train_pretrained.py",
    *sorted((PACKAGE / "app").rglob("*.py")),
]


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@pytest.mark.parametrize("path", APPLICATIONS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_reach_into_private_names(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            if owner not in ("self", "cls"):
                found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if any(_private(part) for part in module.split(".")):
                found.append(f"line {node.lineno}: from {module} import ...")
            found += [
                f"line {node.lineno}: import {a.name} from {module}"
                for a in node.names
                if _private(a.name)
            ]
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}"
                for a in node.names
                if any(_private(part) for part in a.name.split("."))
            ]
    assert not found, f"{path.relative_to(REPO)} reaches into private names: {found}"
