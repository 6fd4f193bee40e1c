#!/usr/bin/env bash
# Builds the harness guest's initramfs (an uncompressed newc cpio archive):
#   /bin/busybox            busybox (its applets are linked at boot by /init)
#   /init                   tools/qemu/guest-init.sh
#   /harness/config         CONFIG (shell variables read by /init)
#   /harness/bin/*          the BINARY arguments
#   /harness/modules/*.ko   null_blk, nvme, scsi_debug, sd_mod, configfs and the crc modules, with
#                           every dependency modules.dep lists, decompressed; modules.order lists
#                           them in load order
#   every shared library `ldd` lists for busybox and the binaries (libzbd, the Swift runtime from
#   the toolchain, glibc and the ELF interpreter), at the same absolute path as on the host
#
# Usage: build-initramfs.sh OUTPUT KERNEL_VERSION CONFIG BINARY...
set -euo pipefail

if [ $# -lt 4 ]; then
    echo "usage: $0 OUTPUT KERNEL_VERSION CONFIG BINARY..." >&2
    exit 64
fi
output=$1
kernel_version=$2
config=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)

# Loaded in this order; each one's dependencies come first. The crc/crypto modules go before nvme
# and sd_mod because t10-pi asks the crypto API for them (soft dependencies modules.dep omits).
# Only the device drivers are required; configfs or the crc modules may be built in or absent.
required_modules=(null_blk nvme scsi_debug sd_mod)
load_order=(configfs crct10dif_generic crc64_rocksoft_generic null_blk nvme scsi_debug sd_mod)

root=$(mktemp -d "${TMPDIR:-/tmp}/zonealloc-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev,tmp,run,harness/bin,harness/modules}

# copy_libraries FILE: copies every library `ldd FILE` resolves, and the ELF interpreter, to the
# same path under the root. Fails when one is not found. (mawk has no \s: plain fields only.)
copy_libraries() {
    local file=$1 listing lib
    listing=$(ldd "$file" 2>&1 || true)
    case "$listing" in
        *"not a dynamic executable"* | *"statically linked"*) return 0 ;;
    esac
    if grep -q "not found" <<<"$listing"; then
        echo "build-initramfs: $file needs libraries that are not installed:" >&2
        grep "not found" <<<"$listing" >&2
        exit 1
    fi
    while read -r lib; do
        [ -e "$root$lib" ] && continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done < <(awk '$2 == "=>" && substr($3, 1, 1) == "/" { print $3 } substr($1, 1, 1) == "/" { print $1 }' <<<"$listing")
}

busybox=$(command -v busybox || true)
if [ -z "$busybox" ]; then
    echo "build-initramfs: busybox is not installed (Debian: busybox-static)" >&2
    exit 1
fi
cp -L "$busybox" "$root/bin/busybox"
copy_libraries "$busybox"

for binary in "$@"; do
    cp -L "$binary" "$root/harness/bin/"
    copy_libraries "$binary"
done
install -m 0755 "$here/guest-init.sh" "$root/init"
cp "$config" "$root/harness/config"

# Module paths in load order, each once.
modprobe=$(command -v modprobe || echo /sbin/modprobe)
module_paths=()
for module in "${load_order[@]}"; do
    if ! depends=$("$modprobe" -S "$kernel_version" --show-depends "$module" 2>&1); then
        if [[ " ${required_modules[*]} " == *" $module "* ]]; then
            echo "build-initramfs: kernel $kernel_version has no $module module: $depends" >&2
            exit 1
        fi
        echo "build-initramfs: note: kernel $kernel_version has no $module module; continuing without it" >&2
        continue
    fi
    while read -r path; do
        [[ " ${module_paths[*]} " == *" $path "* ]] || module_paths+=("$path")
    done < <(awk '$1 == "insmod" { print $2 }' <<<"$depends")
done

: >"$root/harness/modules.order"
for path in "${module_paths[@]}"; do
    name=$(basename "$path")
    case "$name" in
        *.ko.xz) name=${name%.xz} && xz -dc "$path" >"$root/harness/modules/$name" ;;
        *.ko.zst) name=${name%.zst} && zstd -qdc "$path" >"$root/harness/modules/$name" ;;
        *.ko.gz) name=${name%.gz} && gzip -dc "$path" >"$root/harness/modules/$name" ;;
        *) cp "$path" "$root/harness/modules/$name" ;;
    esac
    echo "$name" >>"$root/harness/modules.order"
done

mkdir -p "$(dirname "$output")"
(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null --create --format=newc --owner=0:0 --quiet) \
    >"$output.tmp"
mv "$output.tmp" "$output"
