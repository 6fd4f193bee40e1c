import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneStore
import ZonedStorage

/// Many tasks putting, getting and deleting while copygc runs in the background (the
/// swift-service-lifecycle service, and explicit passes), then a full check.
@Suite struct ZoneStoreConcurrencyTests {
    /// Seeds 1…3; `ZONESTORE_CONCURRENCY_SEEDS=N` runs 1…N (the ThreadSanitizer run of
    /// tools/sanitize.sh takes 1: every access is instrumented, and one seed's eight tasks already
    /// interleave with copygc).
    static let seeds = Array(
        1...max(1, Int(ProcessInfo.processInfo.environment["ZONESTORE_CONCURRENCY_SEEDS"] ?? "") ?? 3)
    )

    @Test(arguments: seeds)
    func manyTasksWhileCopygcRuns(seed: Int) async throws {
        let (device, store) = try StoreFixtures.store(
            StoreFixtures.small,
            options: StoreFixtures.options(checkpointInterval: 96 << 10)
        )
        let tasks = 8
        let service = CopygcService(store: store, interval: .milliseconds(5))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [service], logger: Logger(label: "test"))
        )
        async let running: Void = group.run()
        let models = try await withThrowingTaskGroup(of: [StoreKey: [UInt8]].self) { taskGroup in
            for task in 0..<tasks {
                taskGroup.addTask {
                    var rng = SeededRandom(seed: UInt64(seed * 100 + task))
                    var model: [StoreKey: [UInt8]] = [:]
                    for step in 0..<150 {
                        let key = StoreKey("t\(task)/k\(rng.int(in: 0..<6))")
                        switch rng.int(in: 0..<10) {
                        case 0..<5:
                            let value = StoreFixtures.value(
                                seed: UInt64(seed * 1_000_000 + task * 10_000 + step),
                                count: rng.int(in: 0...6000)
                            )
                            try await store.put(key, value, durability: rng.chance(1, in: 2) ? .durable : .buffered)
                            model[key] = value
                        case 5..<7:
                            let existed = try await store.delete(key, durability: .buffered)
                            #expect(existed == (model[key] != nil))
                            model[key] = nil
                        case 7:
                            try await store.collectGarbage(maxVictims: 1)
                        default:
                            if let expected = model[key] {
                                #expect(try await store.get(key) == expected, "task \(task) step \(step) \(key)")
                            } else {
                                await #expect(throws: StoreError.self) { try await store.get(key) }
                            }
                        }
                    }
                    return model
                }
            }
            var all: [StoreKey: [UInt8]] = [:]
            for try await model in taskGroup { all.merge(model) { a, _ in a } }
            return all
        }
        await group.triggerGracefulShutdown()
        try await running
        let mismatches = try StoreFixtures.expectMatches(store, models)
        #expect(mismatches == [])
        let problems = try StoreFixtures.invariantProblems(store)
        #expect(problems == [])
        try await store.close()
        let reopened = try await ZoneStore.open(device, options: StoreFixtures.options())
        defer { try? reopened.close() }
        let reopenedMismatches = try StoreFixtures.expectMatches(reopened, models)
        #expect(reopenedMismatches == [])
    }

    @Test func copygcServiceFreesBucketsAndStopsOnShutdown() async throws {
        var options = StoreFixtures.options(copygcOnDemand: false)
        options.copygcStartBelowFreeBuckets = 30
        options.copygcStopAtFreeBuckets = 34
        let (_, store) = try StoreFixtures.store(StoreFixtures.small, options: options)
        defer { try? store.close() }
        // Fragment: fill, then delete every other value.
        for index in 0..<60 {
            try await store.put(StoreKey("k\(index)"), StoreFixtures.value(seed: UInt64(index), count: 12 << 10))
        }
        for index in stride(from: 0, to: 60, by: 2) { try await store.delete(StoreKey("k\(index)")) }
        let before = store.statistics()
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [CopygcService(store: store, interval: .milliseconds(2))],
                logger: Logger(label: "test")
            )
        )
        async let running: Void = group.run()
        var waited = 0
        while store.statistics().copygc.bucketsFreed == 0, waited < 2000 {
            try await Task.sleep(for: .milliseconds(5))
            waited += 1
        }
        await group.triggerGracefulShutdown()
        try await running
        let after = store.statistics()
        #expect(after.copygc.bucketsFreed > 0)
        #expect(after.copygc.bytesMoved > 0)
        #expect((after.allocator.bucketsByState[.free] ?? 0) > (before.allocator.bucketsByState[.free] ?? 0))
        for index in stride(from: 1, to: 60, by: 2) {
            #expect(
                try await store.get(StoreKey("k\(index)")) == StoreFixtures.value(seed: UInt64(index), count: 12 << 10)
            )
        }
        let problems = try StoreFixtures.invariantProblems(store)
        #expect(problems == [])
    }
}
