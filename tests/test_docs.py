"""The Sphinx documentation builds without a warning, and the CLI page covers every command."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.mark.docs  # `make docs-test` and CI run it; `make test` leaves it out (Makefile)
def test_sphinx_build_has_no_warning(tmp_path):
    # -W: a warning (a page outside every toctree, a broken reference, a bad docstring
    # section) fails the build, as in `make docs`; -E: no cached environment
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-E",
            "-q",
            "-b",
            "html",
            str(REPO / "docs"),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    html = tmp_path / "html"
    for page in ("index", "cli", "api", "guide/tuning", "guide/limits", "data"):
        assert (html / f"{page}.html").is_file()


def test_cli_page_documents_every_subcommand():
    from lipanomaly.app.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    page = (REPO / "docs" / "cli.md").read_text()
    for name in sub.choices:
        assert f"## `{name}`" in page


def test_security_page_quotes_the_limits():
    """docs/guide/security.md quotes every constant of lipanomaly.limits with its value."""
    import re

    from lipanomaly import limits

    page = (REPO / "docs" / "guide" / "security.md").read_text()
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| `([^`]+)` \|", page, flags=re.MULTILINE))
    assert set(rows) == set(limits.__all__)
    for name in limits.__all__:
        assert rows[name] == repr(getattr(limits, name)), name
