#!/usr/bin/env bats
# Escapes from the container, one test per vulnerability class that hit
# OCI runtimes, each attempting the attack against the real berth binary:
# it first shows that the mechanics of the attack work (the symlink really
# points outside, the fd really reaches the host...), then that berth
# stops it.

load helpers

# sectool: a small static helper run inside containers; each operation
# makes one system call and prints "OP: ok" or "OP: errno N (text)".
SECTOOL_SRC='package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"
)

func report(op string, e error) {
	if e == nil {
		fmt.Printf("%s: ok\n", op)
	} else if n, ok := e.(syscall.Errno); ok {
		fmt.Printf("%s: errno %d (%v)\n", op, int(n), n)
	} else {
		fmt.Printf("%s: %v\n", op, e)
	}
}

func errno(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func main() {
	for _, op := range os.Args[1:] {
		switch op {
		case "mount":
			os.Mkdir("/tmp/sectool-mnt", 0o755)
			err := syscall.Mount("none", "/tmp/sectool-mnt", "tmpfs", 0, "")
			if err == nil {
				syscall.Unmount("/tmp/sectool-mnt", 0)
			}
			report(op, err)
		case "unshare":
			report(op, syscall.Unshare(syscall.CLONE_NEWUTS))
		case "keyctl":
			// KEYCTL_GET_KEYRING_ID of the thread keyring, creating it.
			_, _, e := syscall.RawSyscall(syscall.SYS_KEYCTL, 0, ^uintptr(0), 1)
			report(op, errno(e))
		case "add_key":
			typ, _ := syscall.BytePtrFromString("user")
			desc, _ := syscall.BytePtrFromString("berth-sectest")
			data := []byte("x")
			// Into the thread keyring: gone with the thread.
			_, _, e := syscall.RawSyscall6(syscall.SYS_ADD_KEY, uintptr(unsafe.Pointer(typ)),
				uintptr(unsafe.Pointer(desc)), uintptr(unsafe.Pointer(&data[0])), 1, ^uintptr(0), 0)
			report(op, errno(e))
		case "init_module":
			junk := make([]byte, 64)
			params, _ := syscall.BytePtrFromString("")
			_, _, e := syscall.RawSyscall(syscall.SYS_INIT_MODULE, uintptr(unsafe.Pointer(&junk[0])),
				uintptr(len(junk)), uintptr(unsafe.Pointer(params)))
			report(op, errno(e))
		case "settime":
			// Sets the clock to what it already is: harmless if allowed.
			tv := syscall.NsecToTimeval(time.Now().UnixNano())
			report(op, syscall.Settimeofday(&tv))
		default:
			fmt.Fprintf(os.Stderr, "unknown op %q\n", op)
			os.Exit(2)
		}
	}
}
'

# sectool_bin: builds the helper once per bats run, prints its path.
sectool_bin() {
	local cache=$BATS_RUN_TMPDIR/cache/sectool
	if [[ ! -x $cache/sectool ]]; then
		local go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
		local tmp
		tmp=$(mktemp -d "$BATS_RUN_TMPDIR/sectool.XXXXXX")
		printf '%s' "$SECTOOL_SRC" >"$tmp/main.go"
		(cd "$tmp" && CGO_ENABLED=0 GOFLAGS= "$go" build -o sectool main.go) >&2 ||
			fail "cannot build the sectool helper"
		mkdir -p "$cache"
		mv "$tmp/sectool" "$cache/sectool"
		rm -rf "$tmp"
	fi
	echo "$cache/sectool"
}

# install_sectool: puts the helper at /sectool in $BUNDLE's rootfs.
install_sectool() {
	cp "$(sectool_bin)" "$BUNDLE/rootfs/sectool"
}

# canary: a host file outside every rootfs; records its content and mtime.
make_canary() {
	CANARY=$TESTDIR/host-canary
	echo "host canary $RANDOM" >"$CANARY"
	touch -d '2001-02-03 04:05:06' "$CANARY"
	CANARY_SIG=$(stat -c '%s %Y %i' "$CANARY"; cat "$CANARY")
}

assert_canary_intact() {
	local now
	now=$(stat -c '%s %Y %i' "$CANARY"; cat "$CANARY")
	[[ $now == "$CANARY_SIG" ]] || fail "host canary $CANARY changed: '$CANARY_SIG' -> '$now'"
	if grep -q " $CANARY " /proc/self/mountinfo; then
		fail "something is mounted on the host canary $CANARY"
	fi
}

# host_mounts_outside DIR...: mount points in the host's mount table at
# or below any DIR.
host_mounts_at() {
	local d
	for d in "$@"; do
		awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
	done
}

EXTRA_CLEANUP=()

teardown() {
	local rc=0 c
	for c in "${EXTRA_CLEANUP[@]}"; do
		eval "$c" || rc=1
	done
	berth_teardown || rc=$?
	return $rc
}

# A block device of the host's that the host's root can read (a loop
# device does not count): prints "MAJOR MINOR /dev/NAME".
host_disk() {
	local d
	for d in /sys/block/*; do
		case ${d##*/} in loop*) continue ;; esac
		[[ -r $d/dev && -b /dev/${d##*/} ]] || continue
		dd if="/dev/${d##*/}" of=/dev/null bs=512 count=1 status=none 2>/dev/null || continue
		echo "$(tr ':' ' ' <"$d/dev") /dev/${d##*/}"
		return 0
	done
	return 1
}

# cap_in_set SET-HEX BIT: whether capability BIT is in a /proc status mask.
cap_in_set() {
	(( (16#$1 >> $2) & 1 ))
}

@test "default hardening: no mount, no modules, no clock, no raw disk, kernel interfaces masked" {
	install_sectool
	local disk maj min dev
	disk=$(host_disk) || skip "no block device on the host"
	read -r maj min dev <<<"$disk"
	# Mechanics: the host's root can read the disk (host_disk checked), so
	# a node for it in the container would be a way to the host's data.

	set_args sh -c "
		grep CapBnd /proc/self/status
		/sectool mount init_module settime
		if mknod /tmp/disk b $maj $min 2>/dev/null; then echo mknod: ok; else echo mknod: refused; fi
		for p in /proc/kcore /proc/keys /proc/timer_list; do
			if [ -e \$p ]; then echo \"\$p \$(stat -c %F:%t:%T \$p) \$(head -c 64 \$p | wc -c)\"; fi
		done
		if [ -e /proc/sysrq-trigger ]; then
			if echo h 2>/dev/null >/proc/sysrq-trigger; then echo sysrq: written; else echo sysrq: refused; fi
		fi
		echo firmware: \$(ls -A /sys/firmware | wc -l)
	"
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	local bnd
	bnd=$(awk '/^CapBnd/ { print $2 }' <<<"$output")
	[ -n "$bnd" ]
	# CAP_SYS_MODULE 16, CAP_SYS_RAWIO 17, CAP_SYS_ADMIN 21, CAP_SYS_TIME 25, CAP_MKNOD 27
	for c in 16 17 21 25 27; do
		! cap_in_set "$bnd" "$c" || fail "capability $c is in the bounding set $bnd"
	done
	[[ $output == *"mount: errno 1 "* ]]
	# EPERM, or ENOSYS on a kernel without module support.
	[[ $output == *"init_module: errno 1 "* || $output == *"init_module: errno 38 "* ]]
	[[ $output == *"settime: errno 1 "* ]]
	[[ $output == *"mknod: refused"* ]]
	# Masked files are the null device (1:3) and read empty.
	for p in /proc/kcore /proc/keys /proc/timer_list; do
		[[ -e $p ]] || continue
		grep -qx "$p character special file:1:3 0" <<<"$output" || fail "$p is not masked"
	done
	if [[ -e /proc/sysrq-trigger ]]; then
		[[ $output == *"sysrq: refused"* ]]
	fi
	# The host has firmware entries; the container sees none.
	[ -n "$(ls -A /sys/firmware)" ]
	[[ $output == *"firmware: 0"* ]]
}

@test "default hardening: a disk node made with CAP_MKNOD still cannot be opened (device cgroup)" {
	local disk maj min dev
	disk=$(host_disk) || skip "no block device on the host"
	read -r maj min dev <<<"$disk"
	dd if="$dev" of=/dev/null bs=512 count=1 status=none
	update_config '.process.capabilities.bounding += ["CAP_MKNOD"]
		| .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]'
	set_args sh -c "
		mknod /tmp/disk b $maj $min && echo mknod: ok
		if head -c 512 /tmp/disk >/dev/null 2>&1; then echo open: ok; else echo open: refused; fi
		rm -f /tmp/disk
	"
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	# Mechanics: the node really exists in the container...
	[[ $output == *"mknod: ok"* ]]
	# ...but the device cgroup (default: deny all) keeps it shut.
	[[ $output == *"open: refused"* ]]
}

# image_block_node: what an image layer can carry: a block device node
# in the rootfs, 7:0 (a loop device), mode 666. Shows the mechanics: on
# the host, uid 1000 opens such a node (a twin in a directory it can
# reach: the bundle's is not). The container runs as uid 1000 and
# reports what the node is, whether it opens for reading, and whether
# the spec's default devices still work.
image_block_node() {
	local twin
	mknod "$BUNDLE/rootfs/lc" b 7 0
	chmod 666 "$BUNDLE/rootfs/lc"
	twin=$(mktemp -d /tmp/berth-lc.XXXXXX)
	EXTRA_CLEANUP+=("rm -rf '$twin'")
	chmod 755 "$twin"
	mknod -m 666 "$twin/lc" b 7 0
	setpriv --reuid 1000 --regid 1000 --clear-groups sh -c "exec 3<'$twin/lc'" ||
		fail "mechanics: uid 1000 cannot open a 7:0 node on the host"
	update_config '.process.user = {uid: 1000, gid: 1000}'
	set_args sh -c '
		echo "node: $(stat -c "%F %t:%T" /lc) uid $(id -u)"
		if (exec 3</lc); then echo "open /lc: ok"; else echo "open /lc: refused"; fi
		echo x >/dev/null && head -c 1 /dev/zero | wc -c | sed "s/^/zero: /"'
}

# assert_node_denied: the run's output says the node is there and the
# device cgroup (EPERM; a nodev mount would give EACCES) refused it.
assert_node_denied() {
	[[ $output == *"node: block special file 7:0 uid 1000"* ]] || fail "mechanics: the node is not in the container: $output"
	[[ $output == *"open /lc: refused"* ]] || fail "the image's block device opened: $output"
	[[ $output == *"Operation not permitted"* ]] || fail "refused, but not by the device cgroup (want EPERM): $output"
	[[ $output == *"zero: 1"* ]] || fail "the default devices (/dev/null, /dev/zero) stopped working: $output"
}

@test "devices: with no linux.resources.devices, a block device node from the image cannot be opened" {
	image_block_node
	update_config 'del(.linux.resources.devices)'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_node_denied
}

@test "devices: a list of allow rules alone (/dev/net/tun) still denies a block device node from the image" {
	image_block_node
	update_config '.linux.resources.devices = [{allow: true, type: "c", major: 10, minor: 200, access: "rwm"}]'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_node_denied
}

# docker_like_seccomp [ERRNO]: a profile in the style of Docker's default:
# defaultAction SCMP_ACT_ERRNO and an allow list of every system call this
# architecture has, except the ones a container must not make.
docker_like_seccomp() {
	local go goroot goarch denied names
	go=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
	goroot=$("$go" env GOROOT)
	goarch=$("$go" env GOARCH)
	denied='^(mount|umount2|unshare|setns|keyctl|add_key|request_key|pivot_root|chroot|init_module|finit_module|delete_module|kexec_load|kexec_file_load|open_by_handle_at|bpf|perf_event_open|ptrace|reboot|swapon|swapoff|settimeofday|clock_settime|adjtimex|clock_adjtime|fsopen|fsmount|fsconfig|move_mount|open_tree|mount_setattr|userfaultfd|quotactl|acct|lookup_dcookie)$'
	names=$(
		{
			sed -n 's/^[[:space:]]*SYS_\([A-Z0-9_]*\)[[:space:]]*=.*/\1/p' \
				"$goroot/src/syscall/zsysnum_linux_$goarch.go" | tr 'A-Z' 'a-z'
			# Newer than that table.
			printf '%s\n' statx clone3 openat2 close_range faccessat2 pidfd_open pidfd_getfd \
				pidfd_send_signal rseq copy_file_range preadv2 pwritev2 getrandom memfd_create \
				membarrier mlock2 epoll_pwait2 futex_waitv
		} | grep -Ev "$denied" | sort -u | jq -R . | jq -s -c .
	)
	[[ $names != "[]" ]] || fail "no syscall names found under $goroot"
	UPDATE_CONFIG_ARGS=(--argjson names "$names")
	update_config '.linux.seccomp = {
		defaultAction: "SCMP_ACT_ERRNO",
		architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
		syscalls: [{names: $names, action: "SCMP_ACT_ALLOW"}]
	}'
	UPDATE_CONFIG_ARGS=()
}

@test "seccomp: a Docker-like profile refuses mount, unshare, keyctl and add_key" {
	install_sectool
	# CAP_SYS_ADMIN, so that only the filter can be what refuses mount and
	# unshare.
	update_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN"]
		| .process.capabilities.effective += ["CAP_SYS_ADMIN"]
		| .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	set_args /sectool mount unshare keyctl add_key

	# Mechanics: without the filter every one of them works.
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'mount: ok\nunshare: ok\nkeyctl: ok\nadd_key: ok')" ]

	docker_like_seccomp
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	# SCMP_ACT_ERRNO without errnoRet is EPERM.
	[ "$output" = "$(printf 'mount: errno 1 (operation not permitted)\nunshare: errno 1 (operation not permitted)\nkeyctl: errno 1 (operation not permitted)\nadd_key: errno 1 (operation not permitted)')" ]

	# The shell and the usual tools still work under the filter.
	set_args sh -c 'echo hi >/tmp/f && cat /tmp/f && ls / >/dev/null && echo done'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'hi\ndone')" ]
}

@test "seccomp: SCMP_ACT_NOTIFY hands the listener fd and the container state to the agent, whose answer the process gets" {
	local agent=$REPO/tests/integration/tools/bin/seccompagent
	[ -x "$agent" ] || fail "no $agent (make recvtty)"
	local sock=$TESTDIR/agent.sock
	# The agent answers every mkdir with EXDEV (18).
	"$agent" "$sock" "$TESTDIR/agent.state" 18 </dev/null >"$TESTDIR/agent.out" 2>"$TESTDIR/agent.err" &
	track_pid $!
	wait_for_file "$TESTDIR/agent.out"
	UPDATE_CONFIG_ARGS=(--arg s "$sock")
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $s,
		listenerMetadata: "berth-test-metadata",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}'
	UPDATE_CONFIG_ARGS=()
	set_args sh -c 'mkdir /tmp/made; echo "status $?"; [ -e /tmp/made ] || echo absent'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"Invalid cross-device link"* || $output == *"Cross-device link"* ]] || fail "mkdir did not get the agent's EXDEV: $output"
	[[ $output == *"status 1"* && $output == *absent* ]]
	# The runtime spec's container process state, with one fd.
	local st
	st=$(cat "$TESTDIR/agent.state")
	echo "$st"
	jq -e --arg id "$id" '.metadata == "berth-test-metadata" and .fds == ["seccompFd"] and .nfds == 1
		and .pid > 0 and .state.id == $id and (.state.status | IN("creating", "created"))' <<<"$st" >/dev/null ||
		fail "agent state: $st"
}

@test "seccomp: a syscall name unknown to libseccomp is skipped, logged with --debug, and the rest of its rule holds" {
	update_config '.linux.seccomp = {
		defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["berth_no_such_syscall", "mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO"}]
	}'
	set_args sh -c 'mkdir /tmp/d 2>/dev/null && echo made || echo refused'
	id=$(new_id)
	run berth --debug run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"linux.seccomp: syscalls unknown to libseccomp skipped: berth_no_such_syscall"* ]]
	# start's debug line may come before or after the process's output.
	printf '%s\n' "${lines[@]}" | grep -qx refused
	! printf '%s\n' "${lines[@]}" | grep -qx made || fail "mkdir was allowed"

	# Without --debug nothing is said about it.
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = refused ]
}

@test "CVE-2016-9962/CVE-2024-21626: no host fd leaks into the container; /proc/1/cwd and /proc/self/cwd are inside" {
	set_args sh -c 'ls /proc/1/fd; echo cwd1=$(readlink /proc/1/cwd); echo cwdself=$(readlink /proc/self/cwd); echo root1=$(readlink /proc/1/root); true'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '0\n1\n2\ncwd1=/\ncwdself=/\nroot1=/')" ]

	# With --preserve-fds 1, fd 3 and nothing more.
	exec 5</dev/null
	id=$(new_id)
	run berth run --preserve-fds 1 --bundle "$BUNDLE" "$id" 3<&5
	exec 5<&-
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(head -n4 <<<"$output" | tr '\n' ' ')" = "0 1 2 3 " ]
	[ "${lines[4]}" = cwd1=/ ]

	# Seen from the host, while init waits to be started: init holds no
	# directory (the way out in both CVEs), nothing of berth's state but
	# the exec fifo, and its cwd is the container's root. (fds the caller
	# of `berth create` left inheritable: see the caller's-lock test.)
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	local fd target procdev
	# Init does hold the container's own procfs (the root it reaches its
	# fd table through, and that fd directory while it waits): the
	# container's /proc, no way out.
	procdev=$(stat -L -c %d "/proc/$pid/root/proc")
	[ "$(stat -f -L -c %T "/proc/$pid/root/proc")" = proc ]
	for fd in /proc/"$pid"/fd/*; do
		target=$(readlink "$fd") || continue
		if [[ -d $fd && $(stat -L -c %d "$fd") == "$procdev" ]]; then
			continue
		fi
		[[ ! -d $fd ]] || fail "init of $id holds a directory: fd ${fd##*/} -> $target"
		if [[ $target == "$ROOT"/* && $target != "$ROOT/$id/exec.fifo" ]]; then
			fail "init of $id holds fd ${fd##*/} -> $target"
		fi
	done
	[ "$(stat -L -c %d:%i "/proc/$pid/cwd")" = "$(stat -c %d:%i "$BUNDLE/rootfs")" ]
	[ "$(stat -L -c %d:%i "/proc/$pid/root")" = "$(stat -c %d:%i "$BUNDLE/rootfs")" ]
	berth delete --force "$id"
}

@test "CVE-2024-21626: a missing process.cwd below a leaked host directory fd is not created on the host" {
	HOSTDIR=$TESTDIR/hostdir
	mkdir -p "$HOSTDIR"
	set_args true
	exec 5<"$HOSTDIR"
	for cwd in /proc/self/fd/3/made-by-berth /proc/1/fd/3/made-by-berth; do
		update_config ".process.cwd = \"$cwd\""
		id=$(new_id)
		run berth run --preserve-fds 1 --bundle "$BUNDLE" "$id" 3<&5
		echo "$output"
		[ "$status" -ne 0 ] || fail "cwd $cwd: the process ran"
		[[ ! -e $HOSTDIR/made-by-berth ]] || fail "cwd $cwd: berth made a directory on the host"
	done
	exec 5<&-
}

@test "CVE-2024-21626: a process.cwd through a leaked directory fd never reaches the host" {
	HOSTDIR=$TESTDIR/hostdir
	mkdir -p "$HOSTDIR"
	touch "$HOSTDIR/host-only-marker" "$BUNDLE/rootfs/.container-root-marker"
	# From any cwd, climbing up ends at the root the process sees: the
	# container's (marker there) or the host's.
	set_args sh -c 'echo cwd=$(readlink /proc/self/cwd); ls /proc/self/fd/3/ 2>/dev/null; cd ../../../../../../../../../../../../../..; if [ -e .container-root-marker ]; then echo top=container; else echo top=HOST; fi'

	# Mechanics: a directory fd of the host's that reaches the container
	# (here handed in on purpose with --preserve-fds) does lead out.
	exec 5<"$HOSTDIR"
	id=$(new_id)
	run berth run --preserve-fds 1 --bundle "$BUNDLE" "$id" 3<&5
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *host-only-marker* ]]

	# As the cwd, berth refuses it: getcwd would be outside the root.
	update_config '.process.cwd = "/proc/self/fd/3"'
	id=$(new_id)
	run berth run --preserve-fds 1 --bundle "$BUNDLE" "$id" 3<&5
	exec 5<&-
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output != *top=HOST* ]]
	[[ $output == *"outside the container root"* ]]

	# Without preserved fds, no fd number berth might have left open
	# (its own sockets, fifo, rootfs or cgroup fds) gives a way out:
	# either the cwd is refused or it is inside the container.
	local n
	for n in $(seq 3 24) self/cwd 1/cwd; do
		case $n in */*) update_config ".process.cwd = \"/proc/$n\"" ;; *) update_config ".process.cwd = \"/proc/self/fd/$n\"" ;; esac
		id=$(new_id)
		run berth run --bundle "$BUNDLE" "$id"
		[[ $output != *top=HOST* && $output != *host-only-marker* ]] ||
			fail "cwd /proc/self/fd/$n: the process reached the host: $output"
		if [ "$status" -eq 0 ]; then
			[[ $output == *top=container* ]] || fail "cwd $n: $output"
		fi
	done
}

# ---- berth's own fds and its caller's stray ones (issue 16, items 2, 5, 7) ----

# The fds of the container's shell (pid 1), with their targets: a simple
# subshell that redirects its own output: no pipeline (sh would hold the
# pipe's fds meanwhile), no redirection in sh itself (it saves stdout).
FDS_SHOWN='echo "env LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID"; (ls -l /proc/1/fd >/tmp/fds); sed -n "s/.* \([0-9][0-9]*\) -> \(.*\)/fd \1 \2/p" /tmp/fds; true'

# fd_numbers: the fd numbers of the "fd N TARGET" lines in $output, on one line.
fd_numbers() {
	awk '$1 == "fd" { printf "%s ", $2 }' <<<"$output"
}

# no_stray_fds CMD...: CMD without fds 5-9, which a test shell may hold
# (bats keeps some of its own open); a test closes or sets 3 and 4 itself.
no_stray_fds() {
	"$@" 5<&- 6<&- 7<&- 8<&- 9<&-
}

@test "CVE-2024-21626 class: LISTEN_FDS without LISTEN_PID, or with another process's, hands the container none of berth's own fds" {
	set_args sh -c "$FDS_SHOWN"
	echo "activated" >"$TESTDIR/socket-stand-in"

	# Mechanics: socket activation works; with LISTEN_PID naming berth
	# itself (exec keeps the shell's pid) the fd the caller passed is fd 3
	# inside, announced to the process.
	id=$(new_id)
	run timeout 60 bash -c 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$0" --root "$1" run --bundle "$2" "$3"' \
		"$BERTH" "$ROOT" "$BUNDLE" "$id" 3<"$TESTDIR/socket-stand-in" 4<&- 5<&- 6<&- 7<&- 8<&- 9<&-
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "env LISTEN_FDS=1 LISTEN_PID=1" ]
	[ "$(fd_numbers)" = "0 1 2 3 " ]
	[[ $output == *"fd 3 $TESTDIR/socket-stand-in"* ]]

	# The attack: LISTEN_FDS left by a socket-activated ancestor, with no
	# LISTEN_PID or the ancestor's, and no fd 3 passed. What would be fd
	# 3 is one of berth's own open files (a host cgroup file, a directory).
	local pid
	for pid in none 1 $$; do
		id=$(new_id)
		if [ "$pid" = none ]; then
			LISTEN_FDS=1 no_stray_fds run berth run --bundle "$BUNDLE" "$id" 3<&- 4<&-
		else
			LISTEN_FDS=1 LISTEN_PID=$pid no_stray_fds run berth run --bundle "$BUNDLE" "$id" 3<&- 4<&-
		fi
		echo "LISTEN_PID $pid: $output"
		[ "$status" -eq 0 ]
		[ "$(fd_numbers)" = "0 1 2 " ] || fail "LISTEN_PID $pid: the container got fds: $output"
		[ "${lines[0]}" = "env LISTEN_FDS= LISTEN_PID=" ] || fail "LISTEN_PID $pid: ${lines[0]}"
	done

	# Nor does a caller's fd 3 pass for an activation meant for another
	# process.
	id=$(new_id)
	LISTEN_FDS=1 LISTEN_PID=1 no_stray_fds run berth run --bundle "$BUNDLE" "$id" 3<"$TESTDIR/socket-stand-in" 4<&-
	[ "$status" -eq 0 ]
	[ "$(fd_numbers)" = "0 1 2 " ]

	# Berth asked for the activation fds but given none: refused, nothing
	# left behind.
	id=$(new_id)
	run timeout 60 bash -c 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$0" --root "$1" run --bundle "$2" "$3"' \
		"$BERTH" "$ROOT" "$BUNDLE" "$id" 3<&- 4<&- 5<&- 6<&- 7<&- 8<&- 9<&-
	echo "$output"
	assert_error
	[ "$output" = "berth: LISTEN_FDS=1: fd 3 was not passed to berth" ]
	[ ! -e "$ROOT/$id" ]
}

@test "CVE-2024-21626 class: --preserve-fds asking for fds the caller did not pass is refused (create, run, exec), never filled with berth's own" {
	set_args sh -c "$FDS_SHOWN"
	echo "fd three" >"$TESTDIR/fd3"
	echo "fd four" >"$TESTDIR/fd4"

	# Mechanics: fds the caller passes do reach the container.
	id=$(new_id)
	no_stray_fds run berth run --preserve-fds 2 --bundle "$BUNDLE" "$id" 3<"$TESTDIR/fd3" 4<"$TESTDIR/fd4"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(fd_numbers)" = "0 1 2 3 4 " ]
	[[ $output == *"fd 3 $TESTDIR/fd3"* && $output == *"fd 4 $TESTDIR/fd4"* ]]

	# The attack: none passed, or only fd 3. One line naming the flag and
	# the fd, exit 1, no container.
	local cmd
	for cmd in run create; do
		id=$(new_id)
		no_stray_fds run_detached berth "$cmd" --preserve-fds 2 --bundle "$BUNDLE" "$id" 3<&- 4<&-
		echo "$cmd: $output"
		assert_error
		[ "$output" = "berth: --preserve-fds 2: fd 3 was not passed to berth" ]
		[ ! -e "$ROOT/$id" ] || fail "$cmd left $ROOT/$id"

		id=$(new_id)
		no_stray_fds run_detached berth "$cmd" --preserve-fds 2 --bundle "$BUNDLE" "$id" 3<"$TESTDIR/fd3" 4<&-
		echo "$cmd: $output"
		assert_error
		[ "$output" = "berth: --preserve-fds 2: fd 4 was not passed to berth" ]
		[ ! -e "$ROOT/$id" ] || fail "$cmd left $ROOT/$id"
	done

	# exec into a running container: the same, and no process starts.
	set_args sleep 1000
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	no_stray_fds run berth exec --preserve-fds 1 "$id" sh -c "$FDS_SHOWN" 3<&- 4<&-
	echo "exec: $output"
	assert_error 255
	[ "$output" = "berth: --preserve-fds 1: fd 3 was not passed to berth" ]
	[ "$(berth ps "$id" | wc -l)" -eq 2 ] || fail "exec left a process: $(berth ps "$id")"
	no_stray_fds run berth exec --preserve-fds 1 "$id" sh -c '(ls -l /proc/$$/fd >/tmp/fds); grep -c " 3 -> " /tmp/fds' 3<"$TESTDIR/fd3" 4<&-
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
	berth delete --force "$id"
}

# fd_hook NAME: a host hook that records the fds it was started with.
fd_hook() {
	jq -n --arg p "$TESTDIR/fd-hook" --arg n "$1" '{path: $p, args: ["fd-hook", $n]}'
}

@test "a caller's inheritable fd (a lock) is not held by a created container's init, nor by any hook" {
	cat >"$TESTDIR/fd-hook" <<-EOF
		#!/bin/sh
		ls -l /proc/\$\$/fd > "$TESTDIR/hook-\$1.fds"
	EOF
	chmod +x "$TESTDIR/fd-hook"
	UPDATE_CONFIG_ARGS=(--argjson a "$(fd_hook prestart)" --argjson b "$(fd_hook createRuntime)" --argjson c "$(fd_hook poststop)")
	update_config '.hooks = {prestart: [$a], createRuntime: [$b], poststop: [$c]}'
	UPDATE_CONFIG_ARGS=()
	set_args sleep 1000
	local lock=$TESTDIR/harness.lock
	exec 9>"$lock"
	EXTRA_CLEANUP+=("exec 9>&-")
	# Mechanics: the test shell holds the lock fd without close-on-exec
	# (flags has no 02000000), so every program it starts inherits it.
	[ "$(readlink /proc/$$/fd/9)" = "$lock" ]
	local flags
	flags=$(awk '/^flags:/ { print $2 }' /proc/$$/fdinfo/9)
	(( (8#$flags & 8#2000000) == 0 ))
	[ "$(bash -c 'readlink /proc/$$/fd/9')" = "$lock" ]

	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	local pid fd
	pid=$(state_field "$id" pid)
	ls -l /proc/"$pid"/fd
	for fd in /proc/"$pid"/fd/*; do
		[ "$(readlink "$fd")" != "$lock" ] || fail "init of $id holds the caller's lock as fd ${fd##*/}"
	done
	berth delete --force "$id"
	local h
	for h in prestart createRuntime poststop; do
		[ -s "$TESTDIR/hook-$h.fds" ] || fail "the $h hook did not run"
		cat "$TESTDIR/hook-$h.fds"
		! grep -qF "$lock" "$TESTDIR/hook-$h.fds" || fail "the $h hook inherited the lock"
	done
}

@test "the pty master a foreground run receives is close-on-exec: nothing berth starts afterwards inherits it" {
	update_config '.process.terminal = true'
	set_args sleep 1000
	id=$(new_id)
	# Foreground, without --console-socket: berth takes the pty master
	# from init and relays it.
	"$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/run.out" 2>&1 3<&- 4<&- &
	local pid=$! fd master= i
	track_pid "$pid"
	for ((i = 0; i < 100; i++)); do
		for fd in /proc/"$pid"/fd/*; do
			case $(readlink "$fd" 2>/dev/null) in */ptmx) master=${fd##*/} ;; esac
		done
		[ -z "$master" ] || break
		sleep 0.1
	done
	# Mechanics: berth really holds the master, as an fd a child would
	# inherit unless it is close-on-exec (flag 02000000 in fdinfo).
	[ -n "$master" ] || fail "berth never held a pty master: $(ls -l /proc/$pid/fd)"
	local flags
	flags=$(awk '/^flags:/ { print $2 }' /proc/"$pid"/fdinfo/"$master")
	echo "pty master: fd $master, flags $flags"
	(( (8#$flags & 8#2000000) != 0 )) || fail "the pty master (fd $master, flags $flags) is not close-on-exec"
	berth kill "$id" KILL
	wait "$pid" || true
}

@test "CVE-2021-30465/CVE-2024-45310: symlinks at mount destinations (absolute and ../..) keep mounts and mkdirs in the rootfs" {
	local data=$TESTDIR/data esc_abs=$TESTDIR/escape-abs esc_rel=$TESTDIR/escape-rel esc_dangle=$TESTDIR/escape-dangle
	mkdir -p "$data" "$esc_abs" "$esc_rel"
	echo from-data >"$data/file"
	local r=$BUNDLE/rootfs
	ln -s "$esc_abs" "$r/abs"
	ln -s ../../escape-rel "$r/rel"
	ln -s "$esc_dangle/x" "$r/dangle"
	# Mechanics: resolved by the host, every one of them leads out of the
	# rootfs, to the host directories above.
	[ "$(readlink -f "$r/abs")" = "$esc_abs" ]
	[ "$(readlink -f "$r/rel")" = "$esc_rel" ]
	[ "$(readlink -m "$r/dangle")" = "$esc_dangle/x" ]
	# The same targets resolved inside the rootfs.
	mkdir -p "$r/$esc_abs" "$r/escape-rel"

	add_mount "{\"destination\": \"/abs\", \"type\": \"bind\", \"source\": \"$data\", \"options\": [\"bind\"]}"
	add_mount '{"destination": "/rel/newdir/sub", "type": "tmpfs", "source": "tmpfs"}'
	set_args sh -c "cat $esc_abs/file; grep -c ' /escape-rel/newdir/sub ' /proc/self/mountinfo"
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'from-data\n1')" ]
	[ -d "$r/escape-rel/newdir/sub" ]

	# A dangling one: refused or confined, never created on the host.
	add_mount '{"destination": "/dangle/y", "type": "tmpfs", "source": "tmpfs"}'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"

	[ -z "$(host_mounts_at "$esc_abs" "$esc_rel" "$esc_dangle")" ]
	[ -z "$(ls -A "$esc_abs")" ]
	[ -z "$(ls -A "$esc_rel")" ]
	[ ! -e "$esc_dangle" ]
}

# race_swap_script TARGET: a loop for a container sharing the rootfs that
# turns /race into a directory and back into a symlink to TARGET, at most
# 400 times, until /race-stop exists.
race_swap_script() {
	cat <<-EOS
		i=0
		while [ \$i -lt 400 ] && [ ! -e /race-stop ]; do
			rm -rf /race.new; mkdir /race.new; rm -rf /race; mv /race.new /race
			rm -f /race.lnk; ln -s '$1' /race.lnk; rm -rf /race; mv /race.lnk /race
			i=\$((i + 1))
		done
		echo swaps=\$i >/race-done
	EOS
}

@test "CVE-2021-30465/CVE-2024-45310: racing directory/symlink swaps never put a mount or a directory on the host" {
	local data=$TESTDIR/data esc=$TESTDIR/escape
	mkdir -p "$data" "$esc"
	echo from-data >"$data/file"
	local r=$BUNDLE/rootfs
	# Mechanics: the symlink the racer plants leads out when resolved by
	# the host (absolute and relative forms).
	ln -s "$esc" "$r/probe-abs"
	ln -s "../../escape" "$r/probe-rel"
	[ "$(readlink -f "$r/probe-abs")" = "$esc" ]
	[ "$(readlink -f "$r/probe-rel")" = "$esc" ]
	rm "$r/probe-abs" "$r/probe-rel"

	local n
	for target in "$esc" ../../escape; do
		rm -f "$r/race-stop" "$r/race-done"
		# The racer: a container on the very same rootfs directory.
		cp "$BUNDLE/config.json" "$TESTDIR/config.orig"
		set_args sh -c "$(race_swap_script "$target")"
		racer=$(new_id)
		run_detached berth run -d --bundle "$BUNDLE" "$racer"
		[ "$status" -eq 0 ]
		cp "$TESTDIR/config.orig" "$BUNDLE/config.json"

		# The victim: containers created on that rootfs, with mounts
		# whose destinations go through /race, while the racer runs.
		add_mount "{\"destination\": \"/race/sub\", \"type\": \"bind\", \"source\": \"$data\", \"options\": [\"bind\"]}"
		add_mount '{"destination": "/race/deep/dir", "type": "tmpfs", "source": "tmpfs"}'
		set_args true
		n=0
		while [[ ! -e $r/race-done ]] && ((n < 40)); do
			id=$(new_id)
			run_detached berth create --bundle "$BUNDLE" "$id"
			# Success or failure, nothing may show on the host.
			[ -z "$(host_mounts_at "$esc")" ] || fail "mount on the host at $esc after $n creates: $(host_mounts_at "$esc")"
			[ -z "$(ls -A "$esc")" ] || fail "created on the host in $esc: $(ls -A "$esc")"
			berth delete --force "$id" >/dev/null 2>&1 || true
			n=$((n + 1))
		done
		touch "$r/race-stop"
		wait_for_file "$r/race-done" 30
		echo "target $target: $n creates during $(cat "$r/race-done")"
		berth delete --force "$racer" >/dev/null 2>&1 || true
		cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
		((n > 0))
	done
	[ -z "$(host_mounts_at "$esc")" ]
	[ -z "$(ls -A "$esc")" ]
}

# procs_running FILE: pids of the processes whose executable is FILE.
procs_running() {
	local p
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/exe" 2>/dev/null) == "$1" ]] && echo "${p#/proc/}"
	done
	return 0
}

@test "CVE-2019-5736: the container cannot overwrite the berth binary through /proc/<pid>/exe" {
	# The attack may work: it runs on a copy of berth, never on the one
	# other tests use.
	mkdir -p "$TESTDIR/bin" "$TESTDIR/decoy" "$TESTDIR/x"
	cp "$BERTH" "$TESTDIR/bin/berth-copy"
	# The teardown uses the real binary, whatever became of the copy.
	EXTRA_CLEANUP+=("BERTH='$BERTH'")
	BERTH=$TESTDIR/bin/berth-copy
	local before
	before=$(sha256sum <"$BERTH")

	# The image's "binary" runs berth itself: execve of it from berth
	# init makes the kernel run the interpreter /proc/self/exe, resolved
	# in init, i.e. the runtime binary, now as the container's process.
	printf '#!/proc/self/exe\n' >"$BUNDLE/rootfs/evil"
	chmod 755 "$BUNDLE/rootfs/evil"
	# Like any glibc-based image, the rootfs has the loader and libraries
	# a dynamically linked berth needs.
	local lib
	for lib in $(ldd "$BERTH" 2>/dev/null | grep -o '/[^ ]*'); do
		mkdir -p "$BUNDLE/rootfs${lib%/*}"
		cp -L "$lib" "$BUNDLE/rootfs$lib"
	done
	# A host executable of no value, to show the kernel side of the
	# attack works in this container.
	cp "$BUNDLE/rootfs/bin/busybox" "$TESTDIR/decoy/sleep"
	local decoy_before
	decoy_before=$(sha256sum <"$TESTDIR/decoy/sleep")
	add_mount "{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"$TESTDIR/x\", \"options\": [\"bind\"]}"
	add_mount "{\"destination\": \"/decoy\", \"type\": \"bind\", \"source\": \"$TESTDIR/decoy\", \"options\": [\"bind\"]}"
	# The attacker, the container's process: (1) the decoy: run it, hold
	# its /proc/<pid>/exe, reopen that for writing once it exited;
	# (2) look for a process whose executable is not the container's
	# busybox (berth init of an exec, or berth run as the interpreter
	# above, wherever berth runs it from), hold its exe, and once the
	# binary no longer runs reopen it for writing.
	set_args sh -c '
		/decoy/sleep 1 &
		d=$!
		while [ "$(readlink /proc/$d/exe)" != /decoy/sleep ]; do sleep 0.01; done
		exec 4</proc/$d/exe
		wait $d
		if (printf "overwritten\n" >/proc/self/fd/4) 2>>/x/log; then echo "decoy: written" >>/x/log; fi
		exec 4<&-
		echo >/x/attacker-ready
		got=
		i=0
		while [ -z "$got" ] && [ $i -lt 20000 ] && [ ! -e /x/stop ]; do
			for p in /proc/[0-9]*; do
				[ -e $p/exe ] || continue
				case $(readlink $p/exe 2>/dev/null) in
				/bin/busybox | /decoy/sleep) ;;
				*)
					echo "saw ${p#/proc/} $(readlink $p/exe)" >>/x/log
					if (exec 5<$p/exe) 2>/dev/null; then
						exec 5<$p/exe
						got=${p#/proc/}
						echo "opened $got" >>/x/log
					fi ;;
				esac
			done
			i=$((i + 1))
		done
		echo "$got" >/x/opened
		while [ ! -e /x/go ]; do sleep 0.05; done
		if [ -n "$got" ]; then
			if (printf "#!/bin/sh\necho overwritten\n" >/proc/self/fd/5) 2>>/x/log; then
				echo "write: done" >>/x/log
			else
				echo "write: refused" >>/x/log
			fi
		fi
		echo done >/x/done
		sleep 1000'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	wait_for_file "$TESTDIR/x/attacker-ready" 10
	# Mechanics: from inside, a host executable is overwritten through the
	# exe link of a process that ran it.
	grep -q '^decoy: written' "$TESTDIR/x/log" || fail "the decoy was not written: $(cat "$TESTDIR/x/log")"
	[ "$(sha256sum <"$TESTDIR/decoy/sleep")" != "$decoy_before" ]

	# berth exec of /evil. The environment makes the berth binary, if it
	# runs as the interpreter, wait in its nsenter constructor for a
	# bootstrap message on stdin: a fifo this test holds, so the window is
	# as long as the attacker needs.
	mkfifo "$TESTDIR/stdin.fifo"
	exec 7<>"$TESTDIR/stdin.fifo"
	berth exec -e _BERTH_INITPIPE=0 "$id" /evil <&7 >"$TESTDIR/exec.out" 2>&1 &
	local execpid=$! i
	track_pid "$execpid"
	# Until the attacker holds the binary, or the exec ended without
	# giving it anything.
	for ((i = 0; i < 600; i++)); do
		[[ -e $TESTDIR/x/opened ]] && break
		if ! kill -0 "$execpid" 2>/dev/null; then
			sleep 0.5
			touch "$TESTDIR/x/stop"
		fi
		sleep 0.05
	done
	wait_for_file "$TESTDIR/x/done" 0.1 2>/dev/null || true
	[[ -e $TESTDIR/x/opened ]] || fail "the attacker never finished looking: $(cat "$TESTDIR/x/log")"

	# End the berth process if it waits (a bad bootstrap message), wait
	# until no process runs the binary any more (no ETXTBSY to hide
	# behind), then let the attacker write.
	printf 'XXXXXXXX' >&7
	exec 7>&-
	wait "$execpid" || true
	for ((i = 0; i < 100; i++)); do
		[[ -z $(procs_running "$BERTH") ]] && break
		sleep 0.05
	done
	[[ -z $(procs_running "$BERTH") ]] || fail "the binary still runs: $(procs_running "$BERTH")"
	touch "$TESTDIR/x/go"
	wait_for_file "$TESTDIR/x/done" 10
	echo "exec: $(cat "$TESTDIR/exec.out")"
	cat "$TESTDIR/x/log"
	[ "$(sha256sum <"$BERTH")" = "$before" ] ||
		fail "the berth binary on the host was overwritten from inside the container: $(head -c 64 "$BERTH")"
	! grep -q '^write: done' "$TESTDIR/x/log"
}

# no_dev_tmpfs: the container uses the rootfs's own /dev directory.
no_dev_tmpfs() {
	update_config '.mounts |= map(select(.destination != "/dev"))'
}

# The checks a process makes on /dev/null and a masked file.
NULL_PROBE='stat -c "null=%F:%t:%T" /dev/null; echo pwned >/dev/null; stat -c "keys=%F:%t:%T" /proc/keys; echo pwned >/proc/keys 2>/dev/null; true'

@test "CVE-2025-31133: a rootfs /dev/null that is a symlink to a host file or a regular file is replaced, never written or bound" {
	make_canary
	no_dev_tmpfs
	set_args sh -c "$NULL_PROBE"
	rm -f "$BUNDLE/rootfs/dev/null"
	ln -s "$CANARY" "$BUNDLE/rootfs/dev/null"
	# Mechanics: resolved by the host, /dev/null is the canary.
	[ "$(readlink -f "$BUNDLE/rootfs/dev/null")" = "$CANARY" ]
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'null=character special file:1:3\nkeys=character special file:1:3')" ]
	assert_canary_intact

	# A regular file there (with content a masked path must not show).
	rm -f "$BUNDLE/rootfs/dev/null"
	echo secret >"$BUNDLE/rootfs/dev/null"
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'null=character special file:1:3\nkeys=character special file:1:3')" ]
	assert_canary_intact
}

@test "CVE-2025-31133: with a bind-mounted /dev, masking binds nothing but the real /dev/null" {
	make_canary
	local core_before
	core_before=$(cat /proc/sys/kernel/core_pattern)
	local devdir=$TESTDIR/devdir
	mkdir -p "$devdir"
	add_mount "{\"destination\": \"/dev\", \"type\": \"bind\", \"source\": \"$devdir\", \"options\": [\"rbind\"]}"
	update_config '.mounts |= (map(select(.destination == "/proc")) + map(select(.destination != "/proc")))'
	set_args sh -c "$NULL_PROBE"
	local target
	# A procfs file (the published attack: maskedPaths then bind
	# core_pattern writable over /proc/keys), a host path and a regular
	# file.
	for target in /proc/sys/kernel/core_pattern "$CANARY" regular; do
		rm -f "$devdir/null"
		if [[ $target == regular ]]; then
			echo fake >"$devdir/null"
		else
			ln -s "$target" "$devdir/null"
			# Mechanics: the link leads where it says, from the host.
			[ "$(readlink -f "$devdir/null")" = "$target" ]
		fi
		id=$(new_id)
		run berth run --bundle "$BUNDLE" "$id"
		echo "$target: $output"
		# Refused, or masked with a real null device.
		if [ "$status" -eq 0 ]; then
			[[ $output == *"keys=character special file:1:3"* ]]
		else
			[[ $output == *"/dev/null"* ]]
		fi
		[[ $output != *pwned* ]]
	done
	[ "$(cat /proc/sys/kernel/core_pattern)" = "$core_before" ]
	assert_canary_intact
}

@test "CVE-2025-52565: a rootfs /dev/console that is a symlink to a host file is replaced by the pty" {
	make_canary
	no_dev_tmpfs
	ln -s "$CANARY" "$BUNDLE/rootfs/dev/console"
	# Mechanics: resolved by the host, /dev/console is the canary.
	[ "$(readlink -f "$BUNDLE/rootfs/dev/console")" = "$CANARY" ]
	SOCK=$TESTDIR/console.sock
	start_recvtty
	update_config '.process.terminal = true'
	set_args sh -c 'echo pwned >/dev/console; stat -c "console=%F:%t" /dev/console; echo end'
	id=$(new_id)
	run_detached berth run -d --console-socket "$SOCK" --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	for _ in $(seq 200); do pid_alive "$RECVTTY_PID" || break; sleep 0.05; done
	out=$(tr -d '\r' <"$TESTDIR/tty.out")
	echo "$out"
	# The pty slave: major 136..143 (hex 88..8f).
	grep -Eqx 'console=character special file:8[89a-f]' <<<"$out"
	grep -qx pwned <<<"$out"
	assert_canary_intact
}

@test "CVE-2019-16884/CVE-2025-52881: berth's procfs writes (sysctl) are not redirected by mounts over /proc" {
	make_canary
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	set_args sh -c 'cat /proc/sys/net/ipv4/ip_forward'

	# Without tricks the sysctl lands in the container's network namespace.
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
	cp "$BUNDLE/config.json" "$TESTDIR/config.orig"

	# Mechanics of 2 and 3: mounted elsewhere, the host file is readable
	# in the container, and so is the symlink through the real procfs
	# (the host's pid namespace: /proc/<pid of this test's shell> is a
	# host process) to it.
	mkdir -p "$BUNDLE/rootfs/fakeipv4"
	ln -s "/proc/$BASHPID/root$CANARY" "$BUNDLE/rootfs/fakeipv4/ip_forward"
	add_mount "{\"destination\": \"/srv/ip_forward\", \"type\": \"bind\", \"source\": \"$CANARY\", \"options\": [\"bind\"]}"
	update_config 'del(.linux.sysctl) | .linux.namespaces |= map(select(.type != "pid"))
		| .process.capabilities.effective += ["CAP_SYS_PTRACE"]
		| .process.capabilities.permitted += ["CAP_SYS_PTRACE"] | .process.capabilities.bounding += ["CAP_SYS_PTRACE"]'
	set_args sh -c 'cat /srv/ip_forward /fakeipv4/ip_forward'
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "mechanics: $status $output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '%s\n%s' "$(tail -n1 <<<"$CANARY_SIG")" "$(tail -n1 <<<"$CANARY_SIG")")" ]

	# 1. a tmpfs over /proc/sys, 2. the host file bound over the sysctl's
	# procfs file, 3. the image's "procfs" directory bound over
	# /proc/sys/net/ipv4: each is refused at create, before any write.
	local m
	for m in '{"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"}' \
		"{\"destination\": \"/proc/sys/net/ipv4/ip_forward\", \"type\": \"bind\", \"source\": \"$CANARY\", \"options\": [\"bind\"]}" \
		'{"destination": "/proc/sys/net/ipv4", "type": "bind", "source": "rootfs/fakeipv4", "options": ["bind"]}'; do
		cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
		update_config '.linux.namespaces |= map(select(.type != "pid"))'
		add_mount "$m"
		id=$(new_id)
		run berth run --bundle "$BUNDLE" "$id"
		echo "$m: $status $output"
		assert_error
		[[ $output == *"below /proc"* ]]
		assert_canary_intact
	done
}

# The bootstrap cases: a name and the bytes berth init gets on its socket
# (hex; the header is u32 magic "BRTH" 0x48545242, u32 body length, then
# attributes u16 type, u16 pad, u32 len, value; all little-endian).
BOOTSTRAP_PY='
import os, socket, struct, subprocess, sys

berth = sys.argv[1]
MAGIC = 0x48545242
def attr(t, v, ln=None):
    return struct.pack("<HHI", t, 0, len(v) if ln is None else ln) + v
def msg(body, ln=None):
    return struct.pack("<II", MAGIC, len(body) if ln is None else ln) + body
cases = {
    "empty": b"",
    "short-header": b"BRT",
    "bad-magic": struct.pack("<II", 0xdeadbeef, 0),
    "huge-length": msg(b"", 0xffffffff),
    "over-max-length": msg(b"", 65537),
    "truncated-body": msg(b"\x01\x00", 100),
    "attr-len-past-body": msg(attr(1, b"", 1000)),
    "attr-header-cut": msg(b"\x01\x00\x00"),
    "join-without-path": msg(attr(2, struct.pack("<I", 0x20000000))),
    "join-path-too-long": msg(attr(2, struct.pack("<I", 0x20000000) + b"/" * 5000)),
    "unknown-attr": msg(attr(99, b"abcd")),
    "repeated-clone-flags": msg(attr(1, struct.pack("<I", 0)) + attr(1, struct.pack("<I", 0))),
    "clone-flags-short": msg(attr(1, b"\x00\x00")),
    "idmap-without-userns": msg(attr(3, b"\x01")),
    "timens-without-newtime": msg(attr(4, b"monotonic 1 0")),
}
for name, data in cases.items():
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    p = subprocess.Popen([berth, "init"], env={"_BERTH_INITPIPE": str(child.fileno())},
                         pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    child.close()
    try:
        parent.sendall(data)
    except OSError:
        pass
    parent.shutdown(socket.SHUT_WR)
    reply = b""
    parent.settimeout(10)
    try:
        while True:
            b = parent.recv(65536)
            if not b:
                break
            reply += b
    except OSError:
        pass
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "hang"
    err = p.stderr.read().decode(errors="replace").strip().replace("\n", " | ")
    kind = struct.unpack("<I", reply[:4])[0] if len(reply) >= 4 else None
    print("%s rc=%s reply-type=%s stderr=%s" % (name, rc, kind, err[:120]))
    parent.close()
'

@test "CVE-2021-43784: berth init given a malformed bootstrap message on _BERTH_INITPIPE exits 1 with an error, never crashes" {
	run python3 -c "$BOOTSTRAP_PY" "$BERTH"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 15 ]
	local l
	for l in "${lines[@]}"; do
		# Exit status 1 (a signal would be negative, a hang "hang") and an
		# ERROR record (type 2) on the socket.
		[[ $l == *" rc=1 reply-type=2 "* ]] || fail "not a clean error: $l"
	done

	# Not an fd at all: exit 1 with a message on stderr.
	run env _BERTH_INITPIPE=notanfd "$BERTH" init
	[ "$status" -eq 1 ]
	[[ $output == *_BERTH_INITPIPE* ]]
	run env _BERTH_INITPIPE=987 "$BERTH" init
	[ "$status" -eq 1 ]
	[[ $output == *"not an open fd"* ]]
}

@test "CVE-2025-31133: a maskedPaths entry that is a symlink to a host path masks inside the rootfs only" {
	make_canary
	local r=$BUNDLE/rootfs rel
	ln -s "$CANARY" "$r/etc/leak"
	rel=$(realpath --relative-to="$r/etc" "$CANARY")
	ln -s "../../../../../../../../..$CANARY" "$r/etc/leak-rel"
	ln -s "$rel" "$r/etc/leak-rel2"
	# Mechanics: resolved by the host, each leads to the host file.
	[ "$(readlink -f "$r/etc/leak")" = "$CANARY" ]
	[ "$(readlink -f "$r/etc/leak-rel")" = "$CANARY" ]
	[ "$(readlink -f "$r/etc/leak-rel2")" = "$CANARY" ]
	# The container's namesake of the host file.
	mkdir -p "$r${CANARY%/*}"
	echo inside >"$r$CANARY"
	update_config '.linux.maskedPaths += ["/etc/leak", "/etc/leak-rel", "/etc/leak-rel2"]'
	set_args sh -c "cat $CANARY | wc -c; stat -c %t:%T $CANARY"
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	# Either refused, or the in-rootfs namesake is what got masked.
	if [ "$status" -eq 0 ]; then
		[ "$output" = "$(printf '0\n1:3')" ]
	fi
	assert_canary_intact
	[ "$(cat "$r$CANARY")" = inside ]
}

# refused_before_start MARK WORDS...: create of $BUNDLE fails in one line
# holding each WORD and "only a procfs may be mounted on /proc", the
# workload (a process with MARK in its args) never ran, nothing is left.
refused_before_start() {
	local mark=$1 w id
	shift
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	echo "$output"
	sleep 0.3
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ] || fail "the process ran before start"
	[ -z "$(process_with_arg "$mark")" ] || fail "the workload runs: $(process_with_arg "$mark")"
	assert_error
	for w in "$@" "only a procfs may be mounted on /proc"; do
		[[ $output == *"$w"* ]] || fail "no '$w' in: $output"
	done
	assert_nothing_left "$id"
}

# fake_proc DIR: a directory laid out as the /proc init reopens exec.fifo
# through: self/fd/0..40 are empty regular files.
fake_proc() {
	local i
	mkdir -p "$1/self/fd" "$1/self/attr/apparmor"
	for i in $(seq 0 40); do : >"$1/self/fd/$i"; done
	: >"$1/self/attr/exec"
	: >"$1/self/attr/apparmor/exec"
}

# process_with_arg ARG: pids of processes whose command line holds ARG.
process_with_arg() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qw -- "$1" && echo "${p#/proc/}"
	done
	return 0
}

# assert_nothing_left ID: no state, no cgroup, no process of container ID.
assert_nothing_left() {
	run berth state "$1"
	[ "$status" -eq 1 ] || fail "container $1 has a state: $output"
	[ ! -e "$ROOT/$1" ] || fail "$ROOT/$1 is left"
	[ -z "$(cgroup_dirs "$1")" ] || fail "cgroup left: $(cgroup_dirs "$1")"
	[ -z "$(runtime_procs)" ] || fail "berth processes left: $(runtime_procs)"
}

@test "CVE-2019-16884: a bind of a directory on /proc is refused at create, and the process never runs before start" {
	local fake=$TESTDIR/fakeproc mark=9$RANDOM
	fake_proc "$fake"
	set_args sh -c "echo ran >/tmp/ran; exec sleep $mark"

	# Mechanics: mounted in the container, the directory gives regular
	# files at the names init reopens exec.fifo through, and opening one
	# for writing returns at once (a fifo would block until start).
	add_mount "{\"destination\": \"/srv/fakeproc\", \"type\": \"bind\", \"source\": \"$fake\", \"options\": [\"bind\"]}"
	cp "$BUNDLE/config.json" "$TESTDIR/config.orig"
	set_args sh -c 'for n in 3 5 40; do [ -f /srv/fakeproc/self/fd/$n ] && echo x >/srv/fakeproc/self/fd/$n && echo "fd $n: regular"; done'
	id=$(new_id)
	run timeout 20 "$BERTH" --root "$ROOT" run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'fd 3: regular\nfd 5: regular\nfd 40: regular')" ]

	# The attack: that directory in place of the procfs on /proc.
	cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
	update_config '.mounts |= map(select(.destination != "/srv/fakeproc"))'
	UPDATE_CONFIG_ARGS=(--arg src "$fake")
	update_config '.mounts |= map(if .destination == "/proc" then {destination: "/proc", type: "bind", source: $src, options: ["bind"]} else . end)'
	UPDATE_CONFIG_ARGS=()
	local idx
	idx=$(jq '.mounts | map(.destination) | index("/proc")' "$BUNDLE/config.json")
	refused_before_start "$mark" "mounts[$idx]" '"/proc"'

	# The same through a symlink in the image: /p -> /proc.
	cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
	update_config '.mounts |= map(select(.destination != "/srv/fakeproc"))'
	ln -s /proc "$BUNDLE/rootfs/p"
	add_mount "{\"destination\": \"/p\", \"type\": \"bind\", \"source\": \"$fake\", \"options\": [\"bind\"]}"
	idx=$(jq '.mounts | map(.destination) | index("/p")' "$BUNDLE/config.json")
	refused_before_start "$mark" "mounts[$idx]" /proc
}

@test "CVE-2019-16884 class: a proc or sysfs mount whose destination is a symlink (dangling, or to a directory) is refused naming the mount" {
	local mark=9$RANDOM dir idx
	set_args sh -c "echo ran >/tmp/ran; exec sleep $mark"
	cp "$BUNDLE/config.json" "$TESTDIR/config.orig"
	for dir in proc sys; do
		for target in /symlink /elsewhere; do
			mkdir -p "$BUNDLE/rootfs/elsewhere"
			rmdir "$BUNDLE/rootfs/$dir"
			ln -s "$target" "$BUNDLE/rootfs/$dir"
			idx=$(jq --arg d "/$dir" '.mounts | map(.destination) | index($d)' "$BUNDLE/config.json")
			id=$(new_id)
			run_detached berth create --bundle "$BUNDLE" "$id"
			assert_error
			[[ $output == *"mounts[$idx]"*"on /$dir"*"must be mounted on ordinary directory"*"/$dir is a symlink to $target"* ]] ||
				fail "/$dir -> $target: $output"
			[ ! -e "$BUNDLE/rootfs/tmp/ran" ] || fail "the process ran"
			# Nothing was mounted where the symlink leads.
			[ -z "$(ls -A "$BUNDLE/rootfs/elsewhere")" ] || fail "something landed in /elsewhere"
			assert_nothing_left "$id"
			rm "$BUNDLE/rootfs/$dir"
			mkdir "$BUNDLE/rootfs/$dir"
		done
	done
}

@test "--no-pivot: a user namespace in the container cannot mount a bare procfs (the host's are detached), and no host mount is unmounted" {
	# A full procfs outside the rootfs in a shared mount of the test's own:
	# the container's copy is its peer, so an unmount propagating back
	# would show here.
	local peer=$TESTDIR/peer prop
	mkdir -p "$peer"
	mount -t tmpfs berth-peer "$peer"
	EXTRA_CLEANUP+=("umount -R '$peer'")
	mount --make-shared "$peer"
	mkdir "$peer/p"
	mount -t proc proc "$peer/p"
	update_config '.process.capabilities.bounding += ["CAP_SETFCAP"]
		| .process.capabilities.permitted += ["CAP_SETFCAP"]
		| .process.capabilities.effective += ["CAP_SETFCAP"]'

	# Mechanics: the container may make a user and mount namespace of its
	# own and mount there (a tmpfs).
	set_args unshare -mrpf sh -c 'mount -t tmpfs none /tmp && echo tmpfs mounted'
	run berth run --no-pivot --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ] || fail "$output"
	[[ $output == *"tmpfs mounted"* ]]

	set_args unshare -mrpf sh -c 'mount -t proc none /proc && echo proc mounted; mount -t sysfs none /sys && echo sysfs mounted; true'
	for prop in "" shared; do
		[[ -z $prop ]] || update_config '.linux.rootfsPropagation = "shared"'
		run berth run --no-pivot --bundle "$BUNDLE" "$(new_id)"
		[ "$status" -eq 0 ] || fail "propagation '$prop': $output"
		[[ $output != *mounted* ]] || fail "propagation '$prop': $output"
		[[ $output == *"permission denied"* ]] || fail "propagation '$prop': $output"
		mountpoint -q "$peer/p" || fail "propagation '$prop': $peer/p was unmounted on the host"
		mountpoint -q /proc && mountpoint -q /sys
	done
}

@test "CVE-2019-16884: below /proc only the files lxcfs emulates may be covered" {
	local dir=$TESTDIR/cover
	fake_proc "$dir"
	echo "berth fake cpuinfo" >"$TESTDIR/cpuinfo"
	cp "$BUNDLE/config.json" "$TESTDIR/config.orig"
	local dest idx
	for dest in /proc/sys /proc/self /proc/1 /proc/sys/kernel; do
		cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
		add_mount "{\"destination\": \"$dest\", \"type\": \"bind\", \"source\": \"$dir\", \"options\": [\"rbind\"]}"
		idx=$(jq --arg d "$dest" '.mounts | map(.destination) | index($d)' "$BUNDLE/config.json")
		id=$(new_id)
		run_detached berth create --bundle "$BUNDLE" "$id"
		echo "$dest: $output"
		assert_error
		[[ $output == *"mounts[$idx]"* && $output == *"\"$dest\""* && $output == *"below /proc"* ]] || fail "$dest: $output"
		assert_nothing_left "$id"
	done

	# The same through a symlinked directory of the image: /q -> /proc.
	cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
	ln -s /proc "$BUNDLE/rootfs/q"
	add_mount "{\"destination\": \"/q/sys\", \"type\": \"bind\", \"source\": \"$dir\", \"options\": [\"rbind\"]}"
	idx=$(jq '.mounts | map(.destination) | index("/q/sys")' "$BUNDLE/config.json")
	id=$(new_id)
	run_detached berth create --bundle "$BUNDLE" "$id"
	echo "/q/sys: $output"
	assert_error
	[[ $output == *"mounts[$idx]"* && $output == *"/q/sys"* && $output == *"procfs"* ]]
	assert_nothing_left "$id"

	# A file lxcfs emulates may be covered, and the container sees it.
	cp "$TESTDIR/config.orig" "$BUNDLE/config.json"
	add_mount "{\"destination\": \"/proc/cpuinfo\", \"type\": \"bind\", \"source\": \"$TESTDIR/cpuinfo\", \"options\": [\"bind\", \"ro\"]}"
	set_args cat /proc/cpuinfo
	id=$(new_id)
	run berth run --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "berth fake cpuinfo" ]
}

# ---- item 4: a container cannot wedge its own management ----

# berth_within SECONDS ARG...: berth, ended after SECONDS (status 124, or
# 137 if it outlived SIGTERM by 2 s): a hang fails the check at once.
berth_within() {
	local t=$1
	shift
	timeout --kill-after=2 "$t" "$BERTH" --root "$ROOT" "$@"
}

# berth_bg OUT SECONDS ARG...: berth_within in the background, its output
# in OUT; sets BG_PID (timeout's pid). The teardown ends it if the test
# did not wait for it: timeout hands the SIGTERM on to berth.
berth_bg() {
	local out=$1 t=$2
	shift 2
	timeout --kill-after=2 "$t" "$BERTH" --root "$ROOT" "$@" </dev/null >"$out" 2>&1 &
	BG_PID=$!
	EXTRA_CLEANUP+=("kill -TERM $BG_PID 2>/dev/null; wait $BG_PID 2>/dev/null; true")
}

# start_wedge_sleeper: a running container whose process sleeps; sets ID.
start_wedge_sleeper() {
	set_args sleep 300
	ID=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ] || fail "run -d: $output"
}

# make_passwd_fifo: the attack, from inside $ID: /etc/passwd becomes a
# fifo nobody writes; then shows that a plain open of it blocks.
make_passwd_fifo() {
	run berth_within 10 exec "$ID" sh -c 'rm /etc/passwd && mkfifo /etc/passwd && [ -p /etc/passwd ] && echo made'
	echo "$output"
	[ "$status" -eq 0 ] && [ "$output" = made ] || fail "mkfifo /etc/passwd: $output"
	run timeout 2 cat "$BUNDLE/rootfs/etc/passwd"
	[ "$status" -eq 124 ] || fail "a plain open of the fifo did not block: status $status"
}

@test "wedge: a fifo at /etc/passwd holds up no exec" {
	start_wedge_sleeper
	make_passwd_fifo
	# exec of a process without HOME looks it up in /etc/passwd: it
	# returns promptly, and there is no entry to be had.
	run berth_within 10 exec "$ID" sh -c 'echo "HOME=$HOME"'
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[ "$output" = HOME=/ ]
	# So does one as another user.
	run berth_within 10 exec -u 1000 "$ID" sh -c 'echo "HOME=$HOME"'
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[ "$output" = HOME=/ ]
}

@test "wedge: with a fifo at /etc/passwd, kill and delete never wait for an exec in flight" {
	start_wedge_sleeper
	make_passwd_fifo
	# Execs in flight: a long-running one, and one that reads the fifo
	# (berth used to block there holding the container's lock).
	berth_bg "$TESTDIR/exec-sleep.out" 20 exec "$ID" sleep 100
	local long=$BG_PID
	berth_bg "$TESTDIR/exec-true.out" 20 exec "$ID" true
	local short=$BG_PID
	sleep 1
	run berth_within 10 kill "$ID" KILL
	echo "kill: status $status: $output"
	[ "$status" -eq 0 ]
	wait_for_status "$ID" stopped 10
	local rc=0
	wait "$short" || rc=$?
	[ "$rc" -eq 0 ] || fail "exec true: status $rc: $(cat "$TESTDIR/exec-true.out")"
	rc=0
	wait "$long" || rc=$?
	# Killed with the container, not by the timeout.
	[ "$rc" -eq 137 ] || fail "exec sleep: status $rc: $(cat "$TESTDIR/exec-sleep.out")"
	run berth_within 20 delete --force "$ID"
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/$ID" ]

	# delete --force, with an exec reading the fifo in flight.
	start_wedge_sleeper
	make_passwd_fifo
	berth_bg "$TESTDIR/exec-true.out" 20 exec "$ID" true
	short=$BG_PID
	sleep 1
	run berth_within 15 delete --force "$ID"
	echo "delete --force: status $status: $output"
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/$ID" ]
	rc=0
	wait "$short" || rc=$?
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || fail "exec true hung: status $rc"
}

@test "wedge: an endless or a huge /etc/passwd does not hang exec, and a real one still gives HOME" {
	# Caps what a parser that reads it whole would take, on a shared host.
	update_config '.linux.resources.memory = {limit: 268435456}'
	start_wedge_sleeper
	# Endless: /dev/zero, one line without end (mechanics: it is).
	run berth_within 10 exec "$ID" sh -c 'rm /etc/passwd && ln -s /dev/zero /etc/passwd && head -c 1048576 /etc/passwd | wc -c'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 1048576 ]
	run berth_within 10 exec "$ID" sh -c 'echo "HOME=$HOME"'
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[ "$output" = HOME=/ ]

	# Huge: a sparse 1 GiB regular file, NULs without a newline.
	run berth_within 10 exec "$ID" sh -c 'rm /etc/passwd && truncate -s 1G /etc/passwd && stat -c %s /etc/passwd'
	[ "$status" -eq 0 ]
	[ "$output" = 1073741824 ]
	run berth_within 10 exec "$ID" sh -c 'echo "HOME=$HOME"'
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[ "$output" = HOME=/ ]

	# A regular one is read as before.
	run berth_within 10 exec "$ID" sh -c 'rm /etc/passwd && echo "u:x:1000:1000::/home/u:/bin/sh" >/etc/passwd'
	[ "$status" -eq 0 ]
	run berth_within 10 exec -u 1000 "$ID" sh -c 'echo "HOME=$HOME"'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = HOME=/home/u ]
	run berth_within 20 delete --force "$ID"
	[ "$status" -eq 0 ]
}

@test "wedge: a start stuck on an init the container stopped keeps neither kill nor delete --force out" {
	# Without a pid namespace, the container's processes can stop its
	# init (in one they cannot signal it: it is their namespace's init).
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args sleep 300
	local cmd id pid st start rc
	for cmd in kill delete; do
		id=$(new_id)
		run_detached berth create --bundle "$BUNDLE" "$id"
		[ "$status" -eq 0 ] || fail "create: $output"
		pid=$(state_field "$id" pid)
		# The attack, from inside the created container.
		run berth_within 10 exec "$id" kill -STOP "$pid"
		[ "$status" -eq 0 ]
		st=$(awk '{print $3}' "/proc/$pid/stat")
		[ "$st" = T ] || fail "init $pid is in state $st, not stopped"
		# Mechanics: start now waits for init, holding the lock.
		berth_bg "$TESTDIR/start.out" 20 start "$id"
		start=$BG_PID
		sleep 1
		kill -0 "$start" || fail "start did not wait: $(cat "$TESTDIR/start.out")"
		if [[ $cmd == kill ]]; then
			run berth_within 10 kill "$id" KILL
		else
			run berth_within 15 delete --force "$id"
		fi
		echo "$cmd: $output"
		[ "$status" -eq 0 ]
		rc=0
		wait "$start" || rc=$?
		[ "$rc" -eq 1 ] || fail "start: status $rc: $(cat "$TESTDIR/start.out")"
		grep -q "exited before start" "$TESTDIR/start.out"
		if [[ $cmd == kill ]]; then
			run berth_within 20 delete --force "$id"
			[ "$status" -eq 0 ]
		fi
		[ ! -e "$ROOT/$id" ]
	done
}

@test "exec -u: a numeric uid or gid is that id exactly; a malformed spec is refused with one line, never becomes 0" {
	start_wedge_sleeper
	run berth_within 10 exec -u 1 "$ID" sh -c 'id -u; id -g'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '1\n0')" ]
	run berth_within 10 exec -u 1:1 "$ID" sh -c 'id -u; id -g'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '1\n1')" ]
	run berth_within 10 exec -u 0:1000 "$ID" sh -c 'id -u; id -g'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '0\n1000')" ]
	local spec
	for spec in "" 1: :1 : abc root 1:abc -1 +1 0x1 " 1" "1 " 1:2:3 4294967295 99999999999; do
		run berth_within 10 exec -u "$spec" "$ID" id -u
		echo "-u '$spec': $status $output"
		assert_error 255
		[[ ${lines[0]} == "berth: --user \""* ]]
		[[ ${lines[0]} =~ (is\ empty|is\ not\ a\ decimal\ number|is\ out\ of\ range) ]]
	done
}

@test "wedge: delete --force of a container whose init sits in a child freezer cgroup it froze finishes and leaves nothing" {
	[[ -d $CGROUP_MNT/freezer ]] || skip "no cgroup v1 freezer hierarchy"
	start_wedge_sleeper
	local pid fz sub
	pid=$(state_field "$ID" pid)
	fz=$(jq -r '.cgroup.paths.freezer // empty' "$ROOT/$ID/state.json")
	[[ -n $fz && -d $fz ]] || fail "no freezer cgroup in the state: $(jq -c .cgroup "$ROOT/$ID/state.json")"
	# What a container with a writable cgroup mount can do (done from the
	# host here, in the container's own cgroup): a child cgroup, init in
	# it, frozen. The container's cgroup itself still reads THAWED.
	sub=$fz/wedge
	mkdir "$sub"
	EXTRA_CLEANUP+=("if [[ -d $sub ]]; then echo THAWED >$sub/freezer.state; rmdir $sub; fi; true")
	echo "$pid" >"$sub/cgroup.procs"
	echo FROZEN >"$sub/freezer.state"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(cat "$sub/freezer.state") == FROZEN ]] && break
		sleep 0.05
	done
	[ "$(cat "$sub/freezer.state")" = FROZEN ]
	[ "$(cat "$fz/freezer.state")" = THAWED ]
	# Mechanics: a frozen task does not die of SIGKILL.
	kill -KILL "$pid"
	sleep 0.5
	pid_alive "$pid" || fail "init $pid died while frozen"

	run berth_within 20 delete --force "$ID"
	echo "status $status: $output"
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/$ID" ]
	! pid_alive "$pid" || fail "init $pid outlived delete --force"
	[ ! -d "$fz" ]
}

# plant_fast_record DIR PID: writes, as the unprivileged user nobody, a
# container state in DIR that names PID as its init: the fast record (init's
# pid and start time, no cgroup) and the two files its commands look for.
plant_fast_record() {
	local dir=$1 pid=$2 start le32 le64
	start=$(awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$pid/stat")
	le32=$(printf '%08x' "$pid" | sed -E 's/(..)(..)(..)(..)/\\x\4\\x\3\\x\2\\x\1/')
	le64=$(printf '%016x' "$start" | sed -E 's/(..)(..)(..)(..)(..)(..)(..)(..)/\\x\8\\x\7\\x\6\\x\5\\x\4\\x\3\\x\2\\x\1/')
	# u32 "BFST", u32 18, i32 pid, u64 start, u16 0 (freeze file),
	# u16 0 (thawed), u16 0 (cgroup directories); little-endian.
	printf "BFST\\x12\\x00\\x00\\x00$le32$le64\\x00\\x00\\x00\\x00\\x00\\x00" |
		setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '
			mkdir "$1" && cat >"$1/fast" && echo "{}" >"$1/state.json" && echo "{}" >"$1/config.json"
		' sh "$dir"
}

@test "--root that another user owns or may write is refused: a planted state cannot make berth signal a host process" {
	# A host process the attacker wants killed.
	sleep 1000 &
	victim=$!
	track_pid "$victim"
	for mode in owned-by-nobody world-writable; do
		r=$(mktemp -d /tmp/berth-secroot.XXXXXX)
		EXTRA_CLEANUP+=("rm -rf '$r'")
		if [[ $mode == owned-by-nobody ]]; then
			chown 65534:65534 "$r"
			chmod 755 "$r"
		else
			chmod 1777 "$r"
		fi
		# The mechanics: nobody writes a state naming the victim as init.
		plant_fast_record "$r/planted" "$victim"
		[ "$(stat -c %u "$r/planted/fast")" = 65534 ]
		for fast in on off; do
			run env _BERTH_FASTCMD=$fast timeout 10 "$BERTH" --root "$r" kill planted KILL
			echo "$mode, fast path $fast: $output"
			pid_alive "$victim" || fail "berth killed pid $victim through a state planted in $r ($mode)"
			assert_error
			[[ $output == *"--root $r: "* ]]
		done
		# Nothing berth makes goes there either.
		id=$(new_id)
		run_detached timeout 60 "$BERTH" --root "$r" create --bundle "$BUNDLE" "$id"
		assert_error
		[[ $output == *"--root $r: "* ]]
		[ ! -e "$r/$id" ]
		[ ! -e "$r/.berth-cache" ]
		run timeout 10 "$BERTH" --root "$r" list
		assert_error
		rm -rf "$r"
	done
	# berth's own root (0700, berth's uid) still works.
	mkdir -p -m 0700 "$ROOT"
	run berth list
	[ "$status" -eq 0 ]
}

@test "exec joins init's namespaces through a pidfd checked against its start time, never /proc/<pid>/ns paths (pid reuse)" {
	update_config '.hostname = "sec-pidfd" | .process.args = ["sleep", "1000"]'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	# A host process: what a reused pid would name.
	sleep 1000 &
	helper=$!
	track_pid "$helper"
	# In a mount namespace of its own, /proc/<init>/ns/* name the host
	# process's namespaces, as they would once init's pid is reused: the
	# mechanics are checked (exit 8) before berth exec runs. (mnt still
	# names init's, through its task directory: the kernel refuses to bind
	# an older mount namespace's file.)
	run unshare -m --propagation private sh -c '
		d=/proc/$1/ns
		mount -t tmpfs secpidfd "$d" || exit 9
		for ns in user uts ipc net pid cgroup time; do
			: >"$d/$ns" && mount --bind "/proc/$2/ns/$ns" "$d/$ns" || exit 9
		done
		ln -s "/proc/$1/task/$1/ns/mnt" "$d/mnt" || exit 9
		[ "$(stat -L -c %i "$d/uts")" = "$(stat -L -c %i "/proc/$2/ns/uts")" ] || exit 8
		exec timeout 30 "$3" --root "$4" exec "$5" hostname
	' sh "$pid" "$helper" "$BERTH" "$ROOT" "$id"
	echo "$output"
	[ "$status" -ne 9 ] || fail "could not put the host's namespaces at /proc/$pid/ns"
	[ "$status" -ne 8 ] || fail "/proc/$pid/ns/uts does not name the host's uts namespace"
	[ "$status" -eq 0 ]
	[ "$output" = sec-pidfd ] || fail "exec ran in the namespaces /proc/$pid/ns named (hostname $output), not init's"
	# And an init that is gone is refused, not joined.
	berth kill "$id" KILL
	wait_for_status "$id" stopped
	run berth exec "$id" true
	assert_error 255
}

# reuse_pid PID: starts a host `sleep` that gets the (free) PID, through
# /proc/sys/kernel/ns_last_pid, and sets REUSED to it; retries while other
# processes of the machine take the pid first.
reuse_pid() {
	local i
	REUSED=
	for ((i = 0; i < 100; i++)); do
		echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid
		sleep 1000 &
		track_pid "$!"
		if [[ $! == "$1" ]]; then
			REUSED=$!
			return 0
		fi
		kill "$!"
	done
	fail "could not start a process with pid $1"
}

@test "kill and delete --force open init's pidfd before the start-time check: a pid reused in between gets no signal" {
	command -v strace >/dev/null || fail "no strace (package strace)"
	set_args sleep 1000
	for cmd in kill delete; do
		for fast in on off; do
			id=$(new_id)
			run_detached berth run -d --bundle "$BUNDLE" "$id"
			[ "$status" -eq 0 ]
			pid=$(state_field "$id" pid)
			args=(kill "$id" KILL)
			[[ $cmd == delete ]] && args=(delete --force "$id")
			# strace holds berth's first pidfd_open for 3 s: the window a
			# preempted berth has between reading the state and the pidfd.
			_BERTH_FASTCMD=$fast strace -f -qq -o /dev/null \
				-e trace=pidfd_open -e inject=pidfd_open:delay_enter=3000000:when=1 \
				timeout 30 "$BERTH" --root "$ROOT" "${args[@]}" >"$TESTDIR/out" 2>&1 &
			runtime=$!
			sleep 1
			# Meanwhile init dies and a host process gets its pid.
			kill -KILL "$pid"
			for _ in $(seq 200); do [[ -e /proc/$pid ]] || break; sleep 0.005; done
			[[ ! -e /proc/$pid ]] || fail "init $pid was not reaped"
			reuse_pid "$pid"
			rc=0
			wait "$runtime" || rc=$?
			echo "$cmd (fast path $fast): status $rc: $(cat "$TESTDIR/out")"
			pid_alive "$REUSED" || fail "$cmd (fast path $fast) killed pid $REUSED, which reused init's pid"
			kill "$REUSED"
		done
	done
}

@test "exec -t takes its pty from the container's devpts ptmx (TIOCGPTPEER), not from names the container can redirect" {
	# A container with CAP_SYS_ADMIN puts a devpts instance of its own
	# behind /dev/ptmx and every /dev/pts/N name.
	update_config '.process.terminal = false
		| .process.capabilities.bounding += ["CAP_SYS_ADMIN"]
		| .process.capabilities.effective += ["CAP_SYS_ADMIN"]
		| .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	set_args sh -c '
		mount -t tmpfs sectmp /tmp && mkdir /tmp/evil &&
		mount -t devpts -o newinstance,ptmxmode=0666 evil /tmp/evil &&
		mount -t tmpfs evilpts /dev/pts && ln -s /tmp/evil/ptmx /dev/pts/ptmx &&
		for i in 0 1 2 3 4 5 6 7 8 9; do ln -s /tmp/evil/$i /dev/pts/$i; done &&
		: >/tmp/ready; exec sleep 1000'
	id=$(new_id)
	run_detached berth run -d --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ]
	for _ in $(seq 100); do berth exec "$id" test -e /tmp/ready && break; sleep 0.05; done
	# The mechanics: /dev/ptmx now opens the container's own instance.
	run berth exec "$id" readlink -f /dev/ptmx
	[ "$output" = /tmp/evil/ptmx ] || fail "the redirect is not in place: $output"
	start_recvtty
	run_detached berth exec -t -d --console-socket "$SOCK" "$id" sh -c 'tty; sleep 1'
	echo "$output"
	for _ in $(seq 100); do pid_alive "$RECVTTY_PID" || break; sleep 0.05; done
	tty=$(tr -d '\r' <"$TESTDIR/tty.out")
	[ "$status" -eq 255 ] || fail "exec -t ran on a pty the container chose: tty $tty"
	assert_error 255
	[[ $output == *"/dev/pts/ptmx"* ]]
}

@test "init is non-dumpable until execve, and berth without CAP_SYS_PTRACE still creates and starts" {
	command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
	update_config '.process.args = ["sleep", "1000"]'
	id=$(new_id)
	# Root without CAP_SYS_PTRACE (as under a container runtime's default
	# caps): berth must not need ptrace rights over its own non-dumpable init.
	run_detached setpriv --bounding-set=-sys_ptrace "$BERTH" --root "$ROOT" create --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$status" -eq 0 ]
	pid=$(state_field "$id" pid)
	# A caller with init's caps but no CAP_SYS_PTRACE may read the exe link
	# of a dumpable process of its uid only: refused before start ...
	run setpriv --bounding-set=-sys_ptrace readlink "/proc/$pid/exe"
	echo "before start: $status $output"
	[ "$status" -ne 0 ]
	run setpriv --bounding-set=-sys_ptrace "$BERTH" --root "$ROOT" start "$id"
	[ "$status" -eq 0 ]
	# ... and allowed once the workload has exec'd (the mechanics are real).
	for _ in $(seq 50); do
		[ "$(readlink "/proc/$pid/exe")" = /bin/busybox ] && break
		sleep 0.05
	done
	run setpriv --bounding-set=-sys_ptrace readlink "/proc/$pid/exe"
	echo "after start: $status $output"
	[ "$status" -eq 0 ]
	[ "$output" = /bin/busybox ]
}

# no_ptrace_userns: a user-namespace config (so Go init, non-dumpable as
# root's) whose root reaches the bundle; mount points are made here, as
# the container's root may not write a rootfs of host root's.
no_ptrace_userns() {
	traversable
	mkdir -p "$BUNDLE/rootfs/mnt"
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
}

# run_no_ptrace ARGS...: berth as root without CAP_SYS_PTRACE (bounding and
# inheritable sets), as under a container manager's default caps.
run_no_ptrace() {
	run setpriv --bounding-set=-sys_ptrace --inh-caps=-sys_ptrace "$BERTH" --root "$ROOT" "$@"
}

@test "berth without CAP_SYS_PTRACE runs a user-namespace container (Go init) whose bind source only berth can reach" {
	command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
	no_ptrace_userns
	# Mechanics: the container's root (host 100000) cannot search the 0700
	# directory, so berth opens the source for init from init's mount
	# namespace, which it joins without ptrace rights over init.
	mkdir -m 0700 "$TESTDIR/private"
	mkdir "$TESTDIR/private/data"
	echo only-berth >"$TESTDIR/private/data/f"
	setpriv --reuid 100000 --regid 100000 --clear-groups cat "$TESTDIR/private/data/f" 2>/dev/null &&
		fail "host uid 100000 reads the source itself"
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$TESTDIR/private/data\", \"options\": [\"bind\"]}"
	set_args cat /mnt/f
	run_no_ptrace run --bundle "$BUNDLE" "$(new_id)"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = only-berth ]
}

@test "berth without CAP_SYS_PTRACE runs a user-namespace container with an idmap mount that takes the container's mappings" {
	command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
	no_ptrace_userns
	mkdir "$TESTDIR/src"
	touch "$TESTDIR/src/root-file"
	# berth makes the id-mapped tree in init's mount namespace with init's
	# user namespace: both reached through fds init sent.
	add_mount "{\"destination\": \"/mnt\", \"type\": \"bind\", \"source\": \"$TESTDIR/src\", \"options\": [\"bind\", \"idmap\"]}"
	set_args stat -c %u:%g /mnt/root-file
	run_no_ptrace run --bundle "$BUNDLE" "$(new_id)"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = 0:0 ]
}

@test "exec before start by berth without CAP_SYS_PTRACE fails with one line naming CAP_SYS_PTRACE, and exec after start works" {
	command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
	set_args sleep 1000
	id=$(new_id)
	run_detached setpriv --bounding-set=-sys_ptrace --inh-caps=-sys_ptrace "$BERTH" --root "$ROOT" create --bundle "$BUNDLE" "$id"
	[ "$status" -eq 0 ] || fail "create: $output"
	run_no_ptrace exec "$id" sh -c 'echo ran >/tmp/exec-ran'
	assert_error 255
	[[ $output == *CAP_SYS_PTRACE* ]] || fail "does not name CAP_SYS_PTRACE"
	[ ! -e "$BUNDLE/rootfs/tmp/exec-ran" ] || fail "the exec's process ran"
	run_no_ptrace start "$id"
	[ "$status" -eq 0 ]
	run_no_ptrace exec "$id" echo ok
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}
