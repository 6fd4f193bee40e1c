import Synchronization
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZonedStorage

/// Invariant 3: a bucket's new generation is durable before its zone is reset.
@Suite("Generation store gate")
struct GenerationStoreGateTests {
    struct Setup {
        let device: EmulatedDevice
        let log = AllocatorFixtures.EventLog()
        let recorder: AllocatorFixtures.RecordingDevice
        let store: AllocatorFixtures.RecordingGenerationStore
        let allocator: BucketAllocator

        init(zones: Int = 16, configuration: AllocatorConfiguration = AllocatorConfiguration(allocationWaitLimit: 0.01))
            throws
        {
            device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: zones))
            recorder = AllocatorFixtures.RecordingDevice(device, log: log)
            store = AllocatorFixtures.RecordingGenerationStore(log: log)
            allocator = try BucketAllocator(device: recorder, configuration: configuration, generationStore: store)
        }
    }

    @Test("buckets emptied together have their generations persisted in one batch, before any of their resets")
    func batchedReclaim() throws {
        let setup = try Setup()
        let allocator = setup.allocator
        let blocksPerBucket = allocator.bucketSectors / (allocator.blockSize / 512)
        var pointers: [DataPointer] = []
        for tag in 0..<3 {
            pointers += try allocator.write(
                AllocatorFixtures.payload(tag: UInt64(tag), blocks: blocksPerBucket),
                hint: .stream(1)
            )
        }
        let buckets = Set(pointers.map(\.bucket))
        #expect(buckets.count == 3, "three full buckets: \(pointers)")
        setup.log.clear()
        allocator.markDead(pointers)
        #expect(setup.store.batchSizes == [3])
        // Three persists, then three resets: no zone is reset before every generation is durable.
        let kinds = setup.log.all.compactMap { event -> String? in
            switch event {
            case .persist: "persist"
            case .reset: "reset"
            default: nil
            }
        }
        #expect(kinds == ["persist", "persist", "persist", "reset", "reset", "reset"], "\(setup.log.all)")
        for bucket in buckets {
            #expect(allocator.state(of: bucket) == .free)
            #expect(setup.store.generation(of: bucket) == allocator.generation(of: bucket))
        }
        allocator.checkInvariants()
    }

    @Test("every reset is preceded by persisting the bucket's new generation", arguments: [11, 12] as [UInt64])
    func persistBeforeReset(seed: UInt64) throws {
        let setup = try Setup()
        let allocator = setup.allocator
        let device = setup.device
        // Inside persist, the zone must not have been reset yet.
        let early = Mutex<[String]>([])
        setup.store.onPersist { bucket, generation in
            if let zone = try? device.zone(bucket.zone), zone.condition == .empty {
                early.withLock { $0.append("\(bucket) was already EMPTY when \(generation) was persisted") }
            }
        }
        var rng = SplitMix64(seed: seed)
        var live: [DataPointer] = []
        for step in 0..<400 {
            switch Int.random(in: 0...9, using: &rng) {
            case 0...4:
                let cached = Int.random(in: 0...3, using: &rng) == 0
                do {
                    live += try allocator.write(
                        AllocatorFixtures.payload(tag: UInt64(step), blocks: Int.random(in: 1...12, using: &rng)),
                        hint: .stream(UInt64.random(in: 0...3, using: &rng)),
                        cached: cached
                    )
                } catch {
                    #expect(error.code == .noSpace || error.code == .timedOut, "seed \(seed), step \(step): \(error)")
                    if !live.isEmpty { allocator.markDead(live.removeFirst()) }
                }
            case 5...7:
                if !live.isEmpty { allocator.markDead(live.remove(at: Int.random(in: 0..<live.count, using: &rng))) }
            default:
                let cachedBuckets = (1..<16).map(BucketIndex.init).filter { allocator.state(of: $0) == .cached }
                if let bucket = cachedBuckets.first { _ = try allocator.invalidate(bucket) }
            }
            live.removeAll { allocator.isStale($0) }
        }
        #expect(early.withLock { $0 } == [], "seed \(seed)")

        // In the log, each reset of a zone follows a persist of that zone's next generation,
        // with no other reset of that zone in between.
        var pending: [Int: UInt8] = [:]
        var resets: [Int: Int] = [:]
        for event in setup.log.all {
            switch event {
            case .persist(let zone, let generation):
                pending[zone] = generation
            case .reset(let zone):
                resets[zone, default: 0] += 1
                #expect(
                    pending[zone] == UInt8(truncatingIfNeeded: resets[zone]!),
                    "seed \(seed): reset \(resets[zone]!) of zone \(zone) without persisting its generation first"
                )
                pending[zone] = nil
            default:
                break
            }
        }
        #expect(resets.values.reduce(0, +) == allocator.statistics().resets)
        #expect(allocator.statistics().resets > 10, "seed \(seed): too few resets to mean anything")
        for zone in 1..<16 {
            let bucket = BucketIndex(zone)
            #expect(
                setup.store.generation(of: bucket) ?? BucketGeneration(rawValue: 0) == allocator.generation(of: bucket)
            )
        }
    }

    @Test("a failing store leaves the zone un-reset and reports a generationStore error")
    func failingStoreLeavesZone() throws {
        let setup = try Setup()
        let allocator = setup.allocator
        let cached = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 12), hint: .stream(0), cached: true)
        let bucket = cached[0].bucket
        setup.log.clear()

        setup.store.isFailing = true
        let error = try #require(throws: AllocationError.self) { try allocator.invalidate(bucket) }
        #expect(error.code == .generationStore)
        #expect(error.cause is AllocatorFixtures.RecordingGenerationStore.InjectedFailure)
        #expect(setup.log.all == [])
        #expect(try setup.device.zone(bucket.zone).condition == .full)
        #expect(allocator.generation(of: bucket) == BucketGeneration(rawValue: 0))
        // The cached data is still there and still accounted: its pointer is live and readable.
        #expect(!allocator.isStale(cached[0]))
        #expect(allocator.state(of: bucket) == .cached)
        #expect(allocator.statistics().cachedSectors == 96)
        let bytes = try setup.device.read(count: cached[0].byteCount, at: setup.device.info.zoneStart(bucket.zone))
        #expect(bytes == AllocatorFixtures.payload(tag: 1, blocks: 12))
        allocator.checkInvariants()

        // The owner drops it: the emptied bucket cannot be reset either, and stays needsReset.
        allocator.markDead(cached[0])
        #expect(allocator.state(of: bucket) == .needsReset)
        #expect(try setup.device.zone(bucket.zone).condition == .full)

        // The store recovers: the bucket is reset with the next generation.
        setup.store.isFailing = false
        try allocator.reclaimEmptyBuckets()
        #expect(setup.log.all == [.persist(zone: bucket.zone, generation: 1), .reset(zone: bucket.zone)])
        #expect(allocator.state(of: bucket) == .free)
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("an allocation that needs a reset fails with generationStore, writing nothing")
    func allocationResetGated() throws {
        // 4 buckets, no held-back buckets, so the allocation must reuse the emptied one.
        let setup = try Setup(zones: 5, configuration: AllocatorConfiguration(metadataZoneSlots: 0, copygcZoneSlots: 0))
        let allocator = setup.allocator
        setup.store.isFailing = true
        let first = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 12), hint: .stream(0))
        allocator.markDead(first[0])  // its reset fails quietly: the bucket needs one
        #expect(allocator.state(of: first[0].bucket) == .needsReset)
        for tag in 2...4 {
            _ = try allocator.write(AllocatorFixtures.payload(tag: UInt64(tag), blocks: 12), hint: .stream(0))
        }
        #expect(allocator.statistics().bucketsByState[.free, default: 0] == 0)
        setup.log.clear()
        let error = try #require(throws: AllocationError.self) {
            try allocator.write(AllocatorFixtures.payload(tag: 5, blocks: 1), hint: .stream(0))
        }
        #expect(error.code == .generationStore)
        #expect(setup.log.all == [])
        #expect(try setup.device.zone(first[0].bucket.zone).condition == .full)

        setup.store.isFailing = false
        let pointer = try #require(
            allocator.write(AllocatorFixtures.payload(tag: 5, blocks: 1), hint: .stream(0)).first
        )
        #expect(pointer.bucket == first[0].bucket)
        #expect(pointer.generation == BucketGeneration(rawValue: 1))
        #expect(
            setup.log.all.prefix(2) == [
                .persist(zone: pointer.bucket.zone, generation: 1), .reset(zone: pointer.bucket.zone),
            ]
        )
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }
}
