#!/usr/bin/env bats
# podman (Debian's podman and conmon) driving berth as its OCI runtime.
# scripts/clients/podman.sh makes the setup: config, storage and state under
# one temp dir, cgroups under a parent of its own, no network, explicit
# ulimits. The file starts it once (setup_file) and removes it at the end
# (teardown_file); each test removes the containers it made.

bats_require_minimum_version 1.5.0

CLIENTS_REPO=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
: "${BERTH:=$CLIENTS_REPO/berth}"
load ../helpers
REPO=$CLIENTS_REPO
# podman passes berth no --root: berth's state is in its default one.
BERTH_DEFAULT_ROOT=/run/berth

source "$REPO/scripts/clients/podman.sh"

setup_file() {
	[[ $(id -u) == 0 ]] || { file_skip "podman tests: must run as root (rootful podman, cgroups, mounts)"; return 0; }
	[[ -x $BERTH ]] || { file_skip "podman tests: no runtime binary at $BERTH (run make)"; return 0; }
	podman_install >&3 2>&1 ||
		{ file_skip "podman tests: podman/conmon are not installed and apt-get could not install them"; return 0; }
	PODMAN_ENV_DIR=$(mktemp -d /tmp/berth-podman.XXXXXX)
	podman_env_up "$PODMAN_ENV_DIR"
	export PODMAN_DIR PODMAN_CGROUP_PARENT
	# The container's root: a copy of the busybox rootfs of this bats run
	# (podman writes mount points into it).
	cp -a "$(cached_rootfs)" "$PODMAN_DIR/rootfs"
	export PODMAN_ROOTFS=$PODMAN_DIR/rootfs
}

teardown_file() {
	podman_env_down
}

setup() {
	: >"$BATS_TEST_TMPDIR/ids"
	# bats 1.8 cannot skip from setup_file: it leaves the reason here.
	[[ ! -s $FILE_SKIP ]] || skip "$(<"$FILE_SKIP")"
}

# Every container of the setup is this test's (the tests run one by one).
teardown() {
	[[ ! -s $FILE_SKIP ]] || return 0
	local problems=() id
	bpodman rm --all --force --time 0 >/dev/null 2>&1 || true
	if [[ -n $(bpodman ps --all --quiet 2>/dev/null) ]]; then
		problems+=("podman containers left: $(bpodman ps --all --quiet | tr '\n' ' ')")
	fi
	while read -r id; do
		[[ -n $id ]] || continue
		if [[ -e $BERTH_DEFAULT_ROOT/$id ]]; then
			problems+=("berth state left in $BERTH_DEFAULT_ROOT/$id")
			"$BERTH" delete --force "$id" >/dev/null 2>&1 || true
		fi
		for d in /sys/fs/cgroup/*/"${PODMAN_CGROUP_PARENT#/}"/libpod-"$id"; do
			[[ -d $d ]] && problems+=("cgroup left: $d")
		done
	done <"$BATS_TEST_TMPDIR/ids"
	if [[ ${#problems[@]} -gt 0 ]]; then
		printf 'teardown: %s\n' "${problems[@]}" >&2
		return 1
	fi
}

# new_ctr ID: records a container id for the teardown's checks.
new_ctr() {
	echo "$1" >>"$BATS_TEST_TMPDIR/ids"
}

# run_d NAME CMD...: `podman run -d` on the rootfs; sets CID.
run_d() {
	local name=$1
	shift
	run_detached bpodman run -d --name "$name" --rootfs "$PODMAN_ROOTFS" "$@"
	[ "$status" -eq 0 ] || fail "podman run -d: $output"
	# The id: the one line of 64 hex digits (warnings may come with it).
	CID=$(grep -E '^[0-9a-f]{64}$' <<<"$output" | tail -n1)
	[ -n "$CID" ] || fail "no container id in: $output"
	new_ctr "$CID"
}

@test "podman: containers.conf makes berth the runtime (no --runtime needed)" {
	run env CONTAINERS_CONF="$PODMAN_DIR/containers.conf" \
		CONTAINERS_STORAGE_CONF="$PODMAN_DIR/storage.conf" \
		timeout --kill-after=5 60 podman --root "$PODMAN_DIR/graph" --runroot "$PODMAN_DIR/run" \
		info --format '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}'
	[ "$status" -eq 0 ]
	[ "$output" = "berth $BERTH" ]
	run env CONTAINERS_CONF="$PODMAN_DIR/containers.conf" \
		CONTAINERS_STORAGE_CONF="$PODMAN_DIR/storage.conf" \
		timeout --kill-after=5 60 podman --root "$PODMAN_DIR/graph" --runroot "$PODMAN_DIR/run" \
		run --rm --cgroup-parent "$PODMAN_CGROUP_PARENT" --rootfs "$PODMAN_ROOTFS" echo via-config
	[ "$status" -eq 0 ]
	[ "$output" = "via-config" ]
}

@test "podman run --rm --rootfs prints the container's output and leaves nothing" {
	run bpodman run --rm --cidfile "$BATS_TEST_TMPDIR/cid" --rootfs "$PODMAN_ROOTFS" \
		sh -c 'echo hello from berth; echo "pid $$"; ulimit -n'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello from berth" ]
	[ "${lines[1]}" = "pid 1" ]
	[ "${lines[2]}" = "1024" ]
	new_ctr "$(cat "$BATS_TEST_TMPDIR/cid")"
	run bpodman ps --all --quiet
	[ "$output" = "" ]
}

@test "podman run: the container's exit status is podman's" {
	run bpodman run --rm --rootfs "$PODMAN_ROOTFS" sh -c 'exit 42'
	[ "$status" -eq 42 ]
}

@test "podman run -d: the container runs, and berth's state names the same pid" {
	run_d detached sleep 1000
	run bpodman inspect --format '{{.State.Status}} {{.State.Pid}}' "$CID"
	[ "$status" -eq 0 ]
	[[ $output == "running "* ]]
	local pid=${output#running }
	run "$BERTH" --root "$BERTH_DEFAULT_ROOT" state "$CID"
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = running ]
	[ "$(jq -r .pid <<<"$output")" = "$pid" ]
	# Its cgroup is under the setup's parent.
	grep -q ":memory:$PODMAN_CGROUP_PARENT/libpod-$CID\$" "/proc/$pid/cgroup"
}

@test "podman exec: runs in the container, output and exit status come back" {
	run_d ex sleep 1000
	run bpodman exec ex sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "; echo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "in-exec" ]
	[ "${lines[1]}" = "sleep 1000 " ]
	run bpodman exec ex sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run bpodman exec --env FOO=bar --workdir /tmp ex sh -c 'echo "$FOO $PWD"'
	[ "$status" -eq 0 ]
	[ "$output" = "bar /tmp" ]
}

@test "podman exec -t: the process gets a terminal (podman itself on a tty)" {
	command -v script >/dev/null || skip "no script(1) (util-linux) to give podman a tty"
	run_d ext sleep 1000
	local cmd
	cmd=$(printf '%q ' podman --root "$PODMAN_DIR/graph" --runroot "$PODMAN_DIR/run" \
		--runtime "$BERTH" exec -t ext sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty')
	run env CONTAINERS_CONF="$PODMAN_DIR/containers.conf" \
		CONTAINERS_STORAGE_CONF="$PODMAN_DIR/storage.conf" \
		timeout --kill-after=5 60 script -qec "$cmd" /dev/null
	[ "$status" -eq 0 ]
	[[ $output == *"/dev/pts/"* ]] || fail "no pty: $output"
	[[ $output == *"stdio-is-tty"* ]]
}

@test "podman run -t: the container's process gets a terminal (console socket)" {
	command -v script >/dev/null || skip "no script(1) (util-linux) to give podman a tty"
	local cmd
	cmd=$(printf '%q ' podman --root "$PODMAN_DIR/graph" --runroot "$PODMAN_DIR/run" \
		--runtime "$BERTH" run --rm -t --cgroup-parent "$PODMAN_CGROUP_PARENT" \
		--rootfs "$PODMAN_ROOTFS" sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty')
	run env CONTAINERS_CONF="$PODMAN_DIR/containers.conf" \
		CONTAINERS_STORAGE_CONF="$PODMAN_DIR/storage.conf" \
		timeout --kill-after=5 60 script -qec "$cmd" /dev/null
	[ "$status" -eq 0 ]
	[[ $output == *"/dev/pts/0"* ]] || fail "no pty: $output"
	[[ $output == *"stdio-is-tty"* ]]
}

@test "podman exec -t without a tty on podman's side still gives a pty" {
	run_d ext2 sleep 1000
	run bpodman exec -t ext2 tty
	[ "$status" -eq 0 ]
	[[ $output == "/dev/pts/"* ]] || fail "no pty: $output"
	# Without -t the process has no terminal.
	run bpodman exec ext2 tty
	[ "$status" -ne 0 ]
	[[ $output == *"not a tty"* ]]
}

@test "podman stop: SIGTERM reaches the container, which exits by itself" {
	run_d stopme sh -c 'trap "exit 3" TERM; sleep 1000 & wait'
	local start=$SECONDS
	run bpodman stop --time 30 stopme
	[ "$status" -eq 0 ]
	# Well before the 30 s after which podman would use SIGKILL.
	[ $((SECONDS - start)) -lt 20 ]
	run bpodman inspect --format '{{.State.Status}} {{.State.ExitCode}}' stopme
	[ "$output" = "exited 3" ]
}

@test "podman kill: the signal is delivered (137 for SIGKILL)" {
	run_d killme sleep 1000
	run bpodman kill --signal KILL killme
	[ "$status" -eq 0 ]
	run bpodman wait killme
	[ "$output" = "137" ]
}

@test "podman rm: removes the container, its berth state and its cgroup" {
	run_d rmme sleep 1000
	[ -e "$BERTH_DEFAULT_ROOT/$CID" ]
	[ -n "$(ls -d /sys/fs/cgroup/*/"${PODMAN_CGROUP_PARENT#/}/libpod-$CID" 2>/dev/null)" ]
	run bpodman rm --force --time 0 rmme
	[ "$status" -eq 0 ]
	run bpodman ps --all --quiet
	[ "$output" = "" ]
	[ ! -e "$BERTH_DEFAULT_ROOT/$CID" ]
	[ -z "$(ls -d /sys/fs/cgroup/*/"${PODMAN_CGROUP_PARENT#/}/libpod-$CID" 2>/dev/null)" ]
}

@test "podman pause/unpause: berth freezes and thaws the container" {
	run_d pauseme sleep 1000
	run bpodman pause pauseme
	[ "$status" -eq 0 ]
	[ "$("$BERTH" --root "$BERTH_DEFAULT_ROOT" state "$CID" | jq -r .status)" = paused ]
	run bpodman inspect --format '{{.State.Status}}' pauseme
	[ "$output" = paused ]
	run bpodman unpause pauseme
	[ "$status" -eq 0 ]
	[ "$("$BERTH" --root "$BERTH_DEFAULT_ROOT" state "$CID" | jq -r .status)" = running ]
}

@test "podman update --memory: the limit reaches the container's memory cgroup" {
	run_d updme sleep 1000
	run bpodman update --memory 64m updme
	[ "$status" -eq 0 ] || fail "podman update: $output"
	local f=/sys/fs/cgroup/memory/${PODMAN_CGROUP_PARENT#/}/libpod-$CID/memory.limit_in_bytes
	[ "$(cat "$f")" = $((64 * 1024 * 1024)) ]
}

@test "podman run: a missing executable is podman's 127, with berth's message" {
	run -127 bpodman run --rm --rootfs "$PODMAN_ROOTFS" nosuchcmd
	[[ $output == *'berth: exec: "nosuchcmd": executable file not found in $PATH'* ]] ||
		fail "unexpected message: $output"
	run -127 bpodman run --rm --rootfs "$PODMAN_ROOTFS" /no/such/file
	[[ $output == *'berth: exec: "/no/such/file": no such file or directory'* ]] ||
		fail "unexpected message: $output"
	run bpodman ps --all --quiet
	[ "$output" = "" ]
}

@test "podman run: a file without exec permission is podman's 126" {
	# A file of this container's own: a new file in the shared rootfs copy.
	local f=noexec.$BATS_TEST_NUMBER
	printf 'echo x\n' >"$PODMAN_ROOTFS/$f"
	chmod 0644 "$PODMAN_ROOTFS/$f"
	run bpodman run --rm --rootfs "$PODMAN_ROOTFS" "/$f"
	rm -f "$PODMAN_ROOTFS/$f"
	[ "$status" -eq 126 ]
	[[ $output == *"berth: exec: \"/$f\": permission denied"* ]] ||
		fail "unexpected message: $output"
}

@test "podman exec: a missing executable is 127" {
	run_d exfail sleep 1000
	run -127 bpodman exec exfail nosuchcmd
	[[ $output == *'executable file not found'* ]]
}

@test "podman: an image from podman import runs on overlay storage" {
	grep -qw overlay /proc/filesystems || skip "the kernel has no overlay filesystem for podman's storage"
	local tar=$BATS_TEST_TMPDIR/rootfs.tar
	tar -C "$(cached_rootfs)" -cf "$tar" .
	run bpodman import "$tar" localhost/berth-busybox:test
	[ "$status" -eq 0 ]
	run bpodman run --rm localhost/berth-busybox:test sh -c 'echo from-image > /tmp/x; cat /tmp/x'
	[ "$status" -eq 0 ]
	[ "$output" = "from-image" ]
	run bpodman rmi localhost/berth-busybox:test
	[ "$status" -eq 0 ]
	rm -f "$tar"
}

@test "podman run --sdnotify=container: READY=1 from the container reaches podman's NOTIFY_SOCKET through berth" {
	local tool=$REPO/tests/integration/tools/bin/sdnotify sock=$BATS_TEST_TMPDIR/host-notify.sock
	[ -x "$tool" ] || fail "no $tool (make recvtty)"
	cp "$tool" "$PODMAN_ROOTFS/bin/sdnotify"
	"$tool" listen -n 2 -t 60 "$sock" >"$BATS_TEST_TMPDIR/notify.out" 2>&1 &
	local lpid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	NOTIFY_SOCKET=$sock run_detached bpodman run -d --name notify --sdnotify=container \
		--cidfile "$BATS_TEST_TMPDIR/cid" --rootfs "$PODMAN_ROOTFS" \
		sh -c 'echo "$NOTIFY_SOCKET"; sdnotify send READY=1; exec sleep 1000'
	[ -s "$BATS_TEST_TMPDIR/cid" ] && new_ctr "$(cat "$BATS_TEST_TMPDIR/cid")"
	# The listener ends by itself (after 2 datagrams, or 60 s).
	[ "$status" -eq 0 ] || { kill "$lpid"; fail "podman run -d: $output"; }
	wait "$lpid" || fail "listener: $(cat "$BATS_TEST_TMPDIR/notify.out")"
	grep -qx 'READY=1' "$BATS_TEST_TMPDIR/notify.out"
	grep -qx 'MAINPID=[0-9]*' "$BATS_TEST_TMPDIR/notify.out"
	# The container used berth's relay socket.
	run bpodman logs notify
	[ "$output" = /run/notify/notify.sock ]
}
