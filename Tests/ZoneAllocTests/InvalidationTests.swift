import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZonedStorage

/// Buckets are reused without moving anything when nothing dirty is left in them (issue 4 §7).
@Suite("Cached invalidation and reset of emptied buckets")
struct InvalidationTests {
    struct Setup {
        let device: EmulatedDevice
        let recorder: AllocatorFixtures.RecordingDevice
        let store: AllocatorFixtures.RecordingGenerationStore
        let allocator: BucketAllocator

        init(zones: Int = 8) throws {
            device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: zones))
            let log = AllocatorFixtures.EventLog()
            recorder = AllocatorFixtures.RecordingDevice(device, log: log)
            store = AllocatorFixtures.RecordingGenerationStore(log: log)
            allocator = try BucketAllocator(
                device: recorder,
                configuration: AllocatorConfiguration(allocationWaitLimit: 0.01),
                generationStore: store
            )
        }

        func zone(_ bucket: BucketIndex) throws -> Zone { try device.zone(bucket.zone) }
    }

    @Test("a bucket holding only cached data is invalidated without moving anything")
    func cachedOnlyBucketIsInvalidated() throws {
        let setup = try Setup()
        let allocator = setup.allocator
        let first = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 5), hint: .stream(0), cached: true)
        let second = try allocator.write(AllocatorFixtures.payload(tag: 2, blocks: 7), hint: .stream(0), cached: true)
        let pointers = first + second
        let bucket = try #require(pointers.first?.bucket)
        #expect(pointers.allSatisfy { $0.bucket == bucket && $0.isCached })
        #expect(allocator.state(of: bucket) == .cached)
        #expect(allocator.statistics().cachedSectors == 96)
        #expect(try setup.zone(bucket).condition == .full)

        setup.recorder.log.clear()
        #expect(try allocator.invalidate(bucket))
        // Nothing moved: one durable generation, one zone reset, no write.
        #expect(setup.recorder.log.all == [.persist(zone: bucket.zone, generation: 1), .reset(zone: bucket.zone)])
        #expect(allocator.generation(of: bucket) == BucketGeneration(rawValue: 1))
        #expect(pointers.allSatisfy { allocator.isStale($0) })
        #expect(try setup.zone(bucket).condition == .empty)
        #expect(allocator.state(of: bucket) == .free)
        let statistics = allocator.statistics()
        #expect(statistics.cachedSectors == 0)
        #expect(statistics.invalidations == 1)
        #expect(statistics.resets == 1)
        // A stale cached pointer marked dead is ignored.
        for pointer in pointers { allocator.markDead(pointer) }
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("buckets with dirty data, or open ones, are not invalidated")
    func dirtyAndOpenBucketsAreNotInvalidated() throws {
        let setup = try Setup()
        let allocator = setup.allocator
        // Open (partly written) cached bucket.
        let open = try #require(
            allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 3), hint: .stream(0), cached: true).first
        )
        #expect(allocator.state(of: open.bucket) == .open)
        #expect(try !allocator.invalidate(open.bucket))
        // Full bucket with dirty and cached data.
        let dirty = try allocator.write(AllocatorFixtures.payload(tag: 2, blocks: 6), hint: .stream(1))
        let cached = try allocator.write(AllocatorFixtures.payload(tag: 3, blocks: 6), hint: .stream(1), cached: true)
        let bucket = try #require(dirty.first?.bucket)
        #expect(allocator.state(of: bucket) == .dirty)
        #expect(try !allocator.invalidate(bucket))
        #expect(!allocator.isStale(dirty[0]) && !allocator.isStale(cached[0]))
        // Once the dirty data is dead only cached data is left: invalidated by a generation bump.
        allocator.markDead(dirty[0])
        #expect(allocator.state(of: bucket) == .cached)
        #expect(try allocator.invalidate(bucket))
        #expect(allocator.isStale(cached[0]))
        #expect(!allocator.isStale(open))
        allocator.checkInvariants()
    }

    @Test("a bucket whose live count reaches zero is reset and freed without copying")
    func emptiedBucketIsReset() throws {
        let setup = try Setup()
        let allocator = setup.allocator
        let a = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 6), hint: .stream(0), split: false)
        let b = try allocator.write(AllocatorFixtures.payload(tag: 2, blocks: 6), hint: .stream(0), split: false)
        let bucket = try #require(a.first?.bucket)
        #expect(b.first?.bucket == bucket)
        #expect(allocator.state(of: bucket) == .dirty)

        setup.recorder.log.clear()
        allocator.markDead(a[0])
        #expect(setup.recorder.log.all == [])
        #expect(allocator.state(of: bucket) == .dirty)
        #expect(allocator.liveSectors(of: bucket) == (dirty: 48, cached: 0))
        allocator.markDead(b[0])
        #expect(setup.recorder.log.all == [.persist(zone: bucket.zone, generation: 1), .reset(zone: bucket.zone)])
        #expect(allocator.state(of: bucket) == .free)
        #expect(try setup.zone(bucket).condition == .empty)
        #expect(allocator.isStale(a[0]) && allocator.isStale(b[0]))
        let statistics = allocator.statistics()
        #expect(statistics.dirtySectors == 0)
        #expect(statistics.resets == 1)
        #expect(statistics.invalidations == 0)
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("an open bucket emptied while being filled is reset when it fills")
    func openEmptiedBucketIsResetWhenFull() throws {
        let setup = try Setup()
        let allocator = setup.allocator
        let first = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 6), hint: .stream(0))
        allocator.markDead(first[0])
        // Still open: not reset under its write point.
        #expect(allocator.state(of: first[0].bucket) == .open)
        #expect(allocator.generation(of: first[0].bucket) == BucketGeneration(rawValue: 0))
        let reservation = try allocator.reserve(sectors: 48, for: .stream(0))
        #expect(reservation.pointers.first?.bucket == first[0].bucket)
        allocator.markDead(reservation.pointers[0])
        try setup.recorder.write(AllocatorFixtures.payload(tag: 2, blocks: 6), at: reservation.pieces[0].deviceOffset)
        allocator.commit(reservation)
        // Full, nothing live: reset on commit.
        #expect(allocator.state(of: first[0].bucket) == .free)
        #expect(allocator.generation(of: first[0].bucket) == BucketGeneration(rawValue: 1))
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("allocation reuses a cached-only bucket by invalidating it when no free bucket is left")
    func allocationInvalidatesCachedBuckets() throws {
        // 7 buckets; metadata and copygc hold back 2.
        let setup = try Setup()
        let allocator = setup.allocator
        var cached: [DataPointer] = []
        for index in 0..<7 {
            cached += try allocator.write(
                AllocatorFixtures.payload(tag: UInt64(index), blocks: 12),
                hint: .stream(0),
                watermark: .metadata,
                cached: true,
                split: false
            )
        }
        #expect(allocator.statistics().bucketsByState[.cached] == 7)
        let written = try allocator.write(AllocatorFixtures.payload(tag: 100, blocks: 2), hint: .stream(1))
        let bucket = try #require(written.first?.bucket)
        let statistics = allocator.statistics()
        #expect(statistics.invalidations == 1)
        #expect(statistics.cachedSectors == 6 * 96)
        #expect(cached.filter { allocator.isStale($0) }.map(\.bucket) == [bucket])
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }
}
