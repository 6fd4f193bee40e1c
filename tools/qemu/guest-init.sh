#!/bin/busybox sh
# shellcheck shell=dash
# /init of the zonealloc kernel-harness guest (built into the initramfs by build-initramfs.sh).
#
# Loads the zoned block device drivers, finds the zoned devices (QEMU NVMe ZNS namespace, null_blk
# zoned, scsi_debug ZBC), runs every step of /harness/config on each, and reports on the second
# serial port (ttyS1) with marker lines the host parses (run-guest.sh, summarize.sh):
#
#   @@zonealloc@@ BOOT <uptime>
#   @@zonealloc@@ DEVICE <path> <kind> <zone summary>
#   @@zonealloc@@ BEGIN <path> <step>
#   ...the step's stdout and stderr...
#   @@zonealloc@@ END <path> <step> <exit status> <seconds>
#   @@zonealloc@@ SKIP <path> <step> <reason>
#   @@zonealloc@@ DONE <uptime>
#
# Then powers the machine off. The kernel log and this script's own messages go to ttyS0.
# No `set -e`: a failing step is recorded, never the end of the run. If this script dies anyway,
# the kernel panics (panic=-1 reboots, QEMU's -no-reboot exits) and the host sees no DONE line.

PATH=/bin
export PATH
/bin/busybox mkdir -p /proc /sys /dev /tmp /run
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t tmpfs tmpfs /tmp
/bin/busybox --install -s /bin

# shellcheck source=/dev/null
. /harness/config

MARK="@@zonealloc@@"
stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3>/dev/ttyS1

log() { echo "harness: $*" >/dev/console; }
mark() { echo "$MARK $*" >&3; }
uptime_seconds() { cut -d' ' -f1 /proc/uptime; }

mark BOOT "$(uptime_seconds)"

# Kernel modules in dependency order (from modprobe --show-depends on the host). The crypto modules
# may refuse to load on this CPU model (crct10dif-pclmul needs PCLMULQDQ); that is harmless.
while read -r module; do
    case "$module" in
        null_blk.ko) params="$NULLBLK_PARAMS" ;;
        scsi_debug.ko) params="$SCSI_DEBUG_PARAMS" ;;
        *) params="" ;;
    esac
    # shellcheck disable=SC2086 # $params holds several module parameters
    if ! out=$(insmod "/harness/modules/$module" $params 2>&1); then
        log "insmod $module: $out"
    fi
done </harness/modules.order
if grep -q configfs /proc/filesystems; then
    mkdir -p /sys/kernel/config && mount -t configfs configfs /sys/kernel/config
fi

# kind_of NAME: the device family of /sys/block/NAME, or nothing when it is not a zoned device.
kind_of() {
    zoned=$(cat "/sys/block/$1/queue/zoned" 2>/dev/null)
    case "$zoned" in host-managed | host-aware) ;; *) return ;; esac
    case "$1" in
        nvme*) echo zns ;;
        nullb*) echo nullblk ;;
        sd*) echo zbc ;;
        *) echo other ;;
    esac
}

# The SCSI scan and the NVMe namespace scan are asynchronous: wait until every expected kind shows up.
waited=0
while :; do
    found=""
    for sys in /sys/block/*; do
        kind=$(kind_of "${sys##*/}")
        [ -n "$kind" ] && found="$found $kind"
    done
    missing=""
    for kind in $EXPECTED_KINDS; do
        case " $found " in *" $kind "*) ;; *) missing="$missing $kind" ;; esac
    done
    [ -z "$missing" ] && break
    if [ "$waited" -ge "$DEVICE_WAIT_SECONDS" ]; then
        log "gave up waiting for:$missing"
        break
    fi
    sleep 1
    waited=$((waited + 1))
done

devices=""
for sys in /sys/block/*; do
    name=${sys##*/}
    kind=$(kind_of "$name")
    [ -n "$kind" ] || continue
    q=$sys/queue
    mark DEVICE "/dev/$name" "$kind" "zones=$(cat "$q/nr_zones")" \
        "zone_sectors=$(cat "$q/chunk_sectors")" "lbs=$(cat "$q/logical_block_size")" \
        "max_open=$(cat "$q/max_open_zones")" "max_active=$(cat "$q/max_active_zones")" \
        "max_sectors_kb=$(cat "$q/max_sectors_kb")" "max_segments=$(cat "$q/max_segments")" \
        "scheduler=$(sed 's/.*\[\(.*\)\].*/\1/' "$q/scheduler")" "write_cache=$(tr ' ' _ <"$q/write_cache")"
    devices="$devices /dev/$name"
done

export HOME=/tmp TMPDIR=/tmp NO_COLOR=1 TERM=dumb

# run_step DEVICE STEP COMMAND...: runs COMMAND under the step timeout and reports it.
run_step() {
    device=$1
    step=$2
    shift 2
    log "$device $step"
    mark BEGIN "$device" "$step"
    start=$(uptime_seconds)
    timeout -s KILL "$STEP_TIMEOUT_SECONDS" "$@" >&3 2>&1 </dev/null
    status=$?
    end=$(uptime_seconds)
    mark END "$device" "$step" "$status" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
}

# Is `zonealloc conformance` there yet, and does it have the differential mode? (Without the
# subcommand, `zonealloc conformance --help` prints the top-level help.) A zonealloc that does not
# run at all (a missing library, say) runs every step, so that they fail and say why.
have_conformance=true
have_differential=true
if /harness/bin/zonealloc --help >/dev/null 2>&1; then
    cli_help=$(/harness/bin/zonealloc conformance --help 2>&1)
    case "$cli_help" in *"zonealloc conformance"*) ;; *) have_conformance=false ;; esac
    case "$cli_help" in *--differential*) have_differential=$have_conformance ;; *) have_differential=false ;; esac
else
    log "zonealloc --help fails: $(/harness/bin/zonealloc --help 2>&1 | head -n 3)"
fi

for device in $devices; do
    if $have_conformance; then
        run_step "$device" conformance /harness/bin/zonealloc conformance "$device" --yes-destroy-data
    else
        mark SKIP "$device" conformance "not available: this zonealloc has no conformance command"
    fi
    for seed in $SEEDS; do
        if $have_differential; then
            run_step "$device" "differential-seed-$seed" /harness/bin/zonealloc conformance "$device" \
                --yes-destroy-data --differential --seed "$seed" --ops "$OPS"
        else
            mark SKIP "$device" "differential-seed-$seed" \
                "not available: this zonealloc has no conformance --differential"
        fi
    done
    run_step "$device" zbd-device-tests env ZONEALLOC_TEST_DEVICE="$device" \
        /harness/bin/zoneallocPackageTests.xctest --testing-library swift-testing \
        --filter ZonedStorageTests.ZBDDeviceTests
    run_step "$device" conformance-tests env ZONEALLOC_CONFORMANCE_DEVICE="$device" \
        /harness/bin/zoneallocPackageTests.xctest --testing-library swift-testing \
        --filter ZoneConformanceTests.RealDeviceConformanceTests
done

mark DONE "$(uptime_seconds)"
# The UART drains at its own pace: give the last lines time to reach the host before power-off.
sleep 1
poweroff -f
