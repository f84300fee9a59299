# SPDX-License-Identifier: BSD-3-Clause
"""
================================================
Scores at every iteration with ScoringMonitor
================================================

scikit-learn's :class:`sklearn.callback.ScoringMonitor` (scikit-learn >= 1.9)
evaluates scorers at the end of every iteration of a fit, on the training
data, and at the end of the fit.  Here it records the accuracy and the log-loss
of :class:`~skperceptron.BCEPerceptronClassifier` on the unscaled
breast-cancer data, for the default fit and for plain gradient descent
without a preconditioner, next to the objective the estimator records itself
(``loss_curve_``).

See :doc:`/user_guide/monitoring` for the other ways to watch a fit.
"""

# %%
import warnings

import matplotlib.pyplot as plt
from sklearn.callback import ScoringMonitor
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning

from skperceptron import BCEPerceptronClassifier

X, y = load_breast_cancer(return_X_y=True)  # features on scales from 1e-3 to 1e3
fits = {
    "default (nesterov + hessian)": BCEPerceptronClassifier(alpha=1e-3),
    "gd, no preconditioner": BCEPerceptronClassifier(
        alpha=1e-3, solver="gd", preconditioner=None, max_iter=200
    ),
}

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for name, clf in fits.items():
    monitor = ScoringMonitor(scoring=["accuracy", "neg_log_loss"])
    with warnings.catch_warnings():
        # Plain gradient descent runs out of its 200 iterations on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_callbacks(monitor).fit(X, y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "iteration"]
    iterations = [row["task_id"] + 1 for row in rows]  # task ids count from 0
    log_loss = [-row["neg_log_loss"] for row in rows]
    accuracy = [row["accuracy"] for row in rows]
    (line,) = axes[0].semilogy(iterations, log_loss, label=f"{name}: log-loss")
    axes[0].semilogy(
        iterations, clf.loss_curve_, linestyle=":", color=line.get_color(),
        label=f"{name}: loss_curve_ (J)",
    )
    axes[1].plot(iterations, accuracy, color=line.get_color(), label=name)
    print(
        f"{name:30s} {clf.n_iter_:4d} iterations, final training accuracy "
        f"{accuracy[-1]:.4f}, log-loss {log_loss[-1]:.4f}"
    )

axes[0].set_xscale("log")
axes[0].set_xlabel("iteration")
axes[0].set_ylabel("training log-loss")
axes[0].legend(fontsize="small")
axes[1].set_xscale("log")
axes[1].set_xlabel("iteration")
axes[1].set_ylabel("training accuracy")
axes[1].legend(loc="lower right", fontsize="small")
fig.tight_layout()
plt.show()

# %%
# The log-loss that the monitor scores is the unweighted mean BCE of
# ``predict_proba``; ``loss_curve_`` is the objective ``J``, the same mean plus
# the penalty ``alpha / 2 ||W||^2`` (here small), so the dotted curves run just
# above the solid ones.  The default fit reaches its final accuracy within a
# few iterations; gradient descent without a preconditioner creeps, because
# its one step must suit a feature of scale 1e3 and one of scale 1e-3.
#
# Every score costs a prediction on the training data (a pass over ``X``) per
# iteration: a monitor can cost more than the fit itself.
