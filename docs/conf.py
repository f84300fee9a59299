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
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb"]
root_doc = "index"

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
# The class template lists the methods; numpydoc's own member tables would
# link to pages that do not exist.
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


def setup(app):
    app.connect("autodoc-process-docstring", _quote_attribute_names_in_shapes)


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
html_sidebars = {"**": ["sidebar-nav-bs"]}
