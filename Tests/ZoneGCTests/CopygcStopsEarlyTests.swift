import Synchronization
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneGC
import ZonedStorage

/// A device that runs a hook, once, before the first write after it is armed.
final class WriteHookDevice: ZonedDevice {
    let inner: EmulatedDevice
    private let hook = Mutex<(@Sendable () -> Void)?>(nil)

    init(_ inner: EmulatedDevice) { self.inner = inner }

    /// Runs `body` before the next write (on the writing thread), then disarms.
    func arm(_ body: @escaping @Sendable () -> Void) { hook.withLock { $0 = body } }

    var info: DeviceInfo { inner.info }
    var path: String { inner.path }

    func reportZones(offset: UInt64, length: UInt64, filter: ZoneReportFilter) throws(ZonedStorageError) -> [Zone] {
        try inner.reportZones(offset: offset, length: length, filter: filter)
    }

    func manageZones(_ operation: ZoneOperation, offset: UInt64, length: UInt64) throws(ZonedStorageError) {
        try inner.manageZones(operation, offset: offset, length: length)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        try inner.read(into: buffer, at: offset)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        let body = hook.withLock { hook in
            defer { hook = nil }
            return hook
        }
        body?()
        try inner.write(bytes, at: offset)
    }

    func append(_ bytes: UnsafeRawBufferPointer, toZoneAt zoneStart: UInt64) throws(ZonedStorageError) -> UInt64 {
        try inner.append(bytes, toZoneAt: zoneStart)
    }

    func flush() throws(ZonedStorageError) { try inner.flush() }
    func close() throws(ZonedStorageError) { try inner.close() }
}

@Suite("Copygc: a pass that loses its buckets to writers")
struct CopygcStopsEarlyTests {
    @Test("writers taking the free buckets in the middle of a group: the pass stops early, moved data stays moved")
    func groupLosesBucketsToWriters() throws {
        let wrapper = Mutex<WriteHookDevice?>(nil)
        let harness = try GCHarness(
            copygc: CopygcConfiguration(startBelowFreeBuckets: 1, stopAtFreeBuckets: 16, checkIntervalSectors: 8),
            wrap: { device in
                let hooked = WriteHookDevice(device)
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
        device.arm { [harness] in
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
