# SPDX-License-Identifier: BSD-3-Clause
"""What the solver reports after each iteration goes to: early stopping on the
held-out rows and scikit-learn's callbacks."""

import numpy as np

from ._backend import copy


class Monitor:
    """Per-iteration hook of the solver: early stopping and sklearn callbacks."""

    def __init__(self, estimator, objective, Y, val, weights):
        self.estimator = estimator
        self.objective = objective
        # ``weights``: full-length, zero outside the validation rows ``val``
        # (see ``holdout_weights``): the loss is then one weighted pass over
        # the cached raw predictions.
        self.val = val
        self.weights = weights
        self.patience = estimator.n_iter_no_change
        self.tol = estimator.tol
        self.curve, self.best, self.best_iteration = [], None, None
        self.best_loss, self.bad_rounds = np.inf, 0
        self.ctx = None

    def attach_callbacks(self, ctx, X, y, metadata, W0, c0):
        """Open the first iteration's task at the starting point ``(W0, c0)``."""
        if not getattr(self.estimator, "_skl_callbacks", None):
            return
        self.ctx, self.X, self.y, self.metadata = ctx, X, y, metadata
        self.iter_ctx = self._begin(self._state(0, W0, c0))

    def _state(self, n_iter, W, c):
        """The fitted attributes after ``n_iter`` iterations, built on first use.

        One copy serves the end hook of an iteration and the begin hook of the
        next (the same state), and none is made when no callback asks for a
        fitted estimator.
        """
        objective, cache = self.objective, {}

        def attributes():
            if not cache:
                cache.update(
                    coef_=copy(objective.xp, W),
                    intercept_=objective.intercept_of(W, c),
                    n_iter_=n_iter,
                )
            return dict(cache)

        return attributes

    def _begin(self, state):
        # As LogisticRegression: the hook sees the estimator as if the fit had
        # stopped at the start of this iteration.
        iter_ctx = self.ctx.subcontext(task_name="iteration")
        iter_ctx.call_on_fit_task_begin(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=state,
        )
        return iter_ctx

    def close(self):
        if self.ctx is not None:
            # The subtask opened after the last iteration never ran.
            self.iter_ctx.call_on_fit_task_end(estimator=self.estimator)
            self.ctx = None

    def __call__(self, n_iter, W, c, raw, F):
        stop = False
        if self.val is not None:
            loss = self.objective.weighted_loss(raw, self.weights)
            self.curve.append(loss)
            if loss < self.best_loss:
                xp = self.objective.xp
                self.best = (copy(xp, W), copy(xp, c))
                self.best_iteration = n_iter
            if loss > self.best_loss - self.tol:
                self.bad_rounds += 1
            else:
                self.bad_rounds = 0
            self.best_loss = min(self.best_loss, loss)
            stop = self.bad_rounds >= self.patience
        if self.ctx is not None:
            state = self._state(n_iter, W, c)
            stop |= bool(
                self.iter_ctx.call_on_fit_task_end(
                    estimator=self.estimator,
                    X=self.X,
                    y=self.y,
                    metadata=self.metadata,
                    reconstruction_attributes=state,
                )
            )
            self.iter_ctx = self._begin(state)
        return stop
