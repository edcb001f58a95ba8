#!/usr/bin/env bats
# update: new limits land in the v1 cgroup files and are merged into the
# saved linux.resources, so later updates start from them.

load helpers

# start_sleeper: a detached container with a 32 MiB memory limit; sets id.
start_sleeper() {
	update_config '.linux.resources.memory.limit = 33554432'
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "run: $output"
}

# cg CONTROLLER FILE: a file of the container's v1 cgroup.
cg() {
	cat "$CGROUP_MNT/$1/$id/$2"
}

# saved: the linux.resources berth keeps for the container.
saved() {
	jq -c "${1:-.}" <<<"$(jq '.cgroup.resources' "$ROOT/$id/config.json")"
}

@test "update flags land in the cgroup files" {
	start_sleeper
	[ "$(cg memory memory.limit_in_bytes)" -eq 33554432 ]
	run berth update --memory 64m --pids-limit=20 --cpu-quota 50000 --cpu-period=100000 "$id"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(cg memory memory.limit_in_bytes)" -eq 67108864 ]
	[ "$(cg pids pids.max)" -eq 20 ]
	[ "$(cg cpu cpu.cfs_quota_us)" -eq 50000 ]
	[ "$(cg cpu cpu.cfs_period_us)" -eq 100000 ]
	run berth update --memory-reservation=16M --memory-swap 1g --cpu-share 512 --cpuset-cpus 0 --pids-limit -1 "$id"
	[ "$status" -eq 0 ]
	[ "$(cg memory memory.soft_limit_in_bytes)" -eq 16777216 ]
	[ "$(cg memory memory.memsw.limit_in_bytes)" -eq 1073741824 ]
	[ "$(cg cpu cpu.shares)" -eq 512 ]
	[ "$(cg cpuset cpuset.cpus)" = 0 ]
	[ "$(cg pids pids.max)" = max ]
	# -1 lifts the memory limit (memory+swap first, as the kernel wants).
	run berth update --memory-swap -1 --memory -1 "$id"
	[ "$status" -eq 0 ]
	[ "$(cg memory memory.limit_in_bytes)" -ge $((1 << 62)) ]
}

@test "update --memory above memory+swap raises memsw first and keeps the swap allowance" {
	[ -e "$CGROUP_MNT/memory/memory.memsw.limit_in_bytes" ] || skip "no swap accounting (memory.memsw.limit_in_bytes)"
	update_config '.linux.resources.memory = {limit: 33554432, swap: 67108864}'
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "run: $output"
	[ "$(cg memory memory.memsw.limit_in_bytes)" -eq 67108864 ]
	# 128 MiB is above the current memory+swap (64 MiB): memsw goes first.
	run berth update --memory 128m "$id"
	[ "$status" -eq 0 ] || fail "grow: $output"
	[ "$(cg memory memory.limit_in_bytes)" -eq 134217728 ]
	[ "$(cg memory memory.memsw.limit_in_bytes)" -eq $((134217728 + 33554432)) ]
	[ "$(saved .memory.swap)" -eq $((134217728 + 33554432)) ] || fail "saved swap: $(saved .memory)"
	# Shrinking: the limit first, then memsw, same allowance.
	run berth update --memory 16m "$id"
	[ "$status" -eq 0 ] || fail "shrink: $output"
	[ "$(cg memory memory.limit_in_bytes)" -eq 16777216 ]
	[ "$(cg memory memory.memsw.limit_in_bytes)" -eq $((16777216 + 33554432)) ]
	# Unlimited memory needs unlimited memory+swap.
	run berth update --memory -1 "$id"
	[ "$status" -eq 0 ] || fail "unlimited: $output"
	[ "$(cg memory memory.limit_in_bytes)" -ge $((1 << 62)) ]
	[ "$(cg memory memory.memsw.limit_in_bytes)" -ge $((1 << 62)) ]
}

@test "update --cpu-burst and --cpu-idle land in cpu.cfs_burst_us and cpu.idle" {
	start_sleeper
	[ -e "$CGROUP_MNT/cpu/$id/cpu.cfs_burst_us" ] || skip "kernel without cpu.cfs_burst_us"
	run berth update --cpu-quota 50000 --cpu-period 100000 --cpu-burst 20000 --cpu-idle 1 "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(cg cpu cpu.cfs_burst_us)" -eq 20000 ]
	[ "$(cg cpu cpu.idle)" -eq 1 ]
	[ "$(saved '.cpu.burst')" -eq 20000 ]
	run berth update --cpu-burst 0 --cpu-idle 0 "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(cg cpu cpu.cfs_burst_us)" -eq 0 ]
	[ "$(cg cpu cpu.idle)" -eq 0 ]
}

# try_devices: as uid 1000 in the container, open the image's block node
# /lc (7:0, mode 666) for reading, then use /dev/null and /dev/zero.
try_devices() {
	run berth exec --user 1000:1000 "$id" sh -c '
		if (exec 3</lc); then echo "open /lc: ok"; else echo "open /lc: refused"; fi
		echo x >/dev/null && head -c 1 /dev/zero | wc -c | sed "s/^/zero: /"'
	echo "$output"
	[ "$status" -eq 0 ] || fail "exec: $output"
	[[ $output == *"open /lc: refused"*"Operation not permitted"* || $output == *"Operation not permitted"*"open /lc: refused"* ]] ||
		fail "the image's block device opened: $output"
	[[ $output == *"zero: 1"* ]] || fail "the default devices stopped working: $output"
}

@test "update with a new device allow rule keeps deny-all underneath; an update without devices keeps the rules" {
	mknod "$BUNDLE/rootfs/lc" b 7 0
	chmod 666 "$BUNDLE/rootfs/lc"
	update_config 'del(.linux.resources.devices)'
	start_sleeper
	try_devices
	run berth update -r - "$id" <<<'{"devices": [{"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"}]}'
	[ "$status" -eq 0 ] || fail "update: $output"
	list=$(cg devices devices.list)
	grep -qx 'c 10:200 rwm' <<<"$list" || fail "the new rule is not in devices.list: $list"
	grep -qx 'c 1:3 rwm' <<<"$list" || fail "the default rules went: $list"
	! grep -q '^a ' <<<"$list" || fail "allow-all after the update: $list"
	[[ $(saved '.devices[0]') == '{"allow":false,"access":"rwm"}' ]] || fail "saved rules: $(saved '.devices')"
	try_devices
	# No devices in the update: the rules stay as they are.
	run berth update -r - "$id" <<<'{"pids": {"limit": 12}}'
	[ "$status" -eq 0 ] || fail "update: $output"
	[ "$(cg pids pids.max)" -eq 12 ]
	[ "$(cg devices devices.list)" = "$list" ] || fail "devices.list changed: $(cg devices devices.list)"
	try_devices
}

@test "update with device rules on cgroup v1 writes only what changes, also with a sub-cgroup" {
	start_sleeper
	# A nested runtime's cgroup: from now on the kernel refuses "a"
	# (a reset to deny-all, or allow-all) in the container's cgroup.
	inner=$CGROUP_MNT/devices/$id/inner
	mkdir "$inner"
	! sh -c "echo a >'$CGROUP_MNT/devices/$id/devices.deny'" 2>/dev/null || { rmdir "$inner"; fail "mechanics: the kernel took an \"a\" write with a sub-cgroup"; }
	before=$(cg devices devices.list)
	run berth update -r - "$id" <<<'{"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rw"}]}'
	rmdir "$inner"
	[ "$status" -eq 0 ] || fail "update: $output"
	# The rules kept were not touched; the new one is added.
	[ "$(cg devices devices.list)" = "$before"$'\n''c 10:200 rw' ] || fail "devices.list: before '$before', after '$(cg devices devices.list)'"
}

@test "update -r FILE and -r - apply a JSON linux.resources" {
	start_sleeper
	echo '{"memory": {"limit": 50331648}, "pids": {"limit": 30}}' >"$TESTDIR/res.json"
	run berth update -r "$TESTDIR/res.json" "$id"
	[ "$status" -eq 0 ]
	[ "$(cg memory memory.limit_in_bytes)" -eq 50331648 ]
	[ "$(cg pids pids.max)" -eq 30 ]
	run berth update --resources - "$id" <<<'{"cpu": {"quota": 20000, "period": 100000}}'
	[ "$status" -eq 0 ]
	[ "$(cg cpu cpu.cfs_quota_us)" -eq 20000 ]
	# Docker sends zero shares and weight meaning "unset" (a pids limit
	# of 0 is a value: runc 1.5 writes 1, and so does berth).
	run berth update --resources=- "$id" <<<'{"cpu": {"shares": 0, "quota": 30000}, "blockIO": {"weight": 0}, "memory": {"limit": 41943040, "swap": 0}, "pids": {}}'
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(cg cpu cpu.shares)" -eq 1024 ]
	[ "$(cg cpu cpu.cfs_quota_us)" -eq 30000 ]
	[ "$(cg memory memory.limit_in_bytes)" -eq 41943040 ]
	[ "$(cg pids pids.max)" -eq 30 ]
	[ "$(saved '.pids.limit')" -eq 30 ]
	[ "$(saved '.cpu.shares')" = null ]
}

@test "a second update keeps the first one's values in the saved state" {
	start_sleeper
	devices=$(saved '.devices')
	[ "$devices" != null ]
	berth update --memory 64m --cpu-quota 40000 "$id"
	berth update --pids-limit 25 --cpu-period 200000 "$id"
	[ "$(saved '.memory.limit')" -eq 67108864 ]
	[ "$(saved '.cpu.quota')" -eq 40000 ]
	[ "$(saved '.cpu.period')" -eq 200000 ]
	[ "$(saved '.pids.limit')" -eq 25 ]
	# The container's device rules are kept as they were.
	[ "$(saved '.devices')" = "$devices" ]
	[ "$(cg pids pids.max)" -eq 25 ]
	[ "$(cg cpu cpu.cfs_quota_us)" -eq 40000 ]
	[ "$(cg cpu cpu.cfs_period_us)" -eq 200000 ]
}

@test "update errors: bad values exit 1 with one line and change nothing" {
	start_sleeper
	before=$(saved)
	for args in "--memory 12x" "--memory=-5" "--cpu-quota abc" "--cpu-period -1" "--pids-limit 1.5" \
		"--blkio-weight 5" "--cpu-share 99999999999999999999" "--l3-cache-schema L3:0=f" "--mem-bw-schema MB:0=50" \
		"--cpu-idle 3" \
		"--bogus 1"; do
		# shellcheck disable=SC2086
		run berth update $args "$id"
		assert_error
	done
	run berth update --memory 12x "$id"
	[ "$output" = 'berth: update: invalid value "12x" for --memory: not a size (want -1, or a number with an optional unit k, m, g, t, p)' ]
	run berth update --l3-cache-schema L3:0=f "$id"
	[ "$output" = 'berth: update: --l3-cache-schema: not supported: no Intel RDT' ]
	run berth update -r "$TESTDIR/nonexistent.json" "$id"
	assert_error
	[[ $output == *nonexistent.json* ]]
	run berth update -r - "$id" <<<'{"memory": '
	assert_error
	# The kernel refuses shares of 1 after the memory limit was written:
	# the old limit is put back.
	run berth update --memory 64m --cpu-share 1 "$id"
	assert_error
	[[ $output == *linux.resources.cpu.shares* ]]
	[ "$(cg memory memory.limit_in_bytes)" -eq 33554432 ]
	[ "$(saved)" = "$before" ]
}

@test "update of an unknown or stopped container fails" {
	run berth update --memory 64m nosuch-container
	assert_error
	[ "$output" = "berth: container nosuch-container does not exist" ]
	set_args true
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	wait_for_status "$id" stopped
	run berth update --memory 64m "$id"
	assert_error
	[[ $output == *"container not running"* ]]
	run berth update "$id"
	assert_error
}

@test "update takes its flags after the container id too, as runc's CLI does" {
	start_sleeper
	run berth update "$id" --pids-limit 21 --memory=48m
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(cg pids pids.max)" -eq 21 ]
	[ "$(cg memory memory.limit_in_bytes)" -eq 50331648 ]
	run berth update --cpu-quota 40000 "$id" --cpu-period 100000
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(cg cpu cpu.cfs_quota_us)" -eq 40000 ]
	[ "$(cg cpu cpu.cfs_period_us)" -eq 100000 ]
	run berth update "$id" -r - <<<'{"pids": {"limit": 22}}'
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(cg pids pids.max)" -eq 22 ]
	# Anything but flags after the id is still a usage error.
	run berth update "$id" --pids-limit 23 extra
	assert_error
	[[ $output == *"wrong number of arguments"* ]] || fail "$output"
	run berth update "$id" --no-such-flag 1
	assert_error
	[[ $output == *"no-such-flag"* ]] || fail "$output"
	[ "$(cg pids pids.max)" -eq 22 ]
}

@test "update --pids-limit 0 writes 1 to pids.max, as create does (runc's rule)" {
	start_sleeper
	run berth update --pids-limit 0 "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(cg pids pids.max)" -eq 1 ]
	[ "$(saved .pids.limit)" -eq 0 ] || fail "saved: $(saved .pids)"
	run berth update -r - "$id" <<<'{"pids": {"limit": 30}}'
	[ "$status" -eq 0 ] || fail "$output"
	run berth update -r - "$id" <<<'{"pids": {"limit": 0}}'
	[ "$status" -eq 0 ] || fail "$output"
	[ "$(cg pids pids.max)" -eq 1 ]
}

@test "a device rule's access may hold letters other than r, w and m: only those count, with a warning, as runc" {
	update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwa"}]'
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "run: $output"
	[[ $output == *'linux.resources.devices[1].access: "rwa": only r, w and m mean anything, using "rw"'* ]] || fail "no warning: $output"
	grep -qx 'c 10:200 rw' <<<"$(cg devices devices.list)" || fail "devices.list: $(cg devices devices.list)"
	run berth update -r - "$id" <<<'{"devices": [{"allow": true, "type": "c", "major": 10, "minor": 200, "access": "mwr"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "x"}]}'
	[ "$status" -eq 0 ] || fail "update: $output"
	[[ $output == *'linux.resources.devices[1].access: "x" has none of r, w and m: ignoring the rule'* ]] || fail "no warning: $output"
	list=$(cg devices devices.list)
	grep -qx 'c 10:200 rwm' <<<"$list" || fail "devices.list: $list"
	! grep -q '^c 10:229 ' <<<"$list" || fail "devices.list: $list"
}
