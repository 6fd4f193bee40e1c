#!/usr/bin/env bash
# Installs the system packages zonealloc needs to build and test: libzbd's and xxHash's
# development files and pkg-config. Debian and Ubuntu get them through apt-get; other systems get instructions.
#
# With --kernel-harness, also what `make test-kernel` (tools/qemu/) needs to boot a Linux kernel
# with zoned block devices under QEMU: qemu-system-x86, a distribution kernel with the null_blk,
# nvme, scsi_debug and sd_mod modules (Debian: linux-image-amd64), busybox, kmod and cpio.
set -euo pipefail
cd "$(dirname "$0")/.."

kernel_harness=false
case "${1:-}" in
    "") ;;
    --kernel-harness) kernel_harness=true ;;
    *) echo "usage: $0 [--kernel-harness]" >&2 && exit 64 ;;
esac

# have COMMAND: COMMAND is on PATH or in an sbin folder (not on a normal user's PATH).
have() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

# The kernel package's name: Debian's linux-image-amd64 (its modules include scsi_debug);
# Ubuntu's linux-image-generic brings linux-modules-extra, where scsi_debug lives.
kernel_package=linux-image-amd64
if [ -r /etc/os-release ] && grep -q '^ID=ubuntu' /etc/os-release; then
    kernel_package=linux-image-generic
fi

missing=()
have pkg-config || missing+=(pkg-config)
if ! { have pkg-config && pkg-config --exists libzbd; } && [ ! -f /usr/include/libzbd/zbd.h ]; then
    missing+=(libzbd-dev)
fi
if ! { have pkg-config && pkg-config --exists libxxhash; } && [ ! -f /usr/include/xxhash.h ]; then
    missing+=(libxxhash-dev)
fi
if $kernel_harness; then
    have qemu-system-x86_64 || missing+=(qemu-system-x86)
    have busybox || missing+=(busybox-static)
    have cpio || missing+=(cpio)
    { have modprobe && have modinfo; } || missing+=(kmod)
    bash tools/qemu/find-kernel.sh --quiet >/dev/null || missing+=("$kernel_package")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    cat >&2 <<MSG
zonealloc needs libzbd (headers and library, version 2.x), xxHash and pkg-config, and this system has no
apt-get to install them. Install them with your package manager, for example:
  Fedora/RHEL:  dnf install libzbd-devel xxhash-devel pkgconf-pkg-config
  Arch:         pacman -S libzbd xxhash pkgconf
  from source:  https://github.com/westerndigitalcorporation/libzbd (./autogen.sh && ./configure && make install)
then run this command again.
MSG
    if $kernel_harness; then
        cat >&2 <<MSG
The kernel harness (make test-kernel) also needs qemu-system-x86_64, busybox, cpio, kmod (modprobe,
modinfo) and an installed x86_64 kernel with CONFIG_BLK_DEV_ZONED=y whose modules include null_blk,
nvme, scsi_debug and sd_mod: /boot/vmlinuz-VERSION and /lib/modules/VERSION. For example:
  Fedora:  dnf install qemu-system-x86-core busybox cpio kmod kernel-core kernel-modules kernel-modules-internal
  Arch:    pacman -S qemu-base busybox cpio kmod linux
Set ZONEALLOC_KERNEL_VERSION=VERSION to pick the kernel (tools/qemu/find-kernel.sh).
MSG
    fi
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "zonealloc: installing ${missing[*]} needs root; run 'apt-get install -y ${missing[*]}' as root" >&2
        exit 1
    fi
fi
echo "zonealloc: installing ${missing[*]} with apt-get" >&2
# INITRD=No: the kernel package would otherwise build its own initramfs (most of a minute), which
# the harness never uses; it boots the kernel with an initramfs of its own.
$sudo env DEBIAN_FRONTEND=noninteractive INITRD=No apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive INITRD=No apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if $kernel_harness && ! bash tools/qemu/find-kernel.sh >/dev/null; then
    echo "zonealloc: $kernel_package is installed, but no kernel the harness can boot was found (see above)" >&2
    exit 1
fi
