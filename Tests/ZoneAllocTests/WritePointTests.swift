import Foundation
import Synchronization
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZonedStorage

/// Write points resolved once (`WritePoint`) and the allocation fast path they use: a bump of the
/// write point's cursor under its own lock, folded back into the allocator state whenever the
/// slow path or a query needs it.
@Suite("Write points and the fast path")
struct WritePointTests {
    @Test("a write point is resolved once per hint; the dedicated hints get their own")
    func resolution() throws {
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 16, maxActive: 6))
        let allocator = try BucketAllocator(device: device)
        #expect(allocator.writePoint(for: .metadata) == allocator.writePoint(for: .metadata))
        #expect(allocator.writePoint(for: .metadata).kind == .metadata)
        #expect(allocator.writePoint(for: .copygc).kind == .copygc)
        let first = allocator.writePoint(for: .stream(1))
        #expect(first.kind == .user)
        #expect(allocator.writePoint(for: .stream(1)) == first)
        #expect(allocator.writePoint(for: .stream(2)) != first)
        // 4 user write points: the fifth hint shares one.
        let points = Set((1...5).map { allocator.writePoint(for: .stream(UInt64($0))) })
        #expect(points.count == 4)
        allocator.checkInvariants()
    }

    @Test("a write point shared by more than 64 hints forgets the oldest, and maps them again when asked")
    func hintMapStaysBounded() throws {
        // Budget 3: one user write point for every hint.
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 16, maxActive: 3))
        let allocator = try BucketAllocator(device: device)
        let only = allocator.writePoint(for: .stream(0))
        for value in 1..<200 {
            #expect(allocator.writePoint(for: .stream(UInt64(value))) == only)
            #expect(allocator.writePoint(for: .owner(UInt64(value))) == only)
        }
        allocator.checkInvariants()
        #expect(allocator.writePoint(for: .stream(0)) == only)
        #expect(allocator.writePoint(for: .temperature(.cold)) == only)
        allocator.checkInvariants()
    }

    @Test("a new hint takes over the write point least recently used, counting allocations through handles")
    func takeoverCountsHandleUse() throws {
        // Budget 6: 4 user write points.
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 64, maxActive: 6))
        let allocator = try BucketAllocator(device: device)
        let handles = (0..<4).map { allocator.writePoint(for: .stream(UInt64($0))) }
        #expect(Set(handles).count == 4)
        // Everyone but handle 2 allocates through its handle (the hint is never looked up again).
        for round in 0..<3 {
            for (index, handle) in handles.enumerated() where index != 2 {
                allocator.commit(try allocator.reserve(sectors: 8, through: handle))
            }
            // A hint lookup in between, so recency is not decided by resolution order alone.
            if round == 0 { _ = allocator.writePoint(for: .stream(2)) }
        }
        // stream(2) was looked up at round 0 but its write point was not used since; the others
        // were used after that.
        let newcomer = allocator.writePoint(for: .stream(99))
        #expect(newcomer == handles[2])
        allocator.checkInvariants()
    }

    @Test("allocations through a write point and through its hint are the same bump")
    func handleAndHintAgree() throws {
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 16))
        let recorder = AllocatorFixtures.RecordingDevice(device)
        let allocator = try BucketAllocator(device: recorder)
        let writePoint = allocator.writePoint(for: .stream(5))
        var expectedOffset: UInt32 = 0
        var bucket: BucketIndex?
        for index in 0..<10 {
            let reservation =
                index % 2 == 0
                ? try allocator.reserve(sectors: 8, through: writePoint)
                : try allocator.reserve(sectors: 8, for: .stream(5))
            let piece = try #require(reservation.firstPiece)
            #expect(reservation.pieceCount == 1)
            #expect(reservation.pieces == [piece])
            #expect(piece.pointer.offset == expectedOffset)
            if let bucket { #expect(piece.pointer.bucket == bucket) }
            bucket = piece.pointer.bucket
            #expect(
                piece.deviceOffset == device.info.zoneStart(piece.pointer.bucket.zone) + UInt64(expectedOffset) * 512
            )
            try recorder.write(AllocatorFixtures.payload(tag: UInt64(index), blocks: 1), at: piece.deviceOffset)
            allocator.commit(reservation)
            expectedOffset += 8
            allocator.checkInvariants()
        }
        #expect(allocator.statistics().dirtySectors == 80)
        #expect(allocator.liveSectors(of: try #require(bucket)).dirty == 80)
        #expect(try allocator.deviceMismatches() == [])
        // write(through:) goes on in the same bucket.
        let pointers = try allocator.write(AllocatorFixtures.payload(tag: 99, blocks: 2), through: writePoint)
        #expect(pointers.map(\.offset) == [80])
        #expect(pointers.map(\.bucket) == [try #require(bucket)])
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("queries and markDead see what the fast path handed out, in flight or committed")
    func queriesSeeFastPathAllocations() throws {
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 16))
        let allocator = try BucketAllocator(device: device)
        let writePoint = allocator.writePoint(for: .stream(1))
        let first = try allocator.reserve(sectors: 16, through: writePoint)
        let second = try allocator.reserve(sectors: 8, through: writePoint, cached: true)
        let bucket = try #require(first.firstPiece).pointer.bucket
        #expect(allocator.liveSectors(of: bucket) == (dirty: 16, cached: 8))
        #expect(allocator.statistics().dirtySectors == 16)
        #expect(allocator.statistics().cachedSectors == 8)
        #expect(allocator.state(of: bucket) == .open)
        allocator.checkInvariants()
        try device.write(AllocatorFixtures.payload(tag: 1, blocks: 2), at: try #require(first.firstPiece).deviceOffset)
        try device.write(AllocatorFixtures.payload(tag: 2, blocks: 1), at: try #require(second.firstPiece).deviceOffset)
        allocator.commit(second)
        allocator.commit(first)
        allocator.markDead(try #require(first.firstPiece).pointer)
        #expect(allocator.liveSectors(of: bucket) == (dirty: 0, cached: 8))
        // The next bump continues after both, with the accounting folded in between.
        let third = try allocator.reserve(sectors: 8, through: writePoint)
        #expect(third.firstPiece?.pointer.offset == 24)
        allocator.checkInvariants()
        try allocator.abandon(third)
        allocator.checkInvariants()
        #expect(allocator.statistics().dirtySectors == 0)
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("the usable capacity is exact however the write points' credit is spread")
    func usableCapacityIsExactAcrossWritePoints() throws {
        // 63 buckets of 96 sectors: usable = 63 × 96 − ⌈8 % × 6048⌉ = 5564 → 5560 (whole blocks).
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 64))
        let allocator = try BucketAllocator(
            device: device,
            configuration: AllocatorConfiguration(allocationWaitLimit: 5)
        )
        let usable = allocator.statistics().usableSectors
        let writePoints = (0..<3).map { allocator.writePoint(for: .stream(UInt64($0))) }
        var pointers: [DataPointer] = []
        var turn = 0
        // Fill to the last block, rotating through three write points (each holding credit).
        while allocator.statistics().dirtySectors < usable {
            let reservation = try allocator.reserve(sectors: 8, through: writePoints[turn % 3])
            for piece in reservation.pieces {
                try device.write(AllocatorFixtures.payload(tag: UInt64(turn), blocks: 1), at: piece.deviceOffset)
            }
            allocator.commit(reservation)
            pointers += reservation.pointers
            turn += 1
        }
        #expect(allocator.statistics().dirtySectors == usable)
        allocator.checkInvariants()
        // Full: refused at once through any write point, with nothing handed out.
        for writePoint in writePoints {
            let error = try #require(throws: AllocationError.self) {
                try allocator.reserve(sectors: 8, through: writePoint)
            }
            #expect(error.code == .noSpace)
        }
        #expect(allocator.statistics().dirtySectors == usable)
        // Cached data is not limited by the usable capacity.
        let cachedReservation = try allocator.reserve(sectors: 8, through: writePoints[0], cached: true)
        for piece in cachedReservation.pieces {
            try device.write(AllocatorFixtures.payload(tag: 1000, blocks: 1), at: piece.deviceOffset)
        }
        allocator.commit(cachedReservation)
        // Room freed through one write point's data is usable through another.
        allocator.markDead(pointers[0])
        let reservation = try allocator.reserve(sectors: 8, through: writePoints[2])
        for piece in reservation.pieces {
            try device.write(AllocatorFixtures.payload(tag: 1001, blocks: 1), at: piece.deviceOffset)
        }
        allocator.commit(reservation)
        #expect(allocator.statistics().dirtySectors == usable)
        #expect(throws: AllocationError.self) { try allocator.reserve(sectors: 8, through: writePoints[1]) }
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("a write point of another allocator traps")
    func foreignWritePointTraps() async {
        await #expect(processExitsWith: .failure) {
            let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8))
            let one = try BucketAllocator(device: device)
            let other = try BucketAllocator(device: try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8)))
            _ = try one.reserve(sectors: 8, through: other.writePoint(for: .stream(0)))
        }
    }

    @Test(
        "threads bumping their write points while others fold them in keep totals and invariants",
        arguments: [11, 12] as [UInt64]
    )
    func concurrentFastPathWithFolding(seed: UInt64) throws {
        // Metadata-only: no data is written, so reservations can be committed without writes;
        // 64 zones of 1 MiB (2048 sectors), budget 8 (6 user write points for 4 threads).
        let device = try EmulatedDevice(
            geometry: EmulatedGeometry(zoneCount: 64, zoneSize: 1 << 20, maxOpenZones: 8, maxActiveZones: 8),
            storage: .metadataOnly
        )
        let allocator = try BucketAllocator(
            device: device,
            configuration: AllocatorConfiguration(allocationWaitLimit: 0.05),
            copygcTrigger: AllocatorFixtures.NoopCopygc()
        )
        let done = Atomic<Bool>(false)
        let checks = Atomic<Int>(0)
        // Folds every cursor in (invariant check, statistics) all the time, racing the fast path.
        let checker = Thread {
            while !done.load(ordering: .acquiring) {
                allocator.checkInvariants()
                let statistics = allocator.statistics()
                precondition(statistics.openBuckets <= statistics.zoneBudget, "open buckets over budget")
                precondition(
                    statistics.dirtySectors <= statistics.usableSectors,
                    "live data beyond the usable capacity"
                )
                checks.add(1, ordering: .relaxed)
            }
        }
        checker.start()
        let live = Mutex([Int: (dirty: Int, cached: Int)]())
        let failures = Mutex<[String]>([])
        AllocatorFixtures.onThreads(4) { thread in
            var rng = SplitMix64(seed: seed << 8 | UInt64(thread))
            let writePoint = allocator.writePoint(for: .stream(UInt64(thread)))
            var held: [DataPointer] = []
            var dirty = 0
            var cached = 0
            for _ in 0..<20_000 {
                let sectors = 8 * Int.random(in: 1...4, using: &rng)
                let isCached = Int.random(in: 0...7, using: &rng) == 0
                do throws(AllocationError) {
                    let reservation = try allocator.reserve(sectors: sectors, through: writePoint, cached: isCached)
                    if Int.random(in: 0...99, using: &rng) == 0 {
                        try allocator.abandon(reservation)
                        continue
                    }
                    allocator.commit(reservation)
                    if isCached {
                        cached += sectors
                        for pointer in reservation.pointers { allocator.markDead(pointer) }
                        cached -= sectors
                    } else {
                        dirty += sectors
                        held += reservation.pointers
                    }
                } catch  where error.code == .noSpace || error.code == .timedOut {
                    // Room is made below.
                } catch {
                    failures.withLock { $0.append("thread \(thread): \(error)") }
                    return
                }
                // Keep live data around a third of a bucket per thread on average.
                while held.count > 40 || (!held.isEmpty && Int.random(in: 0...2, using: &rng) == 0) {
                    let pointer = held.remove(at: Int.random(in: 0..<held.count, using: &rng))
                    allocator.markDead(pointer)
                    dirty -= Int(pointer.sectors)
                }
            }
            live.withLock { $0[thread] = (dirty, cached) }
        }
        done.store(true, ordering: .releasing)
        while !checker.isFinished { usleep(1000) }

        #expect(failures.withLock { $0 } == [])
        #expect(checks.load(ordering: .relaxed) > 0)
        allocator.checkInvariants()
        let statistics = allocator.statistics()
        let expected = live.withLock { $0.values.reduce(0) { $0 + $1.dirty } }
        #expect(statistics.dirtySectors == expected)
        #expect(statistics.cachedSectors == 0)
        print(
            "fast path seed \(seed): \(checks.load(ordering: .relaxed)) concurrent folds, resets \(statistics.resets), "
                + "finishes \(statistics.finishes)"
        )
    }
}
