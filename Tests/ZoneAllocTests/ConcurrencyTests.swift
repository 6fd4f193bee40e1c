import Foundation
import Synchronization
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZonedStorage

/// Several threads on different write points: totals and invariants hold, data stays intact.
@Suite("Concurrent writers")
struct ConcurrencyTests {
    struct Extent: Sendable {
        var pointers: [DataPointer]
        var bytes: [UInt8]
        var cached: Bool
    }

    @Test("threads on different write points keep totals, invariants and data", arguments: [1, 2, 3] as [UInt64])
    func threadsOnDifferentWritePoints(seed: UInt64) throws {
        // 63 buckets of 96 sectors, max active 12 (budget 12, 10 user write points for 8 threads).
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 64, maxOpen: 12, maxActive: 12))
        let recorder = AllocatorFixtures.RecordingDevice(device)
        let allocator = try BucketAllocator(
            device: recorder,
            configuration: AllocatorConfiguration(allocationWaitLimit: 0.02),
            copygcTrigger: AllocatorFixtures.NoopCopygc()
        )
        let threads = 8
        let done = Atomic<Bool>(false)
        let checks = Atomic<Int>(0)
        // A checker thread runs the invariant check (under the allocator's lock) all along.
        let checker = Thread {
            while !done.load(ordering: .acquiring) {
                allocator.checkInvariants()
                let statistics = allocator.statistics()
                precondition(statistics.openBuckets <= statistics.zoneBudget, "seed \(seed): open buckets over budget")
                checks.add(1, ordering: .relaxed)
                usleep(200)
            }
        }
        checker.start()

        let failures = Mutex<[String]>([])
        let results = Mutex<[Int: [Extent]]>([:])
        AllocatorFixtures.onThreads(threads) { thread in
            var rng = SplitMix64(seed: seed << 16 | UInt64(thread))
            var mine: [Extent] = []
            let hint = WriteHint.stream(UInt64(thread))
            func fail(_ message: String) {
                failures.withLock { $0.append("seed \(seed), thread \(thread): \(message)") }
            }
            func deleteOne() {
                guard !mine.isEmpty else { return }
                let extent = mine.remove(at: Int.random(in: 0..<mine.count, using: &rng))
                for pointer in extent.pointers { allocator.markDead(pointer) }
            }
            for index in 0..<150 {
                let blocks = Int.random(in: 1...16, using: &rng)
                let cached = Int.random(in: 0...4, using: &rng) == 0
                let bytes = AllocatorFixtures.payload(
                    tag: seed << 48 | UInt64(thread) << 32 | UInt64(index),
                    blocks: blocks
                )
                do throws(AllocationError) {
                    let pointers: [DataPointer]
                    if thread == 0 {
                        // One thread uses reserve / write / commit itself on its own write point.
                        let reservation = try allocator.reserve(sectors: blocks * 8, for: hint, cached: cached)
                        var offset = 0
                        for piece in reservation.pieces {
                            do {
                                try recorder.write(
                                    Array(bytes[offset..<(offset + piece.pointer.byteCount)]),
                                    at: piece.deviceOffset
                                )
                            } catch {
                                fail("writing reserved \(piece.pointer): \(error)")
                                return
                            }
                            offset += piece.pointer.byteCount
                        }
                        allocator.commit(reservation)
                        pointers = reservation.pointers
                    } else {
                        pointers = try allocator.write(
                            bytes,
                            hint: hint,
                            cached: cached,
                            split: blocks > 12 || index % 3 > 0
                        )
                    }
                    mine.append(Extent(pointers: pointers, bytes: bytes, cached: cached))
                } catch  where error.code == .noSpace || error.code == .timedOut {
                    deleteOne()
                } catch {
                    fail("\(error)")
                    return
                }
                if mine.count > 6 || Int.random(in: 0...3, using: &rng) == 0 { deleteOne() }
            }
            results.withLock { $0[thread] = mine }
        }
        done.store(true, ordering: .releasing)
        while !checker.isFinished { usleep(1000) }

        #expect(failures.withLock { $0 } == [])
        #expect(recorder.resourceRefusals.isEmpty)
        #expect(checks.load(ordering: .relaxed) > 0)
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])

        // Totals: dirty = every live dirty extent; cached = cached extents not invalidated since.
        let extents = results.withLock { $0.values.flatMap { $0 } }
        var dirty = 0
        var cached = 0
        for extent in extents {
            var offset = 0
            for pointer in extent.pointers {
                defer { offset += pointer.byteCount }
                if allocator.isStale(pointer) {
                    #expect(extent.cached, "seed \(seed): dirty pointer \(pointer) is stale")
                    continue
                }
                if extent.cached { cached += Int(pointer.sectors) } else { dirty += Int(pointer.sectors) }
                let at = device.info.zoneStart(pointer.bucket.zone) + UInt64(pointer.offset) * 512
                let bytes = try device.read(count: pointer.byteCount, at: at)
                #expect(
                    bytes[...] == extent.bytes[offset..<(offset + pointer.byteCount)],
                    "seed \(seed): data at \(pointer) differs"
                )
            }
        }
        let statistics = allocator.statistics()
        #expect(statistics.dirtySectors == dirty, "seed \(seed)")
        #expect(statistics.cachedSectors == cached, "seed \(seed)")
    }

    @Test(
        "threads sharing write points on a tight device, with invalidations, stay within limits",
        arguments: [7, 8] as [UInt64]
    )
    func sharedWritePointsOnTightDevice(seed: UInt64) throws {
        // 15 buckets, max open 4 / active 6: budget 4, 2 user write points for 6 user threads.
        let device = try AllocatorFixtures.device(AllocatorFixtures.tightGeometry)
        let recorder = AllocatorFixtures.RecordingDevice(device)
        let allocator = try BucketAllocator(
            device: recorder,
            configuration: AllocatorConfiguration(allocationWaitLimit: 0.01),
            copygcTrigger: AllocatorFixtures.NoopCopygc()
        )
        let done = Atomic<Bool>(false)
        let violations = Mutex<[String]>([])
        let checker = Thread {
            while !done.load(ordering: .acquiring) {
                allocator.checkInvariants()
                let usage = device.resourceUsage()
                let statistics = allocator.statistics()
                if usage.open > 4 || usage.active > 6 || statistics.openBuckets > statistics.zoneBudget {
                    violations.withLock {
                        $0.append("open \(usage.open), active \(usage.active), slots \(statistics.openBuckets)")
                    }
                }
                usleep(100)
            }
        }
        checker.start()

        let failures = Mutex<[String]>([])
        let results = Mutex<[Int: [Extent]]>([:])
        AllocatorFixtures.onThreads(9) { thread in
            var rng = SplitMix64(seed: seed << 16 | UInt64(thread))
            var mine: [Extent] = []
            func fail(_ message: String) {
                failures.withLock { $0.append("seed \(seed), thread \(thread): \(message)") }
            }
            for index in 0..<200 {
                if thread == 8 {
                    // Invalidates whatever cached-only bucket it finds.
                    for zone in 1..<16 where allocator.state(of: BucketIndex(zone)) == .cached {
                        do { _ = try allocator.invalidate(BucketIndex(zone)) } catch { fail("invalidate: \(error)") }
                        break
                    }
                    usleep(50)
                    continue
                }
                let (hint, watermark): (WriteHint, Watermark) =
                    switch thread {
                    case 6: (.copygc, .copygc)
                    case 7: (.metadata, .metadata)
                    default: (.stream(UInt64(thread)), .normal)
                    }
                let blocks = Int.random(in: 1...(thread >= 6 ? 4 : 14), using: &rng)
                let cached = thread < 6 && Int.random(in: 0...3, using: &rng) == 0
                let bytes = AllocatorFixtures.payload(
                    tag: seed << 48 | UInt64(thread) << 32 | UInt64(index),
                    blocks: blocks
                )
                do throws(AllocationError) {
                    let pointers = try allocator.write(
                        bytes,
                        hint: hint,
                        watermark: watermark,
                        cached: cached,
                        split: blocks > 12 || index % 2 == 0
                    )
                    mine.append(Extent(pointers: pointers, bytes: bytes, cached: cached))
                } catch  where error.code == .noSpace || error.code == .timedOut {
                    if !mine.isEmpty { for pointer in mine.removeFirst().pointers { allocator.markDead(pointer) } }
                } catch {
                    fail("\(error)")
                    return
                }
                while mine.count > 2 { for pointer in mine.removeFirst().pointers { allocator.markDead(pointer) } }
            }
            results.withLock { $0[thread] = mine }
        }
        done.store(true, ordering: .releasing)
        while !checker.isFinished { usleep(1000) }

        #expect(failures.withLock { $0 } == [])
        #expect(violations.withLock { $0 } == [], "seed \(seed)")
        #expect(recorder.resourceRefusals.isEmpty, "seed \(seed): \(recorder.resourceRefusals)")
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [], "seed \(seed)")
        var dirty = 0
        var cached = 0
        for extent in results.withLock({ $0.values.flatMap { $0 } }) {
            var offset = 0
            for pointer in extent.pointers {
                defer { offset += pointer.byteCount }
                if allocator.isStale(pointer) {
                    #expect(extent.cached, "seed \(seed): dirty pointer \(pointer) is stale")
                    continue
                }
                if extent.cached { cached += Int(pointer.sectors) } else { dirty += Int(pointer.sectors) }
                let at = device.info.zoneStart(pointer.bucket.zone) + UInt64(pointer.offset) * 512
                let bytes = try device.read(count: pointer.byteCount, at: at)
                #expect(
                    bytes[...] == extent.bytes[offset..<(offset + pointer.byteCount)],
                    "seed \(seed): data at \(pointer) differs"
                )
            }
        }
        let statistics = allocator.statistics()
        #expect(statistics.dirtySectors == dirty, "seed \(seed)")
        #expect(statistics.cachedSectors == cached, "seed \(seed)")
        print(
            "tight concurrent seed \(seed): resets \(statistics.resets), finishes \(statistics.finishes), "
                + "invalidations \(statistics.invalidations), peak checks clean"
        )
    }
}
