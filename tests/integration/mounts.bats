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

@test "tmpcopyup fills a tmpfs with the rootfs directory's files, keeping types, modes and owners" {
	d=$BUNDLE/rootfs/seeded
	mkdir -p "$d/sub"
	echo seed >"$d/sub/file"
	chown 1000:1001 "$d/sub/file"
	chmod 4755 "$d/sub/file"
	chmod 2755 "$d/sub"
	chmod 1777 "$d"
	ln -s sub/file "$d/link"
	mkfifo -m 640 "$d/fifo"
	add_mount '{"destination": "/seeded", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "nosuid"]}'
	set_args sh -c 'grep -c "^tmpfs /seeded " /proc/mounts; cd /seeded; stat -c "%n %a %u:%g %F" . sub sub/file link fifo; cat sub/file; readlink link; echo x > sub/new'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = ". 1777 0:0 directory" ]
	[ "${lines[2]}" = "sub 2755 0:0 directory" ]
	[ "${lines[3]}" = "sub/file 4755 1000:1001 regular file" ]
	[ "${lines[4]}" = "link 777 0:0 symbolic link" ]
	[ "${lines[5]}" = "fifo 640 0:0 fifo" ]
	[ "${lines[6]}" = seed ]
	[ "${lines[7]}" = sub/file ]
	# The writes went to the tmpfs, not the rootfs.
	[ ! -e "$d/sub/new" ]
}

@test "tmpcopyup on a read-only tmpfs fills it first" {
	mkdir -p "$BUNDLE/rootfs/seeded"
	echo seed >"$BUNDLE/rootfs/seeded/file"
	add_mount '{"destination": "/seeded", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "ro"]}'
	set_args sh -c 'cat /seeded/file; if touch /seeded/new 2>/dev/null; then echo wrote; else echo refused; fi'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "${lines[0]}" = seed ]
	[ "${lines[1]}" = refused ]
}

@test "tmpcopyup on a mount that is not a tmpfs is refused, naming the mount" {
	host_data
	add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$DATA\", \"options\": [\"rbind\", \"tmpcopyup\"]}"
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	assert_error
	[[ ${lines[0]} == "berth: "*"mounts["*"].options: tmpcopyup: only a tmpfs mount can be filled from the rootfs (type \"bind\")" ]] || fail "${lines[0]}"
}

@test "a filesystem-wide flag on a bind mount is refused, naming the mount and the option" {
	host_data
	add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$DATA\", \"options\": [\"rbind\", \"ro\", \"sync\"]}"
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	assert_error
	[[ ${lines[0]} == "berth: "*"mounts["*"].options: sync: a bind mount cannot change the source filesystem's own flags"* ]] || fail "${lines[0]}"
}

@test "a tmpfs takes the mode of the directory it covers unless mode= is given; on a new one it keeps 1777" {
	mkdir "$BUNDLE/rootfs/inherit" "$BUNDLE/rootfs/explicit"
	chmod 2710 "$BUNDLE/rootfs/inherit"
	chmod 0710 "$BUNDLE/rootfs/explicit"
	add_mount '{"destination": "/inherit", "type": "tmpfs", "source": "tmpfs", "options": ["nodev"]}'
	add_mount '{"destination": "/explicit", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1500"]}'
	add_mount '{"destination": "/created/here", "type": "tmpfs", "source": "tmpfs"}'
	set_args stat -c %a /inherit /explicit /created/here
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "${lines[0]}" = 2710 ]
	[ "${lines[1]}" = 1500 ]
	[ "${lines[2]}" = 1777 ]
	# The rootfs directories keep their own modes.
	[ "$(stat -c %a "$BUNDLE/rootfs/explicit")" = 710 ]
	[ "$(stat -c %a "$BUNDLE/rootfs/created/here")" = 755 ]
}

@test "a destination written as a host path below the rootfs is that path in the container" {
	host_data
	add_mount "{\"destination\": \"$BUNDLE/rootfs/mnt/data\", \"type\": \"bind\", \"source\": \"$DATA\", \"options\": [\"bind\"]}"
	set_args cat /mnt/data/file
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "$output" = from-host ]
	[ ! -e "$BUNDLE/rootfs$BUNDLE" ]
}

@test "a dangling symlink on the way to a destination is followed inside the rootfs and its target created" {
	host_data
	# /link -> /made/a (missing), and /etc/injected -> /link/b/injected
	ln -s /made/a "$BUNDLE/rootfs/link"
	ln -s /link/b/injected "$BUNDLE/rootfs/etc/injected"
	add_mount "{\"destination\": \"/etc/injected\", \"type\": \"bind\", \"source\": \"$DATA/file\", \"options\": [\"bind\"]}"
	add_mount "{\"destination\": \"/dangling-dir\", \"type\": \"bind\", \"source\": \"$DATA\", \"options\": [\"bind\"]}"
	ln -s /made/dir "$BUNDLE/rootfs/dangling-dir"
	set_args sh -c 'cat /made/a/b/injected /made/dir/file'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "$output"
	[ "${lines[0]}" = from-host ]
	[ "${lines[1]}" = from-host ]
	[ -f "$BUNDLE/rootfs/made/a/b/injected" ]
	[ -d "$BUNDLE/rootfs/made/dir" ]
	[ ! -e /made ]
}

@test "an option berth does not know on a bind mount is refused, naming the mount, not dropped" {
	host_data
	add_mount "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$DATA\", \"options\": [\"rbind\", \"mode=700\"]}"
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	assert_error
	[[ ${lines[0]} == "berth: "*"mounts["*"].options: mode=700: not a mount option berth knows, and a bind mount takes no filesystem options" ]] || fail "${lines[0]}"
}
