import Foundation
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneStore
import ZonedStorage

/// A seeded workload on a store whose emulated device fails under it (issue 7, "faults end to
/// end"): reads, writes and flushes fail with EIO, zones turn read-only or offline, and power is
/// lost at the end of every epoch. The run checks, as it goes and after every reopen:
///
/// - every failed operation failed with a ``StoreError`` (never a trap, never wrong data);
/// - after a failed value write the store keeps serving (only a failed journal write or flush
///   stops changes until the store is reopened — the journal is the one copy of the metadata);
/// - a value whose zone went offline reads as `.dataLost` (a device data loss, counted apart);
/// - every other value acknowledged as durable is there after the power loss and reopen, with
///   the value last acknowledged or a newer one (`acknowledgedLost` must be 0).
///
/// Zones are turned offline only when they hold no journal: the store keeps one copy of its
/// journal, so a journal zone lost to the device loses acknowledged metadata (not tested here,
/// see /work/notes/issue7-hardening.md). Read-only zones may be journal zones.
struct StoreFaultRun {
    /// Counts of one run.
    struct Report: CustomStringConvertible {
        var seed: UInt64 = 0
        var epochs = 0
        var readFaults = 0
        var writeFaults = 0
        var flushFaults = 0
        var readOnlyZones = 0
        var offlineZones = 0
        var powerLosses = 0
        var operations = 0
        var succeeded = 0
        /// Operations that failed with a typed error while the store went on serving.
        var failedCleanly = 0
        /// Operations whose journal write or flush failed: the store refused changes until reopened.
        var stoppedJournal = 0
        var errorCodes: [String: Int] = [:]
        /// Faults the store absorbed by trying again (reads, value writes in another bucket,
        /// journal writes in place).
        var retries = 0
        /// Values lost because their zone went offline (device data loss).
        var lostToOfflineZones = 0
        /// Reads of such values that reported `.dataLost`.
        var dataLostReads = 0
        /// Values acknowledged as durable that were missing or different after reopen: must be 0.
        var acknowledgedLost = 0
        /// Reads that returned bytes other than the value stored: must be 0.
        var wrongData = 0
        /// Other problems in words (invariants, unexpected errors).
        var problems: [String] = []

        var faultsInjected: Int { readFaults + writeFaults + flushFaults + readOnlyZones + offlineZones + powerLosses }

        var description: String {
            let codes = errorCodes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return "seed \(seed): \(faultsInjected) faults injected (\(readFaults) read EIO, \(writeFaults) write EIO, "
                + "\(flushFaults) flush EIO, \(readOnlyZones) zones read-only, \(offlineZones) zones offline, "
                + "\(powerLosses) power losses); \(operations) operations: \(succeeded) succeeded, \(failedCleanly) "
                + "failed cleanly, \(stoppedJournal) stopped the journal until reopen (errors: \(codes)); \(retries) "
                + "faults absorbed by retrying; \(lostToOfflineZones) values lost to offline zones (\(dataLostReads) "
                + "reads said dataLost); acknowledged data lost: \(acknowledgedLost); wrong data returned: "
                + "\(wrongData)"
        }
    }

    let seed: UInt64
    let epochs: Int
    let steps: ClosedRange<Int>
    var report = Report()
    var rng: SeededRandom
    let device: EmulatedDevice
    /// Keys whose value was in a zone that went offline (until they are written or deleted again).
    var lost: Set<StoreKey> = []
    var offlineZones: Set<Int> = []

    init(seed: UInt64, epochs: Int = 3, steps: ClosedRange<Int> = 60...160) throws {
        self.seed = seed
        self.epochs = epochs
        self.steps = steps
        self.rng = SeededRandom(seed: seed)
        self.report.seed = seed
        self.device = try StoreFixtures.device(seed % 3 == 2 ? StoreFixtures.noConventional : StoreFixtures.small)
        try ZoneStore.format(device)
    }

    /// Opens the store, retrying while faults injected before the power loss fail the open (each
    /// failure consumes its fault).
    func open() throws -> ZoneStore {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try ZoneStore.open(device, options: StoreFixtures.options(copygcOnDemand: false))
            } catch {
                if attempt < 8, "\(error)".contains("injected") { continue }
                throw error
            }
        }
    }

    mutating func count(_ error: StoreError) {
        report.errorCodes["\(error.code)", default: 0] += 1
    }

    /// Runs every epoch and returns the report.
    mutating func run() throws -> Report {
        var recovered: [StoreKey: [UInt8]] = [:]
        for epoch in 0..<epochs {
            report.epochs += 1
            let store = try open()
            try check(store, against: [recovered], durable: 0, epoch: epoch, afterReopen: epoch > 0)
            var history = StoreHistory(recovered)
            var workload = StoreWorkload(seed: seed &+ UInt64(epoch) &* 7_777, keys: 24, maximumLength: 20 << 10)
            let stepCount = rng.int(in: steps)
            for _ in 0..<stepCount {
                injectFault(store)
                report.operations += 1
                var state = history.current
                var durable = false
                let operation = workload.next()
                // The key's version before the operation, to tell afterwards whether a failed put or
                // delete changed the index anyway (its record appended, its commit failed).
                let versionBefore: UInt64? =
                    switch operation {
                    case .put(let key, _, _, _), .delete(let key, _): store.stat(key)?.version
                    case .sync, .collect: nil
                    }
                do {
                    switch operation {
                    case .put(let key, let valueSeed, let length, let durability):
                        let value = StoreWorkload.value(seed: valueSeed, length: length)
                        try store.put(key, value, durability: durability)
                        state[key] = value
                        durable = durability == .durable
                        if durable { lost.remove(key) }
                    case .delete(let key, let durability):
                        try store.delete(key, durability: durability)
                        state[key] = nil
                        durable = durability == .durable
                        if durable { lost.remove(key) }
                    case .sync:
                        try store.sync()
                        durable = true
                    case .collect:
                        try store.collectGarbage()
                    }
                    report.succeeded += 1
                    history.record(state, durable: durable)
                    // Spot-check a value now and then: the right bytes, or a typed error.
                    if rng.chance(1, in: 4), !state.isEmpty {
                        let key = rng.pick(state.keys)
                        read(store, key, expected: state[key])
                    }
                } catch {
                    count(error)
                    // Whether the change happened: a put or delete whose record was appended but
                    // not committed is in the index (and the next commit makes it durable).
                    switch operation {
                    case .put(let key, let valueSeed, let length, _):
                        if let now = store.stat(key)?.version, now != versionBefore {
                            state[key] = StoreWorkload.value(seed: valueSeed, length: length)
                        }
                    case .delete(let key, _):
                        if store.stat(key) == nil { state[key] = nil }
                    case .sync, .collect:
                        break
                    }
                    history.record(state, durable: false)
                    if store.journalFailure != nil {
                        // The store refuses changes until it is reopened: end the epoch.
                        report.stoppedJournal += 1
                        break
                    }
                    // A clean failure: the store goes on.
                    report.failedCleanly += 1
                    let expected: Set<StoreError.Code> = [.device, .noSpace, .timedOut, .dataLost, .allocator]
                    if !expected.contains(error.code) {
                        report.problems.append("epoch \(epoch): \(operation) failed unexpectedly: \(error)")
                    }
                }
            }
            // Every value readable now, before the power loss.
            for (key, value) in history.current { read(store, key, expected: value) }
            let statistics = store.statistics()
            report.retries +=
                statistics.faults.readRetries + statistics.faults.writeRetries
                + statistics.faults.journalRetries
            try device.simulatePowerLoss(seed: seed &+ UInt64(epoch))
            report.powerLosses += 1
            // The instance is abandoned, as after a crash.
            let reopened = try open()
            recovered = try check(
                reopened,
                against: Array(history.candidates()),
                durable: history.durable,
                epoch: epoch,
                afterReopen: true
            )
        }
        return report
    }

    /// Reads `key` and checks the outcome: the expected bytes, `.dataLost` for a key lost to an
    /// offline zone, or another typed error while read faults are injected.
    mutating func read(_ store: ZoneStore, _ key: StoreKey, expected: [UInt8]?) {
        do {
            let value = try store.get(key)
            if value != expected {
                report.wrongData += 1
                report.problems.append("\(key): read \(value.count) bytes that are not the value stored")
            }
        } catch {
            count(error)
            if error.code == .dataLost, lost.contains(key) {
                report.dataLostReads += 1
            } else if error.code == .notFound, expected == nil {
                return
            } else if error.code == .device {
                report.failedCleanly += 1
            } else {
                report.problems.append("\(key): reading failed unexpectedly: \(error)")
            }
        }
    }

    /// Injects at most one fault before an operation.
    mutating func injectFault(_ store: ZoneStore) {
        guard rng.chance(1, in: 6) else { return }
        switch rng.int(in: 0..<10) {
        case 0, 1, 2:
            device.injectFault(.failRead(nth: rng.int(in: 1...3)))
            report.readFaults += 1
        case 3, 4, 5:
            device.injectFault(.failWrite(nth: rng.int(in: 1...4)))
            report.writeFaults += 1
        case 6:
            device.injectFault(.failFlush(nth: rng.int(in: 1...3)))
            report.flushFaults += 1
        case 7, 8:
            guard report.readOnlyZones < 3, let zone = candidateZone(store, allowJournal: true) else { return }
            if (try? device.setZoneCondition(zone, to: .readOnly)) != nil { report.readOnlyZones += 1 }
        default:
            guard report.offlineZones < 2, let zone = candidateZone(store, allowJournal: false) else { return }
            guard (try? device.setZoneCondition(zone, to: .offline)) != nil else { return }
            report.offlineZones += 1
            offlineZones.insert(zone)
            for key in store.list() {
                guard let info = store.stat(key), !info.isEvicted else { continue }
                if info.extents.contains(where: { $0.pointer.bucket.zone == zone }), !lost.contains(key) {
                    lost.insert(key)
                    report.lostToOfflineZones += 1
                }
            }
        }
    }

    /// A sequential zone that holds no superblock (and, unless allowed, no journal) and has not
    /// failed yet.
    mutating func candidateZone(_ store: ZoneStore, allowJournal: Bool) -> Int? {
        let zones = device.inspectZones()
        let journal = allowJournal ? [] : store.metadataZoneIndexes
        let candidates = zones.filter { zone in
            zone.isSequential && zone.index >= 2 && !journal.contains(zone.index)
                && zone.condition != .readOnly && zone.condition != .offline
        }
        guard !candidates.isEmpty else { return nil }
        return candidates[rng.int(in: 0..<candidates.count)].index
    }

    /// Checks a (re)opened store against the states it may hold, keys lost to offline zones
    /// aside, and returns its contents.
    @discardableResult
    mutating func check(
        _ store: ZoneStore,
        against candidates: [[StoreKey: [UInt8]]],
        durable: Int,
        epoch: Int,
        afterReopen: Bool
    ) throws -> [StoreKey: [UInt8]] {
        var found: [StoreKey: [UInt8]] = [:]
        for key in store.list() {
            do {
                found[key] = try store.get(key)
            } catch {
                count(error)
                if error.code == .dataLost, lost.contains(key) {
                    report.dataLostReads += 1
                } else {
                    report.problems.append("epoch \(epoch): \(key) cannot be read after reopen: \(error)")
                }
            }
        }
        for key in store.recovery.lostKeys where !lost.contains(key) {
            report.problems.append("epoch \(epoch): recovery lost \(key), which was in no offline zone")
        }
        func matches(_ state: [StoreKey: [UInt8]]) -> Bool {
            for key in Set(state.keys).union(found.keys) where !lost.contains(key) && state[key] != found[key] {
                return false
            }
            return true
        }
        if !candidates.contains(where: matches) {
            let reference = candidates[0]
            let missing = reference.keys.filter { !lost.contains($0) && found[$0] != reference[$0] }
            report.acknowledgedLost += max(1, missing.count)
            report.problems.append(
                "epoch \(epoch): the store after reopen matches no acknowledged state (\(candidates.count) candidates "
                    + "from operation \(durable) on); differs from the durable state in \(missing.count) keys: "
                    + "\(missing.prefix(5).map(\.description)); recovery: \(store.recovery)"
            )
        }
        // The allocator learns that a zone failed when it next writes, finishes or resets it; until
        // then its view of that zone differs from the device's, which is not a problem.
        let failed = device.inspectZones().filter { $0.condition == .readOnly || $0.condition == .offline }
        let problems = try StoreFixtures.invariantProblems(store).filter { problem in
            !failed.contains { problem.hasPrefix("zone \($0.index):") }
        }
        if !problems.isEmpty { report.problems.append("epoch \(epoch): invariants: \(problems.prefix(5))") }
        // The next epoch starts from what was found; keys lost to offline zones are left out.
        return found.filter { !lost.contains($0.key) }
    }
}
