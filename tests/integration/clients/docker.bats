#!/usr/bin/env bats
# Docker (Debian's docker.io: dockerd, its managed containerd and the runc
# shim) driving berth, registered in daemon.json as the runtime "berth".
# scripts/clients/docker.sh starts a private dockerd once for the file
# (setup_file) and stops it by pid at the end (teardown_file); each test
# removes the containers it made. The image is a `docker import` of the
# busybox rootfs.

bats_require_minimum_version 1.5.0

CLIENTS_REPO=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
: "${BERTH:=$CLIENTS_REPO/berth}"
load ../helpers
REPO=$CLIENTS_REPO

source "$REPO/scripts/clients/docker.sh"

IMAGE=berth-busybox:test

setup_file() {
	[[ $(id -u) == 0 ]] || { file_skip "docker tests: must run as root (dockerd, cgroups, mounts)"; return 0; }
	[[ -x $BERTH ]] || { file_skip "docker tests: no runtime binary at $BERTH (run make)"; return 0; }
	docker_install >&3 2>&1 ||
		{ file_skip "docker tests: docker.io is not installed and apt-get could not install it"; return 0; }
	DOCKER_ENV_DIR=$(mktemp -d /tmp/berth-docker.XXXXXX)
	if ! docker_env_up "$DOCKER_ENV_DIR" >&3 2>&1; then
		docker_env_down
		false
	fi
	export DOCKER_DIR DOCKER_CGROUP_PARENT DOCKER_CLI
	# The image: the busybox rootfs of this run, plus a file without exec
	# permission (for the 126 test).
	local fs=$DOCKER_DIR/image-rootfs
	cp -a "$(cached_rootfs)" "$fs"
	printf 'echo x\n' >"$fs/noexec"
	chmod 0644 "$fs/noexec"
	tar -C "$fs" -cf "$DOCKER_DIR/rootfs.tar" .
	bdocker import "$DOCKER_DIR/rootfs.tar" "$IMAGE" >/dev/null
	rm -rf "$fs" "$DOCKER_DIR/rootfs.tar"
}

teardown_file() {
	docker_env_down
}

setup() {
	: >"$BATS_TEST_TMPDIR/ids"
	# bats 1.8 cannot skip from setup_file: it leaves the reason here.
	[[ ! -s $FILE_SKIP ]] || skip "$(<"$FILE_SKIP")"
}

# Every container of the daemon is this test's (the tests run one by one).
teardown() {
	[[ ! -s $FILE_SKIP ]] || return 0
	local problems=() ids id d
	ids=$(bdocker ps --all --quiet 2>/dev/null)
	[[ -z $ids ]] || bdocker rm --force $ids >/dev/null 2>&1 || true
	ids=$(bdocker ps --all --quiet 2>/dev/null)
	[[ -z $ids ]] || problems+=("docker containers left: $ids")
	while read -r id; do
		[[ -n $id ]] || continue
		d=$(berth_root_of "$id")
		[[ -z $d ]] || problems+=("berth state left: $d/$id")
		for d in /sys/fs/cgroup/*/"${DOCKER_CGROUP_PARENT#/}/$id"; do
			[[ -d $d ]] && problems+=("cgroup left: $d")
		done
	done <"$BATS_TEST_TMPDIR/ids"
	if [[ ${#problems[@]} -gt 0 ]]; then
		printf 'teardown: %s\n' "${problems[@]}" >&2
		return 1
	fi
}

# berth_root_of ID: the --root under the exec-root in which the shim keeps
# berth's state for container ID (empty when there is none).
berth_root_of() {
	local d
	d=$(find "$DOCKER_DIR/exec" -mindepth 3 -maxdepth 3 -path "$DOCKER_DIR/exec/runtime-*/*/$1" -type d 2>/dev/null | head -n1)
	[[ -n $d ]] && dirname "$d"
	return 0
}

# run_d ARGS...: `docker run -d --runtime berth --network none ARGS`; sets CID.
run_d() {
	run_detached bdocker run -d --runtime berth --network none "$@"
	[ "$status" -eq 0 ] || fail "docker run -d: $output"
	# The id: the one line of 64 hex digits (warnings may come with it).
	CID=$(grep -E '^[0-9a-f]{64}$' <<<"$output" | tail -n1)
	[ -n "$CID" ] || fail "no container id in: $output"
	echo "$CID" >>"$BATS_TEST_TMPDIR/ids"
}

@test "docker: daemon.json registers berth as a runtime" {
	run bdocker info --format '{{json .Runtimes}}'
	[ "$status" -eq 0 ]
	[ "$(jq -r .berth.path <<<"$output")" = "$BERTH" ]
}

@test "docker run --rm --runtime berth prints the container's output and leaves nothing" {
	run bdocker run --rm --runtime berth --network none --cidfile "$BATS_TEST_TMPDIR/cid" "$IMAGE" \
		sh -c 'echo hello from berth; echo "pid $$"; ulimit -n; hostname'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello from berth" ]
	[ "${lines[1]}" = "pid 1" ]
	[ "${lines[2]}" = "1024" ]
	local id
	id=$(<"$BATS_TEST_TMPDIR/cid")
	echo "$id" >>"$BATS_TEST_TMPDIR/ids"
	[ "${lines[3]}" = "${id:0:12}" ]
	run bdocker ps --all --quiet
	[ "$output" = "" ]
}

@test "docker run: the container's exit status is docker's" {
	run bdocker run --rm --runtime berth --network none "$IMAGE" sh -c 'exit 42'
	[ "$status" -eq 42 ]
}

@test "docker run -d: the container runs under berth, whose state names the same pid" {
	run_d "$IMAGE" sleep 1000
	run bdocker inspect --format '{{.State.Status}} {{.State.Pid}} {{.HostConfig.Runtime}}' "$CID"
	[ "$status" -eq 0 ]
	local st pid rt
	read -r st pid rt <<<"$output"
	[ "$st" = running ]
	[ "$rt" = berth ]
	local root
	root=$(berth_root_of "$CID")
	[ -n "$root" ] || fail "no berth state for $CID under $DOCKER_DIR/exec"
	run "$BERTH" --root "$root" state "$CID"
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = running ]
	[ "$(jq -r .pid <<<"$output")" = "$pid" ]
	grep -q ":memory:$DOCKER_CGROUP_PARENT/$CID\$" "/proc/$pid/cgroup"
}

@test "docker run: Docker's spec (prestart hook, cpu.shares 0, blockIO.weight 0) runs" {
	run_d "$IMAGE" sleep 1000
	local spec
	spec=$(find "$DOCKER_DIR/exec/containerd" -path "*/$CID/config.json" | head -n1)
	[ -n "$spec" ] || fail "no bundle config.json for $CID"
	# What this test is about: the spec really carries these.
	[ "$(jq '.hooks.prestart | length' "$spec")" -ge 1 ]
	[ "$(jq '.linux.resources.cpu.shares' "$spec")" = 0 ]
	[ "$(jq '.linux.resources.blockIO.weight' "$spec")" = 0 ]
	run bdocker inspect --format '{{.State.Status}}' "$CID"
	[ "$output" = running ]
}

@test "docker logs: the container's stdout and stderr reach the daemon" {
	run_d "$IMAGE" sh -c 'echo to-stdout; echo to-stderr >&2; sleep 1000'
	local i
	for ((i = 0; i < 50; i++)); do
		run bdocker logs "$CID"
		[[ $output == *to-stderr* ]] && break
		sleep 0.1
	done
	[[ $output == *to-stdout* && $output == *to-stderr* ]] || fail "logs: $output"
}

@test "docker exec: runs in the container, output and exit status come back" {
	run_d "$IMAGE" sleep 1000
	run bdocker exec "$CID" sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "; echo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "in-exec" ]
	[ "${lines[1]}" = "sleep 1000 " ]
	run bdocker exec "$CID" sh -c 'exit 7'
	[ "$status" -eq 7 ]
	run bdocker exec --env FOO=bar --workdir /tmp "$CID" sh -c 'echo "$FOO $PWD"'
	[ "$status" -eq 0 ]
	[ "$output" = "bar /tmp" ]
}

@test "docker exec -it: the process gets a terminal" {
	command -v script >/dev/null || skip "no script(1) (util-linux) to give docker a tty"
	run_d "$IMAGE" sleep 1000
	local cmd
	cmd=$(printf '%q ' "$DOCKER_CLI" -H "unix://$DOCKER_DIR/docker.sock" exec -it "$CID" tty)
	run env DOCKER_CONFIG="$DOCKER_DIR/cli" timeout --kill-after=5 60 script -qec "$cmd" /dev/null
	[ "$status" -eq 0 ]
	[[ $output == *"/dev/pts/"* ]] || fail "no pty: $output"
	# Without -t there is none.
	run bdocker exec "$CID" tty
	[ "$status" -ne 0 ]
	[[ $output == *"not a tty"* ]]
}

@test "docker run -t: the container's process gets a terminal (console socket)" {
	run bdocker run --rm -t --runtime berth --network none "$IMAGE" \
		sh -c 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-tty'
	[ "$status" -eq 0 ]
	[[ $output == *"/dev/pts/0"* ]] || fail "no pty: $output"
	[[ $output == *"stdio-is-tty"* ]]
}

@test "docker run -i: stdin reaches the container" {
	run env DOCKER_CONFIG="$DOCKER_DIR/cli" bash -c 'echo "echo piped-in; exit 5" | "$0" -H "unix://$1" run --rm -i --runtime berth --network none "$2" sh' \
		"$DOCKER_CLI" "$DOCKER_DIR/docker.sock" "$IMAGE"
	[ "$status" -eq 5 ]
	[ "$output" = "piped-in" ]
}

@test "docker stop: SIGTERM reaches the container, which exits by itself" {
	run_d "$IMAGE" sh -c 'trap "exit 3" TERM; sleep 1000 & wait'
	local start=$SECONDS
	run bdocker stop --time 30 "$CID"
	[ "$status" -eq 0 ]
	[ $((SECONDS - start)) -lt 20 ]
	run bdocker inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$CID"
	[ "$output" = "exited 3" ]
	# The shim deleted the container in berth.
	[ -z "$(berth_root_of "$CID")" ]
}

@test "docker kill: the signal is delivered (137 for SIGKILL)" {
	run_d "$IMAGE" sleep 1000
	run bdocker kill --signal KILL "$CID"
	[ "$status" -eq 0 ]
	run bdocker wait "$CID"
	[ "$output" = "137" ]
}

@test "docker rm: removes the container, its berth state and its cgroup" {
	run_d "$IMAGE" sleep 1000
	[ -n "$(berth_root_of "$CID")" ]
	[ -n "$(ls -d /sys/fs/cgroup/*/"${DOCKER_CGROUP_PARENT#/}/$CID" 2>/dev/null)" ]
	run bdocker rm --force "$CID"
	[ "$status" -eq 0 ]
	run bdocker ps --all --quiet
	[ "$output" = "" ]
	[ -z "$(berth_root_of "$CID")" ]
	[ -z "$(ls -d /sys/fs/cgroup/*/"${DOCKER_CGROUP_PARENT#/}/$CID" 2>/dev/null)" ]
}

@test "docker pause/unpause: berth freezes and thaws the container" {
	run_d "$IMAGE" sleep 1000
	local root
	root=$(berth_root_of "$CID")
	run bdocker pause "$CID"
	[ "$status" -eq 0 ]
	[ "$("$BERTH" --root "$root" state "$CID" | jq -r .status)" = paused ]
	run bdocker unpause "$CID"
	[ "$status" -eq 0 ]
	[ "$("$BERTH" --root "$root" state "$CID" | jq -r .status)" = running ]
}

@test "docker update --memory: the limit reaches the container's memory cgroup" {
	run_d --memory 32m "$IMAGE" sleep 1000
	local pid cg mib=$((1024 * 1024))
	pid=$(bdocker inspect --format '{{.State.Pid}}' "$CID")
	cg=$(awk -F: '$2 == "memory" { print $3 }' "/proc/$pid/cgroup")
	[ "$cg" = "$DOCKER_CGROUP_PARENT/$CID" ]
	# The limit of docker run (Docker makes memory+swap twice the memory).
	[ "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" = $((32 * mib)) ]
	[ "$(cat "/sys/fs/cgroup/memory$cg/memory.memsw.limit_in_bytes")" = $((64 * mib)) ]
	run bdocker update --memory 48m "$CID"
	[ "$status" -eq 0 ] || fail "docker update: $output"
	[ "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" = $((48 * mib)) ]
	# Raising both: berth must order the writes (memsw first).
	run bdocker update --memory 96m --memory-swap 128m "$CID"
	[ "$status" -eq 0 ] || fail "docker update: $output"
	[ "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" = $((96 * mib)) ]
	[ "$(cat "/sys/fs/cgroup/memory$cg/memory.memsw.limit_in_bytes")" = $((128 * mib)) ]
	run bdocker inspect --format '{{.HostConfig.Memory}}' "$CID"
	[ "$output" = $((96 * mib)) ]
}

@test "docker run: a missing executable is docker's 127, with berth's message" {
	run -127 bdocker run --rm --runtime berth --network none "$IMAGE" nosuchcmd
	[[ $output == *'exec: "nosuchcmd": executable file not found in $PATH'* ]] ||
		fail "unexpected message: $output"
	run -127 bdocker run --rm --runtime berth --network none "$IMAGE" /no/such/file
	[[ $output == *'exec: "/no/such/file": no such file or directory'* ]] ||
		fail "unexpected message: $output"
	run bdocker ps --all --quiet
	[ "$output" = "" ]
}

@test "docker run: a file without exec permission is docker's 126" {
	run bdocker run --rm --runtime berth --network none "$IMAGE" /noexec
	[ "$status" -eq 126 ]
	[[ $output == *'exec: "/noexec": permission denied'* ]] ||
		fail "unexpected message: $output"
}

@test "docker exec: a missing executable fails with berth's message" {
	run_d "$IMAGE" sleep 1000
	run bdocker exec "$CID" nosuchcmd
	# Docker 20.10 reports every exec start failure as 126 (newer ones: 127).
	[[ $status -eq 126 || $status -eq 127 ]]
	[[ $output == *'exec: "nosuchcmd": executable file not found in $PATH'* ]] ||
		fail "unexpected message: $output"
}
