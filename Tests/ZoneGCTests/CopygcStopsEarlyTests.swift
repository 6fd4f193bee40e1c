import Synchronization
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneGC
import ZonedStorage

@Suite("Copygc: a pass that loses its buckets to writers")
struct CopygcStopsEarlyTests {
    @Test("writers taking the free buckets in the middle of a group: the pass stops early, moved data stays moved")
    func groupLosesBucketsToWriters() throws {
        let wrapper = Mutex<AllocatorFixtures.RecordingDevice?>(nil)
        let harness = try GCHarness(
            copygc: CopygcConfiguration(startBelowFreeBuckets: 1, stopAtFreeBuckets: 16, checkIntervalSectors: 8),
            wrap: { device in
                let hooked = AllocatorFixtures.RecordingDevice(device)
                wrapper.withLock { $0 = hooked }
                return hooked
            }
        )
        let device = try #require(wrapper.withLock { $0 })
        // 96 one-block keys fill 8 buckets of 12 blocks; overwriting every other one of the
        // first 72 leaves 6 buckets half live (36 live blocks: 3 buckets to move them into).
        for key in 0..<96 { try harness.write(UInt64(key)) }
        for key in stride(from: 0, to: 72, by: 2) { try harness.write(UInt64(key)) }
        #expect(harness.problems().isEmpty)
        let free = harness.allocator.availableBuckets(for: .copygc)
        try #require(free >= 3, "the group must be planned with room for 3 buckets, not \(free)")

        // Copygc's first write (the first of its 3 runs) lets a writer take every bucket it may.
        let userWrites = Mutex(0)
        device.beforeNextWrite { [harness] in
            var key: UInt64 = 1000
            while (try? harness.write(key)) != nil {
                key += 1
                userWrites.withLock { $0 += 1 }
            }
        }
        let report = try harness.copygc.collect()
        #expect(userWrites.withLock { $0 } > 0, "the writer took no bucket")
        #expect(report.outcome == .evacuated)
        #expect(report.stoppedEarly != nil, "the pass did not report stopping early")
        #expect(report.stoppedEarly?.contains("could not reserve") == true, "\(report.stoppedEarly ?? "nil")")
        #expect(report.sectorsMoved > 0)
        #expect(harness.problems().isEmpty, "\(harness.problems().prefix(5))")
        for (key, entry) in harness.owner.snapshot {
            let expected = AllocatorFixtures.payload(tag: entry.tag, blocks: 1)
            #expect(try harness.read(entry.pointer) == expected, "key \(key)")
        }
    }
}
