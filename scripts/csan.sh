#!/usr/bin/env bash
# csan.sh: builds berth's C parsers of outside input (the bootstrap and
# process messages, the fast record, the constructors' argv scans) with
# AddressSanitizer and UBSan into tests/csan/harness.c, and feeds them
# every input of their Go fuzz targets: the seeds, testdata/fuzz and what
# `go test -fuzz` found (the build cache). Any sanitizer report fails.
# scripts/fuzz.sh runs it after the Go targets.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# harness target  Go fuzz target
targets=(
	"bootstrap FuzzParseBootstrap"
	"process FuzzParseProcess"
	"record FuzzParseRecord"
	"fastargs FuzzParseArgs"
	"cmdindex FuzzCommandIndex"
	"fd FuzzParseFD"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

${CSAN_CC:-gcc} -std=gnu11 -Wall -Wextra -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-Iinclude -Insenter -Iinternal/fastcmd \
	tests/csan/harness.c nsenter/bootstrap.c nsenter/procparse.c \
	internal/fastcmd/record.c internal/fastcmd/cmdline.c -o "$work/csan"

BERTH_CSAN_CORPUS=$work/corpus BERTH_CSAN_GOCACHE=$(go env GOCACHE) \
	go test -count=1 -run '^TestCSanCorpus$' ./nsenter ./internal/fastcmd ./internal/sigfwd >/dev/null

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${targets[@]}"; do
	read -r kind target <<<"$t"
	files=("$work/corpus/$target"/*)
	if [[ ! -e ${files[0]} ]]; then
		echo "csan: no corpus for $target" >&2
		exit 1
	fi
	"$work/csan" "$kind" "${files[@]}"
done
echo "csan: ${#targets[@]} parsers clean under AddressSanitizer and UBSan"
