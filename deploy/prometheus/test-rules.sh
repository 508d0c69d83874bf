#!/usr/bin/env bash
# Checks the Prometheus alert/recording rules and runs their unit tests with promtool.
# Exits non-zero when a rule file is invalid or a test fails (or promtool is missing).
# promtool comes with Debian's `prometheus` package (apt-get install -y prometheus).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

if ! command -v promtool >/dev/null 2>&1; then
  echo "test-rules.sh: promtool not found (apt-get install -y prometheus)" >&2
  exit 127
fi

shopt -s nullglob
rules=(rules/*.yml)
tests=(tests/*.yml)
if [ ${#rules[@]} -eq 0 ] || [ ${#tests[@]} -eq 0 ]; then
  echo "test-rules.sh: no rule files or no test files under $here" >&2
  exit 1
fi

promtool check rules "${rules[@]}"
promtool test rules "${tests[@]}"
