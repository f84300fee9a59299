# SPDX-License-Identifier: BSD-3-Clause
"""The threads of one fit: a pool for the passes and row blocks, and the BLAS's limits."""

import contextlib
from concurrent.futures import ThreadPoolExecutor
# Matrix-matrix products below this many flops stay on the fit's one BLAS thread.
_MIN_THREADED_FLOPS = 2**26


class Threads:
    """The threads of one fit: ``n_threads`` workers and the BLAS's limits.

    The pool is made on first use and shut down by :meth:`close` at the end
    of the fit (see ``BCEObjective.product_threads``): no thread, pool or
    lock outlives a fit, so a process forked later starts with none.  The
    BLAS's threads are read and limited through threadpoolctl, asked only for
    problems large enough to use threads (:meth:`of_blas`: its first call
    costs milliseconds).
    """

    def __init__(self, n_threads, controller=None):
        self.n_threads = n_threads
        self.controller = controller
        self._pool = None

    @classmethod
    def of_blas(cls):
        """As many threads as the BLAS may use now (so that
        ``threadpool_limits`` and joblib's per-worker limits hold for these
        passes too); 1 if threadpoolctl cannot tell."""
        try:
            controller = _controller()
            counts = [lib["num_threads"] for lib in controller.info() if lib["user_api"] == "blas"]
        except Exception:  # pragma: no cover - threadpoolctl ships with scikit-learn
            return cls(1)
        return cls(max(1, min(counts, default=1)), controller)

    def run(self, tasks):
        """The results of the callables ``tasks``, in order, on the pool."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=max(self.n_threads, len(tasks)), thread_name_prefix="skperceptron"
            )
        futures = [self._pool.submit(task) for task in tasks]
        return [future.result() for future in futures]

    def close(self):
        """Shut the pool down (a later :meth:`run` makes a new one)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def single_blas(self, active=True):
        """A context in which the BLAS uses one thread (when ``active``)."""
        if not active or self.controller is None:
            return contextlib.nullcontext()
        return self.controller.limit(limits=1, user_api="blas")

    def blas(self, n_flops):
        """A context in which the BLAS may use the fit's threads (inside
        :meth:`single_blas`) for ``n_flops`` of matrix-matrix work; small work
        stays on one thread."""
        if self.n_threads <= 1 or n_flops < _MIN_THREADED_FLOPS or self.controller is None:
            return contextlib.nullcontext()
        return self.controller.limit(limits=self.n_threads, user_api="blas")


_CONTROLLER = []


def _controller():
    """The process's ``threadpoolctl.ThreadpoolController``, made once (as
    scikit-learn does): making one scans the loaded libraries, 2.8 ms, a
    fixed cost of every fit large enough to ask; its ``info`` and ``limit``
    read and set the libraries' threads as they are now."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]
