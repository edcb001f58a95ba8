#!/usr/bin/env bats
# A bind mount's own flags (ro, nosuid, nodev, noexec, nosymfollow, the
# atime mode) against the flags of its source's mount, with and without a
# user namespace (where the source's flags are locked), and the recursive
# atime options. The source is a tmpfs the test mounts and remounts.

load helpers

teardown() {
	local rc=0
	if [[ -n ${SRC:-} ]] && mountpoint -q "$SRC"; then
		umount -R "$SRC" || rc=1
	fi
	berth_teardown || rc=$?
	return $rc
}

# source_flags FLAGS: $SRC is a tmpfs whose mount has exactly FLAGS (a
# mount(8) option list). mount(8) only adds atime flags on a remount, so
# the mount goes back to strictatime first.
source_flags() {
	SRC=$TESTDIR/src
	if ! mountpoint -q "$SRC" 2>/dev/null; then
		mkdir -p "$SRC" "$BUNDLE/rootfs/mnt"
		mount -t tmpfs -o mode=0755 berth-bindflags "$SRC"
	fi
	mount -o remount,bind,diratime,atime,strictatime "$SRC"
	mount -o "remount,bind,$1" "$SRC"
}

# bind_with OPTIONS: runs a container with $SRC bound on /mnt with the
# comma-separated OPTIONS and sets MNT to that mount's flags as the
# container's /proc/self/mounts shows them.
bind_with() {
	local opts
	opts=$(jq -cn --arg o "$1" '$o | split(",")')
	UPDATE_CONFIG_ARGS=(--arg src "$SRC" --argjson opts "$opts")
	update_config '.mounts = [.mounts[] | select(.destination != "/mnt")]
		+ [{destination: "/mnt", type: "bind", source: $src, options: $opts}]'
	UPDATE_CONFIG_ARGS=()
	set_args awk '$2 == "/mnt" { print $4 }' /proc/self/mounts
	run berth run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ] || fail "run with $1: status $status: $output"
	MNT=$output
}

# flags_are WANT...: each WANT ("ro", or "!ro" for absent) holds for $MNT.
flags_are() {
	local w
	for w in "$@"; do
		if [[ $w == !* ]]; then
			[[ ,$MNT, != *,${w#!},* ]] || fail "$MNT has ${w#!}"
		else
			[[ ,$MNT, == *,$w,* ]] || fail "$MNT lacks $w"
		fi
	done
}

@test "a bind naming no flag keeps its source's flags; naming one replaces them all" {
	source_flags ro,noexec,nosymfollow,nodev,relatime
	bind_with bind
	flags_are ro noexec nosymfollow nodev
	bind_with bind,dev
	flags_are rw '!ro' '!noexec' '!nosymfollow' '!nodev'
	bind_with rbind,nosuid,rprivate
	flags_are rw nosuid '!noexec' '!nodev'
}

@test "a bind keeps its source's atime mode unless it sets one: clearing one changes nothing" {
	source_flags noatime
	bind_with bind,exec,atime
	flags_are noatime '!relatime'
	bind_with bind,norelatime
	flags_are noatime
	bind_with bind,relatime
	flags_are relatime '!noatime'
	# nodiratime alone is relatime with nodiratime, as mount(2) makes it.
	bind_with bind,nodiratime
	flags_are relatime nodiratime '!noatime'
	source_flags nodiratime,relatime
	bind_with bind,strictatime
	flags_are '!nodiratime' '!relatime' '!noatime'
	bind_with bind,ro
	flags_are ro nodiratime relatime
}

@test "in a user namespace a bind keeps the locked flags it does not clear by name" {
	userns_config
	source_flags ro,noexec,nosymfollow,relatime
	bind_with bind,dev
	# ro and noexec are locked; nosymfollow cannot be, so it goes.
	flags_are ro noexec '!nosymfollow'
	source_flags nodev,nosuid,noexec,noatime
	bind_with bind,ro
	flags_are ro nodev nosuid noexec noatime
}

@test "in a user namespace clearing a locked flag or changing a locked atime mode fails saying so" {
	userns_config
	source_flags ro,relatime
	for opts in bind,rw bind,strictatime bind,noatime; do
		UPDATE_CONFIG_ARGS=(--arg src "$SRC" --argjson opts "$(jq -cn --arg o "$opts" '$o | split(",")')")
		update_config '.mounts = [.mounts[] | select(.destination != "/mnt")]
			+ [{destination: "/mnt", type: "bind", source: $src, options: $opts}]'
		UPDATE_CONFIG_ARGS=()
		id=$(new_id)
		run berth run --bundle "$BUNDLE" "$id"
		assert_error
		[[ $output == *"mounts["*"on /mnt"*"operation not permitted"*locked* ]] || fail "$opts: $output"
		assert_nothing_left "$id"
	done
}

@test "recursive atime options: ratime, rnostrictatime and rnorelatime all mean relatime" {
	source_flags strictatime
	mkdir -p "$SRC/sub"
	mount -t tmpfs -o strictatime berth-bindflags-sub "$SRC/sub"
	for opt in ratime rnostrictatime rnorelatime rrelatime rnoatime rstrictatime; do
		UPDATE_CONFIG_ARGS=(--arg src "$SRC" --arg opt "$opt" --arg dst "/m-$opt")
		update_config '.mounts += [{destination: $dst, type: "bind", source: $src, options: ["rbind", $opt]}]'
		UPDATE_CONFIG_ARGS=()
	done
	set_args awk '$2 ~ /^\/m-/ { print $2, $4 }' /proc/self/mounts
	run berth run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ] || fail "$output"
	local want
	for opt in ratime rnostrictatime rnorelatime rrelatime rnoatime rstrictatime; do
		case $opt in
		rnoatime) want=noatime ;;
		rstrictatime) want= ;;
		*) want=relatime ;;
		esac
		for d in "/m-$opt" "/m-$opt/sub"; do
			MNT=$(awk -v d="$d" '$1 == d { print $2 }' <<<"$output")
			[[ -n $MNT ]] || fail "no $d in: $output"
			if [[ -n $want ]]; then
				flags_are "$want"
			else
				flags_are '!relatime' '!noatime'
			fi
		done
	done
}
