import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZonedStorage

/// Reserves and watermarks (invariant 6): the copygc reserve is capacity accounting, watermarks
/// hold back the last free buckets from normal writes.
@Suite("Watermarks and the copygc reserve")
struct WatermarkTests {
    static func freeBuckets(_ allocator: BucketAllocator) -> Int {
        allocator.statistics().bucketsByState[.free, default: 0]
    }

    @Test("normal writes cannot take the held-back buckets; copygc takes its own, metadata the last")
    func watermarksHoldBackBuckets() throws {
        // 15 buckets of 96 sectors, no zone limits; 1 copygc + 1 metadata slot → 2 held back.
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 16))
        let copygc = AllocatorFixtures.NoopCopygc()
        let allocator = try BucketAllocator(
            device: device,
            configuration: AllocatorConfiguration(allocationWaitLimit: 0.05),
            copygcTrigger: copygc
        )
        // Usable capacity is at least the held-back buckets short of the total (bcachefs:
        // reserved = max(gc_reserve, what the allocator holds back)): 13 buckets here.
        #expect(allocator.statistics().usableSectors == 13 * 96)

        // Fill 13 buckets with two 6-block extents each.
        var extents: [DataPointer] = []
        for index in 0..<26 {
            let bytes = AllocatorFixtures.payload(tag: UInt64(index), blocks: 6)
            extents += try allocator.write(bytes, hint: .stream(0), split: false)
        }
        #expect(Self.freeBuckets(allocator) == 2)
        #expect(allocator.statistics().dirtySectors == 13 * 96)

        // Half of two buckets dies: 96 sectors copygc could reclaim, and room below the capacity.
        let victims = [extents[0], extents[2]]
        for pointer in victims { allocator.markDead(pointer) }
        let reportBefore = try device.reportZones()
        let kicksBefore = copygc.kicks

        // A normal write finds only the 2 held-back buckets: it kicks copygc and times out quickly.
        let start = ContinuousClock.now
        let error = try #require(throws: AllocationError.self) {
            try allocator.write(AllocatorFixtures.payload(tag: 100, blocks: 1), hint: .stream(0))
        }
        #expect(error.code == .timedOut)
        #expect(AllocatorFixtures.seconds(since: start) < 0.5)
        #expect(copygc.kicks > kicksBefore)
        #expect(Self.freeBuckets(allocator) == 2)
        #expect(try device.reportZones() == reportBefore, "a refused write changed the device")

        // The copygc watermark takes one of them (the other is held for metadata)...
        let moved = try allocator.write(
            AllocatorFixtures.payload(tag: 101, blocks: 12),
            hint: .copygc,
            watermark: .copygc,
            split: false
        )
        #expect(moved.count == 1)
        #expect(Self.freeBuckets(allocator) == 1)
        // ...but not the last: that one is metadata's, and copygc waiting for copygc is pointless.
        let copygcError = try #require(throws: AllocationError.self) {
            try allocator.write(AllocatorFixtures.payload(tag: 102, blocks: 1), hint: .copygc, watermark: .copygc)
        }
        #expect(copygcError.code == .noSpace)
        // Metadata takes the last free bucket.
        _ = try allocator.write(AllocatorFixtures.payload(tag: 103, blocks: 1), hint: .metadata, watermark: .metadata)
        #expect(Self.freeBuckets(allocator) == 0)
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("live data beyond the usable capacity is refused at once, with nothing written")
    func capacityRefusedQuickly() throws {
        // 63 buckets of 96 sectors: the 8 % reserve (484 sectors) exceeds the held-back buckets.
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 64))
        // A long wait limit: the refusal must not wait at all.
        let allocator = try BucketAllocator(
            device: device,
            configuration: AllocatorConfiguration(allocationWaitLimit: 10)
        )
        let total = 63 * 96
        let usable = (total - Int((Double(total) * 0.08).rounded(.up))) / 8 * 8
        #expect(allocator.statistics().usableSectors == usable)
        #expect(usable == 5560)

        var pointers: [DataPointer] = []
        var written = 0
        var index: UInt64 = 0
        while written + 96 <= usable {
            index += 1
            pointers += try allocator.write(AllocatorFixtures.payload(tag: index, blocks: 12), hint: .stream(index % 4))
            written += 96
        }
        let rest = (usable - written) / 8
        pointers += try allocator.write(AllocatorFixtures.payload(tag: 999, blocks: rest), hint: .stream(0))
        #expect(allocator.statistics().dirtySectors == usable)

        let reportBefore = try device.reportZones()
        let statisticsBefore = allocator.statistics()
        for blocks in [1, 2, 12, 40] {
            let start = ContinuousClock.now
            let error = try #require(throws: AllocationError.self) {
                try allocator.write(AllocatorFixtures.payload(tag: 1000, blocks: blocks), hint: .stream(1))
            }
            let seconds = AllocatorFixtures.seconds(since: start)
            #expect(error.code == .noSpace)
            #expect(error.message.contains("usable capacity"))
            #expect(seconds < 0.1, "refusing \(blocks) blocks took \(seconds) s")
            let reservationError = try #require(throws: AllocationError.self) {
                try allocator.reserve(sectors: blocks * 8, for: .stream(2))
            }
            #expect(reservationError.code == .noSpace)
        }
        #expect(try device.reportZones() == reportBefore, "a refused write changed the device")
        #expect(allocator.statistics() == statisticsBefore)

        // Cached data is not live data: it may still be written (and is dropped when needed).
        _ = try allocator.write(AllocatorFixtures.payload(tag: 2000, blocks: 1), hint: .stream(3), cached: true)
        // Deleting makes room again.
        allocator.markDead(pointers[0])
        _ = try allocator.write(AllocatorFixtures.payload(tag: 2001, blocks: 12), hint: .stream(1))
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("the usable capacity subtracts the copygc reserve", arguments: [0.05, 0.08, 0.13, 0.21])
    func usableCapacity(reserve: Double) throws {
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 64))
        let allocator = try BucketAllocator(
            device: device,
            configuration: AllocatorConfiguration(copygcReserve: reserve)
        )
        let total = 63 * 96
        let expected = (total - max(Int((Double(total) * reserve).rounded(.up)), 2 * 96)) / 8 * 8
        let statistics = allocator.statistics()
        #expect(statistics.usableSectors == expected)
        #expect(statistics.bucketCount == 63)
        #expect(statistics.freeSectors == total)
    }

    @Test("a copygc reserve outside 5–21 % is refused", arguments: [0.0, 0.04, 0.0499, 0.2101, 0.22, 0.5, -0.08, .nan])
    func reserveOutOfRange(reserve: Double) throws {
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 16))
        let error = try #require(throws: AllocationError.self) {
            _ = try BucketAllocator(device: device, configuration: AllocatorConfiguration(copygcReserve: reserve))
        }
        #expect(error.code == .invalidRequest)
        #expect(error.message.contains("5–21"))
    }

    @Test("the bounds of the copygc reserve are accepted", arguments: [0.05, 0.21])
    func reserveBounds(reserve: Double) throws {
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 16))
        _ = try BucketAllocator(device: device, configuration: AllocatorConfiguration(copygcReserve: reserve))
    }
}
