#!/usr/bin/env bash
# soak.sh: many create/start/kill/delete cycles, then a leak count.
#
#   SOAK_CYCLES    cycles to run (default 1000)
#   SOAK_PARALLEL  cycles at a time (default 10)
#   BERTH          runtime binary (default: ./berth at the repo root)
#
# Every cycle uses a container id of its own ("soak-<pid>-<n>"), a --root
# private to this run (under a temp dir) and one busybox bundle. Before and
# after the cycles the script counts:
#   state   entries under --root
#   cgroups directories named after the run's ids in any hierarchy
#           (/sys/fs/cgroup/<ctrl>/<id>, /sys/fs/cgroup/unified/<id>)
#   mounts  lines of /proc/self/mountinfo (printed), and the lines that
#           name a path under the run's temp dir (counted as leaks: any other
#           change may come from something else on the host)
#   procs   processes in a cgroup of the run's ids, or whose command line,
#           cwd or open files name the run's temp dir
#   fds     open fds of this script's own shell (the long-lived caller)
# It prints them, ends with
#   soak: N cycles, leaks: state=S cgroups=C mounts=M procs=P fds=F
# and exits 1 if any count grew or any cycle failed. Whatever it finds is
# removed afterwards (only what this run made: found by its ids and paths).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
berth=${BERTH:-$repo/berth}
cycles=${SOAK_CYCLES:-1000}
parallel=${SOAK_PARALLEL:-10}
cmd_timeout=${SOAK_CMD_TIMEOUT:-60}

die() { echo "soak: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root (containers need namespaces, mounts and cgroups)"
[[ -x $berth ]] || die "no runtime binary at $berth (run make berth, or set BERTH)"
[[ $cycles =~ ^[1-9][0-9]*$ ]] || die "SOAK_CYCLES must be a positive integer, not '$cycles'"
[[ $parallel =~ ^[1-9][0-9]*$ ]] || die "SOAK_PARALLEL must be a positive integer, not '$parallel'"
command -v jq >/dev/null || die "jq is needed"

tmp=$(mktemp -d /tmp/berth-soak.XXXXXX) || die "mktemp failed"
root=$tmp/root
bundle=$tmp/bundle
logs=$tmp/logs
prefix=soak-$$-
mkdir -p "$root" "$logs"

id_of() { echo "$prefix$1"; }

# --- counters -----------------------------------------------------------

count_state() {
	local n=0 e
	# .berth-cache (compiled seccomp filters) is meant to outlive containers.
	for e in "$root"/* "$root"/.[!.]*; do [[ -e $e && ${e##*/} != .berth-cache ]] && n=$((n + 1)); done
	echo "$n"
}

# cgroup_dirs_of_run: every cgroup directory named after one of the run's ids.
cgroup_dirs_of_run() {
	local i h
	for ((i = 0; i < cycles; i++)); do
		for h in /sys/fs/cgroup/*/; do
			[[ -d $h$prefix$i ]] && echo "$h$prefix$i"
		done
	done
	return 0
}

count_cgroups() { cgroup_dirs_of_run | wc -l; }

count_mountinfo() { wc -l </proc/self/mountinfo; }
count_mounts_of_run() { grep -cF -- "$tmp" /proc/self/mountinfo; }

# procs_of_run: pids whose cgroup is one of the run's ids, or whose cmdline,
# cwd or fds name the temp dir. The patterns go to grep on stdin, so grep's
# own command line does not match them.
procs_of_run() {
	{
		printf '/%s\n' "$prefix" | grep -lsF -f - /proc/[0-9]*/cgroup | cut -d/ -f3
		printf '%s\n' "$tmp" | grep -lsaF -f - /proc/[0-9]*/cmdline | cut -d/ -f3
		find /proc/[0-9]*/cwd /proc/[0-9]*/fd -maxdepth 1 -lname "$tmp/*" 2>/dev/null | cut -d/ -f3
	} | sort -un | while read -r pid; do
		local st
		[[ $pid == "$$" ]] && continue
		# Only live processes: a pid found by grep or find may be gone, and
		# a zombie (a killed init its new parent has not reaped yet: pid 1
		# after the pid-namespace fork) holds nothing but its pid.
		st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
		[[ -n $st && $st != Z && $st != X ]] && echo "$pid"
	done
	return 0
}

count_procs() { procs_of_run | wc -l; }

# The fd count of this shell: ls runs in a child, so its own fds are not
# counted; the command substitution's pipe is there both times.
count_fds() { ls /proc/$$/fd | wc -l; }

snapshot() { # NAME: stores the counts in <NAME>_<counter>
	local n=$1
	eval "${n}_state=\$(count_state)"
	eval "${n}_cgroups=\$(count_cgroups)"
	eval "${n}_mountinfo=\$(count_mountinfo)"
	eval "${n}_mounts=\$(count_mounts_of_run)"
	eval "${n}_procs=\$(count_procs)"
	eval "${n}_fds=\$(count_fds)"
}

# --- cleanup: only what this run made ------------------------------------

cleanup() {
	local id d pid e
	for e in "$root"/*; do
		[[ -e $e ]] || continue
		id=${e##*/}
		timeout 30 "$berth" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
	done
	for pid in $(procs_of_run); do kill -KILL "$pid" 2>/dev/null || true; done
	for d in $(cgroup_dirs_of_run); do
		while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done <"$d/cgroup.procs" 2>/dev/null
		rmdir "$d" 2>/dev/null || { sleep 0.2; rmdir "$d" 2>/dev/null; } || true
	done
	while read -r d; do
		umount -l "$d" 2>/dev/null || true
	done < <(awk -v t="$tmp" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- one cycle ------------------------------------------------------------

b() { timeout --kill-after=5 "$cmd_timeout" "$berth" --root "$root" "$@"; }

# cycle N: create, start, kill, wait for stopped, delete. On failure the
# step and its output go to $logs/N.fail.
cycle() {
	local n=$1 id log st i
	id=$(id_of "$n")
	log=$logs/$n.log
	# create leaves init holding its stdio: a file, never a pipe.
	if ! b create --bundle "$bundle" "$id" </dev/null >"$log" 2>&1; then
		{ echo "create failed:"; cat "$log"; } >"$logs/$n.fail"
		b delete --force "$id" >/dev/null 2>&1
		return 1
	fi
	if ! b start "$id" </dev/null >>"$log" 2>&1; then
		{ echo "start failed:"; cat "$log"; } >"$logs/$n.fail"
		b delete --force "$id" >/dev/null 2>&1
		return 1
	fi
	if ! b kill "$id" KILL </dev/null >>"$log" 2>&1; then
		{ echo "kill failed:"; cat "$log"; } >"$logs/$n.fail"
		b delete --force "$id" >/dev/null 2>&1
		return 1
	fi
	st=""
	for ((i = 0; i < 1000; i++)); do
		st=$(b state "$id" 2>>"$log" | jq -r .status 2>>"$log")
		[[ $st == stopped ]] && break
		sleep 0.01
	done
	if [[ $st != stopped ]]; then
		{ echo "still '$st' 10s after kill KILL:"; cat "$log"; } >"$logs/$n.fail"
		b delete --force "$id" >/dev/null 2>&1
		return 1
	fi
	if ! b delete "$id" </dev/null >>"$log" 2>&1; then
		{ echo "delete failed:"; cat "$log"; } >"$logs/$n.fail"
		b delete --force "$id" >/dev/null 2>&1
		return 1
	fi
	rm -f "$log"
	return 0
}

# worker W: the cycles n with n % parallel == W, one after the other.
worker() {
	local w=$1 n
	for ((n = w; n < cycles; n += parallel)); do
		cycle "$n" || true
	done
}

# --- the run --------------------------------------------------------------

BERTH=$berth "$repo/scripts/mkbundle.sh" "$bundle" sleep 1000 >/dev/null ||
	die "scripts/mkbundle.sh failed"

snapshot before
echo "soak: $cycles cycles, $parallel at a time, --root $root"
printf 'before: state=%s cgroups=%s mountinfo-lines=%s mounts-under-tmp=%s procs=%s fds=%s\n' \
	"$before_state" "$before_cgroups" "$before_mountinfo" "$before_mounts" "$before_procs" "$before_fds"

start=$SECONDS
pids=()
for ((w = 0; w < parallel && w < cycles; w++)); do
	worker "$w" </dev/null &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
elapsed=$((SECONDS - start))

snapshot after
printf 'after:  state=%s cgroups=%s mountinfo-lines=%s mounts-under-tmp=%s procs=%s fds=%s\n' \
	"$after_state" "$after_cgroups" "$after_mountinfo" "$after_mounts" "$after_procs" "$after_fds"

failed=0
for f in "$logs"/*.fail; do
	[[ -e $f ]] || continue
	failed=$((failed + 1))
	if [[ $failed -le 5 ]]; then
		echo "cycle ${f##*/} $(head -c 2000 "$f" | tr '\n' ' ')" | sed 's/\.fail / /'
	fi
done
[[ $failed -gt 5 ]] && echo "... and $((failed - 5)) more failed cycles"

leak() { local d=$(($2 - $1)); echo $((d > 0 ? d : 0)); }
l_state=$(leak "$before_state" "$after_state")
l_cgroups=$(leak "$before_cgroups" "$after_cgroups")
l_mounts=$(leak "$before_mounts" "$after_mounts")
l_procs=$(leak "$before_procs" "$after_procs")
l_fds=$(leak "$before_fds" "$after_fds")

if [[ $l_state -gt 0 ]]; then echo "left in --root: $(ls -A "$root" | head -n 10 | tr '\n' ' ')"; fi
if [[ $l_cgroups -gt 0 ]]; then echo "cgroups left: $(cgroup_dirs_of_run | head -n 10 | tr '\n' ' ')"; fi
if [[ $l_mounts -gt 0 ]]; then echo "mounts left: $(awk -v t="$tmp" 'index($0, t) { print $5 }' /proc/self/mountinfo | head -n 10 | tr '\n' ' ')"; fi
if [[ $l_procs -gt 0 ]]; then
	echo "processes left:"
	for pid in $(procs_of_run | head -n 10); do
		echo "  $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) cgroup $(grep -m1 -F "$prefix" "/proc/$pid/cgroup" 2>/dev/null)"
	done
fi
if [[ $l_fds -gt 0 ]]; then echo "fds of the caller: $(ls -l /proc/$$/fd | tail -n +2 | awk '{ print $(NF-2), $NF }' | tr '\n' ';')"; fi

echo "time: ${elapsed}s for $cycles cycles ($failed failed)"
echo "soak: $cycles cycles, leaks: state=$l_state cgroups=$l_cgroups mounts=$l_mounts procs=$l_procs fds=$l_fds"
if [[ $failed -gt 0 || $l_state -gt 0 || $l_cgroups -gt 0 || $l_mounts -gt 0 || $l_procs -gt 0 || $l_fds -gt 0 ]]; then
	exit 1
fi
exit 0
