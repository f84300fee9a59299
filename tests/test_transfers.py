# SPDX-License-Identifier: BSD-3-Clause
"""Reads from the device to the host per solver iteration (issue 14).

On a GPU every read waits for the device's queue to drain.  The backend counts
them (``_backend.host_reads``); these tests count the reads of one iteration
on PyTorch's CPU device and on array-api-strict, as the difference between
fits of ``max_iter`` iterations and of more, and check the count against an
independent one: PyTorch's own conversions to Python numbers and to the CPU.
"""

import os
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification

import skperceptron._backend as backend_module
from skperceptron import BCEPerceptronClassifier

pytestmark = pytest.mark.skipif(
    os.environ.get("SCIPY_ARRAY_API") != "1",
    reason="scikit-learn's Array API support needs SCIPY_ARRAY_API=1 before SciPy loads",
)

# The planar momentum's iteration (the default solver): one read, of the
# plane's slopes, curvature and Gram matrix with its first Newton trial,
# formed and evaluated on the device, the stopping criterion at the point,
# and the Hessian metric's refresh test at the first trial (where the step
# most often lands).
READS_PER_ITERATION = 1


def _data(n_classes):
    # Unscaled columns: far from converged after the iterations counted; a
    # factor they share: "auto" takes the Hessian metric.
    X, y = make_classification(
        2000, 20, n_informative=10, n_classes=n_classes, random_state=0
    )
    X[:, 1:] += X[:, :1]
    X *= np.logspace(-1, 1, 20)
    return X, y


def _arrays(name, X, y):
    if name == "torch":
        torch = pytest.importorskip("torch")
        return torch.asarray(X), torch.asarray(y)
    xp = pytest.importorskip(name)
    return xp.asarray(X), xp.asarray(y)


def _reads(X, y, max_iter, **params):
    """Reads of a fit of exactly ``max_iter`` iterations, and its estimator."""
    clf = BCEPerceptronClassifier(max_iter=max_iter, tol=1e-14, **params)
    before = backend_module.host_reads()
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    assert clf.n_iter_ == max_iter
    return backend_module.host_reads() - before, clf


@pytest.mark.parametrize("name", ["torch", "array_api_strict"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("preconditioner", ["auto", "diagonal"])
def test_reads_per_iteration(name, n_classes, preconditioner):
    X, y = _arrays(name, *_data(n_classes))
    short, clf = _reads(X, y, 2, preconditioner=preconditioner)
    long, _ = _reads(X, y, 6, preconditioner=preconditioner)
    assert clf.preconditioner_ == ("hessian" if preconditioner == "auto" else "diagonal")
    assert short > 0  # the counter sees the setup's reads
    assert long - short == READS_PER_ITERATION * 4


# The other solvers (gd, FISTA with an L1 part, a fixed step), whose ray
# searches evaluate their likely trials on the device before the one read.
OTHER_SOLVERS = {
    "gd, Hessian": dict(solver="gd"),
    "gd, diagonal": dict(solver="gd", preconditioner="diagonal"),
    "FISTA, L1": dict(alpha=1e-3, l1_ratio=0.5, preconditioner="diagonal"),
    "gd, L1": dict(solver="gd", alpha=1e-2, l1_ratio=1.0, preconditioner="diagonal"),
    "fixed step": dict(solver="gd", preconditioner="diagonal", line_search=False),
}


@pytest.mark.parametrize("name", ["torch", "array_api_strict"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", OTHER_SOLVERS)
def test_reads_per_iteration_of_the_other_solvers(name, n_classes, solver):
    X, y = _arrays(name, *_data(n_classes))
    short, _ = _reads(X, y, 2, **OTHER_SOLVERS[solver])
    long, _ = _reads(X, y, 6, **OTHER_SOLVERS[solver])
    assert long - short == READS_PER_ITERATION * 4


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", OTHER_SOLVERS)
def test_the_one_read_searches_take_numpys_steps(n_classes, solver):
    """The trials evaluated on the device before the read are the ones the
    search takes on NumPy: the same iterations and losses.  (Forty of them:
    on these ill-conditioned data gd and FISTA need hundreds, over which the
    two libraries' rounding grows to 1e-8 relative, as it did when the
    device read every trial.)"""
    torch = pytest.importorskip("torch")
    X, y = _data(n_classes)
    params = dict(OTHER_SOLVERS[solver], max_iter=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fixed step's ConvergenceWarning
        ref = BCEPerceptronClassifier(**params).fit(X, y)
        with sklearn.config_context(array_api_dispatch=True):
            clf = BCEPerceptronClassifier(**params).fit(torch.asarray(X), torch.asarray(y))
    assert clf.preconditioner_ == ref.preconditioner_
    assert clf.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(clf.loss_curve_, ref.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(clf.coef_.numpy(), ref.coef_, rtol=0, atol=1e-8)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("alpha", [1e-5, 1e-2])
def test_the_one_read_loop_takes_numpys_steps(n_classes, alpha):
    """On a device the criterion is read with the next step's plane (not
    taken when the test passes) and the Hessian's refresh test at the first
    trial of the last search, not at the point: the iterations, the refreshes
    and the losses are NumPy's all the same."""
    torch = pytest.importorskip("torch")
    X, y = _data(n_classes)
    ref = BCEPerceptronClassifier(alpha=alpha).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        clf = BCEPerceptronClassifier(alpha=alpha).fit(torch.asarray(X), torch.asarray(y))
    assert clf.preconditioner_ == ref.preconditioner_ == "hessian"
    assert clf.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(clf.loss_curve_, ref.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(clf.coef_.numpy(), ref.coef_, rtol=0, atol=1e-8)


def test_counter_matches_torchs_own_conversions(monkeypatch):
    """Every read the fit's loop makes goes through the backend: PyTorch's
    conversions (``item``, ``float``, ``bool``, ``cpu``, ...) between the
    two fits' ends grow exactly as the backend's counter does."""
    torch = pytest.importorskip("torch")
    X, y = _arrays("torch", *_data(3))
    seen = [0]
    # (Not ``numpy``: a read is ``cpu()`` then ``numpy()``, one transfer.)
    for method in ("item", "tolist", "cpu", "__float__", "__bool__", "__int__"):
        original = getattr(torch.Tensor, method)

        def counted(self, *args, _original=original, **kwargs):
            seen[0] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counted)
    counts = {}
    for max_iter in (2, 6):
        start = seen[0]
        reads, _ = _reads(X, y, max_iter)
        counts[max_iter] = (reads, seen[0] - start)
    ours = counts[6][0] - counts[2][0]
    torchs = counts[6][1] - counts[2][1]
    assert 0 < ours == torchs
