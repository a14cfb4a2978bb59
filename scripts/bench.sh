#!/usr/bin/env bash
# `make bench`: every benchmark in bench/ against a baseline measured in the same run on the same
# servers; one JSON report in bench/results/ and a table on stdout. Exit 1 when a correctness invariant
# breaks. BENCH_QUICK=1: a smoke run (< 2 min). SOAK=1: add the 30-minute soak. Extra arguments name
# the modules to run (e.g. `bash scripts/bench.sh purchase`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export PYTHONUNBUFFERED=1
started_embedded=0
python -m config.embedded status || started_embedded=1
eval "$(python -m config.embedded env)"
cleanup() {
  if [[ $started_embedded == 1 && "${VQ_KEEP_SERVICES:-0}" != 1 ]]; then
    env -u DATABASE_URL -u REDIS_URL python -m config.embedded down >/dev/null || true
  fi
}
trap cleanup EXIT
# Static files for the pages the HTTP benchmarks render (whitenoise serves them from STATIC_ROOT).
python manage.py collectstatic --noinput --verbosity 0
# One websocket per watcher: the fan-out benchmark needs a few thousand file descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 16384 2>/dev/null || true
python -m bench.run "$@"
