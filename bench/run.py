"""``make bench``: every benchmark in ``bench/``, one JSON report, a short table, exit 1 on a broken
invariant or a crashed benchmark.

``python -m bench.run [name ...]`` runs only the named modules (the baselines always run);
``python -m bench.run --markdown [report.json]`` prints a report's ratios as a Markdown table.
Environment: ``BENCH_QUICK=1`` (smoke run, < 2 minutes), ``SOAK=1`` (add the 30-minute soak),
``BENCH_PORT_BASE`` (default 8110).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
from importlib import import_module
from pathlib import Path

from bench import harness, servers

# Modules of the harness itself; every other bench/<name>.py (not starting with "_") is a benchmark.
INFRASTRUCTURE = {"__init__", "harness", "baselines", "loadgen", "servers", "run", "asgi", "wsminimal"}


def standard_baselines() -> list[tuple[str, dict]]:
    """The baselines every run measures, at the client counts the benchmarks use."""
    clients = harness.APP_CLIENTS
    return [
        ("pgbench_hot_row", {"clients": clients}),
        ("pgbench_spread", {"clients": clients}),
        ("pgbench_skip_locked", {"clients": clients}),
        ("pgbench_join_insert", {"clients": clients}),
        ("http_trivial", {"concurrency": harness.HTTP_CONCURRENCY}),
        ("ws_minimal", {"watchers": harness.WATCHERS}),
    ]


def discover(only: list[str]) -> list[tuple[str, object]]:
    found = []
    for path in sorted((harness.BASE_DIR / "bench").glob("*.py")):
        name = path.stem
        if name in INFRASTRUCTURE or name.startswith("_") or (only and name not in only):
            continue
        module = import_module(f"bench.{name}")
        found.append((name, module))
    found.sort(key=lambda item: (getattr(item[1], "ORDER", 50), item[0]))
    return found


def run_module(report: harness.Report, name: str, module) -> None:
    if harness.quick() and getattr(module, "QUICK_OK", True) is False:
        print(f"== {name}: skipped under BENCH_QUICK", flush=True)
        return
    if getattr(module, "SOAK_ONLY", False) and not harness.soak():
        print(f"== {name}: on demand only (SOAK=1)", flush=True)
        return
    print(f"== {name}", flush=True)
    started = time.monotonic()
    run = getattr(module, "run", None)
    try:
        if callable(run):
            run(report)
        else:
            # A standalone script without the harness interface: run it, keep its exit code and output.
            completed = subprocess.run(
                [sys.executable, "-m", f"bench.{name}"], cwd=harness.BASE_DIR, capture_output=True, text=True
            )
            print(completed.stdout[-3000:], completed.stderr[-2000:], sep="\n")
            report.result(name, exit_code=completed.returncode, output=completed.stdout[-5000:])
            report.invariant(f"{name}: script exits 0", completed.returncode == 0)
    except Exception as error:  # noqa: BLE001 - one broken benchmark must not hide the others
        traceback.print_exc()
        report.error(name, error)
    finally:
        servers.stop_all()
    print(f"   ({time.monotonic() - started:.0f} s)", flush=True)


def markdown(path: str | None) -> str:
    """The ratios of a report (default: the newest) as a Markdown table, for the README."""
    import json

    reports = sorted(harness.RESULTS_DIR.glob("report-*.json"))
    data = json.loads(Path(path).read_text() if path else reports[-1].read_text())
    lines = ["| benchmark | value | baseline | ratio | target | met |", "|---|---|---|---|---|---|"]
    for row in data["ratios"]:
        value = "-" if row["value"] is None else f"{row['value']:g} {row['unit']}"
        base = "-" if row["baseline_value"] is None else f"{row['baseline_value']:g} ({row['baseline']})"
        met = {True: "yes", False: "**no**", None: ""}[row["meets_target"]]
        cells = [row["name"], value, base, str(row["ratio"]), row["target"], met]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    held = sum(1 for item in data["invariants"] if item["ok"])
    lines.append("")
    lines.append(f"Invariants: {held}/{len(data['invariants'])} held.")
    lines += [f"- FAILED {item['name']}: {item['detail']}" for item in data["invariants"] if not item["ok"]]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--markdown"]:
        print(markdown(argv[1] if len(argv) > 1 else None))
        return 0
    started = time.monotonic()
    harness.prepare_environment()
    print("preparing the benchmark database …", flush=True)
    harness.prepare_bench_database()
    report = harness.Report(host=harness.host_facts())
    print("== baselines", flush=True)
    try:
        for name, params in standard_baselines():
            try:
                report.baseline(name, **params)
            except Exception as error:  # noqa: BLE001
                traceback.print_exc()
                report.error(f"baseline {name}", error)
        for name, module in discover(argv):
            run_module(report, name, module)
    finally:
        servers.stop_all()
        report.host["total_seconds"] = round(time.monotonic() - started, 1)
        report.host["load_average_end"] = os.getloadavg()  # a busy machine explains noisy figures
        path = report.write()
    print()
    print(report.table())
    print(f"report: {path.relative_to(harness.BASE_DIR)}  ({report.host['total_seconds']:.0f} s)")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
