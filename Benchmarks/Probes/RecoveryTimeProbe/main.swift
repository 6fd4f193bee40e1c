// `ZoneStore.open` (recovery) time against journal length and index size.
//
//   RecoveryTimeProbe [records=50000,100000,200000,400000] [overwrites=1,4] [opens=2] [limit=exponent]
//
// For each journal length R and overwrite factor k, a fresh memory-backed emulated device (512-byte
// blocks, zones of 16 MiB, sized to the data) gets R/k keys, each put k times with a one-block
// value: R journal records and R/k keys in the index. No checkpoint is written (the checkpoint
// interval is set past the journal's size), so recovery replays all R records. The store is
// closed and opened again `opens` times (a store adds a journal chain per open and checkpoints
// on open past four chains, so at most two); the fastest open counts. The device is memory-backed
// so the table shows recovery's own cost, not the page cache's.
//
// The table prints records replayed, keys, journal groups read, the open time and the time per
// 1000 records. Recovery is linear when the time per record stays flat as R grows. The `RESULT`
// line gives, per series, the growth exponent between the two largest sizes, log(t₂/t₁) /
// log(R₂/R₁) (1 linear, 2 quadratic; N log N reads about 1.05), against `limit` (1.2 by default),
// and the exponent over the whole range (caches make small sizes cheaper per record).

import ProbeSupport
import ZoneStore
import ZonedStorage

#if canImport(Glibc)
import Glibc
#endif

let arguments = ProbeArguments()
let sizes = arguments.integers("records", default: [50_000, 100_000, 200_000, 400_000]).sorted()
let overwriteFactors = arguments.integers("overwrites", default: [1, 4])
let opens = min(2, max(1, arguments.integer("opens", default: 2)))
let limit = arguments.options["limit"].flatMap { Double($0) } ?? 1.2

/// One row of the table.
struct Row {
    var records: Int
    var keys: Int
    var groups: Int
    var seconds: Double

    var millisecondsPerThousand: Double { seconds * 1e3 / Double(records) * 1000 }
}

/// Builds the store (R/k keys, each put k times), then times `opens` opens; returns the fastest.
func measure(records: Int, overwrites: Int) throws -> Row {
    let keyCount = max(1, records / overwrites)
    let blockSize = 512
    let zoneSize: UInt64 = 16 << 20
    // Data (one block per put) and journal (~100 bytes a record), twice over, plus the reserve.
    let zones = Int(UInt64(records * (blockSize + 128)) * 2 / zoneSize) + 12
    let geometry = EmulatedGeometry(
        zoneCount: zones,
        zoneSize: zoneSize,
        conventionalZones: 1,
        logicalBlockSize: blockSize,
        maxOpenZones: 14,
        maxActiveZones: 14
    )
    let device = try EmulatedDevice(geometry: geometry, storage: .memory)
    try ZoneStore.format(device)
    let options = OpenOptions(logger: quietLogger(), checkpointInterval: 1 << 40, copygcOnDemand: false)
    let value = Measure.pseudoRandomBytes(count: blockSize)
    let keys = (0..<keyCount).map { StoreKey("key-\($0)") }
    do {
        let store = try ZoneStore.open(device, options: options)
        for _ in 0..<overwrites {
            for key in keys { try store.put(key, value, durability: .buffered) }
        }
        try store.close()
    }
    var best: Row?
    for _ in 0..<opens {
        let start = ContinuousClock.now
        let store = try ZoneStore.open(device, options: options)
        let seconds = Measure.seconds(start.duration(to: .now))
        let recovery = store.recovery
        guard recovery.keys == keyCount else {
            print("RecoveryTimeProbe: recovered \(recovery.keys) keys, expected \(keyCount)")
            exit(1)
        }
        try store.close()
        let row = Row(
            records: recovery.recordsReplayed,
            keys: recovery.keys,
            groups: recovery.groupsRead,
            seconds: seconds
        )
        if best.map({ seconds < $0.seconds }) ?? true { best = row }
    }
    return best!
}

print("open (recovery) time, memory-backed device, 512-byte blocks, best of \(opens) opens; \(Measure.machine())")
print(
    Format.left("series", 22) + Format.right("records", 10) + Format.right("keys", 10) + Format.right("groups", 8)
        + Format.right("open ms", 10) + Format.right("ms per 1000 records", 21)
)
do {
    for overwrites in overwriteFactors {
        let series = overwrites == 1 ? "1 record per key" : "\(overwrites) records per key"
        var rows: [Row] = []
        for records in sizes {
            let row = try measure(records: records, overwrites: overwrites)
            rows.append(row)
            print(
                Format.left(series, 22) + Format.right("\(row.records)", 10) + Format.right("\(row.keys)", 10)
                    + Format.right("\(row.groups)", 8) + Format.right(Format.fixed(row.seconds * 1e3, digits: 1), 10)
                    + Format.right(Format.fixed(row.millisecondsPerThousand, digits: 3), 21)
            )
        }
        let perRecord = rows.map(\.millisecondsPerThousand)
        // Growth exponent: log(time ratio) / log(records ratio); 1 is linear, 2 quadratic.
        func exponent(_ a: Row, _ b: Row) -> Double {
            log(b.seconds / a.seconds) / log(Double(b.records) / Double(a.records))
        }
        let last = rows.count >= 2 ? exponent(rows[rows.count - 2], rows[rows.count - 1]) : 1
        let overall = rows.count >= 2 ? exponent(rows[0], rows[rows.count - 1]) : 1
        ProbeResult(
            "open-\(overwrites)-records-per-key",
            "growth-exponent",
            last,
            target: (.atMost, limit),
            context: [
                ("records", "\(rows.first!.records)..\(rows.last!.records)"),
                ("exponent-whole-range", Format.fixed(overall, digits: 2)),
                ("ms-per-1000-records", perRecord.map { Format.fixed($0, digits: 2) }.joined(separator: ",")),
                ("largest-open-ms", Format.fixed(rows.last!.seconds * 1e3, digits: 1)),
            ]
        ).print()
    }
} catch {
    print("RecoveryTimeProbe: \(error)")
    exit(1)
}
