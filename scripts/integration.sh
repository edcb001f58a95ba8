#!/usr/bin/env bash
# integration.sh [BATS-ARGS...]: runs the bats suite under tests/integration
# (as root) and ends with one line "integration: N passed, N failed".
# BERTH may name another runtime binary (default: ./berth).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

if [[ $(id -u) != 0 ]]; then
	echo "integration: the tests make real containers and must run as root" >&2
	exit 1
fi
opts=(--formatter tap)
if bats --help 2>&1 | grep -q -- --print-output-on-failure; then
	opts+=(--print-output-on-failure)
fi
if [[ $# -eq 0 ]]; then set -- tests/integration; fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
bats "${opts[@]}" "$@" </dev/null | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
echo "integration: $passed passed, $failed failed"
exit "$rc"
