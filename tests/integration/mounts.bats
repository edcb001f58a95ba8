#!/usr/bin/env bats
# Mounts, masked and read-only paths, a read-only root, and symlinks in the
# rootfs that point outside it.

load helpers

teardown() {
	local rc=0
	berth_teardown || rc=$?
	# The symlink test names a host path; if a runtime mounted there,
	# undo it (the path is unique to the test).
	if [[ -n ${ESCAPE:-} ]]; then
		if mountpoint -q "$ESCAPE" 2>/dev/null; then
			umount -l "$ESCAPE" || true
			rc=1
		fi
		rmdir "$ESCAPE" 2>/dev/null || true
	fi
	return $rc
}

host_data() {
	DATA=$TESTDIR/data
	mkdir -p "$DATA"
	echo from-host >"$DATA/file"
}

@test "a read-only bind mount shows the host's files and refuses writes" {
	host_data
	add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$DATA\", \"options\": [\"rbind\", \"ro\"]}"
	set_args sh -c 'cat /data/file; if touch /data/new 2>/dev/null; then echo wrote; else echo refused; fi'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = from-host ]
	[ "${lines[1]}" = refused ]
	[ ! -e "$DATA/new" ]
}

@test "a read-write bind mount writes through to the host" {
	host_data
	add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$DATA\", \"options\": [\"bind\", \"rw\"]}"
	set_args sh -c 'echo from-container > /data/new'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$(cat "$DATA/new")" = from-container ]
}

@test "a bind mount of a single file" {
	host_data
	add_mount "{\"destination\": \"/etc/injected\", \"type\": \"bind\", \"source\": \"$DATA/file\", \"options\": [\"bind\", \"ro\"]}"
	set_args cat /etc/injected
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = from-host ]
}

@test "a bind mount's destination is created when missing" {
	host_data
	add_mount "{\"destination\": \"/new/deep/dir\", \"type\": \"bind\", \"source\": \"$DATA\", \"options\": [\"bind\"]}"
	set_args cat /new/deep/dir/file
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = from-host ]
}

@test "a tmpfs mount gets its size option" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m", "mode=1777"]}'
	set_args sh -c 'grep " /scratch " /proc/mounts; stat -c %a /scratch'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	read -ra m <<<"${lines[0]}"
	[ "${m[2]}" = tmpfs ]
	[[ ,${m[3]}, == *,size=1024k,* ]]
	[[ ,${m[3]}, == *,nosuid,* ]]
	[ "${lines[1]}" = 1777 ]
}

@test "tmpfs contents do not reach the rootfs" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs"}'
	set_args sh -c 'echo x > /scratch/file'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ ! -e "$BUNDLE/rootfs/scratch/file" ]
}

@test "/proc is the container's own" {
	set_args sh -c 'grep -E "^[^ ]+ /proc proc " /proc/mounts | wc -l; cat /proc/1/cmdline | tr "\0" " "'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" -ge 1 ]
	[[ ${lines[1]} == "sh -c "* ]]
}

@test "a masked file reads empty and a masked directory lists empty" {
	mkdir -p "$BUNDLE/rootfs/secretdir"
	echo top-secret >"$BUNDLE/rootfs/secret"
	echo top-secret >"$BUNDLE/rootfs/secretdir/inner"
	update_config '.linux.maskedPaths += ["/secret", "/secretdir", "/does/not/exist"]'
	set_args sh -c 'echo "file:$(cat /secret)"; echo "dir:$(ls -A /secretdir)"'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "file:" ]
	[ "${lines[1]}" = "dir:" ]
}

@test "the default masked paths hide /proc/timer_list" {
	jq -e '.linux.maskedPaths | index("/proc/timer_list")' "$BUNDLE/config.json"
	[ "$(wc -c </proc/timer_list)" -gt 0 ] # the host's has content
	set_args sh -c 'wc -c < /proc/timer_list'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" -eq 0 ]
}

@test "a read-only path cannot be written; the rest of the root can" {
	mkdir -p "$BUNDLE/rootfs/rodir" "$BUNDLE/rootfs/rwdir"
	update_config '.linux.readonlyPaths += ["/rodir"]'
	set_args sh -c 'touch /rodir/x 2>/dev/null && echo ro-writable || echo ro-refused; touch /rwdir/x && echo rw-written'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = ro-refused ]
	[ "${lines[1]}" = rw-written ]
	[ ! -e "$BUNDLE/rootfs/rodir/x" ]
	[ -e "$BUNDLE/rootfs/rwdir/x" ]
}

@test "root.readonly makes the root read-only, mounts on it stay writable" {
	update_config '.root.readonly = true'
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs"}'
	set_args sh -c 'touch /x 2>/dev/null && echo root-writable || echo root-refused; touch /scratch/x && echo tmpfs-written'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = root-refused ]
	[ "${lines[1]}" = tmpfs-written ]
	[ ! -e "$BUNDLE/rootfs/x" ]
}

@test "a symlink in the rootfs to a host path is resolved inside the rootfs" {
	id=$(new_id)
	# /escape -> /tmp/<unique>: followed on the host it would leave the rootfs
	ESCAPE=/tmp/berth-escape-$id
	ln -s "$ESCAPE" "$BUNDLE/rootfs/escape"
	mkdir "$BUNDLE/rootfs$ESCAPE"
	add_mount '{"destination": "/escape", "type": "tmpfs", "source": "tmpfs", "options": ["size=64k"]}'
	set_args sh -c 'grep " /tmp/berth-escape-" /proc/mounts | cut -d" " -f2; echo inside > /escape/proof'
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	# mounted at the link's target inside the container
	[ "${lines[0]}" = "$ESCAPE" ]
	# nothing on the host's /tmp
	[ ! -e "$ESCAPE" ]
	! grep -q " $ESCAPE " /proc/self/mountinfo || fail "a mount landed on the host at $ESCAPE"
	# the tmpfs took the write, not the rootfs directory under it
	[ ! -e "$BUNDLE/rootfs$ESCAPE/proof" ]
}

@test "a dangling symlink to a host path never leads a mount out of the rootfs" {
	id=$(new_id)
	ESCAPE=/tmp/berth-escape-$id
	ln -s "$ESCAPE" "$BUNDLE/rootfs/escape"
	add_mount '{"destination": "/escape", "type": "tmpfs", "source": "tmpfs", "options": ["size=64k"]}'
	set_args sh -c 'grep " /tmp/berth-escape-" /proc/mounts | cut -d" " -f2'
	run berth run --bundle "$BUNDLE" "$id"
	# Refusing the mount and making its target inside the rootfs are both
	# safe; touching the host's /tmp is not.
	[ ! -e "$ESCAPE" ]
	! grep -q " $ESCAPE " /proc/self/mountinfo || fail "a mount landed on the host at $ESCAPE"
	if [ "$status" -eq 0 ]; then
		[ "${lines[0]}" = "$ESCAPE" ]
		[ -d "$BUNDLE/rootfs$ESCAPE" ]
	else
		[ "$status" -eq 1 ]
		[[ $output == *escape* ]]
	fi
}

@test "a mount destination with .. cannot climb out of the rootfs" {
	host_data
	add_mount "{\"destination\": \"/../../../../climbed\", \"type\": \"bind\", \"source\": \"$DATA\", \"options\": [\"bind\"]}"
	set_args cat /climbed/file
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = from-host ]
	[ ! -e /climbed ]
	[ -d "$BUNDLE/rootfs/climbed" ]
}
