import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZonedStorage

/// The preconditions `BucketAllocator` promises to trap on (programmer errors).
@Suite("Allocator preconditions")
struct AllocatorPreconditionTests {
    @Test("marking a stale dirty pointer dead (a double free) traps")
    func doubleFreeOfStaleDirtyPointerTraps() async {
        await #expect(processExitsWith: .failure) {
            let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8))
            let allocator = try BucketAllocator(device: device)
            let pointer = try allocator.write(
                AllocatorFixtures.payload(tag: 1, blocks: 12),
                hint: .stream(0),
                split: false
            )[0]
            allocator.markDead(pointer)  // the bucket is emptied and reset: the pointer is stale
            guard allocator.isStale(pointer) else { return }  // (would make the test fail: no trap)
            allocator.markDead(pointer)
        }
    }

    @Test("marking a live extent dead twice traps")
    func doubleFreeInOpenBucketTraps() async {
        await #expect(processExitsWith: .failure) {
            let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8))
            let allocator = try BucketAllocator(device: device)
            let pointer = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 2), hint: .stream(0))[0]
            allocator.markDead(pointer)  // the bucket is still open: not reset, the pointer stays current
            allocator.markDead(pointer)
        }
    }

    @Test("marking dead a pointer beyond the bucket's written data traps")
    func markDeadBeyondWrittenTraps() async {
        await #expect(processExitsWith: .failure) {
            let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8))
            let allocator = try BucketAllocator(device: device)
            let pointer = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 2), hint: .stream(0))[0]
            var beyond = pointer
            beyond.offset += 16
            allocator.markDead(beyond)
        }
    }

    @Test("committing a reservation twice traps")
    func doubleCommitTraps() async {
        await #expect(processExitsWith: .failure) {
            let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8))
            let allocator = try BucketAllocator(device: device)
            let reservation = try allocator.reserve(sectors: 8, for: .stream(0))
            try device.write(AllocatorFixtures.payload(tag: 1, blocks: 1), at: reservation.pieces[0].deviceOffset)
            allocator.commit(reservation)
            allocator.commit(reservation)
        }
    }

    #if DEBUG
    @Test("debug builds trap on a write that is not at the device's write pointer")
    func writeBehindTheWritePointerTraps() async {
        await #expect(processExitsWith: .failure) {
            let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8))
            let allocator = try BucketAllocator(device: device)
            let pointer = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 1), hint: .stream(0))[0]
            // Someone else writes into the allocator's open bucket behind its back.
            try device.write(
                AllocatorFixtures.payload(tag: 2, blocks: 1),
                at: device.info.zoneStart(pointer.bucket.zone) + 4096
            )
            _ = try allocator.write(AllocatorFixtures.payload(tag: 3, blocks: 1), hint: .stream(0))
        }
    }
    #endif
}
