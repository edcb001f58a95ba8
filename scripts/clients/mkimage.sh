#!/usr/bin/env bash
# mkimage.sh ROOTFS OUT.tar REF ARGS-JSON [REF ARGS-JSON]...
#
# Writes OUT.tar, an OCI image layout archive (oci-layout, index.json,
# blobs/sha256/*) that `ctr images import` reads. Every image in it has one
# uncompressed layer, a tar of ROOTFS (owned by root, mtimes zeroed, so the
# same rootfs gives the same digests), and its own config whose Entrypoint
# is ARGS-JSON (a JSON array, e.g. '["sh"]' or '["sleep","86400"]').
# Each image is named REF in index.json (annotation io.containerd.image.name,
# plus the tag as org.opencontainers.image.ref.name), e.g.
#   mkimage.sh rootfs img.tar docker.io/berth-test/busybox:1 '["sh"]'
# Needs tar, jq and sha256sum. Nothing outside OUT.tar is left behind.
set -euo pipefail

usage() { echo "usage: $0 ROOTFS OUT.tar REF ARGS-JSON [REF ARGS-JSON]..." >&2; exit 2; }
[[ $# -ge 4 && $(( ($# - 2) % 2 )) == 0 ]] || usage
rootfs=$1 out=$2
shift 2
[[ -d $rootfs ]] || { echo "$0: $rootfs: not a directory" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
blobs=$work/blobs/sha256
mkdir -p "$blobs"

# put FILE: moves FILE into blobs/ under its digest; prints "DIGEST SIZE".
put() {
	local sum size
	sum=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	mv "$1" "$blobs/$sum"
	echo "sha256:$sum $size"
}

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
	--format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	-C "$rootfs" -cf "$work/layer" .
read -r layer_digest layer_size < <(put "$work/layer")

manifests=()
while [[ $# -gt 0 ]]; do
	ref=$1 args=$2
	shift 2
	jq -e 'type == "array" and length > 0 and all(type == "string")' <<<"$args" >/dev/null ||
		{ echo "$0: $ref: ARGS-JSON must be a non-empty JSON array of strings: $args" >&2; exit 1; }
	jq -n -c --argjson args "$args" --arg diff "$layer_digest" '{
		architecture: "amd64", os: "linux",
		created: "1970-01-01T00:00:00Z",
		config: {
			Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
			Entrypoint: $args, WorkingDir: "/"
		},
		rootfs: {type: "layers", diff_ids: [$diff]},
		history: [{created: "1970-01-01T00:00:00Z", created_by: "berth scripts/clients/mkimage.sh"}]
	}' >"$work/config"
	read -r config_digest config_size < <(put "$work/config")
	jq -n -c --arg cd "$config_digest" --argjson cs "$config_size" \
		--arg ld "$layer_digest" --argjson ls "$layer_size" '{
		schemaVersion: 2,
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls}]
	}' >"$work/manifest"
	read -r manifest_digest manifest_size < <(put "$work/manifest")
	manifests+=("$(jq -n -c --arg d "$manifest_digest" --argjson s "$manifest_size" --arg ref "$ref" '{
		mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
		platform: {architecture: "amd64", os: "linux"},
		annotations: {"io.containerd.image.name": $ref, "org.opencontainers.image.ref.name": ($ref | sub("^.*:"; ""))}
	}')")
done

printf '%s\n' "${manifests[@]}" | jq -s -c '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: .}' >"$work/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work" -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
