#!/usr/bin/env bash
# bench/run.sh: berth against runc and crun, side by side (`make bench`).
#
# Builds bench/cmd/benchrun, makes three busybox bundles (/bin/true, a long
# sleep, /bin/true under a 4 MiB memory limit), runs every measurement with
# the runtimes alternating, prints a table of medians and ratios, and writes
# it into bench/RESULTS.md between the "bench:latest" markers (the rest of
# that file is kept). bench/RESULTS.md says what each row measures.
#
# Environment:
#   BENCH_RUNS=20          runs per runtime of each latency row
#   BENCH_CONC=100         containers of the concurrency row
#   BENCH_CONC_ROUNDS=3    rounds of the concurrency row
#   BENCH_LIST_N=1000      containers under --root for the list rows
#   BENCH_RESULTS=FILE     where to write the results (default bench/RESULTS.md; "" = nowhere)
#   BENCH_ONLY=a,b         only these sections: floor, lifecycle, exec, memory, list, concurrency
#   BERTH, RUNC, CRUN      the binaries (default ./berth, runc, crun from PATH)
#   BENCH_BERTH_NOTE       a note on the berth binary, printed with its commit
#   GO                     the go command (default: go, else /usr/local/go/bin/go)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

runs=${BENCH_RUNS:-20}
conc=${BENCH_CONC:-100}
conc_rounds=${BENCH_CONC_ROUNDS:-3}
list_n=${BENCH_LIST_N:-1000}
results=${BENCH_RESULTS-$repo/bench/RESULTS.md}

[[ $(id -u) == 0 ]] || { echo "bench: run as root (containers, cgroups, mount namespaces)" >&2; exit 1; }

# --- packages: apt-get update once, only when something is missing ---------
missing=()
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v crun >/dev/null 2>&1 || missing+=(crun)
command -v jq >/dev/null 2>&1 || missing+=(jq)
[[ -x /bin/busybox ]] && dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
	missing+=(busybox-static)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
if [[ ${#missing[@]} -gt 0 ]]; then
	echo "bench: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >&2
fi

berth=${BERTH:-$repo/berth}
runc_bin=${RUNC:-$(command -v runc)}
crun_bin=${CRUN:-$(command -v crun)}
if [[ -n ${GO:-} ]]; then
	go=$GO
elif command -v go >/dev/null 2>&1; then
	go=go
else
	go=/usr/local/go/bin/go
fi
if [[ ! -x $berth ]]; then
	echo "bench: building berth" >&2
	make -s berth >&2
fi
berth=$(readlink -f "$berth")

# --- scratch space, ids, clean-up ------------------------------------------
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
# Every container id (and so every cgroup a runtime makes for it) starts
# with this prefix, which the clean-up below matches on.
prefix="bb$$x$(printf '%04x' $((RANDOM)))"

cleanup() {
	local rc=$?
	set +e
	if [[ -n ${bench_pid:-} ]] && kill -0 "$bench_pid" 2>/dev/null; then
		kill -TERM "$bench_pid" 2>/dev/null
		wait "$bench_pid" 2>/dev/null
	fi
	# benchrun deletes what it made; this is the backstop after a crash.
	local root id name
	for root in "$work"/roots/*; do
		[[ -d $root ]] || continue
		name=$(basename "$root")
		for id in "$root"/"$prefix"-*; do
			[[ -e $id ]] || continue
			id=$(basename "$id")
			case $name in
			berth-*) "$berth" --root "$root" delete --force "$id" ;;
			runc-*) "$runc_bin" --root "$root" delete --force "$id" ;;
			crun-*) unshare -m sh -c 'umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' crun \
				"$crun_bin" --cgroup-manager=disabled --root "$root" delete --force "$id" ;;
			esac
		done >/dev/null 2>&1
	done
	# Cgroups named by our ids (runc nests them under its own cgroup).
	find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -depth -type d -name "$prefix-*" -exec rmdir {} \; 2>/dev/null
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- bundles -----------------------------------------------------------------
# mkbundle.sh writes berth's `spec`; ociVersion is lowered to 1.0.2, the
# newest crun 1.8 accepts, so all three runtimes read the same config.json.
mkb() { # mkb DIR JQ-FILTER ARG...
	local dir=$1 filter=$2; shift 2
	BERTH=$berth scripts/mkbundle.sh "$dir" "$@" >/dev/null
	jq ".ociVersion = \"1.0.2\" | $filter" "$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
}
mkb "$work/true" '.' /bin/true
mkb "$work/sleep" '.' /bin/sleep 3600
mkb "$work/mem" '.linux.resources.memory = {"limit": 4194304}' /bin/true
# Docker's default seccomp profile (the one container engines send).
mkb "$work/seccomp" '.' /bin/true
jq --slurpfile p libcontainer/seccomp/testdata/docker-default.json '.linux.seccomp = $p[0]' \
	"$work/seccomp/config.json" >"$work/seccomp/config.json.new"
mv "$work/seccomp/config.json.new" "$work/seccomp/config.json"
mkb "$work/probe" '.' /bin/sh -c \
	'cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.peak'

echo "bench: building benchrun" >&2
CGO_ENABLED=0 "$go" build -trimpath -o "$work/benchrun" ./bench/cmd/benchrun

# --- run ---------------------------------------------------------------------
"$work/benchrun" -work "$work" -prefix "$prefix" \
	-runs "$runs" -conc "$conc" -conc-rounds "$conc_rounds" -list-n "$list_n" \
	-bundle-true "$work/true" -bundle-sleep "$work/sleep" -bundle-mem "$work/mem" -bundle-probe "$work/probe" \
	-bundle-seccomp "$work/seccomp" \
	-berth "$berth" -runc "$runc_bin" -crun "$crun_bin" -only "${BENCH_ONLY:-}" -out "$work/table.md" >/dev/null &
bench_pid=$!
wait "$bench_pid"
bench_pid=

# --- report ------------------------------------------------------------------
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=""
git diff --quiet HEAD -- 2>/dev/null || dirty=" (+ uncommitted changes)"
{
	echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs ($cpu), kernel $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), cgroups: hybrid (v1 controllers)"
	built=$("$berth" --version 2>/dev/null | sed -n 's/^commit: //p' | head -1)
	echo "berth: $("$berth" --version 2>/dev/null | head -1 || echo unknown), built from commit ${built:-unknown}; repo at commit $commit$dirty${BENCH_BERTH_NOTE:+; $BENCH_BERTH_NOTE}"
	echo "runc: $("$runc_bin" --version | head -1); crun: $("$crun_bin" --version | head -1)"
	echo
	cat "$work/table.md"
} >"$work/report.md"
echo
cat "$work/report.md"

if [[ -n $results ]]; then
	begin='<!-- bench:latest:begin -->'
	end='<!-- bench:latest:end -->'
	if [[ ! -f $results ]] || ! grep -qF "$begin" "$results"; then
		{
			[[ -f $results ]] && cat "$results" || echo "# berth benchmarks"
			echo
			echo "## Latest \`make bench\`"
			echo "$begin"
			echo "$end"
		} >"$work/results.tmp"
		cat "$work/results.tmp" >"$results"
	fi
	awk -v begin="$begin" -v end="$end" -v report="$work/report.md" '
		$0 == begin { print; while ((getline line < report) > 0) print line; skip = 1; next }
		$0 == end { skip = 0 }
		!skip { print }
	' "$results" >"$work/results.tmp"
	cat "$work/results.tmp" >"$results"
	echo "bench: results written to ${results#"$repo"/}" >&2
fi
