import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZonedStorage

/// 8-bit bucket generations across wraparound (invariant 4) and bcachefs's rule that a bucket is
/// not reused while its generation would run more than 96 past its oldest live pointer.
@Suite("Bucket generations wrap safely")
struct GenerationWraparoundTests {
    @Test("serial-number comparison across the 255 → 0 wrap", arguments: [0, 1, 127, 128, 200, 255] as [UInt8])
    func serialArithmetic(raw: UInt8) {
        let gen = BucketGeneration(rawValue: raw)
        #expect(gen.next.rawValue == raw &+ 1)
        #expect(gen.next.isAfter(gen))
        #expect(!gen.isAfter(gen.next))
        #expect(!gen.isAfter(gen))
        #expect(gen.next.distance(from: gen) == 1)
        #expect(gen.distance(from: gen.next) == -1)
        var ahead = gen
        for _ in 0..<BucketGeneration.maxDistanceToOldest { ahead = ahead.next }
        #expect(ahead.distance(from: gen) == 96)
        #expect(ahead.isAfter(gen))
    }

    /// One full-bucket write and delete per cycle: each cycle resets one bucket.
    struct Cycler {
        let device: EmulatedDevice
        let recorder: AllocatorFixtures.RecordingDevice
        let allocator: BucketAllocator
        var tag: UInt64 = 0

        init() throws {
            // 8 zones of 16 KiB capacity (4 blocks), 7 buckets, no zone limits.
            device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 8, capacity: 16 << 10))
            recorder = AllocatorFixtures.RecordingDevice(device)
            allocator = try BucketAllocator(
                device: recorder,
                configuration: AllocatorConfiguration(allocationWaitLimit: 0.01)
            )
        }

        /// Writes a full bucket and deletes it (so the bucket is reset); returns the dead pointer.
        mutating func cycle() throws -> DataPointer {
            tag += 1
            let pointers = try allocator.write(
                AllocatorFixtures.payload(tag: tag, blocks: 4),
                hint: .stream(0),
                split: false
            )
            let pointer = try #require(pointers.first)
            #expect(pointers.count == 1)
            allocator.markDead(pointer)
            return pointer
        }
    }

    @Test("a bucket reset more than 256 times never reports a held pointer live")
    func heldPointerNeverLiveAcrossWraparound() throws {
        var cycler = try Cycler()
        let allocator = cycler.allocator
        // The owner holds a cached pointer; its bucket is invalidated (the pointer goes stale).
        let held = try #require(
            allocator.write(AllocatorFixtures.payload(tag: 0, blocks: 4), hint: .stream(1), cached: true).first
        )
        #expect(try allocator.invalidate(held.bucket))
        #expect(allocator.isStale(held))

        var lastGeneration: [BucketIndex: BucketGeneration] = [:]
        var cycles = 0
        // Until every bucket has been reset more than 256 times (the bucket of the held pointer
        // included, once the owner drops it).
        var dropped = false
        while (1..<8).contains(where: { cycler.recorder.resets(of: $0) <= 300 }) {
            cycles += 1
            let dead = try cycler.cycle()
            allocator.checkInvariants()
            // The dead pointer's bucket was reset: it is stale, and the generation went up by one.
            #expect(allocator.isStale(dead), "cycle \(cycles): \(dead) still live after its bucket's reset")
            #expect(allocator.generation(of: dead.bucket) == dead.generation.next)
            if let previous = lastGeneration[dead.bucket] { #expect(dead.generation == previous) }
            lastGeneration[dead.bucket] = allocator.generation(of: dead.bucket)
            // While held, the pointer is never live, however many times any bucket went round.
            // (Once dropped it is nobody's pointer: its generation may come round again.)
            if !dropped { #expect(allocator.isStale(held), "cycle \(cycles): held pointer \(held) reported live") }
            if !dropped, allocator.state(of: held.bucket) == .needsGCGens {
                // Its bucket ran 96 generations ahead and is blocked. The owner reports the pointer
                // it still holds: still blocked. Then it drops the stale pointer (gc_gens): free.
                #expect(allocator.generation(of: held.bucket).distance(from: held.generation) == 96)
                allocator.updateOldestGenerations([held])
                #expect(allocator.state(of: held.bucket) == .needsGCGens)
                allocator.updateOldestGenerations([])
                #expect(allocator.state(of: held.bucket) == .free)
                dropped = true
            }
            if cycles > 5000 { break }
        }
        #expect(dropped, "the held pointer's bucket never reached the 96-generation limit")
        for zone in 1..<8 {
            #expect(
                cycler.recorder.resets(of: zone) > 256,
                "zone \(zone) was reset only \(cycler.recorder.resets(of: zone)) times"
            )
        }
        #expect(try allocator.deviceMismatches() == [])
    }

    @Test("a bucket 96 generations past a held cached pointer is needsGCGens and not allocated until gc_gens")
    func needsGCGensBlocksReuse() throws {
        var cycler = try Cycler()
        let allocator = cycler.allocator
        let held = try #require(
            allocator.write(AllocatorFixtures.payload(tag: 0, blocks: 4), hint: .stream(1), cached: true).first
        )
        let bucket = held.bucket
        #expect(try allocator.invalidate(bucket))
        // Cycle until the bucket is blocked; it is never reused past 96 generations.
        var cycles = 0
        while allocator.state(of: bucket) != .needsGCGens, cycles < 2000 {
            cycles += 1
            _ = try cycler.cycle()
            #expect(allocator.generation(of: bucket).distance(from: held.generation) <= 96)
        }
        #expect(allocator.state(of: bucket) == .needsGCGens)
        #expect(
            allocator.generation(of: bucket).distance(from: held.generation) == BucketGeneration.maxDistanceToOldest
        )
        let statistics = allocator.statistics()
        #expect(statistics.bucketsByState[.needsGCGens] == 1)

        // Not allocated while blocked, even when the owner reports the pointer again.
        let resetsBefore = cycler.recorder.resets(of: bucket.zone)
        for round in 0..<30 {
            if round == 10 { allocator.updateOldestGenerations([held]) }
            let dead = try cycler.cycle()
            #expect(dead.bucket != bucket, "a blocked bucket was allocated")
        }
        #expect(cycler.recorder.resets(of: bucket.zone) == resetsBefore)
        #expect(allocator.state(of: bucket) == .needsGCGens)

        // The owner dropped the stale pointer: the bucket is free and is used again.
        allocator.updateOldestGenerations([])
        #expect(allocator.state(of: bucket) == .free)
        var reused = false
        for _ in 0..<30 where !reused {
            reused = try cycler.cycle().bucket == bucket
        }
        #expect(reused, "the bucket was not allocated again after updateOldestGenerations")
        #expect(allocator.isStale(held))
        allocator.checkInvariants()
    }

    @Test("without gc_gens a held cached pointer keeps its bucket blocked while the others wrap")
    func blockedWithoutGCGens() throws {
        var cycler = try Cycler()
        let allocator = cycler.allocator
        let held = try #require(
            allocator.write(AllocatorFixtures.payload(tag: 0, blocks: 4), hint: .stream(1), cached: true).first
        )
        #expect(try allocator.invalidate(held.bucket))
        for _ in 0..<2200 {
            _ = try cycler.cycle()
            #expect(allocator.isStale(held))
        }
        #expect(allocator.state(of: held.bucket) == .needsGCGens)
        #expect(cycler.recorder.resets(of: held.bucket.zone) == 96)
        for zone in 1..<8 where zone != held.bucket.zone {
            #expect(cycler.recorder.resets(of: zone) > 256)
        }
    }
}
