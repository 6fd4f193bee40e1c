import Foundation
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneStore
import ZonedStorage

/// Power loss on the emulated device (unflushed writes dropped, write pointers rolled back to a
/// random point since the last flush) at random moments of a seeded workload, with injected
/// write and flush faults: after reopening, the store must hold exactly the state after some
/// prefix of the operations that includes every operation acknowledged as durable.
@Suite struct ZoneStorePowerLossTests {
    /// Trials in the default run; `ZONESTORE_LONG=1` runs ten times as many.
    static let trials = ProcessInfo.processInfo.environment["ZONESTORE_LONG"] == nil ? 240 : 2400

    /// Reads every key of the store: key → value; throws on a checksum error.
    static func contents(_ store: ZoneStore) throws -> [StoreKey: [UInt8]] {
        var result: [StoreKey: [UInt8]] = [:]
        for key in store.list() { result[key] = try store.get(key) }
        return result
    }

    /// Opens the store after a power loss, retrying when an injected fault left over from the
    /// workload fails the open (each failure consumes the fault).
    static func reopen(_ device: EmulatedDevice, checkpointInterval: Int? = nil) throws -> ZoneStore {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try ZoneStore.open(
                    device,
                    options: StoreFixtures.options(checkpointInterval: checkpointInterval, copygcOnDemand: false)
                )
            } catch {
                if attempt < 6, "\(error)".contains("injected") { continue }
                throw error
            }
        }
    }

    /// The keys whose values differ, in words.
    static func difference(_ found: [StoreKey: [UInt8]], _ expected: [StoreKey: [UInt8]]) -> String {
        var lines: [String] = []
        for key in Set(found.keys).union(expected.keys).sorted() where found[key] != expected[key] {
            lines.append(
                "\(key): found \(found[key].map { "\($0.count) bytes" } ?? "nothing"), expected \(expected[key].map { "\($0.count) bytes" } ?? "nothing")"
            )
        }
        return lines.joined(separator: "; ")
    }

    @Test(arguments: 0..<trials)
    func nothingAcknowledgedAsDurableIsLost(trial: Int) throws {
        let seed = UInt64(trial) &* 7919 &+ 17
        var rng = SeededRandom(seed: seed)
        let geometry = trial % 3 == 2 ? StoreFixtures.noConventional : StoreFixtures.small
        let device = try StoreFixtures.device(geometry)
        try ZoneStore.format(device)
        var workload = StoreWorkload(seed: seed, keys: 24, maximumLength: 20 << 10)
        var recovered: [StoreKey: [UInt8]] = [:]
        for epoch in 0..<3 {
            let store = try Self.reopen(device, checkpointInterval: rng.int(in: 1...6) * (48 << 10))
            let found = try Self.contents(store)
            #expect(found == recovered, "trial \(trial) epoch \(epoch): reopening changed the contents")
            let problems = try StoreFixtures.invariantProblems(store)
            #expect(problems == [], "trial \(trial) epoch \(epoch)")
            var history = StoreHistory(found)
            let steps = rng.int(in: 5...120)
            var faultAt = rng.chance(1, in: 3) ? rng.int(in: 0..<steps) : -1
            for step in 0..<steps {
                if step == faultAt {
                    faultAt = -1
                    switch rng.int(in: 0..<3) {
                    case 0: device.injectFault(.failWrite(nth: rng.int(in: 1...4)))
                    case 1: device.injectFault(.failFlush(nth: rng.int(in: 1...3)))
                    default: device.injectFault(.failRead(nth: 1))
                    }
                }
                var state = history.current
                var acknowledgedDurable = false
                do {
                    switch workload.next() {
                    case .put(let key, let valueSeed, let length, let durability):
                        let value = StoreWorkload.value(seed: valueSeed, length: length)
                        state[key] = value
                        try store.put(key, value, durability: durability)
                        acknowledgedDurable = durability == .durable
                    case .delete(let key, let durability):
                        state[key] = nil
                        try store.delete(key, durability: durability)
                        acknowledgedDurable = durability == .durable
                    case .sync:
                        try store.sync()
                        acknowledgedDurable = true
                    case .collect:
                        try store.collectGarbage()
                    }
                } catch {
                    // The operation may or may not have happened; nothing after it is acknowledged.
                    history.record(state, durable: false)
                    break
                }
                history.record(state, durable: acknowledgedDurable)
            }
            try device.simulatePowerLoss(seed: seed &+ UInt64(epoch))
            let reopened: ZoneStore
            do {
                reopened = try Self.reopen(device)
            } catch {
                Issue.record("trial \(trial) epoch \(epoch): reopening after power loss failed: \(error)")
                return
            }
            recovered = try Self.contents(reopened)
            let matched = history.candidates().contains(recovered)
            #expect(
                matched,
                "trial \(trial) epoch \(epoch): recovered \(recovered.count) keys match no state between the last durable operation (\(history.durable)) and the end (\(history.states.count - 1)); against the durable state: \(Self.difference(recovered, history.states[history.durable])); recovery: \(reopened.recovery)"
            )
            if !matched { return }
            let reopenedProblems = try StoreFixtures.invariantProblems(reopened)
            #expect(reopenedProblems == [], "trial \(trial) epoch \(epoch)")
            // Abandon this instance, as a crash would (the next epoch reopens the device).
        }
    }
}
