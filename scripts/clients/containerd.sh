#!/usr/bin/env bash
# containerd.sh: a private containerd whose runc shim runs berth.
#
# Source it for the functions, or run it:
#   containerd.sh start DIR [BERTH]   start a containerd with everything under DIR
#   containerd.sh stop DIR            stop it (by its pid), clean DIR up, remove DIR
#
# Everything the daemon keeps is under DIR (made by ctd_start, which must be
# given a new or empty directory):
#   DIR/containerd.toml   the config (ctd_write_config)
#   DIR/containerd.sock   the grpc address (ctr --address / crictl --runtime-endpoint)
#   DIR/root, DIR/state   containerd's root and state
#   DIR/berth-root        berth's --root for the CRI "berth" runtime handler
#   DIR/bin/runc          a symlink to berth, first on the daemon's PATH, so a
#                         shim that runs plain "runc" (ctr run --no-pivot) runs berth
#   DIR/containerd.pid, DIR/containerd.log
# The CRI plugin gets a runtime handler "berth" (runtime_type
# io.containerd.runc.v2, options BinaryName = berth), the default one too, no
# CNI config (so only host-network pods can run) and CTD_SANDBOX_IMAGE as its
# sandbox image. CTD_DISABLE_CRI=1 disables the CRI plugin.
#
# The shim itself keeps its sockets in /run/containerd/s (a fixed path in
# containerd 1.6, named by a hash of our address, so they cannot clash with
# another daemon's) and removes them when it exits.

CTD_SANDBOX_IMAGE=${CTD_SANDBOX_IMAGE:-docker.io/berth-test/pause:1}
CTD_START_TIMEOUT=${CTD_START_TIMEOUT:-30}
CTD_STOP_TIMEOUT=${CTD_STOP_TIMEOUT:-20}

# ctd_install: installs Debian's containerd (and its ctr) when missing.
ctd_install() {
	command -v containerd >/dev/null && command -v ctr >/dev/null &&
		command -v containerd-shim-runc-v2 >/dev/null && return 0
	[[ -n ${CTD_APT_UPDATED:-} ]] || { apt-get update -qq && CTD_APT_UPDATED=1; } || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containerd >&2
}

# ctd_write_config DIR BERTH: writes DIR/containerd.toml.
ctd_write_config() {
	local dir=$1 berth=$2 disabled
	disabled='"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"'
	if [[ ${CTD_DISABLE_CRI:-0} == 1 ]]; then
		disabled+=', "io.containerd.grpc.v1.cri"'
	fi
	mkdir -p "$dir/cni/net.d" "$dir/cni/bin" "$dir/opt" "$dir/berth-root"
	cat >"$dir/containerd.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = [$disabled]

[grpc]
  address = "$dir/containerd.sock"

[ttrpc]
  address = "$dir/containerd.sock.ttrpc"

[debug]
  level = "debug"

[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "$dir/opt"

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$CTD_SANDBOX_IMAGE"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    # No CAP_SYS_RESOURCE on some hosts (a container here cannot lower its
    # oom_score_adj, and the sandbox asks for -998): cap each adj at the
    # daemon's own. CTD_RESTRICT_OOM=false lifts the cap.
    restrict_oom_score_adj = ${CTD_RESTRICT_OOM:-true}
    tolerate_missing_hugetlb_controller = true

    [plugins."io.containerd.grpc.v1.cri".cni]
      # Empty: no CNI plugin here, so pods must use the host's network.
      bin_dir = "$dir/cni/bin"
      conf_dir = "$dir/cni/net.d"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "berth"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.berth]
        runtime_type = "io.containerd.runc.v2"

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.berth.options]
          BinaryName = "$berth"
          Root = "$dir/berth-root"
          SystemdCgroup = false
EOF
}

# ctd_pid DIR: the daemon's pid, if it still runs (not a zombie).
ctd_pid() {
	local pid st
	pid=$(cat "$1/containerd.pid" 2>/dev/null) || return 1
	[[ -n $pid ]] || return 1
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ $st != Z && $st != X ]] && echo "$pid"
}

# ctd_ctr DIR ARGS...: ctr talking to the daemon under DIR.
ctd_ctr() {
	local dir=$1
	shift
	ctr --address "$dir/containerd.sock" "$@"
}

# ctd_start DIR BERTH: starts containerd and waits (bounded) until it answers.
ctd_start() {
	local dir=$1 berth=$2 pid i
	[[ -x $berth ]] || { echo "ctd_start: no runtime binary at $berth" >&2; return 1; }
	mkdir -p "$dir/bin"
	# The shim resolves a plain "runc" through PATH (ctr run --no-pivot).
	ln -sfn "$berth" "$dir/bin/runc"
	ctd_write_config "$dir" "$berth"
	# setsid: the daemon gets its own session, so a terminal's signals or the
	# test runner's process group never reach it; it is stopped by its pid.
	PATH="$dir/bin:$PATH" setsid containerd --config "$dir/containerd.toml" \
		</dev/null >>"$dir/containerd.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/containerd.pid"
	# A daemon socket: poll with a bounded number of tries.
	for ((i = 0; i < CTD_START_TIMEOUT * 10; i++)); do
		if [[ -S $dir/containerd.sock ]] && ctd_ctr "$dir" version >/dev/null 2>&1; then
			return 0
		fi
		if ! ctd_pid "$dir" >/dev/null; then
			echo "ctd_start: containerd exited; its log:" >&2
			tail -n 30 "$dir/containerd.log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "ctd_start: containerd did not answer on $dir/containerd.sock in ${CTD_START_TIMEOUT}s; its log:" >&2
	tail -n 30 "$dir/containerd.log" >&2
	return 1
}

# ctd_shims DIR: pids of shims serving the daemon under DIR (their command
# line names its unique socket path).
ctd_shims() {
	local dir=$1 p
	for p in /proc/[0-9]*; do
		[[ -r $p/cmdline ]] || continue
		if tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$dir/containerd.sock"; then
			[[ $(tr '\0' '\n' <"$p/cmdline" | head -n1) == *containerd-shim* ]] && echo "${p#/proc/}"
		fi
	done
	return 0
}

# ctd_stop DIR: stops the daemon under DIR by its pid (TERM, then KILL after
# CTD_STOP_TIMEOUT seconds), ends shims left serving it (by pid), unmounts
# what is mounted under DIR and removes DIR. Prints what it had to clean up
# (a shim, a mount) on stderr and then returns 1; returns 0 when the daemon
# was the only thing left.
ctd_stop() {
	local dir=$1 pid i rc=0 m s
	[[ -n $dir && -d $dir ]] || return 0
	if pid=$(ctd_pid "$dir"); then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < CTD_STOP_TIMEOUT * 10; i++)); do
			ctd_pid "$dir" >/dev/null || break
			sleep 0.1
		done
		if ctd_pid "$dir" >/dev/null; then
			echo "ctd_stop: containerd $pid ignored SIGTERM for ${CTD_STOP_TIMEOUT}s: killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			rc=1
		fi
	fi
	for s in $(ctd_shims "$dir"); do
		echo "ctd_stop: shim left behind: pid $s: $(tr '\0' ' ' <"/proc/$s/cmdline" 2>/dev/null)" >&2
		kill -KILL "$s" 2>/dev/null || true
		rc=1
	done
	# Deepest first; the shims unmount container rootfs themselves, so
	# anything here was left behind (a snapshot the daemon still had
	# mounted is a view, and is reported too).
	while read -r m; do
		[[ -n $m ]] || continue
		echo "ctd_stop: mount left behind: $m" >&2
		umount -l "$m" 2>/dev/null || true
		rc=1
	done < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print gsub("/", "/", $5), $5 }' /proc/self/mountinfo | sort -rn | cut -d' ' -f2-)
	rm -rf "$dir"
	return $rc
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	case ${1:-} in
	start)
		[[ $# -ge 2 ]] || { echo "usage: $0 start DIR [BERTH]" >&2; exit 2; }
		repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
		mkdir -p "$2"
		dir=$(cd "$2" && pwd)
		ctd_install
		ctd_start "$dir" "$(readlink -f "${3:-${BERTH:-$repo/berth}}")"
		echo "containerd $(cat "$dir/containerd.pid") listening on $dir/containerd.sock"
		;;
	stop)
		[[ $# -ge 2 ]] || { echo "usage: $0 stop DIR" >&2; exit 2; }
		ctd_stop "$(cd "$2" && pwd)"
		;;
	*)
		echo "usage: $0 start DIR [BERTH] | stop DIR" >&2
		exit 2
		;;
	esac
fi
