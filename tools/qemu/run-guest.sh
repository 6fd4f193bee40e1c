#!/usr/bin/env bash
# Boots the harness guest under QEMU and waits for it to power off.
#
# Usage: run-guest.sh [options] KERNEL INITRD WORKDIR
#   --timeout SECONDS   kill the guest after this long (default 1200); exit status 124
#   --accel auto|kvm|tcg
#                       auto (default) uses KVM when /dev/kvm is usable, and falls back to TCG
#                       (software emulation) when QEMU fails under KVM or the KVM guest does not
#                       reach /init within 120 s; tcg never tries KVM, kvm never falls back
#   --memory MIB        guest memory (default 4096)
#   --verbose           stream every line the guest reports, not only step starts and ends
#
# Devices: a QEMU NVMe controller with one ZNS namespace backed by a fresh sparse 4 GiB file
# (WORKDIR/zns.img, 64 zones of 64 MiB with 62 MiB capacity, max open 16, max active 32); the guest
# adds null_blk and scsi_debug itself. Serial ports: ttyS0 (kernel console) to WORKDIR/console.log,
# ttyS1 (the harness's reports) to WORKDIR/results.log; QEMU's own messages go to WORKDIR/qemu.log.
#
# Exit status: 0 when the guest reported DONE, 124 when it timed out, 125 when it stopped without
# reporting DONE (crash, panic), 2 when QEMU could not start.
set -euo pipefail

timeout_seconds=1200
accel=auto
memory=4096
verbose=false
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) timeout_seconds=$2 && shift 2 ;;
        --accel) accel=$2 && shift 2 ;;
        --memory) memory=$2 && shift 2 ;;
        --verbose) verbose=true && shift ;;
        -*) echo "run-guest: unknown option $1" >&2 && exit 64 ;;
        *) break ;;
    esac
done
if [ $# -ne 3 ]; then
    echo "usage: $0 [--timeout S] [--accel auto|kvm|tcg] [--memory MIB] [--verbose] KERNEL INITRD WORKDIR" >&2
    exit 64
fi
kernel=$1
initrd=$2
work=$3
mkdir -p "$work"
work=$(cd "$work" && pwd)
case "$work$kernel$initrd" in
    *,*)
        echo "run-guest: QEMU cannot take paths with commas: $work, $kernel, $initrd" >&2
        exit 64
        ;;
esac

marker="@@zonealloc@@"
qemu="qemu-system-x86_64"
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "run-guest: $qemu is not installed (Debian: apt-get install qemu-system-x86;" \
        "or run tools/install-deps.sh --kernel-harness)" >&2
    exit 2
fi

# kvm_usable: /dev/kvm is there, ours to use, and backed by a real VT-x/AMD-V hypervisor. kvm_pvm (a
# nested PVM hypervisor, as on Firecracker-style CI hosts) only runs PVM guests: a stock kernel
# crawls or dies there, so it counts as unusable.
kvm_usable() {
    [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    [ -d /sys/module/kvm_pvm ] && return 1
    [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]
}

fallback=false
case "$accel" in
    auto) if kvm_usable; then accel=kvm && fallback=true; else accel=tcg; fi ;;
    kvm | tcg) ;;
    *) echo "run-guest: --accel takes auto, kvm or tcg" >&2 && exit 64 ;;
esac

kvm_boot_wait=120
qemu_pid=""
# Never leave a guest behind when this script is interrupted.
trap '[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null; true' EXIT

cpus=$(nproc 2>/dev/null || echo 1)
[ "$cpus" -gt 2 ] && cpus=2

# The progress filter: step starts and ends (everything with --verbose), flushed line by line.
progress() {
    awk -v marker="$marker" -v verbose="$verbose" '
        { sub(/\r$/, "") }
        $1 != marker { if (verbose == "true") { print "    " $0; fflush() } ; next }
        $2 == "BOOT" { printf "  guest booted in %s s\n", $3 }
        $2 == "DEVICE" { printf "  found %s (%s):", $3, $4; for (i = 5; i <= NF; i++) printf " %s", $i; printf "\n" }
        $2 == "BEGIN" && verbose == "true" { printf "  %-14s %-22s started\n", $3, $4 }
        $2 == "END" { printf "  %-14s %-22s %s after %s s\n", $3, $4, ($5 == 0 ? "passed" : "FAILED (exit status " $5 ")"), $6 }
        $2 == "SKIP" { printf "  %-14s %-22s skipped:", $3, $4; for (i = 5; i <= NF; i++) printf " %s", $i; printf "\n" }
        $2 == "DONE" { printf "  guest finished at uptime %s s\n", $3 }
        { fflush() }'
}

# boot ACCEL: runs QEMU once, returns its exit status (124 on timeout, 86 when the KVM boot
# watchdog gave up).
boot() {
    local accel=$1 accel_args tail_pid status waited
    if [ "$accel" = kvm ]; then
        accel_args=(-accel kvm -cpu host)
    else
        accel_args=(-accel "tcg,thread=multi" -cpu qemu64)
    fi
    rm -f "$work/zns.img" "$work/console.log" "$work/results.log" "$work/qemu.log"
    truncate -s 4G "$work/zns.img"
    : >"$work/results.log"
    echo "run-guest: booting $(basename "$kernel") under QEMU ($accel, $cpus CPUs, $memory MiB, timeout $timeout_seconds s)"
    timeout -k 10 "$timeout_seconds" "$qemu" \
        -nodefaults -no-user-config -display none -no-reboot \
        "${accel_args[@]}" -m "$memory" -smp "$cpus" \
        -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=4 mitigations=off" \
        -serial "file:$work/console.log" -serial "file:$work/results.log" \
        -drive "file=$work/zns.img,id=zns0,format=raw,if=none" \
        -device nvme,id=nvme0,serial=zonealloc0,zoned.zasl=5 \
        -device nvme-ns,drive=zns0,bus=nvme0,nsid=1,logical_block_size=4096,physical_block_size=4096,zoned=true,zoned.zone_size=64M,zoned.zone_capacity=62M,zoned.max_open=16,zoned.max_active=32 \
        </dev/null >"$work/qemu.log" 2>&1 &
    qemu_pid=$!
    tail -n +1 -F --pid="$qemu_pid" "$work/results.log" 2>/dev/null | progress &
    tail_pid=$!
    if [ "$accel" = kvm ]; then
        waited=0
        while kill -0 "$qemu_pid" 2>/dev/null && ! grep -q "^$marker BOOT" "$work/results.log"; do
            if [ "$waited" -ge "$kvm_boot_wait" ]; then
                echo "run-guest: the KVM guest did not reach /init in $kvm_boot_wait s; stopping it" >&2
                kill "$qemu_pid" 2>/dev/null || true
                wait "$qemu_pid" 2>/dev/null || true
                qemu_pid=""
                wait "$tail_pid" 2>/dev/null || true
                return 86
            fi
            sleep 1
            waited=$((waited + 1))
        done
    fi
    status=0
    wait "$qemu_pid" || status=$?
    qemu_pid=""
    wait "$tail_pid" 2>/dev/null || true
    return "$status"
}

status=0
boot "$accel" || status=$?
if $fallback && [ "$status" -ne 0 ] && ! grep -q "^$marker BOOT" "$work/results.log"; then
    echo "run-guest: KVM did not work here (QEMU status $status):" >&2
    sed 's/^/  /' "$work/qemu.log" >&2
    echo "run-guest: falling back to TCG (software emulation)" >&2
    status=0
    boot tcg || status=$?
fi
rm -f "$work/zns.img"

if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "run-guest: the guest did not finish within $timeout_seconds s (kernel log: $work/console.log)" >&2
    exit 124
fi
if [ "$status" -ne 0 ]; then
    echo "run-guest: QEMU failed with exit status $status:" >&2
    sed 's/^/  /' "$work/qemu.log" >&2
    exit 2
fi
if ! tr -d '\r' <"$work/results.log" | grep -q "^$marker DONE"; then
    echo "run-guest: the guest stopped without finishing its steps; the end of its kernel log:" >&2
    tail -n 30 "$work/console.log" | sed 's/^/  /' >&2
    exit 125
fi
