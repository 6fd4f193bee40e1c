#!/usr/bin/env bash
# The store, copygc, recovery and memory figures of issue 7 in one run, each ratio measured side by
# side in the same process (the machine may be shared: never compare numbers from separate runs):
#
#   put      ZoneStore.put of 4 KiB, 64 KiB and 1 MiB values onto a file-backed emulated device vs
#            plain sequential pwrite of the same bytes to a file in the same directory (targets
#            ≥ 0.7, ≥ 0.9, ≥ 0.95)                                 Probes/StoreThroughputProbe
#   copygc   collectGarbage on a fragmented store vs a plain read-then-write copy of the same
#            bytes on the emulated device (target ≥ 0.8)           Probes/CopygcThroughputProbe
#   open     ZoneStore.open time against journal records and keys (grows linearly)
#                                                                  Probes/RecoveryTimeProbe
#   memory   heap bytes per allocator bucket (≤ 64) and per stored extent (≤ 64 plus the key)
#                                                                  Probes/MemoryFootprintProbe
#
# Builds the probes in release mode, runs them, and prints every `RESULT` line again as a summary.
#
#   tools/bench-probes.sh                    # full run (about 3 minutes on 2 cores)
#
# Ratios are medians of alternating rounds: many short rounds, so that a burst of load from other
# processes spoils a few rounds rather than one side of the comparison. The put and copygc
# probes also print CPU-time ratios, steadier still on a loaded machine but blind to I/O waits.
#   QUICK=1 tools/bench-probes.sh            # smaller volumes, fewer rounds (about 1 minute)
#   ONLY="put copygc" tools/bench-probes.sh  # some of them
#   DIR=/dev/shm/x tools/bench-probes.sh     # where the images and files go (default: under the
#                                            # scratch directory, i.e. on the disk of the checkout)
#   CHECK=1 tools/bench-probes.sh            # exit 1 if a target is missed
#   SCRATCH=Benchmarks/.build-mine tools/bench-probes.sh   # SwiftPM scratch directory
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SWIFT=${SWIFT:-swift}
SCRATCH=${SCRATCH:-$ROOT/Benchmarks/.build-bench}
case "$SCRATCH" in /*) ;; *) SCRATCH=$ROOT/$SCRATCH ;; esac
DIR=${DIR:-$SCRATCH/probe-files}
ONLY=${ONLY:-put copygc open memory}
QUICK=${QUICK:-0}

if [ "$QUICK" != 0 ]; then
    PUT_4K="64 3"; PUT_64K="256 3"; PUT_1M="256 3"; COPYGC="256 3"; COPYGC_ZONES="128"
    RECORDS=25000,50000,100000,200000
else
    PUT_4K="128 9"; PUT_64K="256 9"; PUT_1M="256 9"; COPYGC="512 7"; COPYGC_ZONES="128 32"
    RECORDS=50000,100000,200000,400000
fi

PROBES=(StoreThroughputProbe CopygcThroughputProbe RecoveryTimeProbe MemoryFootprintProbe)
echo "== building the probes (release, $SCRATCH)" >&2
for probe in "${PROBES[@]}"; do
    "$SWIFT" build -c release --package-path Benchmarks --scratch-path "$SCRATCH" --product "$probe" >&2
done
BIN=$("$SWIFT" build -c release --package-path Benchmarks --scratch-path "$SCRATCH" --show-bin-path)

mkdir -p "$DIR"
LOG=$(mktemp)
trap 'rm -f "$LOG"; rm -f "$DIR"/*-probe-* "$DIR"/copy-source-* "$DIR"/copy-target-* 2>/dev/null || true' EXIT

# The source state the figures belong to: the commit, and whether Sources/ has uncommitted changes.
state="unknown (not a git checkout)"
if [ "$(git -C "$ROOT" rev-parse --show-toplevel 2>/dev/null)" = "$ROOT" ]; then
    state=$(git -C "$ROOT" rev-parse --short HEAD)
fi
if [ "$state" != "unknown (not a git checkout)" ] && [ -n "$(git -C "$ROOT" status --porcelain -- Sources)" ]; then
    state+=" + uncommitted Sources/ changes ($(git -C "$ROOT" diff HEAD -- Sources | sha1sum | cut -c1-8))"
fi
echo "== probes: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
    "$("$SWIFT" --version 2>/dev/null | head -1)"
echo "   tree $state; files in $DIR ($(stat -f -c %T "$DIR")); load $(cut -d' ' -f1-3 /proc/loadavg)"

run() {  # run TITLE COMMAND... — prints the probe's output and keeps it for the summary
    echo
    echo "== $1"
    shift
    "$@" 2>&1 | tee -a "$LOG"
}

start=$(date +%s)
for item in $ONLY; do
    case "$item" in
    put)
        # shellcheck disable=SC2086
        run "put 4 KiB vs pwrite" "$BIN/StoreThroughputProbe" "$DIR" $PUT_4K size=4 device
        # shellcheck disable=SC2086
        run "put 64 KiB vs pwrite" "$BIN/StoreThroughputProbe" "$DIR" $PUT_64K size=64 device
        # shellcheck disable=SC2086
        run "put 1 MiB vs pwrite" "$BIN/StoreThroughputProbe" "$DIR" $PUT_1M size=1024 device
        ;;
    copygc)
        for zone in $COPYGC_ZONES; do
            # shellcheck disable=SC2086
            run "copygc vs read-then-write copy, zones of $zone MiB" \
                "$BIN/CopygcThroughputProbe" "$DIR" $COPYGC size=64 live=50 zone=$zone
        done
        ;;
    open)
        run "open (recovery) time" "$BIN/RecoveryTimeProbe" records=$RECORDS overwrites=1,4
        ;;
    memory)
        run "memory per bucket and per extent" "$BIN/MemoryFootprintProbe"
        ;;
    *)
        echo "unknown probe '$item' (put, copygc, open, memory)" >&2
        exit 64
        ;;
    esac
done

echo
echo "== summary ($(($(date +%s) - start)) s; tree $state)"
grep '^RESULT' "$LOG" | sed 's/^RESULT //' | awk '{ printf "%-32s", $1; $1 = ""; print }'
if grep -q '^RESULT.* MISSED' "$LOG"; then
    echo "some targets are missed (see above)"
    if [ "${CHECK:-0}" != 0 ]; then exit 1; fi
fi
