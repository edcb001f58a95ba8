#!/usr/bin/env bash
# deps.sh: installs, with apt-get, whatever berth's build and tests need and
# the machine lacks. Does nothing (and asks no registry) when all is present.
set -euo pipefail

missing=()
need() { # need PACKAGE CHECK-COMMAND...
	local pkg=$1; shift
	if ! "$@" >/dev/null 2>&1; then missing+=("$pkg"); fi
}
have() { command -v "$1"; }
# scripts/csan.sh: gcc's AddressSanitizer and UBSan runtimes (libasan8,
# libubsan1 on Debian 12, which libgcc-12-dev brings).
sanitizers() {
	command -v gcc &&
		echo 'int main(void) { return 0; }' |
		gcc -x c -fsanitize=address,undefined -o /dev/null -
}
static_busybox() {
	[[ -x /bin/busybox ]] &&
		dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'
}

need libseccomp-dev test -e /usr/include/seccomp.h
need busybox-static static_busybox
need bats have bats
need jq have jq
need gcc have gcc
need libgcc-12-dev sanitizers
need musl-tools have musl-gcc # berth links against musl (Makefile)
need pkg-config have pkg-config
need make have make
need git have git
need util-linux have unshare
need util-linux have nsenter
need util-linux have setsid
need mount have mount
need mount have umount
need iproute2 have ip
need uidmap have newuidmap # rootless.bats: wider id mappings
need util-linux have setpriv
need passwd have useradd
need python3-minimal test -x /usr/bin/python3 # security.bats: malformed bootstrap messages
need strace have strace # security.bats: widens a race window (inject delay)

if [[ ${#missing[@]} -eq 0 ]]; then
	exit 0
fi
# de-duplicate, keep order
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | awk '!seen[$0]++')

if [[ $(id -u) != 0 ]]; then
	echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
