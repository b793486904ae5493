"""Sphinx configuration of the lipanomaly documentation (``make docs``).

The pages are Markdown (MyST) except the API reference (``api.rst``), which autosummary
fills from the numpydoc docstrings. Warnings are errors in ``make docs`` (``-W``).
"""

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# matplotlib must not try to open a window while autodoc imports the package
os.environ.setdefault("MPLBACKEND", "Agg")

import lipanomaly  # noqa: E402

project = "lipanomaly"
author = "The lipanomaly developers"
copyright = "the lipanomaly developers"
release = lipanomaly.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "api/generated/*.md", "scripts", "**/README.md"]
templates_path = []

# MyST: $...$ maths, ::: fences, heading anchors for links between the Markdown pages
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# autosummary writes one page per documented object under api/generated/ (git-ignored)
autosummary_generate = True
# the pages autosummary writes are made afresh each build: a page of a name that moved or went
# (an ignored folder, kept between builds) would otherwise fail -W as outside every toctree
shutil.rmtree(Path(__file__).resolve().parent / "api" / "generated", ignore_errors=True)
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"

# numpydoc: no duplicate autosummary tables of every method, but the Attributes section kept
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_validation_checks = set()

# no intersphinx: the docs build offline (CI has no network)


def _skip_metadata_requests(app, what, name, obj, skip, options):
    """scikit-learn's generated ``set_<method>_request`` (fit has ``groups``, transform has
    ``components``): its own API, documented by scikit-learn, whose docstrings point into
    scikit-learn's glossary."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_requests)


html_theme = "alabaster"
html_title = f"lipanomaly {release}"
html_static_path = []
html_theme_options = {
    "description": "Live or spoofed? One-class detection from lip motion.",
    "fixed_sidebar": True,
}
