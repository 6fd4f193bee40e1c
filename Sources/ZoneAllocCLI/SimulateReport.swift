import Foundation
import ZoneAlloc
import ZoneGC
import ZoneSim

/// The result of `zonealloc simulate` as a JSON document and as text.
struct SimulateReport: Encodable {
    var workload: String
    var policy: String
    var zones: Int
    var zoneSize: UInt64
    var zoneCapacity: UInt64
    var blockSize: Int
    var maxOpenZones: Int
    var maxActiveZones: Int
    var seed: UInt64
    var layout: SimulationLayout
    var writeAmplification: Double
    var analyticGreedyWriteAmplification: Double
    var measured: CopygcStatistics
    var total: CopygcStatistics
    var measuredCopygcSeconds: Double
    var totalCopygcSeconds: Double
    var zonesReset: Int
    var zonesFinished: Int
    var finishWasteSectors: Int
    var elapsedSeconds: Double
    var blockWritesPerSecond: Double
    var userBlockWritesPerSecond: Double
    var averageLifespanBlocks: Double?
    var meanUnwrittenBlocks: Double
    var effectiveOverProvisioning: Double
    var analyticGreedyAtEffectiveOverProvisioning: Double?

    init(_ result: SimulationResult) {
        let c = result.configuration
        workload = c.workload.description
        policy = c.policy.description
        zones = c.zones
        zoneSize = c.zoneSize
        zoneCapacity = c.zoneCapacity ?? c.zoneSize
        blockSize = c.blockSize
        maxOpenZones = c.maxOpenZones
        maxActiveZones = c.maxActiveZones
        seed = c.seed
        layout = result.layout
        writeAmplification = result.writeAmplification
        analyticGreedyWriteAmplification = result.analyticGreedy
        measured = result.measured
        total = result.total
        measuredCopygcSeconds = Self.seconds(result.measured.timeSpent)
        totalCopygcSeconds = Self.seconds(result.total.timeSpent)
        zonesReset = result.allocator.resets
        zonesFinished = result.allocator.finishes
        finishWasteSectors = result.allocator.finishWasteSectors
        elapsedSeconds = result.elapsedSeconds
        blockWritesPerSecond = result.blockWritesPerSecond
        userBlockWritesPerSecond = result.userBlockWritesPerSecond
        averageLifespanBlocks = result.averageLifespanBlocks.isFinite ? result.averageLifespanBlocks : nil
        meanUnwrittenBlocks = result.meanUnwrittenBlocks
        effectiveOverProvisioning = result.effectiveOverProvisioning
        let atEffective = result.analyticGreedyAtEffectiveOverProvisioning
        analyticGreedyAtEffectiveOverProvisioning = atEffective.isFinite ? atEffective : nil
    }

    /// The human-readable report.
    func text() -> String {
        let blockSectors = blockSize / 512
        func blocks(_ sectors: Int) -> String { String(sectors / blockSectors) }
        func fixed(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }
        func limit(_ value: Int) -> String { value > 0 ? String(value) : "none" }
        let limits: String =
            maxOpenZones > 0 || maxActiveZones > 0
            ? "; zone limits: open \(limit(maxOpenZones)), active \(limit(maxActiveZones))" : ""
        var lines = [
            "workload \(workload), policy \(policy), seed \(seed)",
            "device: \(zones) zones of \(SizeFormatter.string(zoneSize)) (capacity \(SizeFormatter.string(zoneCapacity))), "
                + "\(blockSize)-byte blocks; T = \(layout.totalBlocks) blocks, U = \(layout.logicalBlocks) blocks, "
                + "ρ = \(fixed(layout.overProvisioning, 4)), copygc reserve \(fixed(layout.copygcReserve * 100, 2)) %"
                + limits,
            "write points: \(layout.userWritePoints) user, \(layout.copygcWritePoints) copygc (zone budget "
                + "\(layout.zoneBudget)); copygc runs below \(layout.startBelowFreeBuckets) free buckets until "
                + "\(layout.stopAtFreeBuckets), \(layout.heldBackBuckets) held back for it",
            "",
            "write amplification (measured): \(fixed(writeAmplification))"
                + "   analytic greedy, uniform (Lambert-W): \(fixed(analyticGreedyWriteAmplification))",
            "unwritten space (free buckets, rest of open ones): \(Int(meanUnwrittenBlocks.rounded())) blocks on "
                + "average = \(fixed(meanUnwrittenBlocks / Double(layout.blocksPerBucket), 1)) buckets; effective ρ "
                + "\(fixed(effectiveOverProvisioning, 4)), analytic greedy there "
                + (analyticGreedyAtEffectiveOverProvisioning.map { fixed($0) } ?? "–"),
            "",
        ]
        var table = TextTable(columns: [("", .left), ("measured", .right), ("whole run", .right)])
        let rows: [(String, KeyPath<CopygcStatistics, Int>)] = [
            ("user blocks written", \.userSectorsWritten),
            ("copygc blocks moved", \.copygcSectorsMoved),
            ("copygc blocks discarded (lost races)", \.copygcSectorsDiscarded),
            ("cached blocks dropped", \.cachedSectorsDropped),
        ]
        for (name, path) in rows {
            table.append([name, blocks(measured[keyPath: path]), blocks(total[keyPath: path])])
        }
        let counts: [(String, KeyPath<CopygcStatistics, Int>)] = [
            ("buckets freed by copygc", \.bucketsFreed),
            ("zones reset during copygc", \.zonesReset),
            ("zones finished during copygc", \.zonesFinished),
            ("copygc passes", \.passes),
            ("passes that found nothing to do", \.passesWithNothingToDo),
            ("foreground kicks", \.kicks),
        ]
        for (name, path) in counts {
            table.append([name, String(measured[keyPath: path]), String(total[keyPath: path])])
        }
        table.append([
            "time in copygc (s)", fixed(Self.seconds(measured.timeSpent), 2), fixed(Self.seconds(total.timeSpent), 2),
        ])
        lines += table.lines()
        lines += [
            "",
            "allocator: \(zonesReset) zone resets, \(zonesFinished) finishes (\(finishWasteSectors / blockSectors) "
                + "blocks wasted)",
            "elapsed \(fixed(elapsedSeconds, 1)) s: \(fixed(blockWritesPerSecond / 1e6, 2))M simulated block writes/s "
                + "(\(fixed(userBlockWritesPerSecond / 1e6, 2))M user)",
        ]
        if let averageLifespanBlocks { lines.append("lifetime classifier ℓ = \(Int(averageLifespanBlocks)) blocks") }
        return lines.joined(separator: "\n")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
