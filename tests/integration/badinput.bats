#!/usr/bin/env bats
# Bad input: container ids that could escape --root or break tools are
# refused before anything touches the disk; malformed config.json gives one
# line naming the field. (An id with NUL cannot be passed in argv: the Go
# tests of libcontainer.ValidateID cover it.)

load helpers

# bad_ids: one id a line is impossible (newlines are ids here), so they go
# in the array BAD_IDS. The unique part keeps cgroup checks to this test.
bad_ids() {
	local u="b$$x$RANDOM" long
	long=$(head -c 1025 /dev/zero | tr '\0' a)
	BAD_IDS=(
		"" "." ".." "$u/x" "/$u" "$u/" "../$u" "$u/.." "$u/../x" "./$u"
		$'\t'"$u" "$u"$'\n'x $'\r'"$u" "$u"$'\x01' "$u"$'\x1b[31m' "$u"$'\x7f' "$u"$'\x1f'
		"$long" "$(head -c 2000 /dev/zero | tr '\0' b)"
		# 513 two-byte characters: 1026 bytes, the limit is in bytes
		"$(printf 'é%.0s' $(seq 513))"
	)
}

# refusal_ok LINE: LINE is berth's refusal of a container id.
refusal_ok() {
	local line=$1
	[[ $line == "berth: invalid container id "* ||
		$line == "berth: container id is "*" bytes long; at most 1024 are allowed" ||
		$line == "berth: container id must not be empty" ]]
}

@test "ids with '/', '..', control characters or over 1024 bytes are refused by every command before anything touches the disk" {
	bad_ids
	root=$TESTDIR/badroot
	problems=()
	for id in "${BAD_IDS[@]}"; do
		for cmd in "create --bundle $BUNDLE" "run -d --bundle $BUNDLE" start state "kill" "kill --all" delete "delete --force"; do
			status=0
			# shellcheck disable=SC2086 # cmd holds a subcommand and its flags
			timeout 30 "$BERTH" --root "$root" $cmd "$id" </dev/null >"$TESTDIR/out" 2>&1 || status=$?
			mapfile -t lines <"$TESTDIR/out"
			out=${lines[*]}
			printf -v shown '%q' "$id"
			shown=${shown:0:60}
			if [[ $status -ne 1 ]]; then
				problems+=("$cmd $shown: status $status, want 1: $out")
			elif [[ ${#lines[@]} -ne 1 ]]; then
				problems+=("$cmd $shown: want one line of error: $out")
			elif ! refusal_ok "$out"; then
				problems+=("$cmd $shown: not an invalid-id error: $(head -c 300 <<<"$out")")
			fi
			if [[ -e $root ]]; then
				problems+=("$cmd $shown: --root was touched: $(ls -A "$root" | head -c 200)")
				rm -rf "$root"
			fi
		done
	done
	# Nothing named after the ids appeared next to --root or in a cgroup
	# hierarchy (the ids hold a unique string).
	u=$(printf '%s\n' "${BAD_IDS[@]}" | grep -o "b$$x[0-9]*" | head -n1)
	[ -z "$(find "$TESTDIR" /sys/fs/cgroup -maxdepth 2 -name "*$u*" 2>/dev/null)" ] ||
		problems+=("found: $(find "$TESTDIR" /sys/fs/cgroup -maxdepth 2 -name "*$u*")")
	if [[ ${#problems[@]} -gt 0 ]]; then
		printf '%s\n' "${problems[@]}" >&2
		return 1
	fi
}

@test "the error for a control character shows it escaped, on one line" {
	run berth state $'abc\ndef'
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "${lines[0]}" = 'berth: invalid container id "abc\ndef": control characters are not allowed' ]
}

@test "an id of exactly 1024 bytes passes the check, but one over NAME_MAX fails create with one line; nothing is left" {
	for n in 300 1024; do
		id=$(head -c "$n" /dev/zero | tr '\0' i)
		run_detached berth create --bundle "$BUNDLE" "$id"
		[ "$status" -eq 1 ]
		[ "${#lines[@]}" -eq 1 ]
		# Not refused as too long an id: the state directory's name is.
		[[ ${lines[0]} != *"at most 1024"* ]]
		[[ ${lines[0]} == "berth: "*"file name too long" ]]
		[ -z "$(ls -A "$ROOT" 2>/dev/null)" ]
		[ -z "$(runtime_procs)" ]
		[ ! -e "/sys/fs/cgroup/pids/$id" ]
		[ ! -e "/sys/fs/cgroup/unified/$id" ]
	done
}

@test "ids that look odd but are safe work: dots, dashes, colons, spaces, UTF-8" {
	for id in "a.b" "..a" "a.." "x-y_z:1" "with space" "é-ü"; do
		id="$id-$$"
		echo "$id" >>"$TESTDIR/ids"
		run_detached berth create --bundle "$BUNDLE" "$id"
		[ "$status" -eq 0 ] || fail "create '$id': $output"
		[ "$(berth state "$id" | jq -r .id)" = "$id" ]
		run berth delete --force "$id"
		[ "$status" -eq 0 ]
		[ ! -e "$ROOT/$id" ]
	done
}

# --- malformed config.json ---------------------------------------------------

# create_fails_with PATTERN: create from $BUNDLE fails with exit 1, one
# line "berth: config.json: ..." matching the extended regexp PATTERN, and
# leaves nothing behind.
create_fails_with() {
	# Explicit returns: callers may run this where errexit is off.
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 1 ] || { fail "create: status $status, want 1: $(head -c 1000 <<<"$output")"; return 1; }
	[ "${#lines[@]}" -eq 1 ] || { fail "create: want one line: $(head -c 1000 <<<"$output")"; return 1; }
	[[ ${lines[0]} == "berth: config.json: "* ]] || { fail "create: not a config.json error: $(head -c 500 <<<"${lines[0]}")"; return 1; }
	[[ ${lines[0]} =~ $1 ]] || { fail "create: error does not match /$1/: $(head -c 500 <<<"${lines[0]}")"; return 1; }
	[ "${#lines[0]}" -le 2000 ] || { fail "create: the error line is ${#lines[0]} bytes long"; return 1; }
	assert_nothing_left "$id"
}

@test "a truncated config.json is a one-line error saying where it ends" {
	cp "$BUNDLE/config.json" "$TESTDIR/full.json"
	size=$(stat -c %s "$TESTDIR/full.json")
	for cut in 1 $((size / 3)) $((size / 2)) $((size - 2)); do
		head -c "$cut" "$TESTDIR/full.json" >"$BUNDLE/config.json"
		create_fails_with "invalid JSON at line [0-9]+ col [0-9]+: unexpected end of JSON input"
	done
	: >"$BUNDLE/config.json"
	create_fails_with "unexpected end of JSON input"
}

@test "values of the wrong type are one-line errors naming the field" {
	cp "$BUNDLE/config.json" "$TESTDIR/orig.json"
	problems=()
	# jq edit | the field the error must name
	while IFS='|' read -r edit field; do
		[[ -n $edit ]] || continue
		jq "$edit" "$TESTDIR/orig.json" >"$BUNDLE/config.json"
		if ! out=$(create_fails_with "(^|[ :])$field: " 2>&1); then
			problems+=("$edit: $out")
		fi
	done <<-'EOF'
		.process.args = "true"|process\.args
		.process.args = [1, 2]|process\.args
		.process.terminal = "yes"|process\.terminal
		.process.env = 5|process\.env
		.process.cwd = []|process\.cwd
		.process.user.uid = -1|process\.user\.uid
		.process.user.uid = "0"|process\.user\.uid
		.process.user.uid = 4294967296|process\.user\.uid
		.process.user.additionalGids = "1"|process\.user\.additionalGids
		.process.rlimits = {}|process\.rlimits
		.process.capabilities.bounding = "CAP_KILL"|process\.capabilities\.bounding
		.root = 5|root
		.root.path = true|root\.path
		.hostname = 1|hostname
		.mounts = {}|mounts
		.mounts[0].options = "rw"|mounts(\[0\])?\.options
		.mounts[0].destination = 7|mounts(\[0\])?\.destination
		.linux.namespaces = {}|linux\.namespaces
		.linux.namespaces[0].type = 3|linux\.namespaces(\[0\])?\.type
		.linux.resources.memory.limit = "1G"|linux\.resources\.memory\.limit
		.linux.resources.pids = 10|linux\.resources\.pids
		.linux.uidMappings = "0 0 1"|linux\.uidMappings
		.linux.maskedPaths = "/proc/kcore"|linux\.maskedPaths
		.hooks = []|hooks
		.hooks = {prestart: [{path: 5}]}|hooks\.prestart(\[0\])?\.path
		.hooks = {poststop: [{path: "/bin/true", timeout: "5"}]}|hooks\.poststop(\[0\])?\.timeout
		.annotations = ["a"]|annotations
		.annotations = {a: 1}|annotations(\.a)?
	EOF
	if [[ ${#problems[@]} -gt 0 ]]; then
		printf '%s\n\n' "${problems[@]}" >&2
		return 1
	fi
}

@test "a config.json that is not an object, or has a null process, is a one-line error" {
	for body in '[]' '"config"' '42' 'null' '{"ociVersion": "1.0.2", "process": null, "root": {"path": "rootfs"}}'; do
		echo "$body" >"$BUNDLE/config.json"
		id=$(new_id)
		run_detached berth create --bundle "$BUNDLE" "$id"
		[ "$status" -eq 1 ] || fail "$body: status $status: $output"
		[ "${#lines[@]}" -eq 1 ] || fail "$body: $output"
		[[ ${lines[0]} == "berth: config.json: "* ]] || fail "$body: ${lines[0]}"
		assert_nothing_left "$id"
	done
}

@test "a huge uidMappings array is refused naming linux.uidMappings" {
	UPDATE_CONFIG_ARGS=(--argjson n 400)
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [range($n) | {containerID: ., hostID: (. + 100000), size: 1}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 1}]'
	UPDATE_CONFIG_ARGS=()
	create_fails_with "linux\.uidMappings: 400 entries"
}

@test "a huge rlimits array is refused naming the entry" {
	update_config '.process.rlimits = [range(10000) | {type: "RLIMIT_NOFILE", hard: 10, soft: 10}]'
	create_fails_with 'process\.rlimits\[1\]\.type: duplicate rlimit "RLIMIT_NOFILE"'
}

@test "process.env too big for execve (400,000 entries) is refused at create naming process.env" {
	# About 12 MB of strings and pointers: more than execve(2) takes with
	# any stack limit (it caps them at 3/4 of 8 MiB when unlimited).
	update_config '.process.env += [range(400000) | "V\(.)=xxxxxxxxxxxxxxx"]'
	create_fails_with "process\.env"
}

@test "a process.args string over the kernel's 128 KiB per-string limit is refused at create naming process.args" {
	head -c 200000 /dev/zero | tr '\0' x >"$TESTDIR/big"
	UPDATE_CONFIG_ARGS=(--rawfile big "$TESTDIR/big")
	update_config '.process.args = ["echo", $big]'
	UPDATE_CONFIG_ARGS=()
	create_fails_with "process\.args(\[1\])?"
}

@test "a 1 MB annotation is either kept whole or refused in one line naming annotations" {
	# A big but valid config: create either works or refuses it in one line.
	head -c 1000000 /dev/zero | tr '\0' y >"$TESTDIR/big"
	UPDATE_CONFIG_ARGS=(--rawfile big "$TESTDIR/big")
	update_config '.annotations = {"big": $big}'
	UPDATE_CONFIG_ARGS=()
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	if [ "$status" -eq 0 ]; then
		[ "$(berth state "$id" | jq -r '.annotations.big | length')" -eq 1000000 ]
	else
		[ "$status" -eq 1 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ ${lines[0]} == "berth: "*annotations* ]]
		assert_nothing_left "$id"
	fi
}
