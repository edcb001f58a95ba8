#!/usr/bin/env bats
# Id-mapped bind mounts: a mount's own uidMappings/gidMappings, the idmap
# and ridmap options, and "idmap" with no mappings taking the container's
# user namespace (its own, or one joined by path). Each test looks at the
# owners stat reports inside and at what lands on the host's disk.

load helpers

# kernel_has VERSION: the running kernel is at least VERSION (major.minor).
kernel_has() {
	local want=$1 have
	have=$(uname -r | grep -oE '^[0-9]+\.[0-9]+')
	[[ $(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1) == "$want" ]]
}

setup_file() {
	# Sources live in bats' temp dirs; submounts are tmpfs.
	local fs
	fs=$(stat -f -c %T "$BATS_FILE_TMPDIR")
	case $fs in
	ext2/ext3 | xfs) kernel_has 5.12 || file_skip "kernel $(uname -r): no id-mapped mounts of $fs (5.12)" ;;
	btrfs) kernel_has 5.15 || file_skip "kernel $(uname -r): no id-mapped mounts of btrfs (5.15)" ;;
	tmpfs) ;;
	*) file_skip "the test dir is on $fs, which the tests do not know to support id-mapped mounts" ;;
	esac
	if [[ ! -s $FILE_SKIP ]] && ! kernel_has 6.3; then
		file_skip "kernel $(uname -r): no id-mapped mounts of tmpfs (6.3), which the submount tests use"
	fi
}

setup() {
	[[ ! -s $FILE_SKIP ]] || skip "$(<"$FILE_SKIP")"
	berth_setup
	SUBMOUNTS=()
	# The source: files of a few owners, as a host directory has them.
	SRC=$TESTDIR/src
	mkdir -p "$SRC"
	touch "$SRC/root-file" "$SRC/file-1-2"
	chown 1:2 "$SRC/file-1-2"
}

teardown() {
	local i rc=0
	# Deepest (last made) first.
	for ((i = ${#SUBMOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${SUBMOUNTS[i]}" || rc=1
	done
	berth_teardown || rc=$?
	return $rc
}

# submount DIR: a tmpfs on DIR (under $SRC) with a root-owned file in it.
submount() {
	mkdir -p "$1"
	mount -t tmpfs -o mode=0755 berth-idmap-test "$1"
	SUBMOUNTS+=("$1")
	touch "$1/sub-file"
}

# userns [BUNDLE]: the container gets a user namespace mapping its root to
# host uid 100000 and gid 200000.
userns() {
	local b=${1:-$BUNDLE}
	# The container's root (host 100000) cannot make mount points in a
	# rootfs of host root's: they are made here.
	mkdir -p "$b/rootfs/mnt/rel" "$b/rootfs/plain"
	userns_config "$b"
}

# idmount DEST SOURCE OPTIONS-JSON [UIDMAP-JSON GIDMAP-JSON]: a bind mount,
# with mappings of its own when given.
idmount() {
	local m
	m=$(jq -n --arg d "$1" --arg s "$2" --argjson o "$3" '{destination: $d, type: "bind", source: $s, options: $o}')
	if [[ $# -ge 5 ]]; then
		m=$(jq -c --argjson u "$4" --argjson g "$5" '. + {uidMappings: $u, gidMappings: $g}' <<<"$m")
	fi
	add_mount "$m"
}

# The mapping most tests give a mount: host 0 shows as 100000, gid 0 as
# 200000 (the container's own root in userns).
UMAP='[{"containerID": 0, "hostID": 100000, "size": 65536}]'
GMAP='[{"containerID": 0, "hostID": 200000, "size": 65536}]'

@test "a bind mount with its own uidMappings and gidMappings shows the mapped owners in a user namespace, and files made through it get the unmapped owner on disk" {
	userns
	idmount /mnt "$SRC" '["bind"]' "$UMAP" "$GMAP"
	chmod 1777 "$SRC"
	update_config '.process.user = {uid: 1, gid: 2}'
	set_args sh -c 'stat -c "%n %u:%g" /mnt/root-file /mnt/file-1-2 && touch /mnt/made-inside'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/mnt/root-file 0:0" ]
	[ "${lines[1]}" = "/mnt/file-1-2 1:2" ]
	# The container's 1:2 (host 100001:200002) is 1:2 again on disk,
	# through the mount; the host's own view of the source is unchanged.
	[ "$(stat -c %u:%g "$SRC/made-inside")" = 1:2 ]
	[ "$(stat -c %u:%g "$SRC/root-file")" = 0:0 ]
}

@test "idmap on an rbind source maps only its top mount: a submount keeps its owners" {
	userns
	submount "$SRC/sub"
	idmount /mnt "$SRC" '["rbind", "idmap"]' "$UMAP" "$GMAP"
	set_args stat -c '%n %u:%g' /mnt/root-file /mnt/sub/sub-file
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/mnt/root-file 0:0" ]
	# Host root, which the container's namespace does not map.
	[ "${lines[1]}" = "/mnt/sub/sub-file 65534:65534" ]
}

@test "mappings on an rbind source without idmap or ridmap map only its top mount, as idmap does" {
	userns
	submount "$SRC/sub"
	idmount /mnt "$SRC" '["rbind"]' "$UMAP" "$GMAP"
	set_args stat -c '%n %u:%g' /mnt/root-file /mnt/sub/sub-file
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/mnt/root-file 0:0" ]
	[ "${lines[1]}" = "/mnt/sub/sub-file 65534:65534" ]
}

@test "ridmap on an rbind source maps its submounts too, at every depth" {
	userns
	submount "$SRC/sub"
	submount "$SRC/sub/deeper"
	idmount /mnt "$SRC" '["rbind", "ridmap"]' "$UMAP" "$GMAP"
	set_args stat -c '%n %u:%g' /mnt/root-file /mnt/sub/sub-file /mnt/sub/deeper/sub-file
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/mnt/root-file 0:0" ]
	[ "${lines[1]}" = "/mnt/sub/sub-file 0:0" ]
	[ "${lines[2]}" = "/mnt/sub/deeper/sub-file 0:0" ]
}

@test "idmap with no mappings takes the mappings of the container's user namespace" {
	userns
	submount "$SRC/sub"
	idmount /mnt "$SRC" '["rbind", "idmap"]'
	# Without the option, the same source shows host root as nobody.
	idmount /plain "$SRC" '["rbind"]'
	set_args stat -c '%n %u:%g' /mnt/root-file /mnt/file-1-2 /mnt/sub/sub-file /plain/root-file
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/mnt/root-file 0:0" ]
	[ "${lines[1]}" = "/mnt/file-1-2 1:2" ]
	# Not recursive: the submount's root is unmapped in the container.
	[ "${lines[2]}" = "/mnt/sub/sub-file 65534:65534" ]
	[ "${lines[3]}" = "/plain/root-file 65534:65534" ]
}

@test "ridmap with no mappings takes the container's user namespace for the submounts too" {
	userns
	submount "$SRC/sub"
	idmount /mnt "$SRC" '["rbind", "ridmap"]'
	set_args stat -c '%n %u:%g' /mnt/root-file /mnt/sub/sub-file
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/mnt/root-file 0:0" ]
	[ "${lines[1]}" = "/mnt/sub/sub-file 0:0" ]
}

@test "idmap with no mappings in a container that joins another's user namespace by path takes that namespace's mappings" {
	userns
	update_config '.process.args = ["sleep", "1000"]'
	owner=$(new_id)
	berth run -d --bundle "$BUNDLE" "$owner" </dev/null >/dev/null 2>&1 || fail "run -d $owner failed"
	pid=$(state_field "$owner" pid)

	# The joiner: a bundle of its own, no mappings, the owner's user
	# namespace by path.
	BUNDLE=$TESTDIR/joiner
	make_bundle "$BUNDLE"
	traversable "$BUNDLE"
	mkdir -p "$BUNDLE/rootfs/mnt"
	UPDATE_CONFIG_ARGS=(--arg p "/proc/$pid/ns/user")
	update_config '.linux.namespaces += [{type: "user", path: $p}]'
	UPDATE_CONFIG_ARGS=()
	idmount /mnt "$SRC" '["bind", "idmap"]'
	set_args stat -c '%n %u:%g' /mnt/root-file /mnt/file-1-2
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/mnt/root-file 0:0" ]
	[ "${lines[1]}" = "/mnt/file-1-2 1:2" ]
}

@test "idmap without a user namespace or mappings fails naming the mount and the user namespace it needs, and leaves nothing" {
	for opt in idmap ridmap; do
		make_bundle "$TESTDIR/$opt"
		BUNDLE=$TESTDIR/$opt
		idmount /mnt "$SRC" "[\"rbind\", \"$opt\"]"
		n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
		id=$(new_id)
		run berth run --bundle "$BUNDLE" "$id"
		echo "$opt: $output"
		assert_error
		[[ ${lines[0]} == *"mounts[$n]"* ]] || fail "does not name mounts[$n]"
		[[ ${lines[0]} == *"user namespace"* ]] || fail "does not say a user namespace is needed"
		assert_nothing_left "$id"
	done
}

@test "an id-mapped source below a 0700 directory the mapped ids cannot search still mounts" {
	userns
	mkdir -m 0700 "$TESTDIR/private"
	mkdir "$TESTDIR/private/data"
	echo secret >"$TESTDIR/private/data/f"
	idmount /mnt "$TESTDIR/private/data" '["bind", "idmap"]'
	set_args sh -c 'stat -c "%n %u:%g" /mnt/f && cat /mnt/f'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/mnt/f 0:0" ]
	[ "${lines[1]}" = secret ]
}

@test "a mount with several uid and gid mapping ranges maps each range, and ids outside all show as the overflow id" {
	userns
	touch "$SRC/f-1000" "$SRC/f-1500" "$SRC/f-5000"
	chown 1000:1000 "$SRC/f-1000"
	chown 1500:1700 "$SRC/f-1500"
	chown 5000:5000 "$SRC/f-5000"
	# On disk 0-999 and 1000-1999, each range to its own host ids (which
	# the container's namespace shows as 0-999 and 1500-2499).
	idmount /mnt "$SRC" '["bind", "idmap"]' \
		'[{"containerID": 0, "hostID": 100000, "size": 1000}, {"containerID": 1000, "hostID": 101500, "size": 1000}]' \
		'[{"containerID": 0, "hostID": 200000, "size": 1000}, {"containerID": 1000, "hostID": 201700, "size": 1000}]'
	set_args stat -c '%n %u:%g' /mnt/file-1-2 /mnt/f-1000 /mnt/f-1500 /mnt/f-5000
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/mnt/file-1-2 1:2" ]
	[ "${lines[1]}" = "/mnt/f-1000 1500:1700" ]
	[ "${lines[2]}" = "/mnt/f-1500 2000:2400" ]
	[ "${lines[3]}" = "/mnt/f-5000 65534:65534" ]
}

@test "two mounts of one source with different mappings each show their own owners" {
	userns
	mkdir -p "$BUNDLE/rootfs/a" "$BUNDLE/rootfs/b"
	idmount /a "$SRC" '["bind"]' "$UMAP" "$GMAP"
	idmount /b "$SRC" '["bind"]' '[{"containerID": 0, "hostID": 101000, "size": 10}]' '[{"containerID": 0, "hostID": 201000, "size": 10}]'
	set_args stat -c '%n %u:%g' /a/file-1-2 /b/file-1-2
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/a/file-1-2 1:2" ]
	[ "${lines[1]}" = "/b/file-1-2 1001:1002" ]
}

@test "an id-mapped mount with a relative destination lands below the container's root" {
	userns
	idmount mnt/rel "$SRC" '["bind", "idmap"]'
	set_args stat -c '%n %u:%g' /mnt/rel/root-file
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/mnt/rel/root-file 0:0" ]
}
