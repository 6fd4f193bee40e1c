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

    /// What ``runFortyHints(on:recorder:budget:)`` saw.
    struct Outcome: Sendable {
        var errors: [String] = []
        /// Checks made by the writer threads after each of their writes (zone usage and open
        /// buckets against the budget) that failed.
        var violations: [String] = []
        var samples = 0
        var peakOpen = 0
        var peakActive = 0
        var peakSlots = 0
        var retries = 0
        var live: [Live] = []
    }

    /// 40 user write hints, each written from its own thread (half through a `WritePoint`
    /// resolved once, half passing the hint on every call), plus a copygc and a metadata writer
    /// so every slot class is busy, on `device` through `allocator`. After every write, the
    /// writer compares the device's open / active zones and the allocator's open buckets with
    /// `budget`; a checker thread runs the allocator's invariant check (which verifies the zone
    /// slots in use against the budget) the whole time.
    static func runFortyHints(
        on device: EmulatedDevice,
        allocator: BucketAllocator,
        budget: (open: Int, active: Int)
    ) -> Outcome {
        let outcome = Mutex(Outcome())
        let done = Atomic<Bool>(false)
        let checker = Thread {
            while !done.load(ordering: .acquiring) {
                allocator.checkInvariants()
                usleep(200)
            }
        }
        checker.start()

        let retries = Atomic<Int>(0)
        AllocatorFixtures.onThreads(42) { thread in
            let (hint, watermark): (WriteHint, Watermark) =
                switch thread {
                case 40: (.copygc, .copygc)
                case 41: (.metadata, .metadata)
                default: (.stream(UInt64(thread)), .normal)
                }
            let writePoint = thread % 2 == 0 ? allocator.writePoint(for: hint) : nil
            var rng = SplitMix64(seed: UInt64(thread) &* 7919)
            var mine: [Live] = []
            var violations: [String] = []
            var samples = 0
            var peak = (open: 0, active: 0, slots: 0)
            func sample(_ what: String) {
                let usage = device.resourceUsage()
                let slots = allocator.statistics().openBuckets
                samples += 1
                peak = (max(peak.open, usage.open), max(peak.active, usage.active), max(peak.slots, slots))
                if usage.open > budget.open || usage.active > budget.active || slots > budget.active {
                    violations.append(
                        "thread \(thread) after \(what): \(usage.open) open, \(usage.active) active zones, \(slots) "
                            + "open buckets"
                    )
                }
            }
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
                        let pointers =
                            if let writePoint {
                                try allocator.write(
                                    bytes,
                                    through: writePoint,
                                    watermark: watermark,
                                    cached: cached,
                                    split: split
                                )
                            } else {
                                try allocator.write(
                                    bytes,
                                    hint: hint,
                                    watermark: watermark,
                                    cached: cached,
                                    split: split
                                )
                            }
                        sample("write \(index)")
                        if cached {
                            // Cached data is the allocator's to drop: not kept in the model.
                            for pointer in pointers { allocator.markDead(pointer) }
                        } else {
                            mine.append(Live(pointers: pointers, bytes: bytes))
                        }
                        break
                    } catch  where error.code == .noSpace || error.code == .timedOut {
                        sample("refused write \(index)")
                        retries.add(1, ordering: .relaxed)
                        attempts += 1
                        if !mine.isEmpty { for pointer in mine.removeFirst().pointers { allocator.markDead(pointer) } }
                        if attempts > 50 {
                            outcome.withLock { $0.errors.append("thread \(thread): gave up after \(error)") }
                            break
                        }
                    } catch {
                        outcome.withLock { $0.errors.append("thread \(thread): \(error)") }
                        break
                    }
                }
                if mine.count > 3 {
                    for pointer in mine.removeFirst().pointers { allocator.markDead(pointer) }
                }
            }
            outcome.withLock {
                $0.live += mine
                $0.violations += violations
                $0.samples += samples
                $0.peakOpen = max($0.peakOpen, peak.open)
                $0.peakActive = max($0.peakActive, peak.active)
                $0.peakSlots = max($0.peakSlots, peak.slots)
            }
        }
        done.store(true, ordering: .releasing)
        while !checker.isFinished { usleep(1000) }
        return outcome.withLock {
            $0.retries = retries.load(ordering: .relaxed)
            return $0
        }
    }

    @Test("40 concurrent write hints never open more zones than the budget", arguments: [8, 0])
    func fortyHintsStayWithinBudget(maxOpen: Int) throws {
        // The acceptance: an emulated device with max active 12 (and max open 8 or none).
        let maxActive = 12
        let device = try AllocatorFixtures.device(
            AllocatorFixtures.geometry(zones: 256, maxOpen: maxOpen, maxActive: maxActive)
        )
        let budget = maxOpen == 0 ? maxActive : min(maxOpen, maxActive)
        // Checks the device's open and active zones right after every write and zone operation.
        let recorder = AllocatorFixtures.RecordingDevice(device, budget: (open: budget, active: budget))
        let allocator = try BucketAllocator(
            device: recorder,
            configuration: AllocatorConfiguration(allocationWaitLimit: 0.05),
            copygcTrigger: AllocatorFixtures.NoopCopygc()
        )
        #expect(allocator.statistics().zoneBudget == budget)
        #expect(allocator.statistics().userZoneBudget == budget - 2)

        let outcome = Self.runFortyHints(on: device, allocator: allocator, budget: (open: budget, active: budget))

        #expect(outcome.errors == [])
        #expect(outcome.violations == [])
        #expect(recorder.budgetViolations == [])
        #expect(recorder.resourceRefusals.isEmpty, "ETOOMANYREFS / EOVERFLOW: \(recorder.resourceRefusals)")
        // The run really was concurrent and really filled the budget: every write was checked.
        #expect(outcome.samples >= 42 * 60)
        #expect(recorder.budgetChecks > outcome.samples)
        #expect(
            outcome.peakSlots == budget || recorder.peakUsage.active >= budget - 1,
            "the workload never came near the budget"
        )
        #expect(outcome.peakSlots <= budget)
        print(
            "zone budget (max open \(maxOpen), max active \(maxActive)): budget \(budget), peak device open "
                + "\(recorder.peakUsage.open), active \(recorder.peakUsage.active), open buckets \(outcome.peakSlots), "
                + "\(recorder.budgetChecks) device checks, \(outcome.samples) writer checks, \(outcome.retries) retries, "
                + "\(allocator.statistics().finishes) finishes"
        )

        // Every live extent is intact and accounted.
        allocator.checkInvariants()
        #expect(try allocator.deviceMismatches() == [])
        let dirty = outcome.live.reduce(0) { $0 + $1.bytes.count / 512 }
        #expect(allocator.statistics().dirtySectors == dirty)
        for extent in outcome.live {
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

    @Test("the budget checks catch an allocator that opens more zones than the budget")
    func budgetChecksHaveTeeth() throws {
        // The device allows 24 active zones and the allocator is told so, but the checks hold it
        // to 12: the same workload must be caught going over.
        let device = try AllocatorFixtures.device(AllocatorFixtures.geometry(zones: 256, maxActive: 24))
        let recorder = AllocatorFixtures.RecordingDevice(device, budget: (open: 12, active: 12))
        let allocator = try BucketAllocator(
            device: recorder,
            configuration: AllocatorConfiguration(allocationWaitLimit: 0.05),
            copygcTrigger: AllocatorFixtures.NoopCopygc()
        )
        #expect(allocator.statistics().zoneBudget == 24)

        let outcome = Self.runFortyHints(on: device, allocator: allocator, budget: (open: 12, active: 12))

        #expect(outcome.errors == [])
        #expect(!recorder.budgetViolations.isEmpty)
        #expect(!outcome.violations.isEmpty)
        #expect(recorder.peakUsage.active > 12)
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
