# SPDX-License-Identifier: BSD-3-Clause
"""The documentation's formulas and claims, checked against the package.

Two kinds of test:

- every ``>>>`` example of the user-guide pages runs as a doctest, so each
  formula of "The mathematics" (checked there against
  ``BCEObjective.value_and_grad``) and each claim of the other pages stays true;
- the table of equivalences of the "Training" page (``alpha`` and ``l1_ratio``
  against LogisticRegression's ``C``, SGDClassifier's ``alpha`` and
  MLPClassifier's ``alpha``) is checked numerically, column by column.
"""

import doctest
import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier
from skperceptron._objective import BCEObjective

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = {
    "getting_started.rst": (),
    "user_guide/mathematics.rst": (),
    "user_guide/training.rst": (),
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


# -- the gradient formula of "The mathematics", in every configuration -----------
def _problem(kind, rng, n_samples=40, n_features=5):
    X = rng.standard_normal((n_samples, n_features)) * rng.uniform(0.1, 10, n_features)
    n_outputs = {"binary": 1, "multiclass": 3, "multilabel": 4}[kind]
    if kind == "multiclass":
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, n_samples)]
    else:
        Y = rng.integers(0, 2, size=(n_samples, n_outputs)).astype(float)
    return X, Y


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("sparse", [True, False])
def test_documented_gradient_formula(kind, fit_intercept, weighted, sparse, rng):
    """grad_W = (s * (Z - Y))^T X / S + alpha W and grad_b = sum_i s_i (z_i - y_i) / S."""
    X, Y = _problem(kind, rng)
    s = rng.uniform(0.2, 3.0, X.shape[0]) if weighted else np.ones(X.shape[0])
    S = s.sum()
    alpha = 0.7
    W = rng.standard_normal((Y.shape[1], X.shape[1])) * 0.3
    b = rng.standard_normal(Y.shape[1]) if fit_intercept else np.zeros(Y.shape[1])
    X_in = sp.csr_matrix(X) if sparse else X
    objective = BCEObjective(X_in, Y, s / S, l2=alpha, fit_intercept=fit_intercept)

    V = X @ W.T + b
    Z = expit(V)
    J = s @ (-(Y * np.log(Z) + (1 - Y) * np.log(1 - Z))).sum(axis=1) / S
    J += alpha / 2 * np.sum(W**2)
    residual = s[:, None] * (Z - Y) / S

    raw = objective.matvec(W, b)
    np.testing.assert_allclose(raw, V, rtol=1e-12, atol=1e-12)
    value, grad_W, grad_b = objective.value_and_grad(W, raw)
    np.testing.assert_allclose(value, J, rtol=1e-12)
    np.testing.assert_allclose(grad_W, X.T.dot(residual).T + alpha * W, rtol=1e-10, atol=1e-14)
    expected_b = residual.sum(axis=0) if fit_intercept else np.zeros(Y.shape[1])
    np.testing.assert_allclose(grad_b, expected_b, rtol=1e-10, atol=1e-14)


def test_stray_ones_term_changes_the_gradient_by_sigma_prime(rng):
    """The first classic mistake adds X^T (s z (1 - z)) / S to grad_W, nothing else."""
    X, Y = _problem("binary", rng)
    sw = np.full(X.shape[0], 1 / X.shape[0])
    objective = BCEObjective(X, Y, sw, l2=0.0, fit_intercept=True)
    W, b = rng.standard_normal((1, X.shape[1])) * 0.1, np.zeros(1)
    Z = expit(objective.matvec(W, b))
    dL_dz = -Y / Z + (1 - Y) / (1 - Z)
    wrong_residual = sw[:, None] * (dL_dz + 1) * Z * (1 - Z)
    _, grad_W, grad_b = objective.value_and_grad(W, objective.matvec(W, b))
    np.testing.assert_allclose(
        wrong_residual.T @ X - grad_W, (sw[:, None] * Z * (1 - Z)).T @ X, atol=1e-12
    )
    assert wrong_residual.sum() - grad_b[0] > 0


# -- the table of equivalences of "Training" --------------------------------------
@pytest.fixture(scope="module")
def standardized_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _tight(**params):
    # The L1 path's line search stops near 1e-9 in float64: ask for 1e-8 there.
    tol = 1e-8 if params.get("l1_ratio") else 1e-10
    return BCEPerceptronClassifier(tol=tol, max_iter=20_000, **params)


def _relative_error(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max()


@pytest.mark.parametrize("weighted", [False, True])
def test_logistic_regression_C_is_one_over_alpha_S(standardized_cancer, weighted, rng):
    X, y = standardized_cancer
    sample_weight = rng.uniform(0.5, 3.0, X.shape[0]) if weighted else None
    S = X.shape[0] if sample_weight is None else sample_weight.sum()
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, y, sample_weight=sample_weight)
    theirs = LogisticRegression(C=1 / (alpha * S), tol=1e-12, max_iter=10_000)
    theirs.fit(X, y, sample_weight=sample_weight)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-5)


def test_logistic_regression_elastic_net_same_l1_ratio(standardized_cancer):
    X, y = standardized_cancer
    alpha, l1_ratio = 1e-2, 0.5
    ours = _tight(alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    params = dict(C=1 / (alpha * X.shape[0]), l1_ratio=l1_ratio, solver="saga")
    if "deprecated" not in str(inspect.signature(LogisticRegression).parameters["penalty"]):
        params["penalty"] = "elasticnet"  # scikit-learn < 1.8
    theirs = LogisticRegression(tol=1e-8, max_iter=100_000, **params).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-4)
    assert np.array_equal(ours.coef_ == 0, np.abs(theirs.coef_) < 1e-6)


def test_multiclass_equals_one_vs_rest_logistic_regression():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, y)
    theirs = OneVsRestClassifier(
        LogisticRegression(C=1 / (alpha * X.shape[0]), tol=1e-12, max_iter=10_000)
    ).fit(X, y)
    stacked = np.vstack([estimator.coef_ for estimator in theirs.estimators_])
    np.testing.assert_allclose(ours.coef_, stacked, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_sgd_alpha_is_alpha_S_over_n(standardized_cancer, weighted, rng):
    # Averaged SGD approaches the optimum of its objective; the documented
    # alpha must land within a few percent, a wrong one (alpha * n) far off.
    X, y = standardized_cancer
    n_samples = X.shape[0]
    sample_weight = rng.uniform(0.5, 3.0, n_samples) if weighted else None
    S = n_samples if sample_weight is None else sample_weight.sum()
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, y, sample_weight=sample_weight)

    def sgd(sgd_alpha):
        return SGDClassifier(
            loss="log_loss", alpha=sgd_alpha, max_iter=2000, tol=None, average=True,
            random_state=0,
        ).fit(X, y, sample_weight=sample_weight)

    assert _relative_error(sgd(alpha * S / n_samples).coef_, ours.coef_) < 0.02
    assert _relative_error(sgd(alpha * n_samples).coef_, ours.coef_) > 0.5


def test_sgd_elastic_net_same_alpha_and_l1_ratio(standardized_cancer):
    X, y = standardized_cancer
    alpha, l1_ratio = 1e-2, 0.5
    ours = _tight(alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    theirs = SGDClassifier(
        loss="log_loss", alpha=alpha, penalty="elasticnet", l1_ratio=l1_ratio,
        max_iter=3000, tol=None, random_state=0,
    ).fit(X, y)
    assert _relative_error(theirs.coef_, ours.coef_) < 0.05


def test_mlp_without_hidden_layer_alpha_is_alpha_S(standardized_cancer):
    X, y = standardized_cancer
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, y)
    mlp = MLPClassifier(
        hidden_layer_sizes=(), alpha=alpha * X.shape[0], solver="lbfgs", tol=1e-12,
        max_iter=20_000, random_state=0,
    ).fit(X, y)
    np.testing.assert_allclose(ours.coef_, mlp.coefs_[0].T, atol=1e-3)
    np.testing.assert_allclose(ours.intercept_, mlp.intercepts_[0], atol=1e-3)


def test_mlp_weighted_alpha_is_alpha_times_sum_of_weights(standardized_cancer, rng):
    if "sample_weight" not in inspect.signature(MLPClassifier.fit).parameters:
        pytest.skip("MLPClassifier.fit takes sample_weight from scikit-learn 1.7")
    X, y = standardized_cancer
    sample_weight = rng.uniform(0.5, 3.0, X.shape[0])
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, y, sample_weight=sample_weight)
    mlp = MLPClassifier(
        hidden_layer_sizes=(), alpha=alpha * sample_weight.sum(), solver="lbfgs",
        tol=1e-12, max_iter=20_000, random_state=0,
    ).fit(X, y, sample_weight=sample_weight)
    np.testing.assert_allclose(ours.coef_, mlp.coefs_[0].T, atol=1e-3)


def test_mlp_multilabel_is_the_same_problem():
    X, Y = make_multilabel_classification(n_samples=200, n_features=5, random_state=0)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, Y)
    # Seeded: MLP's lbfgs stops near, not at, the optimum (within 1.4e-4 in
    # coef_ over 40 seeds), how near depending on its random start; unseeded,
    # this test failed once in a dozen runs of the suite here.
    mlp = MLPClassifier(
        hidden_layer_sizes=(), alpha=alpha * X.shape[0], solver="lbfgs", tol=1e-12,
        max_iter=20_000, random_state=0,
    ).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, mlp.coefs_[0].T, atol=1e-3)
    np.testing.assert_allclose(ours.predict_proba(X), mlp.predict_proba(X), atol=1e-4)
