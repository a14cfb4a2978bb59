#!/usr/bin/env bash
# Refresh the screenshots embedded in the README from the last browser-test run (screenshots/ is written
# by `make test` / `pytest -m browser`; it is not committed). Run it after the browser tests pass and
# commit docs/images/ with the change that altered the pages.
set -euo pipefail
cd "$(dirname "$0")/.."
shots=(
  j1-fan-2-request-form-desktop
  j1-fan-4-status-approved-phone
  j2-creator-3-board-desktop
  j4-buyer-6-order-phone
  j4-buyer-10-check-in-valid-desktop
  j16-buyer-1-search-filters-desktop
  j16-buyer-3-waiting-for-a-place-phone
  j22-fair-3-after-draw-seed-desktop
  j4-de-1-event-phone
  queues-type-form-diagram
)
mkdir -p docs/images
for name in "${shots[@]}"; do
  if [[ ! -f "screenshots/$name.png" ]]; then
    echo "screenshots/$name.png is missing: run the browser tests first" >&2
    exit 1
  fi
  cp "screenshots/$name.png" "docs/images/$name.png"
done
echo "copied ${#shots[@]} screenshots into docs/images/"
