# SPDX-License-Identifier: BSD-3-Clause
"""Sphinx configuration.

The build reads nothing from the network: no intersphinx, MathJax served from
the build itself (sphinx-mathjax-offline), and a theme configured without
remote icons, fonts or version switchers.
"""

import os
import re

import skperceptron

# The gallery runs with the non-interactive backend, whatever the environment.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "skperceptron"
author = "The skperceptron developers"
copyright = "the skperceptron developers, BSD-3-Clause"
release = skperceptron.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # Installs MathJax into _build/html/_static and points mathjax_path at it.
    "sphinx-mathjax-offline",
    # CHANGELOG.md, included by changelog.rst.
    "myst_parser",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb"]
root_doc = "index"

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
# The class template (_templates/autosummary/class.rst) documents the methods
# with ``:members:`` and ``:inherited-members: BaseEstimator`` (``score`` from
# ClassifierMixin, ``set_callbacks``; not get_params, set_params and the
# metadata-routing methods, which the template excludes).  No ``autodoc_default_options`` here: under Sphinx 9 its
# ``"members": False`` overrode the template and the pages listed no method.
# numpydoc's own member tables would link to pages that do not exist.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False



def _quote_attribute_names_in_shapes(app, what, name, obj, options, lines):
    """``(n_features_in_,)`` in a shape is an attribute name, not a reST reference.

    A word ending in ``_`` is a hyperlink reference to docutils; scikit-learn
    writes such shapes as ``(`n_features_in_`,)``.  Quote them here so that a
    docstring written without the backquotes still builds under ``-W``.
    """
    for index, line in enumerate(lines):
        if "shape (" in line:
            lines[index] = re.sub(r"(?<![`\w])(\w+_)(?=[,)\s])", r"``\1``", line)


def _unlink_sklearn_references(app, what, name, obj, options, lines):
    """Inherited scikit-learn docstrings (``score``, ``set_callbacks``) refer to
    labels and glossary terms of scikit-learn's site, which this build does not
    load (no intersphinx: nothing from the network).  Keep their text."""
    if not getattr(obj, "__module__", "").startswith("sklearn"):
        return
    for index, line in enumerate(lines):
        line = re.sub(r":(?:ref|term):`([^`<]+?)\s*<[^`>]+>`", r"\1", line)
        lines[index] = re.sub(r":(?:ref|term):`([^`]+)`", r"\1", line)


def setup(app):
    app.connect("autodoc-process-docstring", _quote_attribute_names_in_shapes)
    app.connect("autodoc-process-docstring", _unlink_sklearn_references)


# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib", "seaborn"),
    "doc_module": ("skperceptron",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skperceptron": None},
    "min_reported_time": 0,
    "remove_config_comments": True,
    "show_memory": False,
    # The computation-times page loads jQuery and DataTables from CDNs.
    "write_computation_times": False,
    "plot_gallery": "True",
}

# -- HTML ------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skperceptron {release}"
html_show_sourcelink = False
html_theme_options = {
    # Nothing that links out or fetches: no icon links, no version switcher,
    # no announcement banner, no analytics.
    "icon_links": [],
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "navigation_with_keys": False,
    "show_prev_next": True,
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": ["page-toc"],
}
# Pages without sub-pages get no left sidebar (it showed an empty "Section
# Navigation"); the user guide's pages keep theirs.
html_sidebars = {
    "**": ["sidebar-nav-bs"],
    "index": [],
    "getting_started": [],
    "scaling": [],
    "api": [],
    "changelog": [],
}
# A wide display equation scrolls within the column instead of being cut.
html_static_path = ["_static"]
html_css_files = ["skperceptron.css"]
