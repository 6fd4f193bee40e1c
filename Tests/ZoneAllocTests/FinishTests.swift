import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZonedStorage

/// Finishing zones: a bucket given up with capacity left is finished, the waste is counted, and
/// victims are chosen to waste the least (issue 4 §5).
@Suite("Finishing zones")
struct FinishTests {
    @Test("a no-split allocation that does not fit finishes the zone and counts the waste")
    func noSplitFinishes() throws {
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8))
        let recorder = AllocatorFixtures.RecordingDevice(device)
        let allocator = try BucketAllocator(device: recorder)
        let first = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 8), hint: .stream(0))
        let bucket = try #require(first.first?.bucket)
        recorder.log.clear()

        let second = try allocator.write(AllocatorFixtures.payload(tag: 2, blocks: 8), hint: .stream(0), split: false)
        #expect(second.count == 1)
        #expect(second[0].bucket != bucket)
        #expect(second[0].offset == 0)
        // The finish happened before the write into the new bucket.
        #expect(recorder.log.all.first == .finish(zone: bucket.zone))
        #expect(try device.zone(bucket.zone).condition == .full)
        let statistics = allocator.statistics()
        #expect(statistics.finishes == 1)
        #expect(statistics.finishWasteSectors == 4 * 8)
        // The data written before the finish is still live and readable.
        #expect(!allocator.isStale(first[0]))
        #expect(allocator.state(of: bucket) == .dirty)
        let bytes = try device.read(count: first[0].byteCount, at: device.info.zoneStart(bucket.zone))
        #expect(bytes == AllocatorFixtures.payload(tag: 1, blocks: 8))
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("a split allocation fills the bucket instead: nothing finished, nothing wasted")
    func splitDoesNotFinish() throws {
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8))
        let allocator = try BucketAllocator(device: device)
        let first = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 8), hint: .stream(0))
        let second = try allocator.write(AllocatorFixtures.payload(tag: 2, blocks: 8), hint: .stream(0))
        #expect(second.count == 2)
        #expect(second[0].bucket == first[0].bucket && second[0].offset == 64 && second[0].sectors == 32)
        #expect(second[1].offset == 0 && second[1].sectors == 32)
        #expect(allocator.statistics().finishes == 0)
        #expect(allocator.statistics().finishWasteSectors == 0)
        #expect(try device.zone(first[0].bucket.zone).condition == .full)
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    /// Writes `blocks[i]` blocks at the start of zone `1 + i`, directly on the device.
    static func partiallyWritten(_ blocks: [Int], maxOpen: Int, maxActive: Int) throws -> EmulatedDevice {
        let device = try AllocatorFixtures.device(
            AllocatorFixtures.geometry(zones: 16, maxOpen: maxOpen, maxActive: maxActive)
        )
        for (index, count) in blocks.enumerated() {
            try device.write(
                AllocatorFixtures.payload(tag: UInt64(index), blocks: count),
                at: device.info.zoneStart(1 + index)
            )
        }
        return device
    }

    @Test("at start-up, partial zones beyond the budget are finished, those wasting least first")
    func initFinishesLeastWaste() throws {
        // Budget 6: 1 metadata + 1 copygc + 4 user slots; 6 partial zones of 1…6 blocks.
        let device = try Self.partiallyWritten([3, 6, 1, 5, 2, 4], maxOpen: 6, maxActive: 6)
        #expect(device.resourceUsage().active == 6)
        let allocator = try BucketAllocator(device: device)
        // Zones 2 (6 blocks) and 4 (5 blocks) are finished: 6 + 7 blocks of waste, the least.
        #expect(try device.zone(2).condition == .full)
        #expect(try device.zone(4).condition == .full)
        for zone in [1, 3, 5, 6] { #expect(try device.zone(zone).condition.hasValidWritePointer) }
        let statistics = allocator.statistics()
        #expect(statistics.finishes == 2)
        #expect(statistics.finishWasteSectors == (6 + 7) * 8)
        #expect(statistics.openBuckets == 4)
        #expect(device.resourceUsage().active == 4)
        // Finished zones hold data nobody has claimed yet: not reset until the owner says.
        #expect(allocator.state(of: BucketIndex(2)) == .needsReset)
        #expect(
            allocator.markLive(
                DataPointer(bucket: BucketIndex(2), offset: 0, sectors: 48, generation: BucketGeneration(rawValue: 0))
            )
        )
        #expect(allocator.state(of: BucketIndex(2)) == .dirty)

        // The next write adopts the kept partial zone with the most room (zone 3, 1 block in).
        let pointer = try #require(
            allocator.write(AllocatorFixtures.payload(tag: 9, blocks: 2), hint: .stream(0)).first
        )
        #expect(pointer.bucket == BucketIndex(3))
        #expect(pointer.offset == 8)
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("when the budget is full, the open bucket with the least room left is finished")
    func budgetVictimWastesLeast() throws {
        // Budget 4: 2 user slots, both held by partial zones of 2 and 5 blocks.
        let device = try Self.partiallyWritten([2, 5], maxOpen: 4, maxActive: 4)
        let recorder = AllocatorFixtures.RecordingDevice(device)
        let allocator = try BucketAllocator(device: recorder)
        #expect(allocator.statistics().userZoneBudget == 2)
        // The owner of the data found at start-up claims it.
        for (zone, blocks) in [(1, 2), (2, 5)] {
            let pointer = DataPointer(
                bucket: BucketIndex(zone),
                offset: 0,
                sectors: UInt32(blocks * 8),
                generation: BucketGeneration(rawValue: 0)
            )
            #expect(allocator.markLive(pointer))
        }
        // Stream A adopts zone 1 (most room: 2 blocks written) and writes 1 block.
        let a = try #require(allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 1), hint: .stream(0)).first)
        #expect(a.bucket == BucketIndex(1) && a.offset == 16)
        // Stream B needs a whole bucket: zone 2 (7 blocks left) cannot take it and no slot is
        // free, so the bucket with the least room left is finished: zone 2, wasting 7 blocks.
        recorder.log.clear()
        let b = try #require(
            allocator.write(AllocatorFixtures.payload(tag: 2, blocks: 12), hint: .stream(1), split: false).first
        )
        #expect(recorder.log.all.first == .finish(zone: 2))
        #expect(b.bucket != BucketIndex(1) && b.bucket != BucketIndex(2) && b.offset == 0)
        let statistics = allocator.statistics()
        #expect(statistics.finishes == 1)
        #expect(statistics.finishWasteSectors == 7 * 8)
        #expect(device.resourceUsage().active <= 4)
        // Stream A goes on in its bucket.
        let again = try #require(allocator.write(AllocatorFixtures.payload(tag: 3, blocks: 1), hint: .stream(0)).first)
        #expect(again.bucket == BucketIndex(1) && again.offset == 24)
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("a failed write abandons the piece and finishes its zone")
    func failedWriteFinishes() throws {
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8))
        let allocator = try BucketAllocator(device: device)
        let first = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 2), hint: .stream(0))
        device.injectFault(.failWrite(nth: 1))
        let error = try #require(throws: AllocationError.self) {
            try allocator.write(AllocatorFixtures.payload(tag: 2, blocks: 2), hint: .stream(0))
        }
        #expect(error.code == .device)
        #expect(try device.zone(first[0].bucket.zone).condition == .full)
        let statistics = allocator.statistics()
        #expect(statistics.dirtySectors == 16)
        #expect(statistics.finishes == 1)
        // The next write goes to a fresh bucket, at its start.
        let next = try #require(allocator.write(AllocatorFixtures.payload(tag: 3, blocks: 2), hint: .stream(0)).first)
        #expect(next.bucket != first[0].bucket && next.offset == 0)
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }
}
