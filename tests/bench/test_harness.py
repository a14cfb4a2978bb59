"""Smoke tests for the benchmark harness itself (no servers, no load): the statistics, the report's
failure rule, the HTTP and websocket wire code of the load generator, and module discovery."""

import asyncio

from bench import harness, loadgen, run


def test_percentiles_and_summary():
    values = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert harness.percentile(values, 50) == 0.05
    assert harness.percentile(values, 99) == 0.099
    assert harness.percentile([], 99) is None
    summary = harness.latency_summary(values)
    assert summary["p50_ms"] == 50.0 and summary["p99_ms"] == 99.0 and summary["max_ms"] == 100.0


def test_report_fails_on_a_broken_invariant_and_lists_it():
    report = harness.Report()
    report.invariant("holds", True)
    assert not report.failed
    report.compare("slow thing", value=5, baseline=10, baseline_name="base", target="≥ 1", meets=False)
    assert not report.failed  # a missed target is reported, never a failure
    report.invariant("no oversell", False, "3 over")
    assert report.failed
    table = report.table()
    assert "FAILED no oversell: 3 over" in table and "0.50" in table
    assert report.as_dict()["ok"] is False


def _read(data: bytes, reader_fn):
    async def go():
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await reader_fn(reader)

    return asyncio.run(go())


def test_http_response_parser_handles_length_and_chunked():
    plain = (
        b"HTTP/1.1 302 Found\r\nLocation: /x/\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b"Content-Length: 2\r\n\r\nok"
    )
    response = _read(plain, loadgen.read_response)
    assert (response.status, response.body, response.headers["location"]) == (302, b"ok", "/x/")
    assert response.headers["set-cookie"].split("\n") == ["a=1", "b=2"]
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    assert _read(chunked, loadgen.read_response).body == b"abcde"


def test_websocket_frames_round_trip_at_every_length_form():
    for size in (0, 5, 125, 126, 65535, 70000):
        payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
        for mask in (True, False):
            opcode, body = _read(loadgen.ws_frame(payload, mask=mask), loadgen.ws_read_frame)
            assert (opcode, body) == (1, payload)
    assert loadgen.ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455


def test_discovery_finds_benchmarks_not_infrastructure():
    names = [name for name, _module in run.discover([])]
    assert {"contention", "http_purchase", "fanout"} <= set(names)
    assert not set(names) & run.INFRASTRUCTURE
    assert not any(name.startswith("_") for name in names)
    assert all(callable(getattr(module, "run", None)) for _name, module in run.discover([]))
