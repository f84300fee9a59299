# SPDX-License-Identifier: BSD-3-Clause
"""The harness of ``benchmarks/run.py --workflow`` (issue 13): its C mapping,
warning count, budget, targets, table and JSON; nothing about time."""

import copy
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.multiclass import OneVsRestClassifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import _workflow  # noqa: E402  (after the path of the benchmarks' modules)
import _workflow_report  # noqa: E402
import run  # noqa: E402
from _datasets import Dataset  # noqa: E402
from _methods import coefficients  # noqa: E402
from _reference import objective  # noqa: E402

from skperceptron import BCEPerceptronClassifier  # noqa: E402


@pytest.mark.parametrize("data", ["breast_cancer", "iris"])
def test_peer_solves_our_problem_with_C_of_its_rows(data, request):
    # Fitted on a subset (as on a fold), the peer's C follows that subset's
    # rows and its solution is our optimum: one-vs-rest beyond 2 classes.  A C
    # from 4/3 as many rows (all of them) lands 4e-3 to 7e-3 above J*.
    X, y = request.getfixturevalue(data)
    rows = np.arange(X.shape[0]) % 4 != 0
    alpha, dataset = 1e-2, Dataset("subset", "", X[rows], y[rows], X[:1], y[:1])
    peer = _workflow.PeerLogisticRegression(alpha=alpha, solver="lbfgs").fit(X[rows], y[rows])
    ours = BCEPerceptronClassifier(alpha=alpha, tol=1e-10, max_iter=10000).fit(X[rows], y[rows])
    assert isinstance(peer.model_, OneVsRestClassifier) == (len(np.unique(y)) > 2)
    models = peer.model_.estimators_ if len(np.unique(y)) > 2 else [peer.model_]
    assert all(model.C == pytest.approx(1 / (alpha * rows.sum()), rel=1e-15) for model in models)
    J_star, J_peer = (objective(dataset.X_eval, dataset.Y_train, *coefficients(model, dataset), alpha)
                      for model in (ours, peer.model_))
    # lbfgs's default tol: 1e-5 above the optimum on breast cancer.
    assert 0 <= (J_peer - J_star) / J_star < 1e-4


def test_peer_C_is_recomputed_per_fold_and_l1_ratio_passed():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 3)), np.repeat([0, 1], 30)
    peer = _workflow.PeerLogisticRegression(alpha=0.1, l1_ratio=1.0, solver="liblinear")
    assert peer.fit(X[:40], y[10:50]).model_.C == pytest.approx(1 / (0.1 * 40))
    assert peer.fit(X, y).model_.C == pytest.approx(1 / (0.1 * 60))
    assert peer.model_.l1_ratio == 1.0 and peer.model_.solver == "liblinear"


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
def test_penalized_objective_and_optimum_agree_with_the_package(l1_ratio, iris):
    # The harness's J with an L1 part is the package's J; the L-BFGS-B fit of
    # the split w = u - v reaches ours at tol=1e-8 on this small problem,
    # and penalized_optimum is never above either.
    X, y = iris
    dataset, alpha = Dataset("iris-test", "", X, y, X[:1], y[:1]), 1e-2
    ours = BCEPerceptronClassifier(alpha=alpha, l1_ratio=l1_ratio, tol=1e-8, max_iter=20000).fit(X, y)
    J_ours = _workflow.penalized_objective(dataset, *coefficients(ours, dataset), alpha, l1_ratio)
    assert J_ours == pytest.approx(ours.objective(X, y), rel=1e-12)
    J_split = _workflow.penalized_objective(dataset, *_workflow.split_optimum(dataset, alpha, l1_ratio), alpha,
                                            l1_ratio)
    assert J_split == pytest.approx(J_ours, rel=1e-6)
    optimum = _workflow.penalized_optimum(dataset, alpha, l1_ratio)  # ours there at tol=1e-10
    assert optimum <= min(J_ours, J_split) * (1 + 1e-14)
    assert optimum == pytest.approx(min(J_ours, J_split), rel=1e-8)


def test_peers_and_thresholds_follow_the_issue():
    assert _workflow.peers("L2", 10) == ("lbfgs", "newton-cholesky")
    assert _workflow.peers("L1", 2) == ("liblinear",)
    assert _workflow.peers("L1", 3) == ("saga",)
    assert _workflow.peers("elastic net", 2) == ("saga",)
    assert [_workflow.threshold(p, k) for p, k in [("L2", 3), ("L1", 2), ("L1", 5), ("elastic net", 2)]] == [
        1.0, 1.0, 0.25, 0.5]


def test_warm_up_searches_with_every_method_penalty_and_kind_of_target(monkeypatch):
    """Every estimator a timed row uses (ours, each peer of binary and of
    multiclass targets, the floor) has searched once before the first row."""
    seen = set()

    def record(estimator, X, y, alphas, folds, budget):
        peer = isinstance(estimator, _workflow.PeerLogisticRegression)
        kind = estimator.solver if peer else type(estimator).__name__
        seen.add((kind, estimator.l1_ratio, len(np.unique(y))))
        assert len(alphas) == folds == 2 and len(y) <= 150

    monkeypatch.setattr(_workflow, "search", record)
    _workflow.warm_up(lambda message: None)
    expected = set()
    for penalty, l1_ratio in _workflow.PENALTIES.items():
        for n_classes in (2, 3):
            for method in ("ours", *_workflow.peers(penalty, n_classes), _workflow.FLOOR):
                kind = type(_workflow.make_estimator(method, l1_ratio)).__name__
                kind = method if kind == "PeerLogisticRegression" else kind
                expected.add((kind, l1_ratio, n_classes))
    assert seen == expected


class _Warns(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; each fit warns once of each kind."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        warnings.warn("not converged", ConvergenceWarning, stacklevel=2)
        warnings.warn("something else", UserWarning, stacklevel=2)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(X.shape[0], self.majority_)


def test_search_counts_convergence_warnings_of_every_fit_and_refit():
    X, y = np.random.default_rng(0).standard_normal((40, 2)), np.repeat([0, 1], 20)
    out = _workflow.search(_Warns(), X, y, alphas=(1.0, 2.0, 3.0), folds=2, budget=60)
    assert out["convergence_warnings"] == 3 * 2 + 1
    assert out["other_warnings"] == ["UserWarning: something else"]
    assert not out["exceeded"] and out["best_score"] == 0.5 and out["best_alpha"] == 1.0


def test_deadline_raises_only_past_the_budget():
    now = [0.0]
    deadline = _workflow.Deadline(10.0, clock=lambda: now[0])
    X, y = np.zeros((4, 1)), np.array([0, 0, 1, 1])
    estimator = BCEPerceptronClassifier().fit(np.array([[0.0], [0.1], [1.0], [1.1]]), y)
    now[0] = 10.0
    assert deadline(estimator, X, y) == estimator.score(X, y)
    now[0] = 10.5
    with pytest.raises(_workflow.BudgetExceeded):
        deadline(estimator, X, y)


def test_search_past_its_budget_is_reported_cut():
    X, y = np.random.default_rng(0).standard_normal((40, 2)), np.repeat([0, 1], 20)
    out = _workflow.search(_Warns(), X, y, alphas=(1.0, 2.0), folds=2, budget=0.0)
    assert out["exceeded"] and "best_score" not in out
    assert out["convergence_warnings"] == 1  # cut at the first scoring


def test_searches_repeat_in_rounds_only_where_the_first_round_was_short(monkeypatch):
    """Short rows: up to ``repeats`` rounds, the methods interleaved, each
    method's median; a row with a long or failed first search is not
    repeated, nor a search that the budget cut."""
    calls = []
    plan = {}

    def fake_search(estimator, X, y, alphas, folds, budget):
        method = estimator.method
        calls.append(method)
        seconds, exceeded = plan[method].pop(0)
        if seconds is None:
            raise RuntimeError("boom")
        return _search(seconds, exceeded, 0, 0.9, 1e-3)

    class Named:
        def __init__(self, method):
            self.method = method

    monkeypatch.setattr(_workflow, "search", fake_search)
    monkeypatch.setattr(_workflow, "make_estimator", lambda method, l1_ratio: Named(method))
    mode = copy.copy(_workflow.MODES["full"])
    mode.repeats, mode.short_search = 3, 1.0
    plan.update(ours=[(0.3, False), (0.5, False), (0.4, False)], peer=[(0.6, False)] * 3,
                cut=[(0.2, True)], bad=[(None, False)])
    out = _workflow.timed_searches(("ours", "peer"), 0.0, None, None, mode)
    assert calls == ["ours", "peer"] * 3
    assert out["ours"]["times"] == [0.3, 0.5, 0.4] and out["ours"]["seconds"] == 0.4
    assert out["peer"]["seconds"] == 0.6
    # A first search over short_search: one round for the whole row.
    calls.clear()
    plan.update(ours=[(0.3, False)] * 3, peer=[(1.5, False)] * 3)
    out = _workflow.timed_searches(("ours", "peer"), 0.0, None, None, mode)
    assert calls == ["ours", "peer"] and out["ours"]["times"] == [0.3]
    # A search the budget cut is not repeated (the others are); a failed one
    # ends the row after its first round.
    calls.clear()
    plan.update(ours=[(0.3, False)] * 3)
    out = _workflow.timed_searches(("ours", "cut"), 0.0, None, None, mode)
    assert calls == ["ours", "cut", "ours", "ours"]
    assert out["cut"]["exceeded"] and out["cut"]["times"] == [0.2]
    calls.clear()
    plan.update(ours=[(0.3, False)] * 3)
    out = _workflow.timed_searches(("ours", "bad"), 0.0, None, None, mode)
    assert calls == ["ours", "bad"]
    assert out["bad"] == {"error": "RuntimeError: boom"}


def test_default_fits_are_timed_after_untimed_warm_up_fits(monkeypatch):
    import _measure

    fits, collections = [], []

    class Counted:
        def fit(self, X, y):
            fits.append(len(collections))
            return self

    monkeypatch.setattr(_measure.gc, "collect", lambda: collections.append(1))
    dataset = type("D", (), {"X_train": np.zeros((2, 1)), "y_train": np.array([0, 1]), "n_outputs": 1})()
    _, times, _ = _measure.timed_fits(Counted, dataset, 3, np.inf, max_repeats=3, warmup=2)
    # Five fits, three timed; one collection, before the warm-up (none between
    # it and the timed fits).
    assert len(fits) == 5 and len(times) == 3
    assert collections == [1] and fits == [1] * 5


def _search(seconds, exceeded, warned, score, alpha):
    out = {"seconds": seconds, "times": [seconds], "exceeded": exceeded, "convergence_warnings": warned,
           "other_warnings": []}
    return out if exceeded else {**out, "best_score": score, "best_alpha": alpha}


def _result(ours, peer, exceeded=(False, False), warned=0, penalty="L1", n_classes=2):
    peer_name = _workflow.peers(penalty, n_classes)[0]
    row = {"dataset": "breast-cancer", "n_samples": 569, "n_features": 30, "n_classes": n_classes,
           "penalty": penalty, "l1_ratio": _workflow.PENALTIES[penalty], "threads": 1, "peers": [peer_name],
           "threshold": _workflow.threshold(penalty, n_classes), "one_vs_rest": n_classes > 2,
           "results": {"ours": _search(ours, exceeded[0], warned, 0.97, 1e-3),
                       peer_name: _search(peer, exceeded[1], 4, 0.96, 1e-2)}}
    row.update(_workflow.evaluate(row))
    return row


@pytest.mark.parametrize(
    "args, ratio, bound, status",
    [
        ((1.0, 2.0), 0.5, None, "met"),
        ((3.0, 2.0), 1.5, None, "MISSED (time)"),
        ((1.0, 2.0, (False, False), 2), 0.5, None, "MISSED (warnings)"),
        ((60.0, 121.0, (False, True)), 60 / 121, "<", "met"),
        ((121.0, 30.0, (True, False)), 121 / 30, ">", "MISSED (time)"),
        ((121.0, 122.0, (True, True)), None, "?", "unknown (every search cut)"),
        ((121.0, 122.0, (True, True), 3), None, "?", "MISSED (warnings)"),
        ((1.0, 5.0, (False, False), 0, "L1", 5), 0.2, None, "met"),
        ((1.0, 3.0, (False, False), 0, "L1", 5), 1 / 3, None, "MISSED (time)"),
    ],
)
def test_evaluate_ratio_bound_and_status(args, ratio, bound, status):
    row = _result(*args)
    assert row["ratio"] == (None if ratio is None else pytest.approx(ratio))
    assert row["ratio_bound"] == bound and row["status"] == status


def test_floor_is_never_the_best_peer_and_flags_a_target_below_it():
    # L1, 3 classes: target 0.25 x saga.  saga 1.0 s, floor 0.4 s > 0.25 s.
    row = _result(0.6, 1.0, penalty="L1", n_classes=3)
    row["results"][_workflow.FLOOR] = _search(0.4, False, 0, 0.33, 1e-5)
    row.update(_workflow.evaluate(row))
    assert row["best_peer"] == "saga" and row["ratio"] == pytest.approx(0.6)
    assert row["target_below_floor"] and row["status"] == "MISSED (time, target below the harness floor)"
    text = _workflow_report._row_cells(row, 120.0)
    # (0.6 - 0.4) / (1.0 - 0.4): what each spends above the floor.
    assert "400.0 ms; above it 0.33" in text
    # A floor under the target: an ordinary miss.
    row["results"][_workflow.FLOOR] = _search(0.1, False, 0, 0.33, 1e-5)
    row.update(_workflow.evaluate(row))
    assert not row["target_below_floor"] and row["status"] == "MISSED (time)"


def test_floor_classifier_fits_nothing_but_searches_like_an_estimator():
    X = np.random.default_rng(0).standard_normal((30, 2))
    y = np.array([0] * 10 + [1] * 20)
    floor = _workflow.make_estimator(_workflow.FLOOR, 0.5)
    assert floor.get_params() == {"alpha": 1e-4, "l1_ratio": 0.5}
    assert np.all(floor.fit(X, y).predict(X[:4]) == 1) and floor.score(X, y) == pytest.approx(2 / 3)
    out = _workflow.search(floor, X, y, alphas=(1.0, 2.0), folds=2, budget=60.0)
    assert not out["exceeded"] and out["best_score"] == pytest.approx(2 / 3)


def _full_result(label="before"):
    environment = {"date": "2026-12-05T08:00:00+00:00", "cpu": "AMD EPYC", "cores_available": 2,
                   "load_average_start": [4.0, 3.0, 2.0], "load_average_end": [5.0, 3.5, 2.5],
                   "versions": {"numpy": "2", "scipy": "1", "scikit-learn": "1.9", "skperceptron": "0.2"}}
    default_fit = {"dataset": "iris", "threads": 1, "J_star": 0.3, "methods": {
        name: {"seconds": s, "times": [s], "n_iter": 9, "gap": 2e-8, "convergence_warnings": 0}
        for name, s in [("ours", 4e-3), ("lbfgs", 8e-3), ("newton-cholesky", 6e-3), ("ours max_iter=1", 2.5e-3)]}}
    default_fit["penalized"] = [{"penalty": "L1", "J_star": 0.5, "methods": {
        "ours": {"seconds": 0.2, "times": [0.2], "n_iter": 212, "gap": 1.3e-4, "convergence_warnings": 0},
        "saga": {"seconds": 0.04, "times": [0.04], "n_iter": 295, "gap": 1.5e-2, "convergence_warnings": 2}}}]
    run_info = {"environment": environment, "command": "run.py", "seconds": 9.0}
    return {"label": label, "mode": "full", "runs": [run_info],
            "config": {"alphas": [1e-5, 1.0], "folds": 5, "budget": 120.0, "repeats": 1, "default_repeats": 7},
            "rows": [_result(1.0, 2.0), _result(121.0, 30.0, (True, False), 0, "elastic net", 10)],
            "default_fits": [default_fit]}


def test_block_renders_times_budget_ovr_and_statuses():
    text = _workflow_report.block(_full_result())
    assert "| breast-cancer | L1 | 1 | 1.00 s | liblinear 2.00 s | - | 0.50 (liblinear) | <= 1 | 0 / 4 |" in text
    assert "breast-cancer (10 classes, OvR peers) | elastic net" in text
    assert "> 120 s (budget) | saga 30.00 s | - | >4.03 (saga) | <= 0.5 |" in text
    assert "Workflow targets met: 1 of 2 rows." in text
    assert "120 s per search, one search per method;" in text
    repeated = _full_result()
    repeated["config"].update(repeats=3, short_search=2.0)
    assert ("median of 3 searches per method, in rounds (ours, the peers, the floor, again), where each "
            "search of the row's first round took at most 2 s; else one;") in _workflow_report.block(repeated)
    assert "[4.0, 3.0, 2.0]" in text and "[5.0, 3.5, 2.5]" in text
    # iris: faster than lbfgs, gap within 1e-4, but max_iter=1 above 1 ms.
    assert "| iris | 1 | 4.0 ms | 8.0 ms | 6.0 ms | 2.5 ms | 9 / 9 / 9 | 2.0e-08 / 2.0e-08 / 2.0e-08 | 0 | " \
           "MISSED (max_iter=1 > 1 ms) |" in text
    assert "| iris | 1 | L1 | 200.0 ms | saga 40.0 ms | 212 / 295 | 1.3e-04 / 1.5e-02 | 0 / 2 | " \
           "MISSED (gap 1.3e-04) |" in text


def test_json_round_trip_merge_and_results_md_blocks(tmp_path):
    (tmp_path / "RESULTS.md").write_text("# Benchmark results\n\nthe comparison\n")
    first = _full_result()
    _workflow_report.write(first, tmp_path)
    loaded = _workflow_report.load(tmp_path, "before")
    assert loaded == json.loads(json.dumps(first))
    assert _workflow_report.block(loaded) == _workflow_report.block(first)

    # A second run of the same label (2 threads) merges; a row measured again replaces the old one.
    second = copy.deepcopy(first)
    second["rows"] = [_result(3.0, 2.0)]
    for row in second["rows"]:
        row["threads"] = 2
    merged = _workflow_report.merge(loaded, second)
    assert [(r["penalty"], r["threads"]) for r in merged["rows"]] == [("L1", 1), ("elastic net", 1), ("L1", 2)]
    assert len(merged["runs"]) == 2 and len(merged["default_fits"]) == 1
    again = _workflow_report.merge(merged, second)
    assert len(again["rows"]) == 3
    # Everything measured again: the old runs' lines go with their rows.
    assert len(_workflow_report.merge(loaded, copy.deepcopy(first))["runs"]) == 1

    _workflow_report.write(merged, tmp_path)
    # A section written after the workflow's blocks stays after the next label's.
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text(results_md.read_text() + "\n## Cross-validation\n\nits tables\n")
    _workflow_report.write(_full_result("after"), tmp_path)
    text = (tmp_path / "RESULTS.md").read_text()
    assert text.startswith("# Benchmark results\n\nthe comparison\n")
    assert text.count(_workflow_report.WORKFLOW_HEADING) == 1
    assert text.count("<!-- workflow:before -->") == 1 and text.count("<!-- workflow:after -->") == 1
    assert text.index("### before") < text.index("### after") < text.index("## Cross-validation")
    assert text.endswith("## Cross-validation\n\nits tables\n")
    assert "MISSED (time)" in text.split("<!-- workflow:before -->")[1].split("<!-- /workflow:before -->")[0]
    section = _workflow_report.workflow_section(text)
    assert section.startswith(_workflow_report.WORKFLOW_HEADING) and "### after" in section
    assert _workflow_report.workflow_section("# Benchmark results\n") == ""


def test_run_py_modes_and_their_options():
    args = run.parse_args(["--workflow", "--threads", "1,2", "--budget", "5", "--label", "before"])
    assert args.mode == "workflow" and args.threads == [1, 2] and args.budget == 5
    assert run.parse_args(["--gpu"]).budget == 270.0
    for argv in (["--workflow", "--methods", "ours"], ["--threads", "1"], ["--dask", "--label", "x"],
                 ["--workflow", "--threads", "0"], ["--gpu", "--repeats", "2"]):
        with pytest.raises(SystemExit):
            run.parse_args(argv)


def test_run_py_cv_without_its_module_says_so(capsys):
    if (Path(run.__file__).parent / "_cv.py").exists():
        pytest.skip("benchmarks/_cv.py is there")
    assert run.main(["--cv", "--quick"]) == 1
    assert "benchmarks/_cv.py is not there yet" in capsys.readouterr().err
