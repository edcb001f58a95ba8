# Shared by the client tests (containerd.bats, cri.bats): a private
# containerd per file (scripts/clients/containerd.sh), started in setup_file
# and stopped by its pid in teardown_file, with everything it keeps under
# $CTD_DIR (a directory of the file's own), and an image archive made from
# the busybox rootfs that helpers.bash builds.
#
# Images (both from the same busybox layer, scripts/clients/mkimage.sh):
#   $IMG    docker.io/berth-test/busybox:1, entrypoint sh
#   $PAUSE  docker.io/berth-test/pause:1, entrypoint `sleep 86400` (the CRI
#           sandbox image: its only job is to stay up)

_clients_berth=${BERTH:-}
load ../helpers
# helpers.bash takes the repository to be two levels up from the test file:
# from tests/integration/clients it is three.
REPO=$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)
BERTH=${_clients_berth:-$REPO/berth}
source "$REPO/scripts/clients/containerd.sh"

IMG=docker.io/berth-test/busybox:1
PAUSE=docker.io/berth-test/pause:1
CTD_SANDBOX_IMAGE=$PAUSE
export CTD_SANDBOX_IMAGE

# clients_require_root: the clients need root (containerd, mounts) and berth.
clients_require_root() {
	[[ $(id -u) == 0 ]] || fail "the client tests must run as root"
	[[ -x $BERTH ]] || fail "no runtime binary at $BERTH (run make, or set BERTH)"
}

# clients_start_containerd: installs containerd if missing, starts one under
# $CTD_DIR (exported) and writes the image archive to $CTD_DIR/images.tar.
clients_start_containerd() {
	clients_require_root
	if ! ctd_install; then
		fail "containerd is missing and apt-get could not install it"
	fi
	command -v jq >/dev/null || fail "jq is missing"
	CTD_DIR=$BATS_FILE_TMPDIR/ctd
	mkdir -p "$CTD_DIR"
	export CTD_DIR
	ctd_start "$CTD_DIR" "$(readlink -f "$BERTH")"
	"$REPO/scripts/clients/mkimage.sh" "$(cached_rootfs)" "$CTD_DIR/images.tar" \
		"$IMG" '["sh"]' "$PAUSE" '["sleep", "86400"]'
}

# clients_stop_containerd: stops the daemon by its pid and removes $CTD_DIR
# (ctd_stop reports, and fails on, shims or mounts left behind).
clients_stop_containerd() {
	[[ -n ${CTD_DIR:-} ]] || return 0
	ctd_stop "$CTD_DIR"
}

# rmdir_cgroup NAME: removes the (empty) cgroup /NAME the test's containers
# were put under, in every hierarchy; fails if one is not empty.
rmdir_cgroup() {
	local name=${1#/} h rc=0
	[[ -n $name ]] || return 0
	for h in "$CGROUP_MNT"/*/; do
		[[ -d $h$name ]] || continue
		find "$h$name" -depth -type d -exec rmdir {} + 2>/dev/null || {
			echo "cgroup left behind (not empty): $h$name: $(find "$h$name" -mindepth 1 -type d)" >&2
			rc=1
		}
	done
	return $rc
}

# in_pty CMD...: runs CMD with a pseudo-terminal as its stdin/stdout (for
# clients that insist on a terminal, such as ctr's --tty), through
# util-linux's script(1). Sets status and output like bats' run.
in_pty() {
	local cmd
	cmd=$(printf '%q ' "$@")
	run timeout 60 script -qefc "$cmd" /dev/null </dev/null
	# script(1) passes the terminal's CR LF on: drop the CRs.
	output=${output//$'\r'/}
}
