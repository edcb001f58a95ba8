#!/usr/bin/env bash
# extract-vmlinux.sh BZIMAGE OUT
#
# Writes the uncompressed ELF kernel (vmlinux) carried inside an x86
# bzImage to OUT. qemu can boot that ELF directly through its PVH entry
# point, which skips the real-mode setup and the in-guest decompression
# (slow under TCG software emulation).
#
# The x86 boot protocol (Documentation/arch/x86/boot.rst) describes where
# the payload is: the protected-mode part starts after (setup_sects + 1)
# 512-byte sectors (setup_sects at 0x1f1; 0 means 4), and boot protocol
# 2.08+ headers give payload_offset (0x248) and payload_length (0x24c)
# relative to that start. The payload's first bytes tell the compressor.
# Exits 1 (and writes nothing) when the image is not something it knows.
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 BZIMAGE OUT" >&2; exit 2; }
img=$1 out=$2

# le32 OFFSET LEN: an unsigned little-endian integer of LEN bytes at OFFSET.
le() {
	od -A n -t u"$2" -j "$1" -N "$2" --endian=little "$img" | tr -d ' '
}
hex() { # hex OFFSET LEN: LEN bytes at OFFSET as hex
	od -A n -t x1 -j "$1" -N "$2" "$img" | tr -d ' \n'
}
die() { echo "extract-vmlinux: $img: $*" >&2; exit 1; }

[[ $(hex 0x202 4) == 48647253 ]] || die "no 'HdrS' boot header (not a bzImage)"
proto=$(le 0x206 2)
((proto >= 0x208)) || die "boot protocol $(printf %#x "$proto") has no payload fields"
setup_sects=$(le 0x1f1 1)
((setup_sects == 0)) && setup_sects=4
pm_start=$(((setup_sects + 1) * 512))
poff=$(le 0x248 4)
plen=$(le 0x24c 4)
start=$((pm_start + poff))
size=$(stat -c %s "$img")
((plen > 0 && start + plen <= size)) || die "payload ($start+$plen) outside the file ($size bytes)"

magic=$(od -A n -t x1 -j "$start" -N 6 "$img" | tr -d ' \n')
case $magic in
fd377a585a00*) dec=(xz -dc) ;;
1f8b*) dec=(gzip -dc) ;;
28b52ffd*) dec=(zstd -dcq) ;;
425a68*) dec=(bzip2 -dc) ;;
5d0000*) dec=(xz -dc --format=lzma) ;;
894c5a4f*) dec=(lzop -dc) ;;
02214c18*) dec=(lz4 -dc) ;;
*) die "unknown payload compression (magic $magic)" ;;
esac
command -v "${dec[0]}" >/dev/null || die "payload needs ${dec[0]}, which is not installed"

tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# The payload ends with the uncompressed size (4 bytes, gzip/xz style);
# decompressors may warn about them: only the result counts.
tail -c +"$((start + 1))" "$img" | head -c "$plen" | "${dec[@]}" >"$tmp" 2>/dev/null || true
[[ $(od -A n -t x1 -N 4 "$tmp" | tr -d ' \n') == 7f454c46 ]] || die "decompressed payload is not an ELF file"
mv "$tmp" "$out"
trap - EXIT
