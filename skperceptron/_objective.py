# SPDX-License-Identifier: BSD-3-Clause
"""The smooth part of the objective: weighted binary cross-entropy plus L2."""

import numpy as np

from . import _loss
from ._backend import (
    accumulation_dtype,
    asarray,
    copy,
    from_host,
    outer,
    to_host,
    to_host_with,
    vdot,
    zeros,
)
from ._linesearch import newton_in_plane
from ._rows import rows_for


class BCEObjective:
    r"""Weighted binary cross-entropy of K sigmoid units, plus an L2 penalty.

    .. math::

        f(W, b) = \sum_i s_i \sum_k \mathrm{bce}(Y_{ik}, v_{ik})
                  + \frac{\lambda_2}{2} \|W\|_F^2,
        \qquad v = X W^\top + b,

        \mathrm{bce}(y, v) = -(y \log\sigma(v) + (1 - y)\log\sigma(-v))
                           = -\log\sigma((2y - 1) v) \quad (y \in \{0, 1\}),

    with ``s`` the sample weights normalized to sum to one, so that
    :math:`\partial f / \partial v_{ik} = s_i (\sigma(v_{ik}) - Y_{ik})`.
    The intercept ``b`` is never penalized.

    Conventions
    -----------
    - ``X``: (n_samples, n_features), dense or sparse, never copied.
    - ``Y``: (n_samples, n_outputs) with entries in {0, 1}.
    - ``sw``: (n_samples,), non-negative, sums to one.
    - Parameters are ``W`` (n_outputs, n_features) and ``c`` (n_outputs,).
    - ``raw``: (n_samples, n_outputs), the cached ``X @ W.T + b``.

    When ``center`` is true the solver works in centred coordinates: the
    intercept parameter is ``c = b + W @ mean`` with ``mean`` the weighted
    column means, so that ``raw = (X - 1 mean^T) W^T + c``.  This is an exact
    change of variables (the L2 and L1 penalties only involve ``W``) that
    removes the coupling between the intercept and non-centred features; the
    centred matrix is never formed, it enters both products as a rank-one
    correction, and sparse X stays sparse.  ``intercept_of`` maps back.

    Every product with X goes through :meth:`matvec` and :meth:`rmatvec`, which
    count themselves in ``n_matvec`` and ``n_rmatvec``.

    ``X``, ``Y``, ``sw`` and every array built from them (``W``, ``c``,
    ``raw``, gradients) live in one array namespace ``xp`` (NumPy itself for
    NumPy and SciPy sparse data, else an Array API library such as PyTorch)
    and on its device; only scalars come back to the host (values, slopes,
    the small (m, m) curvature matrices, the float64 column ``moments``).
    """

    def __init__(self, X, Y, sw, *, l2, fit_intercept, center=False):
        # The engine may keep its own forms of Y and sw (NumPy: contiguous
        # weights on small data).
        self.rows = rows = rows_for(X, Y, sw)
        self.xp, self.device = rows.xp, rows.device
        self.X, self.Y, self.sw = rows.X, rows.Y, rows.sw
        self.l2 = float(l2)
        self.fit_intercept = bool(fit_intercept)
        # Y may be int8 (NumPy); the weights have the data's floating dtype.
        self.dtype = rows.dtype
        self.n_samples, self.n_features = X.shape
        self.n_outputs = Y.shape[1]
        self._moments = None
        self.mean = None
        # A path's hand-over (see seed): set, the loss gradient of every pass
        # is kept as (raw, grad_W, grad_c) in ``last_loss_gradient``.
        self.keep_gradient = False
        self.last_loss_gradient = None
        self._seed = None
        if center and self.fit_intercept:
            # The weighted column means of the centred coordinates.
            self.mean = from_host(self.xp, self.moments()[0], self.dtype, self.device)

    @property
    def n_matvec(self):
        return self.rows.n_matvec

    @property
    def n_rmatvec(self):
        return self.rows.n_rmatvec

    @property
    def sample_chunk_bytes(self):
        return self.rows.sample_chunk_bytes

    def product_threads(self):
        """The context a fit runs in (the engine's threads end with it)."""
        return self.rows.product_threads()

    def setup_threads(self):
        """A context for matrix work before the fit's first pass."""
        return self.rows.setup_threads()

    def matrix_threads(self, n_flops):
        """A context for ``n_flops`` of matrix-matrix work inside the fit (a
        preconditioner's refresh): the BLAS's threads where they pay."""
        return self.rows.matrix_threads(n_flops)

    def intercept_of(self, W, c):
        """The intercept ``b`` of the parameters ``(W, c)``."""
        if not self.fit_intercept:
            return zeros(self.xp, self.n_outputs, self.dtype, self.device)
        return c - W @ self.mean if self.mean is not None else copy(self.xp, c)

    def parameters_of(self, coef, intercept):
        """``(W, c)`` of a coefficient matrix and an intercept vector."""
        W = asarray(self.xp, coef, self.dtype, self.device)
        c = asarray(self.xp, intercept, self.dtype, self.device)
        if self.mean is not None:
            c = c + W @ self.mean
        return W, c

    # -- the data, touched only through the row engine ---------------------------
    def moments(self):
        """Weighted column mean and second moment of X (float64, one pass)."""
        if self._moments is None:
            self._moments = self.rows.moments()
        return self._moments

    def sample_rows(self, a, rows):
        """Rows ``rows`` (sorted NumPy indices) of ``X``, ``sw`` or raw predictions,
        dense, in ``xp`` on its device, in float64 where the device has it."""
        return self.rows.sample_rows(a, rows)

    def scale_ratio(self):
        """Largest over smallest positive column variance (uncentred second
        moment without an intercept), from the cached moments."""
        mean, second = self.moments()
        var = second - mean**2 if self.fit_intercept else second
        var = var[var > 0]
        return float(var.max() / var.min()) if var.size else 1.0

    def forget_moments(self):
        """Drop the cached column moments (two float64 p-vectors) once the metric
        and step are set; a later :meth:`moments` reads X again."""
        self._moments = None

    def _shift(self, W, c):
        """What :meth:`matvec` adds to ``X @ W.T``: the intercept, centred."""
        if not self.fit_intercept:
            return None
        return c if self.mean is None else c - W @ self.mean

    def matvec(self, W, c):
        """``raw`` of the (linear) parameters ``(W, c)``: shape (n, K)."""
        return self.rows.matvec(W, self._shift(W, c))

    def rmatvec(self, R):
        """Adjoint of :meth:`matvec`: ``(R.T @ X_centred, R.sum(0))``."""
        return self._adjoint(*self.rows.rmatvec(R))

    def _adjoint(self, RX, R_sums):
        """``(R.T @ X, R.sum(0))`` to the adjoint of :meth:`matvec`: no intercept
        gradient without an intercept, the rank-one centring correction with
        centred coordinates."""
        xp = self.xp
        if not self.fit_intercept:
            return RX, xp.zeros_like(R_sums)
        if self.mean is not None:
            RX -= outer(xp, R_sums, self.mean)
        return RX, R_sums

    # -- values and gradients from cached raw predictions ----------------------
    def loss(self, raw):
        """Weighted BCE summed over outputs, from raw predictions."""
        return self.rows.loss(raw, self.sw)

    def weighted_loss(self, raw, weights):
        """``sum_i weights_i sum_k bce(Y_ik, raw_ik)``; ``weights`` may be other
        than ``sw`` (the early-stopping validation rows, zero elsewhere)."""
        return self.rows.loss(raw, weights)

    def settle(self, raw):
        """Raw predictions the solver keeps across passes, made concrete once
        where the engine is lazy (Dask), so that later passes do not recompute them."""
        return self.rows.settle(raw)

    def residual(self, raw, curvature=False):
        """``dF/draw = sw * (expit(raw) - Y)``, and ``sw * expit' (raw)`` if asked.

        The second array is the diagonal of the Hessian with respect to the raw
        predictions, which gives the curvature along any direction of the
        parameters from that direction's raw predictions, without new products.
        """
        R, H = self.rows.residual(raw, curvature)
        return (R, H) if curvature else R

    def value(self, W, raw, loss=None):
        """``J``'s smooth part at ``W``; ``loss``, if known, the loss at ``raw``."""
        loss = self.loss(raw) if loss is None else loss
        return loss + 0.5 * self.l2 * float(to_host(self.xp, [vdot(self.xp, W, W)])[0])

    def seed(self, raw, grad_W, grad_c):
        """The loss gradient at ``raw`` is known (a path's previous optimum,
        where the next alpha starts): the next :meth:`gradient` at that very
        array, without curvature, takes it instead of a pass over X.  Once."""
        self._seed = (raw, grad_W, grad_c)

    def value_array(self, W, raw, penalty):
        """:meth:`value` plus ``penalty``'s value at ``W``, not read: a 0-d
        array in the device's accumulation dtype (float64 where it has it)."""
        xp = self.xp
        dtype = accumulation_dtype(xp, self.device)
        value = xp.astype(self.rows.loss_array(raw, self.sw), dtype)
        value = value + 0.5 * self.l2 * xp.astype(vdot(xp, W, W), dtype)
        if penalty:
            value = value + penalty.l1 * xp.astype(penalty.norm_array(W), dtype)
        return value

    def gradient(self, W, raw, curvature=False):
        """Gradient ``(grad_W, grad_c)`` of the smooth part: one pass over X.

        With ``curvature=True`` also returns the raw-space Hessian diagonal
        (see :meth:`residual`).
        """
        seed, self._seed = self._seed, None
        if seed is not None and seed[0] is raw and not curvature:
            grad_W, grad_c, H = copy(self.xp, seed[1]), copy(self.xp, seed[2]), None
        else:
            RX, sums, H = self.rows.gradient(raw, curvature)
            grad_W, grad_c = self._adjoint(RX, sums)
        if self.keep_gradient:
            self.last_loss_gradient = (raw, copy(self.xp, grad_W), copy(self.xp, grad_c))
        if self.l2:
            grad_W += self.l2 * W
        return grad_W, grad_c, H

    def value_and_grad(self, W, raw):
        """Smooth value and gradient ``(f, grad_W, grad_c)``: one pass over X."""
        grad_W, grad_c, _ = self.gradient(W, raw)
        return self.value(W, raw), grad_W, grad_c

    def _gram(self, dWs, W=None):
        """The inner products of the coefficients ``dWs`` (and ``W`` last), on the
        host (NumPy: in the coefficients' dtype)."""
        xp = self.xp
        vectors = list(dWs) + ([] if W is None else [W])
        if xp is np:
            # All of them in one product.
            stacked = np.stack([u.ravel() for u in vectors])
            return stacked @ stacked.T
        n = len(vectors)
        # One read-back for the n * n inner products.
        products = to_host(xp, [vdot(xp, u, v) for u in vectors for v in vectors])
        return np.array([[float(products[j * n + k]) for k in range(n)] for j in range(n)])

    def plane_model(self, grad_W, grad_c, H, W, raw, dWs, dcs, draws, extra=(), at_trial=None):
        """What a plane search needs at its start, from one read of the device:
        the slopes ``grad . d_j`` (m,), the curvature (m, m) of ``f`` in the
        span at the point whose raw-space Hessian diagonal is ``H``, the Gram
        matrix of ``(dWs..., W)`` for :meth:`subspace`'s ``gram``, and the first
        trial: ``(a, f(a))`` for the Newton step ``a = -hess^-1 slopes`` of the
        plane, formed and evaluated on the device before that read (None on
        NumPy, where reads cost nothing and the search evaluates it).

        On a device the same read brings the arrays ``extra`` and those that
        ``at_trial`` makes of the first trial's raw predictions (the solver's
        stopping criterion and the metric's refresh test): the fifth value
        returned, their host copies (empty on NumPy)."""
        xp, m = self.xp, len(dWs)
        slopes = [s for u, v in zip(dWs, dcs) for s in (vdot(xp, grad_W, u), vdot(xp, grad_c, v))]
        if xp is np:
            gram = self._gram(dWs, W).astype(np.float64)
            hess = self.rows.curvature(H, draws)
            trial = None
        else:
            curvature = _loss.curvature(H, draws, xp)
            vectors = list(dWs) + [W]
            products = [vdot(xp, u, v) for u in vectors for v in vectors]
            a, value, v = self._first_trial(slopes, curvature, products, raw, draws)
            extra = [*extra, *(at_trial(v) if at_trial is not None else ())]
            del v
            values, extra = to_host_with(xp, slopes + curvature + products + a + [value], extra)
            n_read = len(values) - m - 1
            slopes = values[: 2 * m]
            hess = _loss.square(values[2 * m : n_read - len(products)], m)
            gram = np.asarray(values[n_read - len(products) : n_read], dtype=np.float64)
            gram = gram.reshape(m + 1, m + 1)
            trial = (np.asarray(values[n_read:-1], dtype=np.float64), float(values[-1]))
        if self.l2:
            hess += self.l2 * gram[:m, :m]
        slope0 = np.array([float(slopes[2 * j] + slopes[2 * j + 1]) for j in range(m)])
        return slope0, hess, gram, trial, list(extra) if xp is not np else []

    def _first_trial(self, slopes, curvature, products, raw, draws):
        """The plane's Newton step ``a`` (m 0-d arrays) from the unread slopes,
        curvature and Gram entries (:func:`~._linesearch.newton_in_plane`; a
        singular plane gives non-finite entries, which the search rejects), ``f`` at
        ``v = raw + sum a_j draws_j`` (0-d), all on the device, and ``v``."""
        xp, m, l2 = self.xp, len(draws), self.l2
        dtype = accumulation_dtype(xp, self.device)
        s = [xp.astype(slopes[2 * j] + slopes[2 * j + 1], dtype) for j in range(m)]
        P = [[xp.astype(products[j * (m + 1) + k], dtype) for k in range(m + 1)] for j in range(m + 1)]
        upper = iter(curvature)
        Hm = [[None] * m for _ in range(m)]
        for j in range(m):
            for k in range(j, m):
                Hm[j][k] = Hm[k][j] = xp.astype(next(upper), dtype) + l2 * P[j][k]
        a = newton_in_plane(Hm, s)
        v = raw
        for coef, d in zip(a, draws):
            v = v + xp.astype(coef, raw.dtype) * d
        penalty = P[m][m] + sum(2 * a[j] * P[j][m] for j in range(m))
        penalty = penalty + sum(a[j] * P[j][k] * a[k] for j in range(m) for k in range(m))
        value = xp.astype(self.rows.loss_array(v, self.sw), dtype) + 0.5 * l2 * penalty
        return a, value, v

    def curvature(self, H, dWs, draws):
        """Hessian of ``f`` restricted to the span of the directions, at the point
        whose raw-space Hessian diagonal is ``H``: an (m, m) matrix, no product."""
        hess = self.rows.curvature(H, draws)
        if self.l2:
            hess += self.l2 * self._gram(dWs)
        return hess

    def subspace(self, W, raw, dWs, draws, speculate=False, gram=None):
        """The smooth objective on ``W + sum_j a_j dWs[j]`` (``raw + sum_j a_j draws[j]``).

        Returns ``phi(a, derivatives=True) -> (value, gradient, hessian)`` for
        coefficients ``a`` of shape (m,): each call is one pass over the
        (n, K) raw predictions and none over X.  ``speculate``: the caller
        will likely move to the first point it evaluates (without
        derivatives) by :meth:`advance`; the Dask engine then brings the
        gradient there in the same round trip (elsewhere it changes nothing).
        """
        m = len(dWs)
        full = self._gram(dWs, W).astype(np.float64) if gram is None else gram
        gram, lin, ww = full[:m, :m], full[m, :m], float(full[m, m])
        l2, rows, sw = self.l2, self.rows, self.sw
        speculate = [True] if speculate else []

        def penalty(a):
            return 0.5 * l2 * (ww + 2 * lin @ a + a @ gram @ a)

        def phi(a, derivatives=True, value=True):
            if not derivatives:
                hint = bool(speculate) and speculate.pop()
                return rows.loss(raw, sw, draws, a, speculate=hint) + penalty(a), None, None
            loss, grad, hess = rows.subspace(raw, draws, a, value)
            value = loss + penalty(a) if value else None
            grad += l2 * (gram @ a + lin)
            if l2:
                hess += l2 * gram
            return value, grad, hess

        def slope(a):
            """The gradient of ``phi`` at ``a`` alone: one ``expit`` pass."""
            return rows.slopes(raw, draws, a) + l2 * (gram @ a + lin)

        phi.slope = slope
        return phi

    def advance(self, raw, draws, coefs):
        """The step ``sum_j coefs[j] draws[j]`` and the raw predictions after it.

        Returns ``(raw + step, step)``.  NumPy updates in place: the step
        overwrites ``draws[0]`` and ``raw`` becomes the new raw predictions,
        so the caller must hold no other use for either (two n-by-K arrays
        fewer at the peak of a fit).
        """
        return self.rows.advance(raw, draws, coefs)

    def bound_product(self, W, c):
        """``X_c.T diag(sw / 4) X_c [W, c]``: the product of the curvature bound
        (``sigma' <= 1/4``) with a direction, one ``matvec`` and one ``rmatvec``
        (see ``_preconditioner.metric_lipschitz``)."""
        return self._adjoint(*self.rows.bound_product(W, self._shift(W, c)))
