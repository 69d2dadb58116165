#!/usr/bin/env bash
# Builds squall (release) and runs the quickstart scenario: the first command of the README.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target squall -j "$(nproc)"
./build/release/cli/squall run scenarios/quickstart.json --out squall-out/quickstart "$@"
