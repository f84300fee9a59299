# SPDX-License-Identifier: BSD-3-Clause
"""The methods side by side, all on the same problem.

Every method minimizes (or, for the stochastic ones, approaches) the same
``J`` at ``alpha = ALPHA``::

    BCEPerceptronClassifier(alpha=alpha)
    LogisticRegression(C=1 / (alpha * n_train))       # its loss is n_train * ours
    SGDClassifier(loss="log_loss", alpha=alpha)        # mean loss + alpha/2 ||w||^2
    MLPClassifier(hidden_layer_sizes=(), alpha=alpha * n_train)
        # mean loss + 0.5 * alpha_mlp * ||W||^2 / n_samples

Multiclass: ``J`` is a sum of K independent one-vs-rest units, while
LogisticRegression (every solver in scikit-learn >= 1.8) minimizes the
multinomial loss and MLPClassifier a softmax: so LogisticRegression is wrapped
in ``OneVsRestClassifier`` (the same K problems) and MLPClassifier is fitted on
the 0/1 indicator matrix (K logistic outputs, the multilabel mode, whose loss
is our sum over units).  SGDClassifier is one-vs-rest natively.
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier

from skperceptron import BCEPerceptronClassifier

ALPHA = 1e-4


@dataclass
class Method:
    """How to build, fit and read one method.

    ``make(dataset, **overrides)`` returns an unfitted estimator; overrides
    are ``max_iter`` and ``tol``.  ``caps`` gives the ``max_iter`` of the
    main table in a full run on the 150,000-row sets (``"large"``) and on the
    others (``"small"``), and in a quick run (``"quick"``); absent: the
    estimator's default.
    ``memory_max_iter`` bounds the extra fit traced by tracemalloc (the peak
    is reached in the setup and the first iterations).
    """

    name: str
    settings: str
    make: object
    family: str
    caps: dict = field(default_factory=dict)
    memory_max_iter: int = None
    skip: object = None

    def skip_reason(self, dataset):
        return self.skip(dataset) if self.skip is not None else None

    def cap(self, mode, dataset):
        if mode == "quick":
            return self.caps.get("quick")
        return self.caps.get("large" if dataset.large else "small")


def _ours(solver, preconditioner):
    def make(dataset, **overrides):
        # alpha too may be overridden: the Dask mode scales it with n_samples.
        params = {"alpha": ALPHA, "solver": solver, "preconditioner": preconditioner}
        return BCEPerceptronClassifier(**{**params, **overrides})

    return make


def _ours_variant(solver, preconditioner, skip=None):
    """Ours with a non-default solver or preconditioner: capped on the large
    sets, its memory traced over 20 iterations."""
    return Method(
        f"ours-{solver}-{str(preconditioner).lower()}",
        f"solver={solver}, preconditioner={preconditioner}",
        _ours(solver, preconditioner),
        "ours",
        caps={"large": 300, "small": 500, "quick": 200},
        memory_max_iter=20,
        skip=skip,
    )


def _logistic(solver, **fixed):
    def make(dataset, **overrides):
        estimator = LogisticRegression(
            C=1.0 / (ALPHA * dataset.n_train), solver=solver, **fixed, **overrides
        )
        if dataset.n_outputs > 1:
            return OneVsRestClassifier(estimator)
        return estimator

    return make


def _sgd(dataset, **overrides):
    return SGDClassifier(loss="log_loss", alpha=ALPHA, random_state=0, **overrides)


def _mlp(solver):
    def make(dataset, **overrides):
        return MLPClassifier(
            hidden_layer_sizes=(),
            alpha=ALPHA * dataset.n_train,
            solver=solver,
            random_state=0,
            **overrides,
        )

    return make


def _no_hessian(dataset):
    q = dataset.n_features + 1
    if q > 513:
        return (
            f"preconditioner='hessian' would hold the {q:,} x {q:,} Hessian "
            f"({q * q * 8 / 2**20:,.0f} MiB) and a dense sample of {8 * q:,} rows; "
            "'auto' takes the diagonal here"
        )
    return None


def _no_newton_cholesky(dataset):
    if dataset.sparse:
        p = dataset.n_features
        return (
            f"newton-cholesky forms the dense {p:,} x {p:,} Hessian "
            f"({p * p * 8 / 2**20:,.0f} MiB) of sparse X and factors it (O(p^3)) every iteration"
        )
    return None


METHODS = {
    m.name: m
    for m in [
        Method("ours", "defaults (nesterov, auto, tol=1e-4)", _ours("nesterov", "auto"), "ours"),
        _ours_variant("nesterov", "diagonal"),
        _ours_variant("gd", "hessian", skip=_no_hessian),
        _ours_variant("nesterov", None),
        _ours_variant("gd", "diagonal"),
        _ours_variant("gd", None),
        Method("lbfgs", "LogisticRegression(solver='lbfgs'), defaults", _logistic("lbfgs"), "lbfgs"),
        Method(
            "newton-cholesky",
            "LogisticRegression(solver='newton-cholesky'), defaults",
            _logistic("newton-cholesky"),
            "newton-cholesky",
            skip=_no_newton_cholesky,
        ),
        Method(
            "saga",
            "LogisticRegression(solver='saga', random_state=0)",
            _logistic("saga", random_state=0),
            "saga",
            caps={"large": 10, "quick": 30},
            memory_max_iter=2,
        ),
        Method(
            "sgd",
            "SGDClassifier(loss='log_loss', random_state=0)",
            _sgd,
            "sgd",
            caps={"large": 10, "quick": 30},
            memory_max_iter=2,
        ),
        Method(
            "mlp",
            "MLPClassifier(hidden_layer_sizes=(), solver='adam', random_state=0)",
            _mlp("adam"),
            "mlp",
            caps={"large": 10, "quick": 30},
            memory_max_iter=2,
        ),
        Method(
            "mlp-lbfgs",
            "MLPClassifier(hidden_layer_sizes=(), solver='lbfgs', random_state=0)",
            _mlp("lbfgs"),
            "mlp",
            caps={"large": 100, "quick": 100},
            memory_max_iter=20,
        ),
    ]
}


def _dask_ml(solver, penalized):
    def make(dataset, alpha=ALPHA, **overrides):
        from dask_ml.linear_model import LogisticRegression as DaskLogisticRegression

        if penalized:  # dask-glm's loss is a sum: C = 1 / (alpha n), as for scikit-learn
            overrides = {"C": 1.0 / (alpha * dataset.n_train), **overrides}
        return DaskLogisticRegression(solver=solver, **overrides)

    return make


# The Dask mode's peers (dask-ml's LogisticRegression, on dask-glm), apart from
# METHODS: they take Dask arrays only, and dask-ml is optional.  Their intercept
# is a column of ones, penalized by lbfgs; gradient descent has no penalty.
DASK_PEERS = {
    m.name: m
    for m in [
        Method(
            "dask-ml gd",
            "dask_ml LogisticRegression(solver='gradient_descent'), no penalty",
            _dask_ml("gradient_descent", penalized=False),
            "dask-ml",
        ),
        Method(
            "dask-ml lbfgs",
            "dask_ml LogisticRegression(solver='lbfgs', C=1/(alpha n))",
            _dask_ml("lbfgs", penalized=True),
            "dask-ml",
        ),
    ]
}


def _is_mlp(estimator):
    return isinstance(estimator, MLPClassifier)


def fit(estimator, dataset):
    """Fit on the training rows (the indicator matrix for a multiclass MLP)."""
    if _is_mlp(estimator) and dataset.n_outputs > 1:
        return estimator.fit(dataset.X_train, dataset.Y_train.astype(np.int64))
    return estimator.fit(dataset.X_train, dataset.y_train)


def coefficients(estimator, dataset):
    """``(W, b)`` of shapes (K, p) and (K,), float64."""
    K, p = dataset.n_outputs, dataset.n_features
    if isinstance(estimator, OneVsRestClassifier):
        W = np.vstack([e.coef_ for e in estimator.estimators_])
        b = np.concatenate([e.intercept_ for e in estimator.estimators_])
    elif _is_mlp(estimator):
        W, b = estimator.coefs_[0].T, estimator.intercepts_[0]
    else:
        W, b = estimator.coef_, estimator.intercept_
    W = np.asarray(W, dtype=np.float64).reshape(K, p)
    b = np.asarray(b, dtype=np.float64).reshape(K)
    return W, b


def n_iter(estimator):
    """Iterations (epochs for saga, SGD and adam), summed over one-vs-rest units."""
    if isinstance(estimator, OneVsRestClassifier):
        return int(sum(np.max(e.n_iter_) for e in estimator.estimators_))
    return int(np.max(estimator.n_iter_))


def predict_proba(estimator, dataset, X):
    """Class probabilities with columns in ``dataset.classes`` order."""
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    if _is_mlp(estimator) and dataset.n_outputs > 1:
        # K independent sigmoids, normalized like ours.
        proba = proba / np.maximum(proba.sum(axis=1, keepdims=True), 1e-300)
    return proba
