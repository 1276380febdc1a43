#!/usr/bin/env bash
# One command for a new user: set everything up in .venv, then start the service (arguments go to `photosift serve`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/photosift serve "$@"
