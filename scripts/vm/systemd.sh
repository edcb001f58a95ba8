#!/usr/bin/env bash
# systemd.sh: runs berth's systemd cgroup driver tests (tests/systemd/)
# inside a qemu VM whose PID 1 is the host's systemd, on a pure cgroup2
# hierarchy, since the host does not run systemd as PID 1.
#
#   1. installs what is missing (qemu-system-x86, linux-image-amd64,
#      busybox-static, bash-static, cpio, jq, systemd) with apt-get;
#   2. builds an uncompressed initramfs: busybox, bash-static, ./berth,
#      jq, systemd and systemctl with the shared libraries ldd lists
#      (libsystemd-shared and libsystemd-core included), /etc/os-release,
#      a machine-id, two units (berth-test.target and berth-test.service,
#      which runs the tests and powers off), a busybox container rootfs
#      and a config.json template, the tests and scripts/vm/init-systemd;
#   3. boots Debian's kernel (an ELF vmlinux taken out of the bzImage when
#      possible) with systemd.unit=berth-test.target, KVM when usable,
#      else TCG, under a timeout;
#   4. reads the serial console for the line
#      "BERTH-SYSTEMD-RESULT: N passed, N failed, N skipped".
#
# Exits 0 only when that line is there and N failed is 0. Prints the
# console log when anything went wrong (always with VERBOSE=1).
# Environment: see scripts/vm/lib.sh (VM_TIMEOUT defaults to 300 s).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

vm_setup systemd-vm BERTH-SYSTEMD-RESULT 300 systemd "test -x /lib/systemd/systemd"
vm_initramfs etc/systemd/system var/tmp
chmod 1777 "$ird/var/tmp"
ln -s ../run "$ird/var/run"
copy_exe /lib/systemd/systemd /lib/systemd/systemd
rm -f "$ird/bin/systemctl"
copy_exe "$(readlink -f /bin/systemctl)" /bin/systemctl
install -m 0755 "$repo/scripts/vm/init-systemd" "$ird/init"
cp -r "$repo/tests/systemd/." "$ird/tests/"
cp /usr/lib/os-release "$ird/etc/os-release"
# A fixed id: systemd would otherwise make a transient one and say so.
echo 0123456789abcdef0123456789abcdef >"$ird/etc/machine-id"
echo berth-vm >"$ird/etc/hostname"

# The target isolates to the test service alone (no sysinit, journald or
# udev: nothing here needs them). The service writes to the serial console
# itself; it powers the VM off when done, so nothing waits on it.
cat >"$ird/etc/systemd/system/berth-test.target" <<'EOF'
[Unit]
Description=berth systemd cgroup driver tests
AllowIsolate=yes
Wants=berth-test.service
EOF
cat >"$ird/etc/systemd/system/berth-test.service" <<'EOF'
[Unit]
Description=berth systemd cgroup driver tests
DefaultDependencies=no

[Service]
Type=oneshot
ExecStart=/init run
StandardInput=null
StandardOutput=null
StandardError=null
EOF

# The spec's device rules stay: berth's eBPF filter joins the programs
# systemd may attach to the scope (BPF_F_ALLOW_MULTI).
vm_bundle
vm_boot "systemd.unit=berth-test.target systemd.show_status=0 systemd.log_level=warning" \
	" with systemd $(/bin/systemctl --version | awk 'NR == 1 {print $2}')"
vm_report "init-systemd:"
