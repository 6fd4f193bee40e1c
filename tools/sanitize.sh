#!/usr/bin/env bash
# Runs the test suite (or its concurrency and crash subset) under a sanitizer, in a scratch folder
# of its own so the normal build is untouched.
#
#   tools/sanitize.sh thread            # `make test-tsan`: the concurrency and crash tests under TSan
#   tools/sanitize.sh thread --all      # every test under ThreadSanitizer (slow: see the notes)
#   tools/sanitize.sh address --all     # `make sanitize`: every test under AddressSanitizer
#
# SANITIZE_SCRATCH overrides the scratch folder (.build-tsan / .build-asan by default).
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
sanitizer=${1:?usage: tools/sanitize.sh thread|address [--all]}
scope=${2:-}
case "$sanitizer" in
thread) scratch=${SANITIZE_SCRATCH:-.build-tsan} ;;
address) scratch=${SANITIZE_SCRATCH:-.build-asan} ;;
*)
    echo "sanitize: unknown sanitizer '$sanitizer' (thread or address)" >&2
    exit 2
    ;;
esac

# The tests that run threads or tasks against one store, allocator or device, and the crash tests
# (a killed child process, power loss at random points): the subset CI runs under TSan.
subset='ZoneAllocTests\.ConcurrencyTests|WritePointTests/concurrentFastPathWithFolding'
subset+='|ZoneBudgetTests/fortyHintsStayWithinBudget|EvacuationTests/(concurrentOverwriteWins|threadedOverwrites)'
subset+='|ZoneStoreConcurrencyTests|ZoneStoreCrashTests|ZoneStoreFaultTests'
subset+='|ChecklistAppendTests/concurrentAppends|EmulatorConcurrencyTests|EmulatorPersistenceTests/crash|EmulatorDiscardTests'

filter=()
[[ "$scope" == "--all" ]] || filter=(--filter "$subset")
# Resident-memory budgets (a 20 TB metadata-only device under 100 MiB) measure the sanitizer's
# shadow memory and quarantine, not ours: skipped under sanitizers.
filter+=(--skip 'EmulatorMetadataOnlyTests')

export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
# Each SIGKILL point of the crash test starts an instrumented worker, and every access of the store's
# concurrency test is instrumented: smaller runs under TSan (the interleavings are what it checks).
if [[ "$sanitizer" == thread ]]; then
    export ZONESTORE_KILL_POINTS=${ZONESTORE_KILL_POINTS:-20}
    export ZONESTORE_CONCURRENCY_SEEDS=${ZONESTORE_CONCURRENCY_SEEDS:-1}
fi
# halt_on_error: a report fails the run instead of scrolling past.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}
echo "== swift test --sanitize=$sanitizer ${filter[*]:-(all tests)} in $scratch"
"$SWIFT" build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
if [[ "$sanitizer" == thread ]]; then
    # TSan cannot see the contended paths of Swift's Mutex on Linux (tools/tsan/mutex-annotations.c):
    # preload a wrapper that reports them as acquire/release, or every Mutex-protected access may be
    # reported as a race.
    clang=$(dirname "$(readlink -f "$(command -v swiftc)")")/clang
    "$clang" -shared -fPIC -O1 -fdollars-in-identifiers -Wall -Werror -o "$scratch/libmutex-annotations.so" \
        tools/tsan/mutex-annotations.c
    export LD_PRELOAD="$PWD/$scratch/libmutex-annotations.so${LD_PRELOAD:+:$LD_PRELOAD}"
fi
# The crash tests run the `zonealloc` binary built next to the tests (same sanitizer).
"$SWIFT" test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" "${filter[@]}"
