import Foundation
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneGC
import ZonedStorage

/// Triggers, hysteresis, backoff, and the full device.
@Suite("Copygc triggers and pacing")
struct PacingTests {
    @Test("a device whose buckets are all full of live data: nothing to do, and the writer gets no space at once")
    func fullDevice() throws {
        let harness = try GCHarness()
        var key: UInt64 = 0
        var refusal: AllocationError?
        while refusal == nil {
            do { try harness.write(key) } catch { refusal = error }
            key += 1
        }
        #expect(refusal?.code == .noSpace)
        // Every bucket holds live data or is held back for copygc; there is nothing to free.
        let report = try harness.copygc.collect()
        #expect(report.foundNothing, "\(report.outcome)")
        if case .nothingToFree(let reason) = report.outcome { #expect(reason.contains("dead")) }
        #expect(harness.copygc.statistics().passesWithNothingToDo == 1)
        // Free a few blocks (less than a bucket): still nothing to free; writes fail at once.
        for key in 0..<3 { harness.delete(UInt64(key)) }
        let started = ContinuousClock.now
        var refused = 0
        for extra in 0..<8 {
            do { try harness.write(10_000 + UInt64(extra)) } catch {
                #expect(error.code == .noSpace, "\(error)")
                refused += 1
            }
        }
        #expect(refused > 0)
        #expect(AllocatorFixtures.seconds(since: started) < 0.5, "no-space errors must be prompt")
        #expect(try harness.copygc.collect().foundNothing)
        #expect(harness.problems().isEmpty)
    }

    @Test("after a pass that found nothing, background passes and kicks back off until more is written")
    func backoff() throws {
        let harness = try GCHarness(
            copygc: CopygcConfiguration(
                startBelowFreeBuckets: 20,
                stopAtFreeBuckets: 30,
                backoffSectors: 64,
                checkIntervalSectors: 8
            )
        )
        for key in 0..<12 { try harness.write(UInt64(key)) }
        // Below the start threshold (20 of 15 buckets can never be free) but nothing is dead.
        let first = try harness.copygc.collectIfNeeded(force: true)
        #expect(first.count == 1)
        #expect(first.first?.foundNothing == true)
        let passes = harness.copygc.statistics().passes
        for _ in 0..<5 { try harness.copygc.collectIfNeeded(force: true) }
        harness.copygc.kickCopygc(reason: "test")
        #expect(harness.copygc.statistics().passes == passes, "copygc spun instead of backing off")
        #expect(harness.copygc.statistics().backoffs >= 6)
        // 64 sectors of activity later it tries again.
        for key in 0..<8 { try harness.write(UInt64(key)) }
        try harness.copygc.collectIfNeeded(force: true)
        #expect(harness.copygc.statistics().passes > passes)
        // A caller-requested pass always runs.
        let before = harness.copygc.statistics().passes
        try harness.copygc.collect()
        #expect(harness.copygc.statistics().passes == before + 1)
    }

    @Test("background copygc starts below the start threshold and runs until the stop threshold")
    func hysteresis() throws {
        let harness = try GCHarness(
            copygc: CopygcConfiguration(startBelowFreeBuckets: 3, stopAtFreeBuckets: 5, checkIntervalSectors: 8)
        )
        // Fill, then overwrite at random so buckets fragment.
        var random = SeededRandom(seed: 7)
        for key in 0..<80 { try harness.write(UInt64(key)) }
        var lowest = Int.max
        for _ in 0..<2000 {
            try harness.write(UInt64(random.int(in: 0..<80)))
            try harness.copygc.collectIfNeeded()
            lowest = min(lowest, harness.allocator.availableBuckets(for: .normal))
        }
        let stats = harness.copygc.statistics()
        #expect(stats.passes > 0)
        #expect(stats.kicks == 0, "background copygc kept ahead: no allocation had to wait")
        #expect(lowest >= 1)
        #expect(harness.problems().isEmpty)
        // A run of passes ends at the stop threshold.
        let reports = try harness.copygc.collectIfNeeded(force: true)
        if let last = reports.last, last.outcome == .evacuated {
            #expect(last.freeBucketsAfter >= 5 || reports.count > 1 || last.bucketsFreed == 0)
        }
    }

    @Test("an allocation waiting for a bucket kicks copygc, which runs a pass on that thread (no worker)")
    func foregroundKickInline() throws {
        // Start threshold 1: background copygc only when nothing is free; the kick does the work.
        let harness = try GCHarness(
            copygc: CopygcConfiguration(startBelowFreeBuckets: 1, stopAtFreeBuckets: 2, checkIntervalSectors: 1 << 30)
        )
        var random = SeededRandom(seed: 3)
        for key in 0..<80 { try harness.write(UInt64(key)) }
        for _ in 0..<1500 { try harness.write(UInt64(random.int(in: 0..<80))) }
        let stats = harness.copygc.statistics()
        #expect(stats.kicks > 0)
        #expect(stats.passes > 0)
        #expect(harness.problems().isEmpty)
    }

    @Test("the background worker collects when kicked and stops cleanly")
    func worker() throws {
        let harness = try GCHarness(
            copygc: CopygcConfiguration(
                startBelowFreeBuckets: 2,
                stopAtFreeBuckets: 4,
                checkIntervalSectors: 8,
                pollInterval: 0.05
            )
        )
        #expect(harness.copygc.start())
        #expect(!harness.copygc.start(), "a second start is refused")
        #expect(harness.copygc.isRunning)
        var random = SeededRandom(seed: 5)
        for key in 0..<80 { try harness.write(UInt64(key)) }
        for _ in 0..<1500 { try harness.write(UInt64(random.int(in: 0..<80))) }
        harness.copygc.stop()
        #expect(!harness.copygc.isRunning)
        #expect(harness.copygc.statistics().passes > 0)
        #expect(harness.copygc.lastError == nil, "\(String(describing: harness.copygc.lastError))")
        #expect(harness.problems().isEmpty)
    }

    @Test("invalid thresholds are refused with a reason", arguments: [(0, 4), (4, 4), (5, 3)])
    func invalidThresholds(start: Int, stop: Int) throws {
        let device = try EmulatedDevice(geometry: GCHarness.geometry(), storage: .memory)
        defer { try? device.close() }
        let allocator = try BucketAllocator(device: device)
        let error = #expect(throws: GCError.self) {
            try Copygc(
                allocator: allocator,
                configuration: CopygcConfiguration(startBelowFreeBuckets: start, stopAtFreeBuckets: stop)
            )
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains("hysteresis") == true)
    }

    @Test("each pass counts the zone resets and finishes it caused, from the allocator's O(1) totals")
    func zoneOperationCounts() throws {
        let harness = try GCHarness(
            copygc: CopygcConfiguration(startBelowFreeBuckets: 3, stopAtFreeBuckets: 5, checkIntervalSectors: 8)
        )
        var random = SeededRandom(seed: 11)
        for key in 0..<80 { try harness.write(UInt64(key)) }
        let start = harness.allocator.zoneOperationCounts()
        for _ in 0..<1000 {
            try harness.write(UInt64(random.int(in: 0..<80)))
            try harness.copygc.collectIfNeeded()
        }
        let stats = harness.copygc.statistics()
        let end = harness.allocator.zoneOperationCounts()
        #expect(stats.bucketsFreed > 0)
        #expect(stats.zonesReset >= stats.bucketsFreed, "every freed bucket was reset during a pass")
        #expect(stats.zonesReset <= end.resets - start.resets)
        #expect(stats.zonesFinished <= end.finishes - start.finishes)
        let snapshot = harness.allocator.statistics()
        #expect(snapshot.resets == end.resets, "the O(1) totals are the snapshot's")
        #expect(snapshot.finishes == end.finishes)
        #expect(harness.problems().isEmpty)
    }

    @Test("a copygc block other than the device's: a power-of-two multiple of it that divides the bucket")
    func copygcBlock() throws {
        // Buckets of 48 KiB (96 sectors) on 4 KiB blocks (8 sectors).
        for sectors in [0, 4, 12, 64] {
            let device = try EmulatedDevice(geometry: GCHarness.geometry(), storage: .memory)
            defer { try? device.close() }
            let allocator = try BucketAllocator(device: device)
            let error = #expect(throws: GCError.self) {
                try Copygc(allocator: allocator, configuration: CopygcConfiguration(blockSectors: sectors))
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.message.contains("copygc block of \(sectors) sectors") == true)
        }
        // 16 KiB blocks: one backpointer per 16 KiB extent, and evacuation moves them whole.
        let harness = try GCHarness(
            copygc: CopygcConfiguration(startBelowFreeBuckets: 1, stopAtFreeBuckets: 2, blockSectors: 32)
        )
        let first = try harness.write(0, blocks: 4)
        #expect(harness.copygc.backpointers(in: first.bucket).map(\.pointer) == [first])
        // Three buckets of three extents; one extent of each dies: a bucket's worth of dead space.
        for key in 1..<9 { try harness.write(UInt64(key), blocks: 4) }
        for key in [0, 3, 6] as [UInt64] { harness.delete(key) }
        let report = try harness.copygc.collect()
        #expect(report.outcome == .evacuated)
        #expect(report.victims.count == 3, "victims: \(report.victims)")
        #expect(report.sectorsMoved == 6 * 32)
        for key in [1, 2, 4, 5, 7, 8] as [UInt64] {
            let pointer = try #require(harness.owner.snapshot[key]).pointer
            #expect(!report.victims.contains(pointer.bucket), "key \(key) still in a victim")
            #expect(pointer.sectors == 32 && pointer.offset % 32 == 0, "key \(key) moved whole: \(pointer)")
            #expect(harness.copygc.backpointers(in: pointer.bucket).map(\.pointer).contains(pointer))
        }
        #expect(harness.problems().isEmpty)
    }

    @Test("lifetime placement needs the allocator to hold back a bucket per copygc class")
    func lifetimeNeedsCopygcSlots() throws {
        let device = try EmulatedDevice(
            geometry: GCHarness.geometry(zones: 24, maxOpen: 10, maxActive: 12),
            storage: .memory
        )
        defer { try? device.close() }
        let allocator = try BucketAllocator(device: device)
        let error = #expect(throws: GCError.self) {
            try Copygc(allocator: allocator, configuration: CopygcConfiguration(policy: .lifetime))
        }
        #expect(error?.message.contains("copygcZoneSlots") == true)
    }
}
