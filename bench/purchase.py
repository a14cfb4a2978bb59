"""Hot-tier purchase throughput, end to end through the ticketing services, next to pgbench.

Every buyer buys one seat of ONE tier (the hot spot): ``checkout_open`` (checkout slot + conditional
UPDATE on the tier), ``checkout_set_customer``, ``checkout_complete`` (test card: order, items, tickets,
outbox message, held → sold). Client counts 1 / 4 / 8 / 16 (threads over two processes, so the client
side is not one GIL). Baseline at the same client count, same server, same run: pgbench running the
single-row conditional UPDATE ``reserved = reserved + 1 WHERE id = 1 AND sold + reserved + 1 <= quantity``
(``bench.baselines.pgbench_hot_row``). Target (DESIGN "Performance targets"): ratio ≥ 0.5.

Then a sell-out: 32 clients race for a tier of 100 for 30 s (it is gone long before) — exactly 100
sold, every other answer a clean SoldOut. Invariants (fail the run): no oversell, sold counters equal
ordered seats, one issued ticket per sold seat, one order per successful purchase.

Run: ``python bench/purchase.py`` (fresh ``virtualq_bench`` database on the app's server), or as part of
``make bench``. ``BENCH_QUICK=1`` for a smoke run.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # ``python bench/purchase.py``: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _ticketing, harness  # noqa: E402

ORDER = 10
TARGET = 0.5
PROCESSES = 2


def client_counts() -> list[int]:
    return [1, 8] if harness.quick() else [1, 4, 8, 16]


def hot_tier_throughput(report: harness.Report) -> None:
    harness.setup_django()
    context = _ticketing.make_sale(label="hot", tiers=1, quantity=1_000_000, checkout_limit=400)
    successful = 0
    for clients in client_counts():
        baseline = report.baseline("pgbench_hot_row", clients=clients)
        result = harness.run_load(
            "bench._ticketing:purchase",
            clients=clients,
            seconds=harness.duration(10),
            context=context,
            processes=min(PROCESSES, clients),
        )
        successful += result.ok
        base = baseline.get("ops_per_second")
        ratio = harness.ratio(result.throughput, base)
        print(
            f"   {clients:3d} clients: purchases {result.throughput:8.1f}/s  pgbench hot row {base}/s  "
            f"ratio {ratio}  outcomes {dict(result.outcomes)}",
            flush=True,
        )
        report.result(f"purchase_hot_tier_{clients}", **result.summary())
        report.compare(
            f"hot-tier purchase @{clients} clients",
            value=result.throughput,
            baseline=base,
            baseline_name=f"pgbench_hot_row|clients={clients}",
            target=f"≥ {TARGET}",
            meets=None if ratio is None else ratio >= TARGET,
            note="three service calls per purchase (open, details, pay) vs one UPDATE",
        )
        unexpected = {k: v for k, v in result.outcomes.items() if k != "ok"}
        report.invariant(f"purchase @{clients}: every purchase succeeded", not unexpected, str(unexpected))
    _ticketing.check_invariants(report, "hot tier", context, expected_orders=successful)


def sell_out(report: harness.Report) -> None:
    harness.setup_django()
    quantity = 20 if harness.quick() else 100
    context = _ticketing.make_sale(label="sellout", tiers=1, quantity=quantity, checkout_limit=400)
    result = harness.run_load(
        "bench._ticketing:purchase",
        clients=32,
        seconds=harness.duration(30),
        context=context,
        processes=PROCESSES,
    )
    print(f"   sell-out of {quantity}: {dict(result.outcomes)}", flush=True)
    report.result("purchase_sell_out", quantity=quantity, **result.summary())
    counts = _ticketing.check_invariants(report, "sell-out", context, expected_orders=result.ok)
    report.invariant(
        "sell-out: exactly the tier's quantity sold", counts["sold"] == quantity == result.ok, str(counts)
    )
    others = {k: v for k, v in result.outcomes.items() if k not in ("ok", "SoldOut")}
    report.invariant("sell-out: every other answer is SoldOut", not others, str(others))


def run(report: harness.Report) -> None:
    hot_tier_throughput(report)
    sell_out(report)


if __name__ == "__main__":
    harness.main(run)
