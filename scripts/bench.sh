#!/usr/bin/env bash
# Runs every benchmark in bench/ (each prints ratios against a baseline from the same run).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
eval "$(python -m config.embedded env)"
python manage.py migrate --noinput --verbosity 0
mkdir -p bench/results
for bench in bench/*.py; do
  [[ "$(basename "$bench")" == _* ]] && continue
  echo "== $bench"
  python "$bench"
done
