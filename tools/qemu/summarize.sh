#!/usr/bin/env bash
# Reads the guest's report (run-guest.sh's WORKDIR/results.log), writes each step's output to
# LOGDIR/<device>.<step>.log, prints a table of device × step × result × time, the end of every
# failed step's output, and a closing line "test-kernel: N passed, N failed, N skipped".
#
# Usage: summarize.sh RESULTS LOGDIR "EXPECTED_KINDS" GUEST_STATUS
#   EXPECTED_KINDS  device kinds that must have been found (zns nullblk zbc); a missing one fails
#   GUEST_STATUS    run-guest.sh's exit status; anything but 0 fails the run
#
# A step passes when it exits with status 0; a test-bundle step (name ending in -tests) must also
# have run at least one test. A step the guest could not run (a zonealloc without the command) is
# "n/a" and counts as skipped. Exit status: 0 when nothing failed, 1 otherwise.
set -euo pipefail

if [ $# -ne 4 ]; then
    echo "usage: $0 RESULTS LOGDIR EXPECTED_KINDS GUEST_STATUS" >&2
    exit 64
fi
results=$1
logdir=$2
expected=$3
guest_status=$4
rm -rf "$logdir"
mkdir -p "$logdir"

awk -v marker="@@zonealloc@@" -v logdir="$logdir" -v expected="$expected" -v guest_status="$guest_status" '
function rest(from,    i, s) {
    s = ""
    for (i = from; i <= NF; i++) s = s (s == "" ? "" : " ") $i
    return s
}
function ascii(s) {
    gsub(/[^ -~]/, "", s)
    sub(/^ +/, "", s)
    return s
}
function row(device, kind, step, result, time, detail) {
    if (length(detail) > 72) detail = substr(detail, 1, 69) "..."
    printf "%-14s %-8s %-22s %-6s %8s  %s\n", device, kind, step, result, time, detail
}
{ sub(/\r$/, "") }
$1 == marker && $2 == "DEVICE" {
    kind[$3] = $4
    seen_kind[$4] = 1
    next
}
$1 == marker && $2 == "BEGIN" {
    current = $3 SUBSEP $4
    order[++steps] = current
    device_of[current] = $3
    step_of[current] = $4
    name = $3
    sub(/^\/dev\//, "", name)
    logfile[current] = logdir "/" name "." $4 ".log"
    printf "" > logfile[current]
    next
}
$1 == marker && $2 == "END" {
    key = $3 SUBSEP $4
    status[key] = $5
    seconds[key] = $6
    if (key in logfile) close(logfile[key])
    current = ""
    next
}
$1 == marker && $2 == "SKIP" {
    key = $3 SUBSEP $4
    order[++steps] = key
    device_of[key] = $3
    step_of[key] = $4
    skipped_reason[key] = rest(5)
    next
}
$1 == marker && $2 == "DONE" { done = 1; next }
$1 == marker { next }
current != "" {
    print > logfile[current]
    if ($0 ~ /[^ ]/) last_line[current] = $0
    # A differential step: its "seed S: no divergence in N operations (T s)" or "seed S:
    # DIVERGED at operation I of N (T s)" line says more than the closing "1 seeds, ..." line.
    if ($0 ~ /^seed [0-9]+: /) { sub(/ \([0-9.]+ s\)$/, ""); seed_line[current] = $0 }
    if (match($0, /Test run with [0-9]+ tests?/)) {
        tests[current] = substr($0, RSTART + 14, RLENGTH - 14)
        issues[current] = ""
        if (match($0, /with [0-9]+ issues?/)) issues[current] = substr($0, RSTART + 5, RLENGTH - 5)
    }
}
END {
    passed = 0; failed = 0; skipped = 0
    row("device", "kind", "step", "result", "time", "detail")
    row("------", "----", "----", "------", "----", "------")
    for (i = 1; i <= steps; i++) {
        key = order[i]
        device = device_of[key]
        step = step_of[key]
        detail = ""
        if (key in skipped_reason) {
            row(device, kind[device], step, "n/a", "-", skipped_reason[key])
            skipped++
            continue
        }
        if (key in tests) {
            detail = tests[key] (issues[key] != "" ? ", " issues[key] : "")
        } else if (key in seed_line) {
            detail = ascii(seed_line[key])
        } else if (key in last_line) {
            detail = ascii(last_line[key])
        }
        if (!(key in status)) {
            result = "FAIL"; time = "-"; detail = "did not finish (the guest stopped or timed out)"
        } else {
            time = seconds[key] " s"
            if (status[key] != 0) {
                result = "FAIL"
                if (status[key] == 137) detail = "killed by the step timeout"
                else detail = "exit status " status[key] (detail != "" ? ": " detail : "")
            } else if (step ~ /-tests$/ && (!(key in tests) || tests[key] ~ /^0 /)) {
                result = "FAIL"; detail = "no test ran"
            } else {
                result = "PASS"
            }
        }
        if (result == "PASS") passed++; else { failed++; failures[++nfailures] = key }
        row(device, kind[device], step, result, time, detail)
    }
    n = split(expected, kinds, " ")
    for (i = 1; i <= n; i++) {
        if (!(kinds[i] in seen_kind)) {
            row("-", kinds[i], "find the device", "FAIL", "-", "no " kinds[i] " zoned device appeared in the guest")
            failed++
        }
    }
    if (!done) {
        row("-", "-", "guest", "FAIL", "-", "the guest did not finish its steps (run-guest.sh status " guest_status ")")
        failed++
    }
    for (i = 1; i <= nfailures; i++) {
        key = failures[i]
        if (!(key in logfile)) continue
        printf "\n--- the end of %s (%s) ---\n", step_of[key] " on " device_of[key], logfile[key]
        close(logfile[key])
        command = "tail -n 40 \"" logfile[key] "\""
        system(command)
    }
    printf "\ntest-kernel: %d passed, %d failed, %d skipped\n", passed, failed, skipped
    exit (failed > 0 || guest_status != 0) ? 1 : 0
}' "$results"
