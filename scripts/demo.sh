#!/usr/bin/env bash
# demo.sh: runs one busybox container with berth and shows what it sees.
# BERTH names the runtime binary (default: ./berth at the repo root).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
berth=${BERTH:-$repo/berth}
export BERTH=$berth

if [[ $(id -u) != 0 ]]; then
	echo "demo: run as root (containers need namespaces, mounts and cgroups)" >&2
	exit 1
fi

bundle=$(mktemp -d /tmp/berth-demo.XXXXXX)
id=berth-demo-$$-$RANDOM
cleanup() {
	"$berth" delete --force "$id" >/dev/null 2>&1 || true
	rm -rf "$bundle"
}
trap cleanup EXIT

# What the container prints, from inside its own namespaces and cgroup.
script='
echo "PID:          $$"
echo "hostname:     $(hostname)"
echo "interfaces:   $(ls /sys/class/net | tr "\n" " ")"
limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
echo "memory limit: $limit bytes ($((limit / 1048576)) MiB)"
echo "user:         $(id)"
'
"$repo/scripts/mkbundle.sh" "$bundle" sh -c "$script"
tmp=$bundle/config.json.tmp
jq '.hostname = "berth-demo" | .linux.resources.memory.limit = 67108864' \
	"$bundle/config.json" > "$tmp"
mv "$tmp" "$bundle/config.json"

echo "\$ berth run --bundle $bundle $id"
"$berth" run --bundle "$bundle" "$id"
echo "container $id exited with status 0"
"$berth" delete --force "$id" >/dev/null 2>&1 || true
