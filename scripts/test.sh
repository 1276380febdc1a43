#!/usr/bin/env bash
# One command for a new user or CI: set everything up in .venv, then lint, type-check and run the whole test suite.
# Arguments go to pytest. Browser tests need Debian's chromium, the AWS SDK for Go test Debian's golang-go and
# golang-github-aws-aws-sdk-go-dev (built offline in GOPATH mode): installed here when running as root.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh test
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; browser tests will be skipped" >&2
fi
if { ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/github.com/aws/aws-sdk-go ]; } \
    && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go \
    golang-github-aws-aws-sdk-go-dev >/dev/null) \
    || echo "warning: could not install Go and the AWS SDK for Go; the Go SDK test will be skipped" >&2
fi
.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
