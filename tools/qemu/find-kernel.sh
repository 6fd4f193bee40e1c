#!/usr/bin/env bash
# Prints the version of an installed Linux kernel that the QEMU harness can boot: one with a
# /boot/vmlinuz-VERSION image and /lib/modules/VERSION holding the null_blk, nvme, scsi_debug and
# sd_mod modules, built with CONFIG_BLK_DEV_ZONED=y when its config is in /boot. That is the kernel
# of Debian's linux-image-amd64 package; the host's running kernel does not matter.
#
# ZONEALLOC_KERNEL_VERSION picks one explicitly. With --quiet nothing is printed on failure.
# Exit status: 0 when a kernel was found, 1 otherwise.
set -euo pipefail

quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true

# has_module VERSION NAME: the module NAME (any compression) is installed for kernel VERSION.
has_module() {
    modinfo -k "$1" -n "$2" >/dev/null 2>&1 && return 0
    # modinfo may be missing (kmod not installed yet); look for the file itself.
    [ -n "$(find "/lib/modules/$1/kernel" -name "$2.ko*" -print -quit 2>/dev/null)" ]
}

# usable VERSION: prints nothing, returns 0 when VERSION has everything the harness needs.
usable() {
    local version=$1 module
    [ -r "/boot/vmlinuz-$version" ] || return 1
    if [ -r "/boot/config-$version" ] && ! grep -q '^CONFIG_BLK_DEV_ZONED=y' "/boot/config-$version"; then
        return 1
    fi
    for module in null_blk nvme scsi_debug sd_mod; do
        has_module "$version" "$module" || return 1
    done
}

if [ -n "${ZONEALLOC_KERNEL_VERSION:-}" ]; then
    if usable "$ZONEALLOC_KERNEL_VERSION"; then
        echo "$ZONEALLOC_KERNEL_VERSION"
        exit 0
    fi
    $quiet || echo "find-kernel: ZONEALLOC_KERNEL_VERSION=$ZONEALLOC_KERNEL_VERSION needs a readable" \
        "/boot/vmlinuz-$ZONEALLOC_KERNEL_VERSION, CONFIG_BLK_DEV_ZONED=y and the null_blk, nvme," \
        "scsi_debug and sd_mod modules in /lib/modules/$ZONEALLOC_KERNEL_VERSION" >&2
    exit 1
fi

# Newest first.
versions=$(find /lib/modules -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -rV || true)
for version in $versions; do
    if usable "$version"; then
        echo "$version"
        exit 0
    fi
done
$quiet || echo "find-kernel: no installed kernel has /boot/vmlinuz-VERSION, CONFIG_BLK_DEV_ZONED=y and the" \
    "null_blk, nvme, scsi_debug and sd_mod modules; on Debian or Ubuntu install linux-image-amd64" \
    "(tools/install-deps.sh --kernel-harness does it)" >&2
exit 1
