#!/usr/bin/env bash
# mkbundle.sh [--rootfs-only] DIR [ARG...]
#
# Assembles an OCI bundle in DIR around a static busybox:
#   DIR/rootfs       /bin/busybox, one symlink per applet, /etc/{passwd,group,hostname},
#                    empty /proc /sys /dev /tmp mount points
#   DIR/config.json  `berth spec` output with process.terminal=false and
#                    process.args=ARG... (default: sh)
# With --rootfs-only, only DIR/rootfs is made (no berth binary needed).
# BERTH names the runtime binary used for `spec` (default: ./berth at the repo root).
set -euo pipefail

usage() { echo "usage: $0 [--rootfs-only] DIR [ARG...]" >&2; exit 2; }

rootfs_only=0
if [[ ${1:-} == --rootfs-only ]]; then rootfs_only=1; shift; fi
[[ $# -ge 1 ]] || usage
dir=$1; shift

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
berth=${BERTH:-$repo/berth}

busybox=""
for c in /bin/busybox /usr/bin/busybox; do
	if [[ -x $c ]]; then busybox=$c; break; fi
done
[[ -n $busybox ]] || { echo "$0: no busybox found (apt-get install busybox-static)" >&2; exit 1; }

rootfs=$dir/rootfs
mkdir -p "$rootfs"
rootfs=$(cd "$rootfs" && pwd)

mkdir -p "$rootfs"/{bin,sbin,etc,proc,sys,dev,tmp,root,home,var,run,usr/bin,usr/sbin}
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"
cp "$busybox" "$rootfs/bin/busybox"
"$rootfs/bin/busybox" --install -s "$rootfs/bin"
# --install points every link at the absolute host path of busybox, which does
# not exist inside the container: make them relative to bin/ instead.
for link in "$rootfs"/bin/*; do
	if [[ -L $link ]]; then ln -sfn busybox "$link"; fi
done

cat > "$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/:/bin/false
nobody:x:65534:65534:nobody:/:/bin/false
PASSWD
cat > "$rootfs/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GROUP
echo berth > "$rootfs/etc/hostname"

[[ $rootfs_only == 1 ]] && exit 0

if [[ $# -eq 0 ]]; then set -- sh; fi
rm -f "$dir/config.json"
"$berth" spec --bundle "$dir"
# One jq call per argument: jq would take an argument such as "-c" as its own option.
args=$(for a in "$@"; do jq -n --arg a "$a" '$a'; done | jq -s -c .)
tmp=$(mktemp "$dir/config.json.XXXXXX")
jq --argjson args "$args" '.process.terminal = false | .process.args = $args' \
	"$dir/config.json" > "$tmp"
mv "$tmp" "$dir/config.json"
