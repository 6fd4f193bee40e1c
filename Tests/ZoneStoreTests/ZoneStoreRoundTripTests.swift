import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneStore
import ZonedStorage

@Suite struct ZoneStoreRoundTripTests {
    @Test(arguments: [0, 1, 511, 4096, 4097, 12 << 10, 47 << 10, 48 << 10, 100 << 10, 300 << 10])
    func valuesOfManySizesReadBack(size: Int) throws {
        let (device, store) = try StoreFixtures.store()
        defer { try? store.close() }
        let value = StoreFixtures.value(seed: UInt64(size), count: size)
        try store.put("k", value)
        #expect(try store.get("k") == value)
        let info = try #require(store.stat("k"))
        #expect(info.length == size)
        #expect(info.extents.reduce(0) { $0 + $1.byteCount } == size)
        let problems = try StoreFixtures.invariantProblems(store)
        #expect(problems == [])
        try store.close()
        let reopened = try ZoneStore.open(device, options: StoreFixtures.options())
        defer { try? reopened.close() }
        #expect(try reopened.get("k") == value)
        let reopenedProblems = try StoreFixtures.invariantProblems(reopened)
        #expect(reopenedProblems == [])
    }

    @Test func valuesSpanBucketsWithOneExtentPerBucket() throws {
        let (_, store) = try StoreFixtures.store(StoreFixtures.wide)
        defer { try? store.close() }
        try store.put("small", StoreFixtures.value(seed: 1, count: 100 << 10))
        let big = StoreFixtures.value(seed: 2, count: 2 << 20)
        try store.put("big", big)
        let info = try #require(store.stat("big"))
        #expect(info.extents.count >= 3)
        #expect(Set(info.extents.map(\.pointer.bucket)).count == info.extents.count)
        #expect(try store.get("big") == big)
    }

    @Test func overwriteDeleteListAndStat() throws {
        let (_, store) = try StoreFixtures.store()
        defer { try? store.close() }
        try store.put("a/1", [1, 2, 3])
        try store.put("a/2", [4])
        try store.put("b/1", [5])
        try store.put("a/1", [9, 9])
        #expect(try store.get("a/1") == [9, 9])
        #expect(store.list(prefix: "a/") == ["a/1", "a/2"])
        #expect(store.list() == ["a/1", "a/2", "b/1"])
        #expect(try store.delete("a/2"))
        #expect(try !store.delete("a/2"))
        #expect(throws: StoreError.self) { try store.get("a/2") }
        let error = try #require(throws: StoreError.self) { try store.get("nope") }
        #expect(error.code == .notFound)
        #expect(store.stat("nope") == nil)
        #expect(store.list() == ["a/1", "b/1"])
        let problems = try StoreFixtures.invariantProblems(store)
        #expect(problems == [])
    }

    @Test func keyAndValueLimitsAreErrors() throws {
        let (_, store) = try StoreFixtures.store()
        defer { try? store.close() }
        let long = StoreKey([UInt8](repeating: 65, count: StoreLimits.maximumKeyLength + 1))
        #expect(throws: StoreError.self) { try store.put(long, [1]) }
        #expect(throws: StoreError.self) { try store.put(StoreKey([UInt8]()), [1]) }
        let tooBig = try #require(throws: StoreError.self) {
            try store.put("big", [UInt8](repeating: 0, count: store.maximumValueSize + 1))
        }
        #expect(tooBig.code == .invalidArgument)
        try store.put(StoreKey([UInt8](repeating: 66, count: StoreLimits.maximumKeyLength)), [1])
    }

    @Test(arguments: [StoreFixtures.small, StoreFixtures.noConventional])
    func manyKeysSurviveReopenAndCheckpoints(geometry: EmulatedGeometry) throws {
        let device = try StoreFixtures.device(geometry)
        try ZoneStore.format(device)
        var model: [StoreKey: [UInt8]] = [:]
        var rng = SeededRandom(seed: 7)
        for round in 0..<4 {
            let store = try ZoneStore.open(device, options: StoreFixtures.options(checkpointInterval: 64 << 10))
            let mismatches = try StoreFixtures.expectMatches(store, model)
            #expect(mismatches == [], "round \(round)")
            for step in 0..<150 {
                let key = StoreKey("key\(rng.int(in: 0..<60))")
                if rng.chance(1, in: 4) {
                    try store.delete(key, durability: .buffered)
                    model[key] = nil
                } else {
                    let value = StoreFixtures.value(seed: UInt64(round * 1000 + step), count: rng.int(in: 0..<9000))
                    try store.put(key, value, durability: rng.chance(1, in: 2) ? .durable : .buffered)
                    model[key] = value
                }
            }
            let problems = try StoreFixtures.invariantProblems(store)
            #expect(problems == [], "round \(round)")
            try store.close()
        }
        let store = try ZoneStore.open(device, options: StoreFixtures.options())
        defer { try? store.close() }
        let mismatches = try StoreFixtures.expectMatches(store, model)
        #expect(mismatches == [])
        let problems = try StoreFixtures.invariantProblems(store)
        #expect(problems == [])
    }

    @Test func checksumCorruptionIsDetectedAndNamed() throws {
        let (device, store) = try StoreFixtures.store()
        let value = StoreFixtures.value(seed: 3, count: 10_000)
        try store.put("victim", value)
        // A later commit: recovery reads back the data of the journal's last group (it may never
        // have been acknowledged) and drops puts whose data does not match; an earlier one is
        // acknowledged, so its damage is reported on read.
        try store.put("later", [1, 2, 3])
        try store.close()
        let extent = try #require(store.stat("victim")?.extents.first)
        // Rewrite the zone with one flipped bit: copy it, reset, write it back changed.
        let zone = extent.pointer.bucket.zone
        let start = device.info.zoneStart(zone)
        let written = try device.zone(zone).writtenBytes
        var bytes = try device.read(count: Int(written), at: start)
        let at = Int(extent.pointer.offset) * 512 + 100
        bytes[at] ^= 0x10
        try device.resetZone(zone)
        try device.write(bytes, at: start)
        try device.flush()
        let reopened = try ZoneStore.open(device, options: StoreFixtures.options())
        defer { try? reopened.close() }
        let error = try #require(throws: StoreError.self) { try reopened.get("victim") }
        #expect(error.code == .checksumMismatch)
        #expect(error.key == "victim")
        #expect(error.bucket == extent.pointer.bucket)
        #expect(error.offset == start + UInt64(extent.pointer.offset) * 512)
        #expect(error.message.contains("victim"))
    }

    @Test func cachedValuesAreDroppedWhenSpaceIsNeededAndReportedEvicted() throws {
        let (_, store) = try StoreFixtures.store()
        defer { try? store.close() }
        // Fill with cached values, then with dirty ones until the cached buckets are reused.
        for index in 0..<60 {
            try store.put(
                StoreKey("cache\(index)"),
                StoreFixtures.value(seed: UInt64(index), count: 16 << 10),
                kind: .cached
            )
        }
        for index in 0..<60 {
            try store.put(StoreKey("dirty\(index)"), StoreFixtures.value(seed: 1000 + UInt64(index), count: 16 << 10))
        }
        var evicted = 0
        for index in 0..<60 {
            do {
                #expect(
                    try store.get(StoreKey("cache\(index)"))
                        == StoreFixtures.value(seed: UInt64(index), count: 16 << 10)
                )
            } catch {
                #expect(error.code == .evicted)
                evicted += 1
            }
        }
        #expect(evicted > 0)
        for index in 0..<60 {
            #expect(
                try store.get(StoreKey("dirty\(index)"))
                    == StoreFixtures.value(seed: 1000 + UInt64(index), count: 16 << 10)
            )
        }
        #expect(store.statistics().evictedKeys == evicted)
        let problems = try StoreFixtures.invariantProblems(store)
        #expect(problems == [])
    }
}
