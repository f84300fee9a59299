# SPDX-License-Identifier: BSD-3-Clause
"""The documentation's ``>>>`` examples, run as doctests.

Every ``>>>`` example of the user-guide pages runs as a doctest, so each
formula of "The mathematics" (checked there against
``BCEObjective.value_and_grad``) and each claim of the other pages stays true.
The formulas are also tested in every configuration in ``test_objective.py``,
and the table of equivalences of the "Training" page in
``test_equivalence.py``; the pages' other code blocks run in ``test_docs.py``.
"""

import doctest
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = {
    "getting_started.rst": (),
    "user_guide/mathematics.rst": (),
    "user_guide/training.rst": (),
    "user_guide/cross_validation.rst": (),
    "user_guide/monitoring.rst": ("sklearn.callback", "matplotlib"),
    "user_guide/troubleshooting.rst": (),
    "user_guide/saving.rst": ("skops.io", "joblib"),
}


# -- the pages' doctests ---------------------------------------------------------
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_examples(page, capsys):
    for module in PAGES[page]:
        pytest.importorskip(module)
    path = DOCS / page
    if not path.is_file():
        pytest.skip(f"{path} is not in this checkout")
    with warnings.catch_warnings():
        # A page that expects a warning says so with warnings.catch_warnings;
        # any other is a claim ("converges", "no overflow") that broke.
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        result = doctest.testfile(
            str(path),
            module_relative=False,
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
            report=True,
        )
    report = capsys.readouterr().out
    assert result.attempted > 0, f"{page} has no examples"
    assert result.failed == 0, f"{result.failed} example(s) of {page} failed:\n{report}"


def test_every_user_guide_page_with_examples_is_run():
    pages_with_examples = {
        str(path.relative_to(DOCS))
        for path in DOCS.rglob("*.rst")
        if "_build" not in path.parts
        and "generated" not in path.parts
        and "auto_examples" not in path.parts
        and ">>> " in path.read_text()
    }
    if not pages_with_examples:
        pytest.skip("no docs/ in this checkout")
    assert pages_with_examples <= set(PAGES)
