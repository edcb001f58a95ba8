#!/usr/bin/env bats
# linux.memoryPolicy: set_mempolicy(2) for the container's process and for
# exec's, and the config errors that refuse it before anything is made.

load helpers

# first_policy: the process prints its memory policy as numa_maps shows it
# for its first mapping ("bind=static:0").
first_policy() {
	set_args sh -c 'head -n 1 /proc/self/numa_maps | cut -d " " -f 2'
}

setup() {
	berth_setup
	[ -e /proc/self/numa_maps ] || skip "this kernel has no NUMA (no /proc/self/numa_maps)"
}

@test "linux.memoryPolicy MPOL_BIND with MPOL_F_STATIC_NODES applies to the container's process" {
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0", flags: ["MPOL_F_STATIC_NODES"]}'
	first_policy
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$output" = "bind=static:0" ] || fail "policy: $output"
}

@test "linux.memoryPolicy MPOL_INTERLEAVE without flags applies to the container's process" {
	update_config '.linux.memoryPolicy = {mode: "MPOL_INTERLEAVE", nodes: "0"}'
	first_policy
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$output" = "interleave:0" ] || fail "policy: $output"
}

@test "linux.memoryPolicy MPOL_DEFAULT takes no nodes and leaves the default policy" {
	update_config '.linux.memoryPolicy = {mode: "MPOL_DEFAULT"}'
	first_policy
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$output" = default ] || fail "policy: $output"
}

@test "exec's process gets linux.memoryPolicy too" {
	update_config '.linux.memoryPolicy = {mode: "MPOL_PREFERRED", nodes: "0", flags: ["MPOL_F_RELATIVE_NODES"]}'
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	run berth exec "$id" sh -c 'head -n 1 /proc/self/numa_maps | cut -d " " -f 2'
	[ "$status" -eq 0 ] || fail "$output"
	[ "$output" = "prefer=relative:0" ] || fail "policy: $output"
}

@test "a bad linux.memoryPolicy is a one-line error naming the field, and nothing is left" {
	local cases=(
		'{}@@linux\.memoryPolicy\.mode: invalid memory policy mode: missing'
		'{nodes: "0-7"}@@linux\.memoryPolicy\.mode: invalid memory policy mode: missing'
		'{mode: "INTERLEAVE", nodes: "0"}@@linux\.memoryPolicy\.mode: invalid memory policy mode "INTERLEAVE"'
		'{mode: "MPOL_PREFERRED", nodes: "0", flags: ["MPOL_F_RELATIVE_NODES", "badflag"]}@@linux\.memoryPolicy\.flags\[1\]: invalid memory policy flag "badflag"'
		'{mode: "MPOL_DEFAULT", nodes: "0-7"}@@linux\.memoryPolicy\.nodes: MPOL_DEFAULT mode requires 0 nodes but got 8'
		'{mode: "MPOL_BIND"}@@linux\.memoryPolicy\.nodes: MPOL_BIND mode requires at least one node but got 0'
		'{mode: "MPOL_BIND", nodes: "0-9876543210"}@@linux\.memoryPolicy\.nodes: invalid memory policy node 9876543210'
	)
	local c
	for c in "${cases[@]}"; do
		update_config ".linux.memoryPolicy = ${c%%@@*}"
		id=$(new_id)
		run_detached berth create --bundle "$BUNDLE" "$id"
		assert_error
		[[ ${lines[0]} =~ ^berth:\ config\.json:\ ${c##*@@} ]] || fail "${c%%@@*}: ${lines[0]}"
		assert_nothing_left "$id"
	done
}

@test "features lists every memoryPolicy mode and flag berth applies" {
	run berth features
	[ "$status" -eq 0 ]
	for m in MPOL_DEFAULT MPOL_BIND MPOL_INTERLEAVE MPOL_WEIGHTED_INTERLEAVE MPOL_PREFERRED MPOL_PREFERRED_MANY MPOL_LOCAL; do
		jq -e --arg m "$m" '.linux.memoryPolicy.modes | index($m)' >/dev/null <<<"$output" || fail "no mode $m"
	done
	for f in MPOL_F_NUMA_BALANCING MPOL_F_RELATIVE_NODES MPOL_F_STATIC_NODES; do
		jq -e --arg f "$f" '.linux.memoryPolicy.flags | index($f)' >/dev/null <<<"$output" || fail "no flag $f"
	done
}
