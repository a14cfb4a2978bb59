"""Which ASGI server serves plain HTTP better under load: daphne (what ``make run``, the Procfile and the
Dockerfile use; it also carries the websockets) against uvicorn (pure-Python h11, one process), same
application (``bench.asgi``), same middleware, same load generator, same concurrency.

Two requests: ``/healthz`` (middleware only) and the public event page (templates + a few queries).
Reported as uvicorn / daphne; > 1 means uvicorn serves more. Websockets stay on Channels under daphne
whatever the result (the issue's rule); a split deployment would route ``/ws/`` to daphne.
"""

from __future__ import annotations

from bench import _ticketing, harness, loadgen, servers

ORDER = 35


def _get(path: str):
    def make(number, iteration, context):
        return "GET", path, {}, b""

    return make


def run(report: harness.Report) -> None:
    harness.setup_django()
    concurrency = harness.HTTP_CONCURRENCY
    sale = _ticketing.make_sale(label="asgi", tiers=3)
    event_path = f"/{sale['tenant_slug']}/e/{sale['event_slug']}/"
    daphne = servers.daphne()
    uvicorn = servers.uvicorn()
    if uvicorn is None:
        report.result("asgi_servers", skipped="uvicorn is not installed (pip install '.[dev]')")
        return
    figures: dict[str, dict] = {}
    for label, path in (("healthz", "/healthz"), ("event page", event_path)):
        for name, server in (("daphne", daphne), ("uvicorn", uvicorn)):
            loadgen.http_load(
                servers.HOST, server.port, _get(path), concurrency=concurrency, seconds=1
            )  # warm
            result = loadgen.http_load(
                servers.HOST, server.port, _get(path), concurrency=concurrency, seconds=harness.duration(8)
            )
            figures[f"{label} {name}"] = {
                "ops_per_second": round(result.rate(), 1),
                "statuses": {str(status): count for status, count in result.statuses.items()},
                "failures": dict(result.failures),
                **harness.latency_summary(result.latencies),
            }
            print(f"   {label:10} {name:8} {figures[f'{label} {name}']['ops_per_second']:8.1f}/s", flush=True)
        report.compare(
            f"uvicorn vs daphne: {label} @{concurrency}",
            value=figures[f"{label} uvicorn"]["ops_per_second"],
            baseline=figures[f"{label} daphne"]["ops_per_second"],
            baseline_name=f"daphne, {label}",
            target="choose the faster (> 1: uvicorn)",
            unit="requests/s",
            note=f"p99 uvicorn {figures[f'{label} uvicorn']['p99_ms']} ms, "
            f"daphne {figures[f'{label} daphne']['p99_ms']} ms",
        )
        errors = sum(
            count
            for key in (f"{label} daphne", f"{label} uvicorn")
            for status, count in figures[key]["statuses"].items()
            if int(status) >= 500
        )
        report.invariant(f"asgi servers, {label}: zero 5xx", errors == 0, f"{errors} responses ≥ 500")
    report.result("asgi_servers", concurrency=concurrency, figures=figures)


if __name__ == "__main__":
    harness.main(run)
