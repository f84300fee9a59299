# SPDX-License-Identifier: BSD-3-Clause
"""_convergence: the stopping rule (the gradient test, the gap test added to it,
the flat regime), Progress, and the diagnosis of a fit that did not converge."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier
from skperceptron._convergence import _MAX_STALLED, Progress, SolverResult, Stopping, diagnose


def relative_gap(clf, X, y, J_star):
    return (clf.objective(X, y) - J_star) / J_star


def optimum(X, y, **params):
    clf = BCEPerceptronClassifier(tol=1e-12, max_iter=50_000, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf.objective(X, y)


@pytest.fixture
def gradient_test_only(monkeypatch):
    """The stopping rule of the gradient alone (the gap test always passes)."""
    monkeypatch.setattr(Stopping, "small_gap", lambda self, *a: True)


def sparse_columns_problem():
    """CSR data whose columns each have few non-zeros: small gradient entries."""
    rng = np.random.default_rng(0)
    n, p = 6_000, 2_000
    X = sp.random(n, p, density=0.01, format="csr", random_state=1)
    X.data = rng.exponential(1.0, X.nnz)
    w = np.zeros(p)
    support = rng.choice(p, p // 10, replace=False)
    w[support] = rng.standard_normal(support.size)
    logit = X @ w
    logit = 3 * (logit - np.median(logit)) / logit.std()
    y = (rng.random(n) < expit(logit)).astype(int)
    return X, y


@pytest.mark.parametrize("preconditioner", ["auto", "diagonal"])
@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-6])
def test_default_fit_is_within_tol_of_the_optimum(breast_cancer, tol, preconditioner):
    X, y = breast_cancer
    J_star = optimum(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BCEPerceptronClassifier(tol=tol, preconditioner=preconditioner).fit(X, y)
    # Below J* only by rounding: the oracle's own optimum is as exact as ours.
    assert -1e-13 <= relative_gap(clf, X, y, J_star) <= tol


@pytest.mark.parametrize("alpha", [1e-5, 1e-4])
def test_hessian_default_fit_on_digits_is_within_tol(alpha):
    """The Hessian metric's gap test is its Newton decrement: Aitken's
    extrapolation over windows that mixed the fast phase with a slow tail
    stopped digits at alpha=1e-4 1.7e-4 above J* (and at 1e-5, before the
    stale-metric refresh, 1e-3)."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    J_star = optimum(X, y, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BCEPerceptronClassifier(alpha=alpha).fit(X, y)
    assert clf.preconditioner_ == "hessian"
    assert -1e-13 <= relative_gap(clf, X, y, J_star) <= 1e-4


@pytest.mark.parametrize("data", ["breast_cancer", "sparse"])
def test_gradient_test_alone_stops_short(request, data, gradient_test_only):
    """Why the gap test exists: the gradient test alone stops above tol."""
    if data == "breast_cancer":
        X, y = request.getfixturevalue("breast_cancer")
    else:
        X, y = sparse_columns_problem()
    tol = 1e-2 if data == "breast_cancer" else 1e-4
    J_star = optimum(X, y)
    clf = BCEPerceptronClassifier(tol=tol).fit(X, y)
    assert relative_gap(clf, X, y, J_star) > tol


def test_sparse_columns_default_fit_within_tol():
    X, y = sparse_columns_problem()
    J_star = optimum(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BCEPerceptronClassifier().fit(X, y)
    assert relative_gap(clf, X, y, J_star) <= 1e-4


def test_warm_start_at_the_optimum_stops_at_once(breast_cancer):
    X, y = breast_cancer
    clf = BCEPerceptronClassifier(tol=1e-6, warm_start=True).fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 1
    # The solver's value at the start, no second evaluation: J itself, from
    # the start's one product (recomputing it took a second).
    assert clf.loss_curve_[0] == pytest.approx(clf.objective(X, y), rel=1e-12)
    assert clf.n_matvec_ == 1


def test_gap_test_failing_at_max_iter_says_so(breast_cancer):
    X, y = breast_cancer
    # With the diagonal metric, at tol=1e-2 the gradient test holds from
    # iteration 5, the gap test from about 40.
    clf = BCEPerceptronClassifier(tol=1e-2, max_iter=12, preconditioner="diagonal")
    with pytest.warns(ConvergenceWarning, match="<= tol=0.01 but the objective still decreasing"):
        clf.fit(X, y)


def test_float32_at_its_precision_stops_as_flat():
    """tol=0 in float32: once neither the computed nor the predicted decrease
    of J is above 4 float32 epsilons of J, ten such iterations end the fit
    (it used to run on for 113 iterations of rounding noise here)."""
    X, y = make_classification(5000, 20, n_informative=10, random_state=0)
    X = X.astype(np.float32)
    clf = BCEPerceptronClassifier(tol=0.0, max_iter=1000)
    with pytest.warns(ConvergenceWarning, match="flat to float32 precision"):
        clf.fit(X, y)
    assert clf.n_iter_ < 60
    assert np.all(np.diff(clf.loss_curve_) <= 0)
    J_star = optimum(X.astype(np.float64), y)
    assert relative_gap(clf, X.astype(np.float64), y, J_star) < 1e-6


def test_progress_verdict_does_not_depend_on_which_way_rounding_falls():
    """The stall rule reads a change of J only beyond 4 epsilons and otherwise
    the gradient test: J moving by +-1 ulp (a rounding error either way)
    while the gradient test keeps setting new lows never stalls; the same J
    without new lows stalls after _MAX_STALLED iterations, as "flat" when the
    predicted decrease is within rounding and "stalled" when it is not."""
    J = 0.6384449038
    ulp = np.spacing(J)
    for sign in (1, -1):
        progress = Progress(np, np.float64)
        for k in range(50):
            progress.update(J, J + sign * ulp, 1e-18, 1e-6 * 0.9**k)
        assert progress.stalled == 0 and progress.at_resolution
    for predicted, reason in ((1e-18, "flat"), (1e-12, "stalled")):
        progress = Progress(np, np.float64)
        progress.update(J, J - 1e-9, 1e-9, 1e-6)  # a measured decrease
        for _ in range(_MAX_STALLED):
            progress.update(J, J + ulp, predicted, 2e-6)
        assert progress.stalled == _MAX_STALLED
        assert progress.reason() == reason


def test_degenerate_columns_reach_tol_with_the_diagonal_metric():
    """The CI failure under OpenBLAS's SkylakeX kernel: a zero column, a
    constant one and a duplicate scaled by 1e3 make J flat to float64
    precision (each step's predicted decrease ~1e-18) while the gradient test
    still falls; the fit must reach tol=1e-7 on every kernel, not stop
    "flat" at 8.8e-7."""
    X, y = make_classification(400, 3, n_informative=3, n_redundant=0, flip_y=0.1,
                               random_state=0)
    X = np.hstack([X, np.zeros((400, 1)), np.full((400, 1), 5.0), 1e3 * X[:, :1]])
    clf = BCEPerceptronClassifier(alpha=1e-3, tol=1e-7, max_iter=5000,
                                  preconditioner="diagonal").fit(X, y)
    residual = expit(X @ clf.coef_[0] + clf.intercept_[0]) - y
    grad = X.T @ residual / len(y) + 1e-3 * clf.coef_[0]
    assert max(np.abs(grad).max(), abs(residual.mean())) <= 1e-7 * (1 + 1e-6)


# -- diagnose: the cause a ConvergenceWarning names ---------------------------------
def hand_made_result(stop_reason="max_iter", *, criterion=1e-3, n_iter=100, step=0.5,
                     loss_curve=(0.7, 0.6, 0.5), norms=(1.0, 1.0, 1.0, 1.0), raw=None):
    """A SolverResult as a solver would hand it back, on four samples, one unit."""
    raw = np.array([[-2.0], [1.0], [-0.5], [3.0]]) if raw is None else raw
    return SolverResult(
        W=np.zeros((1, 2)), c=np.zeros(1), raw=raw, n_iter=n_iter, converged=False,
        stop_reason=stop_reason, step=step, criterion=criterion,
        loss_curve=list(loss_curve), coef_norm_curve=list(norms),
    )


# Y agrees in sign with the default raw predictions: every sample on its side.
SEPARATED_Y = np.array([[0.0], [1.0], [0.0], [1.0]])


def diagnosis(result, **settings):
    params = dict(
        tol=1e-4, max_iter=100, alpha=1e-2, l1_ratio=0.0, line_search=True,
        dtype=np.dtype(np.float64), scale_ratio=None, Y=SEPARATED_Y, sw=np.full(4, 0.25),
    )
    params.update(settings)
    return diagnose(result, **params)


CAUSES = {
    "diverged": "The iterates diverge with this fixed learning_rate",
    "separable": "The training data appear linearly separable",
    "flat": "The objective is flat to float64 precision here",
    "stalled": "misjudges the curvature here",
    "line_search": "The line search found no step",
    "scale": "The features have very different scales",
    "default": "Increase max_iter (now 100) or tol",
}


def the_cause(message):
    """The one cause a message names (asserting that it names exactly one)."""
    named = [cause for cause, text in CAUSES.items() if text in message]
    assert len(named) == 1, (named, message)
    return named[0]


@pytest.mark.parametrize(
    "stop_reason, expected",
    [("diverged", "diverged"), ("flat", "flat"), ("stalled", "stalled"),
     ("line_search", "line_search"), ("max_iter", "default")],
)
def test_diagnose_names_the_stop_reason(stop_reason, expected):
    message = diagnosis(hand_made_result(stop_reason))
    assert the_cause(message) == expected
    assert message.startswith(
        "BCEPerceptronClassifier did not converge: 100 iterations, "
        "final max |gradient| 1.000e-03 > tol=0.0001, step 5.000e-01."
    ), message


def test_diagnose_rising_curve_without_line_search_is_divergence():
    rising = hand_made_result(loss_curve=(0.5, 0.9, 3.0))
    assert the_cause(diagnosis(rising, line_search=False)) == "diverged"
    # With the line search a curve cannot rise: the rule does not apply.
    assert the_cause(diagnosis(rising, line_search=True)) == "default"
    # Falling without line search: not divergence.
    assert the_cause(diagnosis(hand_made_result(), line_search=False)) == "default"


def test_diagnose_separable_needs_alpha_zero_every_sample_on_its_side_and_a_growing_norm():
    growing = (1.0, 2.0, 4.0, 8.0, 16.0)
    message = diagnosis(hand_made_result(norms=growing), alpha=0.0)
    assert the_cause(message) == "separable"
    assert "set alpha > 0" in message
    # With a penalty the optimum is finite: no such diagnosis.
    assert the_cause(diagnosis(hand_made_result(norms=growing), alpha=1e-3)) == "default"
    # The norm no longer growing (the fit is not running off to infinity).
    steady = (1.0, 2.0, 4.0, 4.0, 4.0)
    assert the_cause(diagnosis(hand_made_result(norms=steady), alpha=0.0)) == "default"
    # Fewer than four norms recorded: too early to tell.
    assert the_cause(diagnosis(hand_made_result(norms=(1.0, 2.0, 4.0)), alpha=0.0)) == "default"
    # A sample on the wrong side: not separated...
    wrong = np.array([[-2.0], [1.0], [0.5], [3.0]])
    result = hand_made_result(norms=growing, raw=wrong)
    assert the_cause(diagnosis(result, alpha=0.0)) == "default"
    # ...unless its weight is zero (an early-stopping row): then it does not count.
    sw = np.array([1 / 3, 1 / 3, 0.0, 1 / 3])
    assert the_cause(diagnosis(result, alpha=0.0, sw=sw)) == "separable"


def test_diagnose_scale_ratio_beyond_1e4_names_the_scales():
    message = diagnosis(hand_made_result(), scale_ratio=2.5e5)
    assert the_cause(message) == "scale"
    assert "(ratio 2.5e+05 between" in message
    assert the_cause(diagnosis(hand_made_result(), scale_ratio=1e4)) == "default"
    # A stop reason that names its own cause comes first.
    assert the_cause(diagnosis(hand_made_result("stalled"), scale_ratio=2.5e5)) == "stalled"


def test_diagnose_advises_standardizing_only_where_scales_matter():
    # scale_ratio is None with a preconditioner, which undoes the scales.
    assert "standardize" not in diagnosis(hand_made_result(), scale_ratio=None)
    assert "standardize" not in diagnosis(hand_made_result(), scale_ratio=1.0)
    assert "standardize" not in diagnosis(hand_made_result(), scale_ratio=10.0)
    message = diagnosis(hand_made_result(), scale_ratio=50.0)
    assert the_cause(message) == "default"
    assert message.endswith(
        "or standardize the features (their variances differ by a factor 5.0e+01)."
    )


def test_diagnose_stalled_in_the_sampled_hessian_does_not_suggest_it():
    result = hand_made_result("stalled")
    assert "try preconditioner='hessian'" in diagnosis(result)
    result.newton = True
    message = diagnosis(result)
    assert the_cause(message) == "stalled"
    assert "the sampled Hessian misjudges" in message and "'hessian'" not in message


@pytest.mark.parametrize("params", [{}, {"l1_ratio": 0.5}, {"preconditioner": None}])
def test_no_standardize_advice_on_standardized_features(breast_cancer, params):
    X, y = breast_cancer
    with pytest.warns(ConvergenceWarning) as record:
        BCEPerceptronClassifier(max_iter=2, **params).fit(X, y)
    (message,) = [str(w.message) for w in record]
    assert message.endswith("Increase max_iter (now 2) or tol."), message


def test_diagnose_causes_are_checked_in_order():
    """diverged > separable > flat > stalled > line_search > scales > default."""
    growing = (1.0, 2.0, 4.0, 8.0, 16.0)
    both = dict(alpha=0.0, scale_ratio=1e6)
    assert the_cause(diagnosis(hand_made_result("diverged", norms=growing), **both)) == "diverged"
    assert the_cause(diagnosis(hand_made_result("flat", norms=growing), **both)) == "separable"
    assert the_cause(diagnosis(hand_made_result("flat"), **both)) == "flat"
    assert the_cause(diagnosis(hand_made_result("line_search"), **both)) == "line_search"


def test_diagnose_flat_names_the_dtype():
    message = diagnosis(hand_made_result("flat"), dtype=np.dtype(np.float32))
    assert "flat to float32 precision" in message
    assert f"for {_MAX_STALLED} iterations" in message


def test_diagnose_names_the_gradient_mapping_with_an_l1_part():
    result = hand_made_result(criterion=2e-3)
    with_l1 = diagnosis(result, alpha=1e-2, l1_ratio=0.5)
    assert "final max |gradient mapping| 2.000e-03 > tol=0.0001" in with_l1
    without = diagnosis(result, alpha=1e-2, l1_ratio=0.0)
    assert "final max |gradient| 2.000e-03 > tol=0.0001" in without
    assert "gradient mapping" not in without
    # l1_ratio without alpha is no L1 part.
    assert "gradient mapping" not in diagnosis(result, alpha=0.0, l1_ratio=1.0)


def test_diagnose_gradient_test_held_names_the_gap_test():
    message = diagnosis(hand_made_result(criterion=5e-5, n_iter=0))
    assert (
        "did not converge: 1 iterations, final max |gradient| 5.000e-05 <= tol=0.0001 "
        "but the objective still decreasing by more than tol (relative)"
    ) in message
