#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of Fuzz/ZoneFuzz with AddressSanitizer and libFuzzer's
# coverage instrumentation (SwiftPM scratch folder .build-fuzz), then runs each target for
# FUZZ_SECONDS (default 60) on its seed corpus fixtures/fuzz/<target>/.
#
#   FUZZ_SECONDS=600 make fuzz                   # ten minutes per target
#   FUZZ_TARGETS="journal recovery" make fuzz    # some targets only
#   tools/fuzz.sh --seeds                        # rewrite fixtures/fuzz/ from a real store
#   tools/fuzz.sh --reproduce journal CRASHFILE  # run one input again, with a backtrace
#
# New inputs that grow coverage go to .build-fuzz/corpus/<target>/ (not committed); a crash is
# written to .build-fuzz/artifacts/<target>/ and fails the run: turn it into a regression test
# (Tests/ZoneStoreTests/DecoderRegressionTests.swift) and fix the decoder.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-"superblock journal recovery checkpoint trace size"}
SCRATCH=${FUZZ_SCRATCH:-.build-fuzz}

swiftc_path=$(readlink -f "$(command -v swiftc)")
runtime=$(ls "$(dirname "$swiftc_path")"/../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-"$(uname -m)".a 2>/dev/null |
    head -n 1 || true)
if [[ -z "$runtime" ]]; then
    echo "fuzz: libFuzzer (libclang_rt.fuzzer_no_main) was not found next to $swiftc_path; the Swift toolchain" \
        "for Linux ships it in usr/lib/clang/*/lib/linux/" >&2
    exit 1
fi
runtime=$(readlink -f "$runtime")

echo "== building Fuzz/ZoneFuzz (ASan + libFuzzer coverage) in $SCRATCH"
# gold fails on ASan-instrumented Swift objects here; lld (shipped with the toolchain) links them.
mkdir -p "$SCRATCH"
set +e
ZONEALLOC_FUZZ="$runtime" "$SWIFT" build --scratch-path "$SCRATCH" --product ZoneFuzz --sanitize=address \
    -Xswiftc -sanitize-coverage=edge,trace-cmp,indirect-calls,inline-8bit-counters,pc-table \
    -Xswiftc -use-ld=lld >"$SCRATCH/build.log" 2>&1
status=$?
set -e
grep -v "Cannot export local symbol" "$SCRATCH/build.log" | tail -n 40
if [[ $status -ne 0 ]]; then
    echo "fuzz: building Fuzz/ZoneFuzz failed (log: $SCRATCH/build.log)" >&2
    exit 1
fi
binary="$SCRATCH/debug/ZoneFuzz"

export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}

if [[ "${1:-}" == "--seeds" ]]; then
    rm -rf fixtures/fuzz.new
    "$binary" --write-seeds fixtures/fuzz.new
    for target in fixtures/fuzz.new/*; do
        mkdir -p "fixtures/fuzz/$(basename "$target")"
        cp "$target"/* "fixtures/fuzz/$(basename "$target")/"
    done
    rm -rf fixtures/fuzz.new
    echo "seed corpora written to fixtures/fuzz/"
    exit 0
fi
if [[ "${1:-}" == "--reproduce" ]]; then
    FUZZ_TARGET="$2" SWIFT_BACKTRACE=enable=yes "$binary" "$3"
    exit $?
fi

max_len() {
    case "$1" in
    superblock) echo 8200 ;;
    journal) echo 70000 ;;
    recovery | checkpoint) echo 32768 ;;
    trace) echo 4096 ;;
    *) echo 128 ;;
    esac
}

failed=()
summary=()
for target in $FUZZ_TARGETS; do
    corpus="$SCRATCH/corpus/$target"
    artifacts="$SCRATCH/artifacts/$target/"
    mkdir -p "$corpus" "$artifacts" "fixtures/fuzz/$target"
    echo "== fuzz $target for ${FUZZ_SECONDS}s (seeds: fixtures/fuzz/$target, $(ls "fixtures/fuzz/$target" | wc -l) files)"
    log="$SCRATCH/fuzz-$target.log"
    set +e
    FUZZ_TARGET="$target" "$binary" -max_total_time="$FUZZ_SECONDS" -timeout=20 -rss_limit_mb=4096 \
        -max_len="$(max_len "$target")" -print_final_stats=1 -artifact_prefix="$artifacts" \
        "$corpus" "fixtures/fuzz/$target" >"$log" 2>&1
    status=$?
    set -e
    runs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$log" | grep -o "[0-9]*$" | tail -n 1)
    coverage=$(grep -o "cov: [0-9]*" "$log" | tail -n 1 | grep -o "[0-9]*")
    if [[ $status -ne 0 ]]; then
        failed+=("$target")
        tail -n 60 "$log"
        summary+=("$target: FAILED (exit $status) after ${runs:-?} runs; input in $artifacts, log $log")
    else
        summary+=("$target: ${runs:-?} runs in ${FUZZ_SECONDS}s, coverage ${coverage:-?} edges, no crash")
    fi
done

echo "== fuzz summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: crashes in ${failed[*]}; reproduce with tools/fuzz.sh --reproduce TARGET FILE" >&2
    exit 1
fi
