# runner.bash: the test loop of the VM lanes (tests/cgroup2/run.sh,
# tests/systemd/run.sh), copied next to them into each VM's /tests.
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
