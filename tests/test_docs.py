# SPDX-License-Identifier: BSD-3-Clause
"""Every Python code block of the README and of the documentation runs.

The ``>>>`` examples of the pages are doctests, run by ``test_docs_math.py``.
This file runs what doctest does not see: the fenced ```` ```python ```` blocks
of ``README.md`` and the ``.. code-block:: python`` blocks of the pages, each
page's blocks in order in one namespace, so that a snippet that stops working
fails the suite.  The blocks of ``scaling.rst`` need a dask cluster and
remote data; they are only compiled.  It also checks that
``skperceptron.__version__`` is the newest version of ``CHANGELOG.md``.
"""

import contextlib
import io
import re
import textwrap
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

import skperceptron

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Pages whose blocks need more than the test extras: compiled, not run.
COMPILE_ONLY = {"scaling.rst": "a running dask cluster and data in a bucket"}
# Modules a page's blocks import beyond the package's dependencies.
NEEDS = {
    "README.md": ("sklearn.callback",),
    "user_guide/monitoring.rst": ("sklearn.callback", "rich"),
}


def _markdown_blocks(text):
    return [textwrap.dedent(block) for block in re.findall(r"```python\n(.*?)```", text, re.S)]


def _rst_blocks(text):
    """The bodies of ``.. code-block:: python`` directives (options skipped)."""
    blocks = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not re.match(r"\s*\.\. code-block:: python\s*$", line):
            continue
        indent = len(line) - len(line.lstrip())
        body = []
        for following in lines[index + 1 :]:
            stripped = following.strip()
            if stripped and len(following) - len(following.lstrip()) <= indent:
                break
            if not body and stripped.startswith(":"):
                continue  # a directive option
            body.append(following)
        blocks.append(textwrap.dedent("\n".join(body)).strip("\n") + "\n")
    return blocks


def _pages():
    pages = {"README.md": _markdown_blocks((ROOT / "README.md").read_text())}
    for path in sorted(DOCS.rglob("*.rst")):
        relative = path.relative_to(DOCS)
        if relative.parts[0] in ("_build", "generated", "auto_examples", "_templates"):
            continue
        blocks = _rst_blocks(path.read_text())
        if blocks:
            pages[str(relative)] = blocks
    return pages


PAGES = _pages()


def test_the_pages_with_code_are_found():
    # The README's two snippets, the landing page's, at least one of the
    # user guide's "Watching a fit", and those of scaling (compiled only).
    assert len(PAGES["README.md"]) >= 2
    assert {"index.rst", "user_guide/monitoring.rst", "scaling.rst"} <= set(PAGES)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_code_blocks_run(page):
    blocks = PAGES[page]
    if page in COMPILE_ONLY:
        for block in blocks:
            compile(block, page, "exec")
        pytest.skip(f"{page} needs {COMPILE_ONLY[page]}; its blocks compile")
    for module in NEEDS.get(page, ()):
        pytest.importorskip(module)
    namespace = {"__name__": f"docs_{page}"}
    printed = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
        # The snippets promise fits that converge.
        warnings.simplefilter("error", ConvergenceWarning)
        for number, block in enumerate(blocks, 1):
            try:
                exec(compile(block, f"{page}, block {number}", "exec"), namespace)
            except Exception as exc:  # pragma: no cover - the failure report
                raise AssertionError(f"{page}, block {number} failed:\n{block}") from exc
    if page == "README.md":
        # What the README's comments say the snippets print.
        lines = printed.getvalue().splitlines()
        assert round(float(lines[0]), 3) == 0.974, lines
        assert lines[1].startswith("{'bceperceptronclassifier__alpha': 0.01}"), lines
        same_length, accuracy = lines[2].split()
        assert same_length == "True" and round(float(accuracy), 4) == 0.9596, lines


def test_version_is_the_newest_changelog_entry():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## (\S+)", changelog, re.M)
    assert versions, "CHANGELOG.md has no '## <version>' heading"
    assert versions[0] == skperceptron.__version__
