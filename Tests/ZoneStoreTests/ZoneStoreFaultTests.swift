import Foundation
import Testing
import ZoneStore

/// The store under device faults, end to end (``StoreFaultRun``): EIO on reads, writes and
/// flushes, zones turning read-only and offline, power loss after every epoch. Each seed prints
/// its report (faults injected, operations failed cleanly, data lost).
@Suite struct ZoneStoreFaultTests {
    /// Seeds in the default run; `ZONESTORE_FAULT_SEEDS=N` runs N.
    static let seeds = Int(ProcessInfo.processInfo.environment["ZONESTORE_FAULT_SEEDS"] ?? "") ?? 12

    @Test(arguments: 0..<seeds)
    func faultsLoseNothingAcknowledged(seed: Int) throws {
        var run = try StoreFaultRun(seed: UInt64(seed) &* 2_654_435_761 &+ 11)
        let report = try run.run()
        print("fault run \(report)")
        // The run must really have met faults, or "nothing lost" says nothing.
        #expect(report.powerLosses > 0 && report.readFaults + report.writeFaults + report.flushFaults > 0, "\(report)")
        #expect(report.operations > report.succeeded, "no operation met a fault: \(report)")
        #expect(report.acknowledgedLost == 0, "\(report)")
        #expect(report.wrongData == 0, "\(report)")
        #expect(report.problems.isEmpty, "seed \(report.seed): \(report.problems.prefix(8).joined(separator: "\n"))")
    }
}
