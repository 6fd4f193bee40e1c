import Foundation
import ZoneAlloc
import ZoneStore
import ZonedStorage

/// The steps of `zonealloc demo` on a freshly created emulated device.
struct DemoScript {
    /// The demo device.
    let device: EmulatedDevice
    /// Overwrites and deletes after the first fill.
    let overwrites: Int

    private var step = 0
    /// What every key should hold: the seed and length its value was made from.
    private var model: [StoreKey: (seed: UInt64, length: Int)] = [:]
    private var random: UInt64 = 0x5EED_0F_2026

    /// Creates the script.
    init(device: EmulatedDevice, overwrites: Int) {
        self.device = device
        self.overwrites = overwrites
    }

    private mutating func say(_ line: String) {
        step += 1
        print("\(step < 10 ? " " : "")\(step). \(line)")
    }

    private mutating func next(_ bound: Int) -> Int {
        random &+= 0x9E37_79B9_7F4A_7C15
        var z = random
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }

    private mutating func putRandom(_ store: ZoneStore, key: StoreKey, durability: Durability) throws {
        let length = (16 << 10) + next(48 << 10)
        let seed = UInt64(next(Int.max))
        try store.put(key, StoreWorkload.value(seed: seed, length: length), hint: .stream(0), durability: durability)
        model[key] = (seed, length)
    }

    private func printUsage(_ store: ZoneStore, title: String) {
        Swift.print("")
        Swift.print("    --- \(title) ---")
        let document = StoreUsageDocument(device: device.path, statistics: store.statistics())
        for line in document.lines() { Swift.print("    \(line)") }
        Swift.print("")
    }

    /// Reads every key back and compares it with what was written.
    private func verify(_ store: ZoneStore) throws -> (values: Int, bytes: Int) {
        var bytes = 0
        guard Set(store.list()) == Set(model.keys) else {
            throw CommandFailure("the store lists \(store.list().count) keys, \(model.count) were written")
        }
        for (key, expected) in model {
            let value = try store.get(key)
            guard value == StoreWorkload.value(seed: expected.seed, length: expected.length) else {
                throw CommandFailure("\(key) reads back \(value.count) bytes that differ from what was written")
            }
            bytes += value.count
        }
        return (model.count, bytes)
    }

    /// Runs every step.
    ///
    /// - Throws: ``StoreError`` when the store fails, ``CommandFailure`` when a value reads back
    ///   different from what was written.
    mutating func run() throws {
        let geometry = device.geometry
        say(
            "created \(device.path): \(geometry.zoneCount) zones of \(SizeFormatter.string(geometry.zoneSize)) "
                + "(capacity \(SizeFormatter.string(geometry.zoneCapacity))), \(geometry.conventionalZones) "
                + "conventional, max open \(device.info.maxOpenZones), max active \(device.info.maxActiveZones)"
        )
        try ZoneStore.format(device)
        say("formatted it as a store: superblock in conventional zone 0, copygc reserve 8 %")
        let store = try ZoneStore.open(device, options: StoreSession.options())
        var closed = false
        defer { if !closed { try? store.close() } }

        let keys = (0..<400).map { StoreKey(String(format: "value-%04d", $0)) }
        for key in keys { try putRandom(store, key: key, durability: .buffered) }
        try store.sync()
        let filled = store.statistics()
        say(
            "stored \(keys.count) values of 16-64 KiB (\(SizeFormatter.string(filled.dirtyValueBytes))), each "
                + "checksummed (XXH3-64), through one write point; journal synced"
        )
        printUsage(store, title: "usage after the first fill")

        var deletes = 0
        for index in 0..<overwrites {
            // Skewed: most overwrites hit the first quarter of the keys (hot data).
            let key = next(10) < 8 ? keys[next(keys.count / 4)] : keys[next(keys.count)]
            if next(10) == 0, model[key] != nil {
                try store.delete(key, durability: .buffered)
                model[key] = nil
                deletes += 1
            } else {
                try putRandom(store, key: key, durability: .buffered)
            }
            if index % 100 == 99 { try store.sync() }
        }
        try store.sync()
        let busy = store.statistics()
        say(
            "overwrote and deleted values \(overwrites) times (\(deletes) deletes, "
                + "\(SizeFormatter.string(busy.userBytesWritten)) written in all): buckets fragmented, and "
                + "copygc ran \(busy.copygc.passes) passes when allocations found no free bucket, moving "
                + "\(SizeFormatter.string(busy.copygc.bytesMoved)) and freeing \(busy.copygc.bucketsFreed) buckets"
        )
        // An explicit pass (`zonealloc gc`), once the background pass that may be running is done.
        var report = try store.collectGarbage()
        for _ in 0..<100 where report.outcome == .busy {
            Thread.sleep(forTimeInterval: 0.02)
            report = try store.collectGarbage()
        }
        switch report.outcome {
        case .nothingToFree(let why):
            say("an explicit copygc pass found nothing to free: \(why)")
        default:
            say(
                "an explicit copygc pass evacuated \(report.victims.count) buckets, freed \(report.bucketsFreed), moved "
                    + "\(SizeFormatter.string(report.bytesMoved))"
            )
        }
        printUsage(store, title: "usage after overwrites and copygc")
        guard store.statistics().copygc.bytesMoved > 0 else {
            throw CommandFailure("copygc did not move anything; the workload was too small to need it")
        }

        let checked = try verify(store)
        say("verified every value: \(checked.values) values, \(SizeFormatter.string(UInt64(checked.bytes))), all match")
        try store.close()
        closed = true

        let reopened = try ZoneStore.open(device, options: StoreSession.options())
        let again = try verify(reopened)
        say(
            "reopened the store (replayed \(reopened.recovery.recordsReplayed) journal records after the last "
                + "checkpoint) and verified all \(again.values) values again"
        )
        try reopened.close()

        Swift.print("")
        let rows = try DeviceReport.rows(of: device, zones: nil)
        ReportFormatter.table(rows).forEach { Swift.print($0) }
    }
}
