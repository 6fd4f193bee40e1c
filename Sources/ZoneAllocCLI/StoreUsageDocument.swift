import Foundation
import ZoneAlloc
import ZoneStore

/// `zonealloc stat --json`: a store's usage as data (like `bcachefs fs usage`).
struct StoreUsageDocument: Codable, Equatable {
    /// Bytes per bucket state.
    struct Buckets: Codable, Equatable {
        var total: Int
        var bucketBytes: Int
        var byState: [String: Int]
    }

    /// Space in bytes.
    struct Space: Codable, Equatable {
        var capacity: UInt64
        var usable: UInt64
        var dirty: UInt64
        var cached: UInt64
        var free: UInt64
        var fragmented: UInt64
    }

    /// Copygc totals since the store was opened.
    struct Copygc: Codable, Equatable {
        var passes: Int
        var passesFreeingNothing: Int
        var bucketsFreed: Int
        var bytesMoved: UInt64
        var racesLost: Int
        var cachedBytesDropped: UInt64
    }

    var device: String
    var keys: Int
    var evictedKeys: Int
    var dirtyValueBytes: UInt64
    var cachedValueBytes: UInt64
    var buckets: Buckets
    var space: Space
    /// Non-open buckets holding data by live fraction: bin i counts [i·10 %, (i+1)·10 %).
    var fragmentationHistogram: [Int]
    var openZones: Int
    var zoneBudget: Int
    var journalBuckets: Int
    var checkpoints: Int
    var copygc: Copygc
    var userBytesWritten: UInt64
    var deviceBytesWritten: UInt64
    var writeAmplification: Double
    var resets: Int
    var finishes: Int
    /// Totals since the store was formatted.
    var lifetime: LifetimeCounters

    /// The document for `statistics` of the store on `device`.
    init(device: String, statistics: StoreStatistics) {
        let allocator = statistics.allocator
        let sector = UInt64(DataPointer.sectorSize)
        self.device = device
        keys = statistics.keys
        evictedKeys = statistics.evictedKeys
        dirtyValueBytes = statistics.dirtyValueBytes
        cachedValueBytes = statistics.cachedValueBytes
        var byState: [String: Int] = [:]
        for state in BucketState.allCases { byState[state.rawValue] = allocator.bucketsByState[state] ?? 0 }
        buckets = Buckets(
            total: allocator.bucketCount,
            bucketBytes: allocator.bucketSectors * DataPointer.sectorSize,
            byState: byState
        )
        space = Space(
            capacity: UInt64(allocator.bucketCount * allocator.bucketSectors) * sector,
            usable: UInt64(allocator.usableSectors) * sector,
            dirty: UInt64(allocator.dirtySectors) * sector,
            cached: UInt64(allocator.cachedSectors) * sector,
            free: UInt64(allocator.freeSectors) * sector,
            fragmented: UInt64(allocator.fragmentedSectors) * sector
        )
        fragmentationHistogram = allocator.fragmentationHistogram
        openZones = allocator.openBuckets
        zoneBudget = allocator.zoneBudget
        journalBuckets = statistics.journalBuckets
        checkpoints = statistics.checkpoints
        copygc = Copygc(
            passes: statistics.copygc.passes,
            passesFreeingNothing: statistics.copygc.passesFreeingNothing,
            bucketsFreed: statistics.copygc.bucketsFreed,
            bytesMoved: statistics.copygc.bytesMoved,
            racesLost: statistics.copygc.racesLost,
            cachedBytesDropped: statistics.copygc.cachedBytesDropped
        )
        userBytesWritten = statistics.userBytesWritten
        deviceBytesWritten = statistics.deviceBytesWritten
        writeAmplification = (statistics.writeAmplification * 1000).rounded() / 1000
        resets = allocator.resets
        finishes = allocator.finishes
        lifetime = statistics.lifetime
    }

    /// The usage as text, like `bcachefs fs usage`.
    func lines() -> [String] {
        func size(_ bytes: UInt64) -> String { SizeFormatter.string(bytes) }
        func percent(_ part: UInt64, of whole: UInt64) -> String {
            whole == 0 ? "0%" : "\(Int((Double(part) / Double(whole) * 100).rounded()))%"
        }
        var lines: [String] = []
        lines.append("Store on \(device): \(keys) keys (\(evictedKeys) evicted)")
        var table = TextTable(columns: [("", .left), ("", .right), ("", .right)])
        table.append([
            "Capacity:", size(space.capacity), "\(buckets.total) buckets of \(size(UInt64(buckets.bucketBytes)))",
        ])
        table.append(["Usable:", size(space.usable), "rest is the copygc reserve"])
        table.append(["Dirty:", size(space.dirty), percent(space.dirty, of: space.capacity)])
        table.append(["Cached:", size(space.cached), percent(space.cached, of: space.capacity)])
        table.append(["Free:", size(space.free), percent(space.free, of: space.capacity)])
        table.append(["Fragmented:", size(space.fragmented), percent(space.fragmented, of: space.capacity)])
        lines += table.lines().dropFirst()
        lines.append("")
        lines.append("Buckets by state:")
        var states = TextTable(columns: [("", .left), ("", .right)])
        for state in BucketState.allCases where (buckets.byState[state.rawValue] ?? 0) > 0 {
            states.append(["  \(state.rawValue)", "\(buckets.byState[state.rawValue]!)"])
        }
        lines += states.lines().dropFirst()
        lines.append("")
        lines.append("Fragmentation (buckets with data, by live fraction):")
        let widest = max(1, fragmentationHistogram.max() ?? 1)
        for (bin, count) in fragmentationHistogram.enumerated() {
            let label = "\(bin * 10)-\(bin * 10 + 10)%".padding(toLength: 9, withPad: " ", startingAt: 0)
            let bar = String(repeating: "#", count: count * 40 / widest)
            lines.append("  \(label) \(String(count).leftPad(5)) \(bar)")
        }
        lines.append("")
        lines.append(
            "Zones: \(openZones) open of a budget of \(zoneBudget); \(resets) resets, \(finishes) finishes; "
                + "journal in \(journalBuckets) buckets, \(checkpoints) checkpoints"
        )
        lines.append(
            "Copygc since open: \(copygc.passes) passes (\(copygc.passesFreeingNothing) freed nothing), "
                + "\(copygc.bucketsFreed) buckets freed, \(size(copygc.bytesMoved)) moved, \(copygc.racesLost) races "
                + "lost, \(size(copygc.cachedBytesDropped)) cached dropped"
        )
        lines.append(
            "Written since open: \(size(userBytesWritten)) by users, \(size(deviceBytesWritten)) to the device "
                + "(write amplification \(String(format: "%.2f", writeAmplification)))"
        )
        lines.append(
            "Since format: \(size(lifetime.userBytesWritten)) by users, \(size(lifetime.deviceBytesWritten)) to the "
                + "device (write amplification \(String(format: "%.2f", lifetime.writeAmplification))); copygc "
                + "\(lifetime.copygcPasses) passes, \(size(lifetime.copygcBytesMoved)) moved, "
                + "\(lifetime.copygcBucketsFreed) buckets freed; \(lifetime.resets) zone resets"
        )
        return lines
    }
}

extension String {
    /// The string right-aligned in `width` characters.
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
