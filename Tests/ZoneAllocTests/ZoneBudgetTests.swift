import Foundation
import Synchronization
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZonedStorage

/// The open/active zone budget (invariant 5): open buckets never exceed the device's limits minus
/// the slots reserved for metadata and copygc, whatever the number of write hints.
@Suite("Zone budget")
struct ZoneBudgetTests {
    /// What one writer thread keeps live: its most recent extents.
    struct Live: Sendable {
        var pointers: [DataPointer]
        var bytes: [UInt8]
    }

    @Test("40 concurrent write hints never open more zones than the budget", arguments: [8, 0])
    func fortyHintsStayWithinBudget(maxOpen: Int) throws {
        let maxActive = 12
        let device = try AllocatorFixtures.device(
            AllocatorFixtures.geometry(zones: 256, maxOpen: maxOpen, maxActive: maxActive)
        )
        let recorder = AllocatorFixtures.RecordingDevice(device)
        let allocator = try BucketAllocator(
            device: recorder,
            configuration: AllocatorConfiguration(allocationWaitLimit: 0.05),
            copygcTrigger: AllocatorFixtures.NoopCopygc()
        )
        let budget = allocator.statistics().zoneBudget
        #expect(budget == (maxOpen == 0 ? maxActive : min(maxOpen, maxActive)))
        #expect(allocator.statistics().userZoneBudget == budget - 2)

        let done = Atomic<Bool>(false)
        let peaks = Mutex((open: 0, active: 0, slots: 0, samples: 0))
        let violations = Mutex<[String]>([])
        let poller = Thread {
            while !done.load(ordering: .acquiring) {
                let usage = device.resourceUsage()
                let statistics = allocator.statistics()
                peaks.withLock {
                    $0.open = max($0.open, usage.open)
                    $0.active = max($0.active, usage.active)
                    $0.slots = max($0.slots, statistics.openBuckets)
                    $0.samples += 1
                }
                if usage.active > maxActive || (maxOpen > 0 && usage.open > maxOpen) || statistics.openBuckets > budget
                    || usage.active > budget
                {
                    violations.withLock {
                        $0.append("open \(usage.open), active \(usage.active), open buckets \(statistics.openBuckets)")
                    }
                }
                usleep(100)
            }
        }
        poller.start()

        let errors = Mutex<[String]>([])
        let retries = Atomic<Int>(0)
        let live = Mutex<[Int: [Live]]>([:])
        // 40 user streams, plus one copygc and one metadata writer so that every slot class is busy.
        AllocatorFixtures.onThreads(42) { thread in
            let (hint, watermark): (WriteHint, Watermark) =
                switch thread {
                case 40: (.copygc, .copygc)
                case 41: (.metadata, .metadata)
                default: (.stream(UInt64(thread)), .normal)
                }
            var rng = SplitMix64(seed: UInt64(thread) &* 7919)
            var mine: [Live] = []
            for index in 0..<60 {
                // Mostly small writes; some that span buckets, some that must not (finishing
                // the write point's bucket when it does not fit), some cached (invalidated when a
                // bucket is needed).
                let blocks =
                    Int.random(in: 0...9, using: &rng) < 8
                    ? Int.random(in: 1...6, using: &rng) : Int.random(in: 7...12, using: &rng)
                let split = Int.random(in: 0...3, using: &rng) > 0
                let cached = Int.random(in: 0...9, using: &rng) == 0
                let bytes = AllocatorFixtures.payload(tag: UInt64(thread) << 32 | UInt64(index), blocks: blocks)
                var attempts = 0
                while true {
                    do throws(AllocationError) {
                        let pointers = try allocator.write(
                            bytes,
                            hint: hint,
                            watermark: watermark,
                            cached: cached,
                            split: split
                        )
                        if cached {
                            // Cached data is the allocator's to drop: not kept in the model.
                            for pointer in pointers { allocator.markDead(pointer) }
                        } else {
                            mine.append(Live(pointers: pointers, bytes: bytes))
                        }
                        break
                    } catch  where error.code == .noSpace || error.code == .timedOut {
                        retries.add(1, ordering: .relaxed)
                        attempts += 1
                        if !mine.isEmpty { for pointer in mine.removeFirst().pointers { allocator.markDead(pointer) } }
                        if attempts > 50 {
                            errors.withLock { $0.append("thread \(thread): gave up after \(error)") }
                            break
                        }
                    } catch {
                        errors.withLock { $0.append("thread \(thread): \(error)") }
                        break
                    }
                }
                if mine.count > 3 {
                    for pointer in mine.removeFirst().pointers { allocator.markDead(pointer) }
                }
            }
            live.withLock { $0[thread] = mine }
        }
        done.store(true, ordering: .releasing)
        while !poller.isFinished { usleep(1000) }

        #expect(errors.withLock { $0 } == [])
        #expect(violations.withLock { $0 } == [])
        #expect(recorder.resourceRefusals.isEmpty, "ETOOMANYREFS / EOVERFLOW: \(recorder.resourceRefusals)")
        let peak = peaks.withLock { $0 }
        #expect(peak.slots <= budget)
        #expect(peak.samples > 10)
        print(
            "zone budget (max open \(maxOpen), max active \(maxActive)): budget \(budget), peak device open "
                + "\(peak.open), active \(peak.active), open buckets \(peak.slots), \(peak.samples) samples, "
                + "\(retries.load(ordering: .relaxed)) retries, \(allocator.statistics().finishes) finishes"
        )

        // Every live extent is intact and accounted.
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
        let extents = live.withLock { $0.values.flatMap { $0 } }
        let dirty = extents.reduce(0) { $0 + $1.bytes.count / 512 }
        #expect(allocator.statistics().dirtySectors == dirty)
        for extent in extents {
            var offset = 0
            for pointer in extent.pointers {
                #expect(!allocator.isStale(pointer))
                let at = device.info.zoneStart(pointer.bucket.zone) + UInt64(pointer.offset) * 512
                let bytes = try device.read(count: pointer.byteCount, at: at)
                #expect(bytes[...] == extent.bytes[offset..<(offset + pointer.byteCount)], "data at \(pointer) differs")
                offset += pointer.byteCount
            }
        }
    }

    @Test(
        "unknown or unlimited zone limits get the configured default cap",
        arguments: [
            (ZoneResourceLimit.unknown, ZoneResourceLimit.unknown, 5),
            (.unlimited, .unlimited, 5),
            (.unknown, .unlimited, 5),
            (.limit(4), .unknown, 4),
            (.unlimited, .limit(7), 7),
            (.limit(30), .limit(40), 15),
        ]
    )
    func defaultZoneLimit(open: ZoneResourceLimit, active: ZoneResourceLimit, expected: Int) throws {
        // 15 sequential zones, no limits on the emulated device itself: the wrapper reports them.
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 16))
        let recorder = AllocatorFixtures.RecordingDevice(device, maxOpenZones: open, maxActiveZones: active)
        let allocator = try BucketAllocator(
            device: recorder,
            configuration: AllocatorConfiguration(defaultZoneLimit: 5, allocationWaitLimit: 0.01)
        )
        let statistics = allocator.statistics()
        #expect(statistics.zoneBudget == expected)
        #expect(statistics.userZoneBudget == expected - 2)

        // 20 hints round-robin never have more zones active than the budget.
        var peak = 0
        for index in 0..<200 {
            _ = try allocator.write(
                AllocatorFixtures.payload(tag: UInt64(index), blocks: 1 + index % 3),
                hint: .stream(UInt64(index % 20))
            )
            peak = max(peak, device.resourceUsage().active)
            #expect(allocator.statistics().openBuckets <= expected)
            if allocator.statistics().dirtySectors > 600 { break }
        }
        #expect(peak <= expected)
        allocator.checkInvariants()
    }

    @Test("a device with no zone slot left for user data is refused")
    func tooFewSlots() throws {
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 16, maxOpen: 2, maxActive: 2))
        let error = try #require(throws: AllocationError.self) {
            _ = try BucketAllocator(device: device)
        }
        #expect(error.code == .unsupportedDevice)
        // With fewer reserved slots it fits: all of the budget but one slot for metadata.
        let allocator = try BucketAllocator(device: device, configuration: AllocatorConfiguration(copygcZoneSlots: 0))
        #expect(allocator.statistics().userZoneBudget == 1)
        // Copygc then shares the user slot: its writes still stay within the device's limits.
        _ = try allocator.write(AllocatorFixtures.payload(tag: 1, blocks: 2), hint: .stream(0))
        _ = try allocator.write(AllocatorFixtures.payload(tag: 2, blocks: 2), hint: .copygc, watermark: .copygc)
        _ = try allocator.write(AllocatorFixtures.payload(tag: 3, blocks: 2), hint: .metadata, watermark: .metadata)
        #expect(device.resourceUsage().active <= 2)
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
    }
}
