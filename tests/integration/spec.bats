#!/usr/bin/env bats
# `berth spec`: writes a starting config.json.

load helpers

@test "spec --bundle writes a valid config.json into the bundle" {
	dir=$TESTDIR/newbundle
	mkdir "$dir"
	run berth spec --bundle "$dir"
	[ "$status" -eq 0 ]
	[ -f "$dir/config.json" ]
	jq -e . "$dir/config.json" >/dev/null
	[[ $(jq -r .ociVersion "$dir/config.json") =~ ^1\.[0-9]+\.[0-9]+ ]]
	[ "$(jq -r .root.path "$dir/config.json")" = rootfs ]
	[ "$(jq -r '.process.args | length' "$dir/config.json")" -ge 1 ]
	[ "$(jq -r .process.cwd "$dir/config.json")" = / ]
	for ns in pid mount network ipc uts; do
		jq -e --arg t "$ns" '[.linux.namespaces[].type] | index($t)' "$dir/config.json" >/dev/null
	done
	jq -e '.mounts[] | select(.destination == "/proc" and .type == "proc")' "$dir/config.json" >/dev/null
}

@test "spec -b is the short form of --bundle" {
	dir=$TESTDIR/newbundle
	mkdir "$dir"
	run berth spec -b "$dir"
	[ "$status" -eq 0 ]
	jq -e . "$dir/config.json" >/dev/null
}

@test "spec without --bundle writes config.json in the current directory" {
	dir=$TESTDIR/newbundle
	mkdir "$dir"
	cd "$dir"
	run berth spec
	[ "$status" -eq 0 ]
	jq -e . "$dir/config.json" >/dev/null
}

@test "spec refuses to overwrite an existing config.json" {
	dir=$TESTDIR/newbundle
	mkdir "$dir"
	echo '{"mine": true}' >"$dir/config.json"
	run berth spec --bundle "$dir"
	[ "$status" -eq 1 ]
	[[ $output == *config.json* ]]
	[ "$(cat "$dir/config.json")" = '{"mine": true}' ]
}

@test "spec --rootless has a user namespace mapping the caller to root" {
	dir=$TESTDIR/newbundle
	mkdir "$dir"
	run berth spec --rootless --bundle "$dir"
	[ "$status" -eq 0 ]
	c=$dir/config.json
	jq -e '[.linux.namespaces[].type] | index("user")' "$c" >/dev/null
	[ "$(jq -r '.linux.uidMappings[0].containerID' "$c")" = 0 ]
	[ "$(jq -r '.linux.uidMappings[0].hostID' "$c")" = "$(id -u)" ]
	[ "$(jq -r '.linux.gidMappings[0].containerID' "$c")" = 0 ]
	[ "$(jq -r '.linux.gidMappings[0].hostID' "$c")" = "$(id -g)" ]
}

@test "the default spec runs a container once terminal is off" {
	# $BUNDLE's config.json came from `berth spec`; use it as it is but for
	# the terminal (no tty here) and the process.
	cp "$(cached_spec)" "$BUNDLE/config.json"
	update_config '.process.terminal = false | .process.args = ["sh", "-c", "echo spec-works"]'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[[ $output == *spec-works* ]]
}

@test "spec adds a cgroup namespace only on a cgroup2-only host, as runc does" {
	dir=$TESTDIR/newbundle
	mkdir "$dir"
	run berth spec --bundle "$dir"
	[ "$status" -eq 0 ]
	n=$(jq '[.linux.namespaces[] | select(.type == "cgroup")] | length' "$dir/config.json")
	if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
		[ "$n" -eq 1 ] || fail "no cgroup namespace on a cgroup2 host"
	else
		[ "$n" -eq 0 ] || fail "a cgroup namespace on a v1/hybrid host"
	fi
}
