import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneStore
import ZonedStorage

/// `fsck`: clean stores are clean; damage is reported in plain words; `--repair` fixes what it can.
@Suite struct StoreCheckerTests {
    @Test func aCleanStoreIsClean() throws {
        let (device, _, _) = try ZoneStoreCorruptionTests.populated()
        let report = try ZoneStore.check(device)
        #expect(report.isClean, "\(report.findings)")
        #expect(report.keys > 0)
        #expect(report.bytesVerified > 0)
    }

    @Test func checksumDamageIsReportedWithKeyZoneAndOffset() throws {
        let (device, _, store) = try ZoneStoreCorruptionTests.populated()
        let key = try #require(store.list().first { (store.stat($0)?.length ?? 0) > 0 })
        let extent = try #require(store.stat(key)?.extents.first)
        try ZoneStoreCorruptionTests.rewrite(device, zone: extent.pointer.bucket.zone) { bytes in
            bytes[Int(extent.pointer.offset) * 512] ^= 0x40
        }
        let report = try ZoneStore.check(device)
        #expect(!report.isClean)
        #expect(
            report.findings.contains {
                $0.severity == .problem
                    && $0.message.hasPrefix("\(key): checksum mismatch in zone \(extent.pointer.bucket.zone)")
            }
        )
        // Repair cannot make bad data good: the problem remains, nothing is dropped.
        let repaired = try ZoneStore.check(device, repair: true)
        #expect(!repaired.isClean)
        #expect(repaired.keys == report.keys)
    }

    @Test func garbageZonesAndDamagedSuperblockSlotsAreRepaired() throws {
        let (device, written, _) = try ZoneStoreCorruptionTests.populated()
        // Data written outside the store's knowledge into a free zone, and one damaged slot.
        let free = try #require(device.inspectZones().last { $0.isSequential && $0.condition == .empty })
        try device.write([UInt8](repeating: 7, count: 8192), at: free.start)
        try device.flush()
        try ZoneStoreCorruptionTests.rewrite(device, zone: 0) { bytes in bytes[4096 + 200] ^= 1 }
        let report = try ZoneStore.check(device)
        #expect(
            report.findings.contains {
                $0.message.contains("zone \(free.index)") && $0.message.contains("nothing live")
            }
        )
        #expect(report.findings.contains { $0.severity == .problem && $0.message.contains("superblock slot") })
        let repaired = try ZoneStore.check(device, repair: true)
        #expect(repaired.isClean, "\(repaired.findings)")
        #expect(repaired.findings.contains { $0.severity == .repaired && $0.message.contains("superblock slot") })
        #expect(try device.zone(free.index).condition == .empty)
        ZoneStoreCorruptionTests.expectNoWrongData(device, written, "after repair")
        let again = try ZoneStore.check(device)
        #expect(again.findings.isEmpty, "\(again.findings)")
    }
}
