#!/usr/bin/env bash
# Runs the whole test suite. Uses DATABASE_URL / REDIS_URL when set, embedded servers otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
export PYTHONUNBUFFERED=1
export VQ_FAST_PASSWORD_HASHER=1
started_embedded=0
# Stop the embedded servers at the end only if this run started them.
python -m config.embedded status || started_embedded=1
eval "$(python -m config.embedded env)"
cleanup() {
  # Stop the embedded servers this run used (their data stays for the next run).
  if [[ $started_embedded == 1 && "${VQ_KEEP_SERVICES:-0}" != 1 ]]; then
    env -u DATABASE_URL -u REDIS_URL python -m config.embedded down >/dev/null || true
  fi
}
trap cleanup EXIT
python -m core.catalogs -q
python manage.py collectstatic --noinput --verbosity 0
ruff check .
# Unit, integration and concurrency tests in parallel; browser tests (if any) after, on their own.
pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile -m "not browser" "$@"
if [[ -n "$(grep -rl 'pytest.mark.browser' tests 2>/dev/null || true)" ]]; then
  bash scripts/browser-setup.sh
  pytest -m browser -p no:xdist tests/e2e "$@"
fi
