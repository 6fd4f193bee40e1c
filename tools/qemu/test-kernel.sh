#!/usr/bin/env bash
# `make test-kernel`: runs zonealloc on real Linux zoned block devices. Boots Debian's kernel under
# QEMU with three of them — a QEMU NVMe ZNS namespace, null_blk with zoned=1 and a scsi_debug ZBC
# (host-managed SMR) disk — and runs on each, inside the guest:
#   conformance              zonealloc conformance DEV --yes-destroy-data
#   differential-seed-S      zonealloc conformance DEV --yes-destroy-data --differential --seed S --ops N
#   zbd-device-tests         the ZBDDevice tests of the test bundle (ZONEALLOC_TEST_DEVICE=DEV)
#   conformance-tests        the real-device conformance test (ZONEALLOC_CONFORMANCE_DEVICE=DEV)
# The two conformance commands show as n/a when the built zonealloc does not have them.
# Prints a device × step table and exits non-zero when a step failed, a device was missing or the
# guest did not finish in time.
#
# Usage: tools/qemu/test-kernel.sh [options]
#   --scratch-path DIR          SwiftPM scratch folder of the debug test bundle (default .build)
#   --release-scratch-path DIR  SwiftPM scratch folder of the release zonealloc (default .build)
#   --work DIR                  initramfs, logs and the ZNS image (default SCRATCH/qemu)
#   --seeds "S..."              differential seeds (default "1 2 3")
#   --ops N                     differential operations per seed (default 2000)
#   --timeout SECONDS           whole-guest timeout (default 1200)
#   --step-timeout SECONDS      per-step timeout inside the guest (default 600)
#   --accel auto|kvm|tcg        see run-guest.sh (default auto: KVM when usable, else TCG)
#   --no-deps                   do not run tools/install-deps.sh --kernel-harness
#   --no-build                  use the binaries already built in the scratch folders
#   --verbose                   stream every step's output while the guest runs
# Environment: SWIFT (default swift), ZONEALLOC_KERNEL_VERSION (see find-kernel.sh).
#
# Step logs: WORK/logs/<device>.<step>.log; the guest's kernel log: WORK/console.log.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
swift=${SWIFT:-swift}
scratch=.build
release_scratch=.build
work=""
seeds="1 2 3"
ops=2000
timeout_seconds=1200
step_timeout=600
accel=auto
deps=true
build=true
verbose_flag=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scratch-path) scratch=$2 && shift 2 ;;
        --release-scratch-path) release_scratch=$2 && shift 2 ;;
        --work) work=$2 && shift 2 ;;
        --seeds) seeds=$2 && shift 2 ;;
        --ops) ops=$2 && shift 2 ;;
        --timeout) timeout_seconds=$2 && shift 2 ;;
        --step-timeout) step_timeout=$2 && shift 2 ;;
        --accel) accel=$2 && shift 2 ;;
        --no-deps) deps=false && shift ;;
        --no-build) build=false && shift ;;
        --verbose) verbose_flag=(--verbose) && shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
        *) echo "test-kernel: unknown option $1 (see --help)" >&2 && exit 64 ;;
    esac
done
work=${work:-$scratch/qemu}
expected_kinds="zns nullblk zbc"

started=$(date +%s)
phase_started=$started
# phase NAME: prints how long the previous phase took and starts timing the next one.
phase() {
    local now
    now=$(date +%s)
    [ -n "${phase_name:-}" ] && timings+=("$phase_name $((now - phase_started)) s")
    phase_name=$1
    phase_started=$now
    [ -n "$1" ] && echo "== test-kernel: $1"
    return 0
}
timings=()

if [ "$(uname -m)" != x86_64 ]; then
    echo "test-kernel: this harness boots an x86_64 (amd64) kernel and needs an x86_64 host; this is $(uname -m)" >&2
    exit 1
fi

if $deps; then
    phase "system packages"
    bash tools/install-deps.sh --kernel-harness
fi

# Can this machine run QEMU at all? Say so plainly rather than fail somewhere inside.
if ! qemu_version=$(qemu-system-x86_64 --version 2>&1 | head -n 1); then
    echo "test-kernel: qemu-system-x86_64 does not run here: $qemu_version" >&2
    echo "test-kernel: the kernel harness needs QEMU (Debian: qemu-system-x86); tools/install-deps.sh --kernel-harness installs it" >&2
    exit 1
fi
if ! kernel_version=$(bash tools/qemu/find-kernel.sh); then
    exit 1
fi
echo "test-kernel: $qemu_version; guest kernel $kernel_version"

if $build; then
    phase "build the release zonealloc"
    "$swift" build -c release --product zonealloc --scratch-path "$release_scratch"
    phase "build the test bundle"
    "$swift" build --build-tests --scratch-path "$scratch"
fi
zonealloc="$("$swift" build -c release --scratch-path "$release_scratch" --show-bin-path)/zonealloc"
bundle="$("$swift" build --scratch-path "$scratch" --show-bin-path)/zoneallocPackageTests.xctest"
for binary in "$zonealloc" "$bundle"; do
    if [ ! -x "$binary" ]; then
        echo "test-kernel: $binary is missing; build it or drop --no-build" >&2
        exit 1
    fi
done

phase "initramfs"
mkdir -p "$work"
cat >"$work/config" <<CONFIG
# Written by tools/qemu/test-kernel.sh; read by /init (tools/qemu/guest-init.sh).
EXPECTED_KINDS="$expected_kinds"
DEVICE_WAIT_SECONDS=60
STEP_TIMEOUT_SECONDS=$step_timeout
SEEDS="$seeds"
OPS=$ops
NULLBLK_PARAMS="nr_devices=1 zoned=1 zone_size=64 zone_nr_conv=4 zone_max_open=8 zone_max_active=12 memory_backed=1 gb=4"
SCSI_DEBUG_PARAMS="zbc=managed dev_size_mb=1024 zone_size_mb=64 zone_nr_conv=2 zone_max_open=8 sector_size=4096 delay=0"
CONFIG
bash tools/qemu/build-initramfs.sh "$work/initramfs.cpio" "$kernel_version" "$work/config" "$zonealloc" "$bundle"
echo "test-kernel: $work/initramfs.cpio, $(($(stat -c %s "$work/initramfs.cpio") / 1048576)) MiB"

phase "boot the guest and run the steps"
guest_status=0
bash tools/qemu/run-guest.sh --timeout "$timeout_seconds" --accel "$accel" "${verbose_flag[@]}" \
    "/boot/vmlinuz-$kernel_version" "$work/initramfs.cpio" "$work" || guest_status=$?
phase ""

echo
echo "== test-kernel: results (kernel $kernel_version; logs in $work/logs)"
summary_status=0
bash tools/qemu/summarize.sh "$work/results.log" "$work/logs" "$expected_kinds" "$guest_status" || summary_status=$?
echo "test-kernel: took $(($(date +%s) - started)) s: $(printf '%s; ' "${timings[@]}" | sed 's/; $//')"
exit "$summary_status"
