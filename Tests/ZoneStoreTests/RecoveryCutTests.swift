import Synchronization
import Testing
import ZoneStore
import ZonedStorage

/// Recovery's cut of the journal: only the open chain's last group can hold records that were
/// never acknowledged, and whether their data reached the device is decided by reading it, not
/// by the write pointer.
@Suite("Recovery of the last journal group")
struct RecoveryCutTests {
    /// Forwards to an emulated device; once armed, its next `flush()` first finishes every open or
    /// closed zone except the one written last (the journal's), as the allocator does when it
    /// needs a zone slot while a bucket holds unflushed data.
    final class FinishBeforeFlushDevice: ZonedDevice {
        let inner: EmulatedDevice
        private let lastWrittenZone = Mutex<Int?>(nil)
        private let armed = Atomic<Bool>(false)

        init(_ inner: EmulatedDevice) { self.inner = inner }

        var info: DeviceInfo { inner.info }
        var path: String { inner.path }

        /// Finish zones at the next flush.
        func arm() { armed.store(true, ordering: .relaxed) }

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
            try inner.write(bytes, at: offset)
            lastWrittenZone.withLock { $0 = Int(offset / inner.info.zoneSize) }
        }

        func append(_ bytes: UnsafeRawBufferPointer, toZoneAt zoneStart: UInt64) throws(ZonedStorageError) -> UInt64 {
            try inner.append(bytes, toZoneAt: zoneStart)
        }

        func flush() throws(ZonedStorageError) {
            if armed.exchange(false, ordering: .relaxed) {
                let spared = lastWrittenZone.withLock { $0 }
                for zone in try inner.reportZones() where zone.index != spared {
                    switch zone.condition {
                    case .implicitOpen, .explicitOpen, .closed: try inner.finishZone(zone.index)
                    default: break
                    }
                }
            }
            try inner.flush()
        }

        func close() throws(ZonedStorageError) { try inner.close() }
    }

    @Test("a put whose data was lost in a zone finished before the flush is dropped; the older value stays")
    func finishedZoneLosingUnflushedData() throws {
        let old = StoreFixtures.value(seed: 1, count: 20_000)
        let new = StoreFixtures.value(seed: 2, count: 20_000)
        var groupSurvived = 0
        for seed in UInt64(1)...48 {
            let inner = try StoreFixtures.device(StoreFixtures.wide)
            let device = FinishBeforeFlushDevice(inner)
            try ZoneStore.format(device)
            let store = try ZoneStore.open(device, options: StoreFixtures.options())
            try store.put("k", old)
            // The overwrite's data is written, its bucket finished, its journal group written,
            // and the flush that would acknowledge it fails: then the power goes.
            device.arm()
            inner.injectFault(.failFlush(nth: 1))
            #expect(throws: StoreError.self, "seed \(seed)") { try store.put("k", new) }
            try inner.simulatePowerLoss(seed: seed)

            let reopened = try ZoneStore.open(inner, options: StoreFixtures.options())
            if reopened.recovery.recordsDropped > 0 { groupSurvived += 1 }
            let value: [UInt8]
            do {
                value = try reopened.get("k")
            } catch {
                Issue.record("seed \(seed): the acknowledged value is unreadable after recovery: \(error)")
                continue
            }
            #expect(value == old || value == new, "seed \(seed): get returned neither value")
            #expect(try StoreFixtures.invariantProblems(reopened) == [], "seed \(seed)")
        }
        // The case this test is about (the journal group kept, the data behind it lost) happened.
        #expect(groupSurvived > 0, "no seed kept the unacknowledged journal group; the test proves nothing")
    }
}
