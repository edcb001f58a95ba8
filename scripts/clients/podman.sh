#!/usr/bin/env bash
# podman.sh: podman (with conmon) using berth as its OCI runtime, in a
# throwaway setup of its own. Everything podman keeps lives under one
# directory: containers.conf (CONTAINERS_CONF) and storage.conf
# (CONTAINERS_STORAGE_CONF), the storage (--root/--runroot), the tmp dir
# (exit files, file locks, the events log), the network config dir. The
# containers' cgroups (and conmon's) go under a cgroup parent of its own.
# Networking is off (netns "none"); nofile and nproc ulimits are explicit,
# since a limit above the hard one fails without CAP_SYS_RESOURCE.
#
# Run directly:
#   podman.sh install        apt-get install podman and conmon if missing
#   podman.sh demo [CMD...]  `podman run --rm --rootfs` of a busybox rootfs
#                            (default CMD: echo hello from berth), then cleans up
# Sourced (as tests/integration/clients/podman.bats does), it defines
#   podman_install           as `install`
#   podman_env_up DIR        writes the config under DIR (which must exist and
#                            be empty) and sets PODMAN_DIR, PODMAN_CGROUP_PARENT
#   bpodman ARGS...          podman with that setup and --runtime "$BERTH";
#                            adds --cgroup-parent to run and create
#   podman_env_down          removes every container, unmounts and removes
#                            PODMAN_DIR, the cgroup parent, and what podman made
#                            in system paths that did not exist before
# BERTH names the runtime binary (default: ./berth at the repo root).
#
# Paths podman uses whatever the config says, noted by podman_env_up and
# removed by podman_env_down only if they did not exist before:
#   /run/containers/networks        (netavark's run dir)
#   /var/lib/containers/cache       (the image blob-info cache, `podman import`)
#   /run/berth                      (berth's default --root: podman passes none)

PODMAN_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BERTH=${BERTH:-$PODMAN_REPO/berth}
PODMAN_CMD_TIMEOUT=${PODMAN_CMD_TIMEOUT:-120}

# podman_install: podman and conmon from Debian's archive, when missing.
podman_install() {
	if command -v podman >/dev/null && command -v conmon >/dev/null; then
		return 0
	fi
	if [[ $(id -u) != 0 ]]; then
		echo "podman.sh: podman/conmon missing (run as root to install them)" >&2
		return 1
	fi
	echo "podman.sh: installing podman and conmon" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq </dev/null >&2 &&
		apt-get install -y -qq podman conmon </dev/null >&2
}

# podman_env_up DIR
podman_env_up() {
	local dir=$1 p
	[[ -d $dir ]] || { echo "podman_env_up: no directory $dir" >&2; return 1; }
	PODMAN_DIR=$(cd "$dir" && pwd)
	PODMAN_CGROUP_PARENT=/berth-podman-$$-$RANDOM
	PODMAN_ABSENT=()
	for p in /run/containers /var/lib/containers /run/berth; do
		[[ -e $p ]] || PODMAN_ABSENT+=("$p")
	done
	# Each hierarchy gets the parent when the first container starts; note
	# now that it is ours.
	echo "$PODMAN_CGROUP_PARENT" >"$PODMAN_DIR/cgroup-parent"
	mkdir -p "$PODMAN_DIR"/{graph,run,tmp,net}
	cat >"$PODMAN_DIR/containers.conf" <<-EOF
		[containers]
		netns = "none"
		default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
		log_driver = "k8s-file"

		[network]
		network_config_dir = "$PODMAN_DIR/net"

		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		lock_type = "file"
		tmp_dir = "$PODMAN_DIR/tmp"
		runtime = "berth"
		runtime_supports_json = ["berth", "runc", "crun"]

		[engine.runtimes]
		berth = ["$BERTH"]
	EOF
	cat >"$PODMAN_DIR/storage.conf" <<-EOF
		[storage]
		driver = "overlay"
		graphroot = "$PODMAN_DIR/graph"
		runroot = "$PODMAN_DIR/run"
	EOF
}

# bpodman ARGS...: podman in the setup of podman_env_up, bounded in time.
bpodman() {
	local args=("$@")
	if [[ ${1:-} == run || ${1:-} == create ]]; then
		args=("$1" --cgroup-parent "$PODMAN_CGROUP_PARENT" "${@:2}")
	fi
	CONTAINERS_CONF=$PODMAN_DIR/containers.conf \
		CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf \
		timeout --kill-after=5 "$PODMAN_CMD_TIMEOUT" \
		podman --root "$PODMAN_DIR/graph" --runroot "$PODMAN_DIR/run" \
		--runtime "$BERTH" "${args[@]}"
}

# _podman_cgroup_dirs: the directories of our cgroup parent, deepest first.
_podman_cgroup_dirs() {
	local h
	for h in /sys/fs/cgroup/*/"${PODMAN_CGROUP_PARENT#/}"; do
		[[ -d $h ]] && find "$h" -depth -type d
	done
	return 0
}

podman_env_down() {
	[[ -n ${PODMAN_DIR:-} && -d $PODMAN_DIR ]] || return 0
	local rc=0 d pid p m

	if [[ -f $PODMAN_DIR/containers.conf ]]; then
		bpodman rm --all --force --time 0 >/dev/null 2>&1 || true
		bpodman rmi --all --force >/dev/null 2>&1 || true
	fi
	# Whatever still runs in our cgroups is ours (conmon, a container).
	for d in $(_podman_cgroup_dirs); do
		if [[ -r $d/cgroup.procs ]]; then
			while read -r pid; do
				[[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
			done <"$d/cgroup.procs"
		fi
	done
	# A SIGKILLed process leaves its cgroup only once it has exited, which
	# on a loaded machine takes longer than a moment: wait (bounded, 10 s)
	# for each cgroup to empty before removing it.
	for d in $(_podman_cgroup_dirs); do
		local i
		for ((i = 0; i < 100; i++)); do
			[[ ! -s $d/cgroup.procs ]] && break
			sleep 0.1
		done
		# Not a cgroup but a directory on /sys/fs/cgroup's tmpfs (conmon
		# makes one for a controller the host does not mount, and writes
		# a tasks file into it): ours, files and all.
		[[ $(stat -f -c %T "$d") == tmpfs ]] && rm -f "$d/tasks" "$d/cgroup.procs"
		rmdir "$d" 2>/dev/null || { sleep 0.3; rmdir "$d" 2>/dev/null; } ||
			{ echo "podman_env_down: cannot remove cgroup $d" >&2; rc=1; }
	done
	# Storage mounts (the overlay home, container layers), deepest first.
	while read -r m; do
		[[ -n $m ]] && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
	done < <(awk -v d="$PODMAN_DIR" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		awk '{ print gsub("/", "/"), $0 }' | sort -rn | cut -d' ' -f2-)
	rm -rf --one-file-system "$PODMAN_DIR" || rc=1

	for p in "${PODMAN_ABSENT[@]}"; do
		[[ -e $p ]] || continue
		case $p in
		/var/lib/containers) rm -f "$p/cache/blob-info-cache-v1.boltdb" ;;
		esac
		# Only empty directories: anything else there is not ours.
		find "$p" -depth -type d -empty -delete 2>/dev/null || true
		if [[ -e $p ]]; then
			echo "podman_env_down: leaving $p (not empty: $(ls -A "$p" | head -5 | tr '\n' ' '))" >&2
		fi
	done
	unset PODMAN_DIR
	return $rc
}

podman_demo() {
	local dir rc=0
	podman_install || return 1
	[[ -x $BERTH ]] || { echo "podman.sh: no runtime binary at $BERTH (run make)" >&2; return 1; }
	dir=$(mktemp -d /tmp/berth-podman.XXXXXX)
	podman_env_up "$dir" || return 1
	"$PODMAN_REPO/scripts/mkbundle.sh" --rootfs-only "$PODMAN_DIR/fs" >/dev/null || rc=1
	if [[ $rc == 0 ]]; then
		if [[ $# -eq 0 ]]; then set -- echo hello from berth; fi
		bpodman run --rm --rootfs "$PODMAN_DIR/fs/rootfs" "$@" || rc=$?
	fi
	podman_env_down || rc=1
	return $rc
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -uo pipefail
	case ${1:-} in
	install) podman_install ;;
	demo) shift; podman_demo "$@" ;;
	*) echo "usage: $0 install | demo [CMD...]" >&2; exit 2 ;;
	esac
fi
