#!/usr/bin/env bash
# docker.sh: a private Docker daemon (Debian's docker.io) with berth
# registered as the runtime "berth", in a throwaway setup of its own. dockerd
# runs with --data-root, --exec-root, --pidfile and -H unix://<dir>/docker.sock
# under one directory, no bridge, no iptables, no IP forwarding, cgroupfs with
# a cgroup parent of its own and explicit nofile/nproc ulimits. dockerd starts
# its own (managed) containerd, whose state and socket are under the
# exec-root; the runc shim (containerd-shim-runc-v2) calls berth.
#
# Run directly:
#   docker.sh install        apt-get install docker.io if dockerd is missing
#   docker.sh demo [CMD...]  import a busybox rootfs as an image, `docker run
#                            --rm --runtime berth` it (default CMD: echo hello
#                            from berth), then stop the daemon and clean up
# Sourced (as tests/integration/clients/docker.bats does), it defines
#   docker_install           as `install`
#   docker_env_up DIR        writes DIR/daemon.json, starts dockerd (and so its
#                            containerd), waits until it answers; sets
#                            DOCKER_DIR, DOCKER_CGROUP_PARENT, DOCKERD_PID
#   bdocker ARGS...          the docker CLI talking to that daemon
#   docker_env_down          removes every container and image, stops dockerd,
#                            its containerd and any shim of it by pid, removes
#                            the cgroup parent, unmounts and removes DOCKER_DIR,
#                            and what dockerd made in system paths that did not
#                            exist before
# BERTH names the runtime binary (default: ./berth at the repo root);
# DOCKER_CLI the client (default: Debian's /usr/bin/docker, which matches the
# daemon, else the first docker in PATH).
#
# Paths dockerd uses whatever its flags say, noted by docker_env_up and
# removed by docker_env_down only if they did not exist before:
#   /etc/docker/key.json    (dockerd 20.10's identity key)
#   /run/docker/plugins     (plugin socket discovery)
#   /run/containerd/s       (the shim's socket directory)

DOCKER_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BERTH=${BERTH:-$DOCKER_REPO/berth}
DOCKER_CMD_TIMEOUT=${DOCKER_CMD_TIMEOUT:-120}
if [[ -z ${DOCKER_CLI:-} ]]; then
	if [[ -x /usr/bin/docker ]]; then DOCKER_CLI=/usr/bin/docker; else DOCKER_CLI=docker; fi
fi

# docker_install: dockerd, containerd and the CLI from Debian's docker.io.
docker_install() {
	if command -v dockerd >/dev/null && command -v containerd >/dev/null &&
		command -v containerd-shim-runc-v2 >/dev/null && command -v "$DOCKER_CLI" >/dev/null; then
		return 0
	fi
	if [[ $(id -u) != 0 ]]; then
		echo "docker.sh: docker.io missing (run as root to install it)" >&2
		return 1
	fi
	echo "docker.sh: installing docker.io" >&2
	export DEBIAN_FRONTEND=noninteractive
	# Installing must not start Debian's own daemon (there is no systemd on a
	# test machine, but a sysv init script would): policy-rc.d says no.
	local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
	fi
	apt-get update -qq </dev/null >&2 &&
		apt-get install -y -qq docker.io </dev/null >&2 || rc=$?
	[[ $made_policy == 1 ]] && rm -f "$policy"
	[[ -x /usr/bin/docker ]] && DOCKER_CLI=/usr/bin/docker
	return $rc
}

# docker_env_up DIR
docker_env_up() {
	local dir=$1 p i
	[[ -d $dir ]] || { echo "docker_env_up: no directory $dir" >&2; return 1; }
	DOCKER_DIR=$(cd "$dir" && pwd)
	DOCKER_CGROUP_PARENT=/berth-docker-$$-$RANDOM
	DOCKER_ABSENT=()
	for p in /etc/docker /run/docker /run/containerd; do
		[[ -e $p ]] || DOCKER_ABSENT+=("$p")
	done
	mkdir -p "$DOCKER_DIR"/{data,exec,cli}
	local storage=overlay2
	grep -qw overlay /proc/filesystems || storage=vfs
	cat >"$DOCKER_DIR/daemon.json" <<-EOF
		{
		  "runtimes": { "berth": { "path": "$BERTH" } },
		  "storage-driver": "$storage",
		  "iptables": false,
		  "ip6tables": false,
		  "ip-forward": false,
		  "ip-masq": false,
		  "bridge": "none",
		  "userland-proxy": false,
		  "exec-opts": ["native.cgroupdriver=cgroupfs"],
		  "cgroup-parent": "$DOCKER_CGROUP_PARENT",
		  "default-ulimits": {
		    "nofile": { "Name": "nofile", "Soft": 1024, "Hard": 1024 },
		    "nproc": { "Name": "nproc", "Soft": 1024, "Hard": 1024 }
		  },
		  "log-driver": "json-file"
		}
	EOF
	# fd 3 closed: bats waits for whoever holds it.
	dockerd --config-file "$DOCKER_DIR/daemon.json" \
		--data-root "$DOCKER_DIR/data" --exec-root "$DOCKER_DIR/exec" \
		--pidfile "$DOCKER_DIR/dockerd.pid" -H "unix://$DOCKER_DIR/docker.sock" \
		</dev/null >"$DOCKER_DIR/dockerd.log" 2>&1 3>&- &
	DOCKERD_PID=$!
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
			echo "docker_env_up: dockerd exited; its log ends:" >&2
			tail -n 20 "$DOCKER_DIR/dockerd.log" >&2
			return 1
		fi
		if [[ -S $DOCKER_DIR/docker.sock ]] && bdocker version >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "docker_env_up: dockerd did not answer within 30s; its log ends:" >&2
	tail -n 20 "$DOCKER_DIR/dockerd.log" >&2
	return 1
}

# bdocker ARGS...: the docker CLI for the daemon of docker_env_up, bounded.
bdocker() {
	DOCKER_CONFIG=$DOCKER_DIR/cli timeout --kill-after=5 "$DOCKER_CMD_TIMEOUT" \
		"$DOCKER_CLI" -H "unix://$DOCKER_DIR/docker.sock" "$@"
}

_docker_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z && $st != X ]]
}

# _docker_stop_pid PID SECONDS: SIGTERM, then SIGKILL after SECONDS.
_docker_stop_pid() {
	local pid=$1 limit=$2 i
	_docker_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < limit * 10; i++)); do
		_docker_alive "$pid" || return 0
		sleep 0.1
	done
	echo "docker_env_down: pid $pid ignored SIGTERM for ${limit}s: SIGKILL" >&2
	kill -KILL "$pid" 2>/dev/null
	sleep 0.2
}

# _docker_shims: pids of containerd shims of our containerd (named by its
# socket path, which is under DOCKER_DIR).
_docker_shims() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		if tr '\0' ' ' 2>/dev/null <"$f" | grep -q -- "-address $DOCKER_DIR/exec/containerd/containerd.sock"; then
			echo "$pid"
		fi
	done
	return 0
}

_docker_cgroup_dirs() {
	local h
	for h in /sys/fs/cgroup/*/"${DOCKER_CGROUP_PARENT#/}"; do
		[[ -d $h ]] && find "$h" -depth -type d
	done
	return 0
}

docker_env_down() {
	[[ -n ${DOCKER_DIR:-} && -d $DOCKER_DIR ]] || return 0
	local rc=0 ctrd="" pid d m p ids
	if [[ -n ${DOCKERD_PID:-} ]] && _docker_alive "$DOCKERD_PID"; then
		# shellcheck disable=SC2086 # one id a word
		ids=$(bdocker ps --all --quiet 2>/dev/null)
		[[ -z $ids ]] || bdocker rm --force $ids >/dev/null 2>&1 || true
		# shellcheck disable=SC2086
		ids=$(bdocker images --all --quiet 2>/dev/null)
		[[ -z $ids ]] || bdocker rmi --force $ids >/dev/null 2>&1 || true
	fi
	[[ -s $DOCKER_DIR/exec/containerd/containerd.pid ]] && ctrd=$(<"$DOCKER_DIR/exec/containerd/containerd.pid")
	if [[ -n ${DOCKERD_PID:-} ]]; then
		_docker_stop_pid "$DOCKERD_PID" 30
		wait "$DOCKERD_PID" 2>/dev/null || true
	fi
	# dockerd stops its containerd; make sure.
	[[ -n $ctrd ]] && _docker_stop_pid "$ctrd" 10
	for pid in $(_docker_shims); do _docker_stop_pid "$pid" 5; done
	for d in $(_docker_cgroup_dirs); do
		if [[ -r $d/cgroup.procs ]]; then
			while read -r pid; do
				[[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
			done <"$d/cgroup.procs"
		fi
	done
	for d in $(_docker_cgroup_dirs); do
		rmdir "$d" 2>/dev/null || { sleep 0.3; rmdir "$d" 2>/dev/null; } ||
			{ echo "docker_env_down: cannot remove cgroup $d" >&2; rc=1; }
	done
	while read -r m; do
		[[ -n $m ]] && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
	done < <(awk -v d="$DOCKER_DIR" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		awk '{ print gsub("/", "/"), $0 }' | sort -rn | cut -d' ' -f2-)
	rm -rf --one-file-system "$DOCKER_DIR" || rc=1

	for p in "${DOCKER_ABSENT[@]}"; do
		[[ -e $p ]] || continue
		case $p in
		/etc/docker) rm -f "$p/key.json" ;;
		esac
		find "$p" -depth -type d -empty -delete 2>/dev/null || true
		if [[ -e $p ]]; then
			echo "docker_env_down: leaving $p (not empty: $(ls -A "$p" | head -5 | tr '\n' ' '))" >&2
		fi
	done
	unset DOCKER_DIR DOCKERD_PID
	return $rc
}

docker_demo() {
	local dir rc=0
	docker_install || return 1
	[[ -x $BERTH ]] || { echo "docker.sh: no runtime binary at $BERTH (run make)" >&2; return 1; }
	dir=$(mktemp -d /tmp/berth-docker.XXXXXX)
	docker_env_up "$dir" || { docker_env_down; return 1; }
	"$DOCKER_REPO/scripts/mkbundle.sh" --rootfs-only "$DOCKER_DIR/fs" >/dev/null &&
		tar -C "$DOCKER_DIR/fs/rootfs" -cf "$DOCKER_DIR/rootfs.tar" . &&
		bdocker import "$DOCKER_DIR/rootfs.tar" berth-busybox:demo >/dev/null || rc=1
	if [[ $rc == 0 ]]; then
		if [[ $# -eq 0 ]]; then set -- echo hello from berth; fi
		bdocker run --rm --runtime berth --network none berth-busybox:demo "$@" || rc=$?
	fi
	docker_env_down || rc=1
	return $rc
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -uo pipefail
	case ${1:-} in
	install) docker_install ;;
	demo) shift; docker_demo "$@" ;;
	*) echo "usage: $0 install | demo [CMD...]" >&2; exit 2 ;;
	esac
fi
