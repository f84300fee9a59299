# SPDX-License-Identifier: BSD-3-Clause
"""The binary cross-entropy on a block of rows, written once for every backend.

For raw predictions ``v`` (rows, K), 0/1 targets ``Y`` and row weights ``w``:

- :func:`bce_sum`: ``sum_i w_i sum_k bce(Y_ik, v_ik)``;
- :func:`residual`: ``R = w (expit(v) - Y)``, the derivative in ``v``, and the
  curvature weights ``H = w expit'(v)`` (:func:`curvature_weights`), the
  diagonal of the Hessian in ``v``;
- :func:`curvature`: ``sum H d_j d_k`` for directions' raw predictions ``d``;
- :func:`combine`: ``v = raw + sum_j a_j d_j``, a point of a search.

The objective's row engines (``_rows``) apply them to whole arrays (an Array
API library on its device), to chunks of rows on the fit's threads
(``_passes``), and to each chunk of a dask array (``_dask_rows``); each sums
the per-block results.  They take the array namespace ``xp`` and
use only its operators and ``_backend``'s functions, so that a block of any of
them gives the same numbers.
"""

import numpy as np

from ._backend import astype, copy, expit, inner, log_expit, weighted_sum


def combine(raw, draws, coefs, xp):
    """``raw + sum_j coefs[j] draws[j]``, a new array (zero terms skipped)."""
    v = copy(xp, raw)
    for coef, d in zip(coefs, draws):
        if coef:
            # A Python float keeps float32 raw predictions in float32.
            v += float(coef) * d
    return v


def signs(Y, dtype, xp):
    """``2 Y - 1``: the sign of each target, in ``dtype``."""
    return 2 * astype(xp, Y, dtype, copy=False) - 1


def bce_sum(v, Y, w, xp, sign=None, overwrite=False):
    """``sum_i w_i sum_k bce(Y_ik, v_ik)`` as a 0-d array of ``xp``.

    For y in {0, 1}, ``-(y log_expit(v) + (1 - y) log_expit(-v))`` is
    ``-log_expit((2y - 1) v)``: one ``log_expit`` pass, and no cancellation
    (the form ``-log_expit(-v) - y v`` loses all digits of a well-classified
    sample's tiny loss to the two large terms, a real error in float32).
    ``sign``, if given, is :func:`signs` of ``Y`` (in any dtype: +-1 are
    exact), made once by the caller.  ``overwrite``: ``v`` is the caller's
    scratch (NumPy), the pass works in it and allocates nothing.
    """
    sign = signs(Y, v.dtype, xp) if sign is None else sign
    if overwrite and xp is np:
        v *= sign
        signed = v
    else:
        signed = sign * v
    signed = log_expit(signed, out=signed, xp=xp)
    return -weighted_sum(xp, w, signed)


def residual(v, Y, w_col, xp, curvature=False, out=None):
    """``R = w (expit(v) - Y)`` and, with ``curvature``, ``H = w expit'(v)``
    (else None), from one ``expit`` pass; ``w_col`` is the weights as a
    (rows, 1) column.  ``out``: NumPy arrays ``(R, H)`` of ``v``'s shape and
    dtype to write them into (``H`` None without ``curvature``), the
    pass then allocates nothing."""
    if out is None or xp is not np:
        p = expit(v, xp=xp)
        H = _curvature_weights(p, w_col) if curvature else None
        R = p - Y  # NumPy's int8 targets promote to p's dtype
        R *= w_col
        return R, H
    R, H = out
    p = expit(v, out=R, xp=xp)
    if curvature:
        _curvature_weights(p, w_col, out=H)
    R -= Y
    R *= w_col
    return R, H


def curvature_weights(v, w_col, xp):
    """``H = w expit'(v) = w p (1 - p)``: the Hessian of the loss in ``v``."""
    return _curvature_weights(expit(v, xp=xp), w_col)


def _curvature_weights(p, w_col, out=None):
    if out is None:
        H = p - p * p
    else:
        H = np.multiply(p, p, out=out)
        np.subtract(p, H, out=H)
    H *= w_col
    return H


def curvature(H, draws, xp):
    """``[sum H d_j d_k for j <= k]`` (row-major upper triangle) as 0-d arrays."""
    m = len(draws)
    entries = []
    for j in range(m):
        Hd = H * draws[j]
        entries.extend(inner(xp, Hd, draws[k]) for k in range(j, m))
    return entries


def square(entries, m):
    """The symmetric (m, m) NumPy matrix of :func:`curvature`'s entries."""
    hess = np.empty((m, m))
    upper = iter(entries)
    for j in range(m):
        for k in range(j, m):
            hess[j, k] = hess[k, j] = float(next(upper))
    return hess
