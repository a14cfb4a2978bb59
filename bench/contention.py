"""Purchase contention through the service layer.

- Contention curve: buyers of ONE tier at 1 / 8 / 32 / 128 / 256 clients, spread over two processes
  with a bounded connection pool each (``DB_POOL_MAX_SIZE``), so clients queue for a connection instead
  of opening 256. Target: throughput at 256 ≥ 0.8 × the curve's peak, no deadlock, no lock timeout.
  (The hot-tier purchase against pgbench's hot-row UPDATE is ``bench/purchase.py``.)
- 50 tiers vs 1 tier of one event at the same client count: with no hidden event-wide lock the spread
  sale is at least as fast (target ≥ 1.5 ×; on a 2-core machine Python CPU, not row locks, limits both).

Invariants (fail the run): no oversell, one order per successful purchase, sold counters equal ordered
seats, no deadlock.
"""

from __future__ import annotations

from bench import _ticketing, harness

ORDER = 20
POOL_PER_PROCESS = 8
PROCESSES = 2


def curve_points() -> list[int]:
    return [1, 8, 32] if harness.quick() else [1, 8, 32, 128, 256]


def _load(context: dict, clients: int, seconds: float, pool: bool = True) -> harness.LoadResult:
    env = {"DB_POOL_MAX_SIZE": str(POOL_PER_PROCESS), "DB_POOL_TIMEOUT": "60"} if pool else {}
    return harness.run_load(
        "bench._ticketing:purchase",
        clients=clients,
        seconds=seconds,
        context=context,
        processes=min(PROCESSES, clients),
        close_per_op=True,
        env=env,
    )


def _deadlocks(result: harness.LoadResult) -> int:
    return sum(n for outcome, n in result.outcomes.items() if "Deadlock" in outcome)


def contention_curve(report: harness.Report) -> None:
    harness.setup_django()
    context = _ticketing.make_sale(label="curve", tiers=1, checkout_limit=400)
    points = {}
    total_ok = 0
    for clients in curve_points():
        result = _load(context, clients, harness.duration(8))
        points[clients] = result.summary()
        total_ok += result.ok
        p99 = points[clients]["p99_ms"]
        print(f"   {clients:4d} clients: {result.throughput:8.1f}/s  p99 {p99} ms  {dict(result.outcomes)}")
        report.invariant(
            f"contention @{clients}: no deadlock", _deadlocks(result) == 0, str(dict(result.outcomes))
        )
    report.result("contention_curve", points=points, pool_per_process=POOL_PER_PROCESS, processes=PROCESSES)
    _ticketing.check_invariants(report, "contention curve", context, expected_orders=total_ok)
    peak_clients = max(points, key=lambda c: points[c]["ok_per_second"])
    peak = points[peak_clients]["ok_per_second"]
    last = max(points)
    lock_timeouts = sum(p["outcomes"].get("Busy", 0) for p in points.values())
    report.compare(
        f"curve: @{last} clients vs peak (@{peak_clients})",
        value=points[last]["ok_per_second"],
        baseline=peak,
        baseline_name=f"the curve's own peak @{peak_clients}",
        target="≥ 0.8, no lock timeout",
        meets=bool(peak) and points[last]["ok_per_second"] >= 0.8 * peak and lock_timeouts == 0,
        note=f"lock timeouts (Busy): {lock_timeouts}; pool {POOL_PER_PROCESS} × {PROCESSES} processes",
        unit="purchases/s",
    )


def tiers_spread(report: harness.Report) -> None:
    harness.setup_django()
    clients = 16
    seconds = harness.duration(8)
    one = _ticketing.make_sale(label="one-tier", tiers=1, checkout_limit=100)
    many = _ticketing.make_sale(label="fifty-tiers", tiers=50, checkout_limit=100)
    result_one = _load(one, clients, seconds)
    result_many = _load(many, clients, seconds)
    report.result("tiers_50_vs_1", one_tier=result_one.summary(), fifty_tiers=result_many.summary())
    _ticketing.check_invariants(report, "one tier", one, expected_orders=result_one.ok)
    _ticketing.check_invariants(report, "fifty tiers", many, expected_orders=result_many.ok)
    report.compare(
        f"50 tiers vs 1 tier @{clients}",
        value=result_many.throughput,
        baseline=result_one.throughput,
        baseline_name=f"one tier @{clients}",
        target="≥ 1.5",
        meets=result_many.throughput >= 1.5 * result_one.throughput,
        unit="purchases/s",
    )


def run(report: harness.Report) -> None:
    contention_curve(report)
    tiers_spread(report)


if __name__ == "__main__":
    harness.main(run)
