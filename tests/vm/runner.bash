# runner.bash: the helpers and the test loop of the VM lanes
# (tests/cgroup2/run.sh, tests/systemd/run.sh), copied next to them into
# each VM's /tests. A lane defines berth(), new_id, make_bundle and its
# teardown; the helpers below use them.
#
# run_tests MARKER PREFIX FILE...: runs every function named in
# TESTS_IN_ORDER (test_<name>; TESTS, a regular expression, selects
# names) in a subshell under `set -euo pipefail`, with TESTNO, TESTDIR
# (a temp dir /tmp/PREFIX-N.*, where the FILEs start out empty) and ROOT
# set, and the lane's `teardown` as its EXIT trap. A test that exits 77
# is skipped (the reason in $RESULTS/skip.$TESTNO). Prints "ok N name",
# "not ok N name" (then the test's output as "#   " lines) or
# "SKIP N name: reason", and last
#   MARKER: <passed> passed, <failed> failed, <skipped> skipped
# which the host reads from the serial console.
run_tests() {
	local prefix=$2 t name log start rc secs f
	RUN_MARKER=$1 # global: the EXIT trap prints it after we return
	shift 2
	passed=0 failed=0 skipped=0
	RESULTS=$(mktemp -d "/tmp/$prefix-results.XXXXXX")
	finished=0
	# The runner itself dying is never reported as a pass.
	trap 'if ((finished != 1)); then failed=$((failed + 1)); echo "not ok - the test runner stopped before the last test"; fi
		echo "$RUN_MARKER: $passed passed, $failed failed, $skipped skipped"; rm -rf "$RESULTS"' EXIT

	echo "# berth: $("$BERTH_BIN" --version | head -n 1)"
	local n=0
	for t in "${TESTS_IN_ORDER[@]}"; do
		name=${t#test_}
		if [[ -n ${TESTS:-} ]] && ! [[ $name =~ $TESTS ]]; then continue; fi
		n=$((n + 1))
		TESTNO=$n
		TESTDIR=$(mktemp -d "/tmp/$prefix-$n.XXXXXX")
		ROOT=$TESTDIR/root
		log=$RESULTS/log.$n
		start=$(date +%s)
		(
			set -euo pipefail
			for f in "$@"; do : >"$TESTDIR/$f"; done
			trap teardown EXIT
			"$t"
		) >"$log" 2>&1
		rc=$?
		secs=$(($(date +%s) - start))
		if ((rc == 0)); then
			passed=$((passed + 1))
			echo "ok $n $name (${secs}s)"
		elif ((rc == 77)); then
			skipped=$((skipped + 1))
			echo "SKIP $n $name: $(cat "$RESULTS/skip.$n" 2>/dev/null)"
		else
			failed=$((failed + 1))
			echo "not ok $n $name (status $rc, ${secs}s)"
			sed 's/^/#   /' "$log"
		fi
	done
	finished=1
}

# ---------------------------------------------------------------- helpers ---

CG=/sys/fs/cgroup
BERTH_BIN=/bin/berth
# The bundle was made on the build host (cgroup v1 hybrid): its namespaces
# are berth spec's there. The lanes use berth spec's namespaces for this
# VM (a cgroup namespace on a cgroup2-only host, as runc's spec).
TEMPLATE=/tmp/template.json
mkdir -p /tmp/spec
"$BERTH_BIN" spec --bundle /tmp/spec
jq --slurpfile s /tmp/spec/config.json '.linux.namespaces = $s[0].linux.namespaces' /bundle/config.json >"$TEMPLATE"
CMD_TIMEOUT=60

# berth ARG...: the runtime with the test's --root and the lane's
# BERTH_FLAGS, bounded so that a hang fails one test.
berth() {
	timeout -s KILL "$CMD_TIMEOUT" "$BERTH_BIN" --root "$ROOT" "${BERTH_FLAGS[@]}" "$@"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "$*" >"$RESULTS/skip.$TESTNO"
	exit 77
}

# json_str STRING: STRING as a JSON string literal.
json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	s=${s//$'\t'/\\t}
	printf '"%s"' "$s"
}

# create ID DIR: `berth create`; the container's stdout and stderr go to
# DIR/out (a pipe would wait for the container to close it).
create() {
	berth create --bundle "$2" "$1" </dev/null >"$2/out" 2>&1 ||
		fail "create $1: $(cat "$2/out")"
}

# state_field ID FIELD: a string or number field of `berth state` (parsed
# in bash: no jq run per poll).
state_field() {
	local js
	js=$(berth state "$1") || return 1
	json_field "$js" "$2"
}

# json_field JSON KEY: the value of the first "KEY": "string" or number.
json_field() {
	local re='"'"$2"'"[[:space:]]*:[[:space:]]*("([^"]*)"|(-?[0-9]+))'
	[[ $1 =~ $re ]] || return 1
	echo "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
}

# wait_status ID STATUS [SECONDS]
wait_status() {
	local id=$1 want=$2 limit=${3:-20} i st=""
	for ((i = 0; i < limit * 10; i++)); do
		st=$(state_field "$id" status 2>/dev/null) || true
		[[ $st == "$want" ]] && return 0
		sleep 0.1
	done
	fail "container $id: status '$st', waited ${limit}s for '$want'"
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_until() {
	local limit=$1 what=$2 i
	shift 2
	for ((i = 0; i < limit * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "waited ${limit}s for: $what"
}

# assert_file PATH WANT: the file's content (trailing newline dropped).
assert_file() {
	local got
	got=$(cat "$1") || fail "cannot read $1"
	[[ $got == "$2" ]] || fail "$1: got '$got', want '$2'"
}

# kv FILE KEY: the value of KEY in a "key value" file (cgroup.events ...).
kv() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# kvn FILE KEY: the same as a number (0 when KEY is missing).
kvn() {
	awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"
}

# share_weight SHARES: cpu.weight for cpu.shares ([2, 262144] onto [1, 10000]).
# The curve of runc 1.3.2 and crun (cgroups.SharesToWeight), at the points
# the tests use (bash has no floating point).
share_weight() {
	case $1 in
	2) echo 1 ;; 512) echo 59 ;; 1024) echo 100 ;; 262144) echo 10000 ;;
	*) echo "share_weight: no value for $1" >&2; return 1 ;;
	esac
}
