#!/usr/bin/env bash
# fuzz.sh [FUZZTIME]: runs every Go fuzz target of the module for a bounded
# time each (default 10s), then the C parsers under the sanitizers with
# the corpus that made (scripts/csan.sh). Targets are found by their
# `func FuzzXxx(` lines.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fuzztime=${1:-${FUZZTIME:-10s}}
files=$(grep -rl --include='*_test.go' 'func Fuzz' . | sort || true)
if [[ -z $files ]]; then
	echo "fuzz: no fuzz targets"
	exit 0
fi
count=0
for f in $files; do
	dir=$(dirname "${f#./}")
	pkg=./$dir
	[[ $dir == . ]] && pkg=.
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
		echo "fuzz: $pkg $name ($fuzztime)"
		go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" "$pkg"
		count=$((count + 1))
	done
done
echo "fuzz: $count targets passed"
scripts/csan.sh
