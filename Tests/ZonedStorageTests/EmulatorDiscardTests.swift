import Glibc
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// A reset frees the zone's blocks in the image file (a hole punch) in the background; the
/// reset itself returns once the zone is durably EMPTY. The checks of allocated space assume a
/// file system that punches holes (ext4, XFS, btrfs and tmpfs do).
@Suite("Emulated device: reset zones are punched out of the image in the background")
struct EmulatorDiscardTests {
    static let geometry = TestDevices.geometry(zones: 6, conventional: 1)

    /// Bytes the file system has allocated to the file at `path`.
    static func allocatedBytes(_ path: String) throws -> Int {
        var info = stat()
        let result = stat(path, &info)
        try #require(result == 0, "stat \(path) failed: errno \(errno)")
        return Int(info.st_blocks) * 512
    }

    @Test("the blocks of a reset zone are freed, by the discarder or at the latest by close; other zones keep theirs")
    func resetFreesBlocks() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("discard.img")
            let device = try EmulatedDevice.create(at: path, geometry: Self.geometry)
            defer { try? device.close() }  // after a failed expectation; a second close is refused
            for zone in 1...4 { try device.fill(zone) }
            try device.flush()
            let kept = try device.read(count: Int(device.peek(1).capacity), at: device.info.zoneStart(1))
            let filled = try Self.allocatedBytes(path)
            let zoneBytes = Int(device.info.zoneSize)

            try device.resetZone(2)
            device.waitForDiscards()
            #expect(device.pendingDiscards.isEmpty)
            let afterOne = try Self.allocatedBytes(path)
            #expect(filled - afterOne >= zoneBytes, "the discarder did not free zone 2's blocks")

            try device.withDiscardsHeld {
                try device.resetZone(3)
                try device.resetZone(4)
                #expect(device.pendingDiscards == [3, 4])
                #expect(try Self.allocatedBytes(path) == afterOne, "a held punch ran")
                try device.close()
                #expect(device.pendingDiscards.isEmpty, "close left punches to do")
            }
            #expect(filled - (try Self.allocatedBytes(path)) >= 3 * zoneBytes, "close left zone 3 or 4 allocated")

            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(reopened.conditions[1...4] == [.full, .empty, .empty, .empty])
            #expect(try reopened.read(count: kept.count, at: reopened.info.zoneStart(1)) == kept)
        }
    }

    @Test("reset all and returning a faulty zone to EMPTY free the blocks too; the conventional zone keeps its data")
    func resetAllAndRestoredZonesFreeBlocks() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("reset-all.img")
            let device = try EmulatedDevice.create(at: path, geometry: Self.geometry)
            defer { try? device.close() }  // after a failed expectation; a second close is refused
            let conventional = TestData.bytes(tag: 5, count: 8192)
            try device.write(conventional, at: 0)
            for zone in 1...4 { try device.fill(zone) }
            try device.flush()
            let filled = try Self.allocatedBytes(path)
            let zoneBytes = Int(device.info.zoneSize)

            try device.setZoneCondition(4, to: .offline)
            try device.setZoneCondition(4, to: .empty)
            device.waitForDiscards()
            let afterRestore = try Self.allocatedBytes(path)
            #expect(filled - afterRestore >= zoneBytes, "returning zone 4 to EMPTY kept its blocks")

            try device.manageZones(.reset, offset: 0, length: device.info.capacity)
            device.waitForDiscards()
            #expect(afterRestore - (try Self.allocatedBytes(path)) >= 3 * zoneBytes, "reset all kept blocks")
            #expect(try device.read(count: conventional.count, at: 0) == conventional)
            try device.close()

            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(reopened.conditions[1...4] == [.empty, .empty, .empty, .empty])
            #expect(try reopened.read(count: conventional.count, at: 0) == conventional)
        }
    }

    @Test("data written to a zone between its reset and the hole punch is kept")
    func writeBeforePunchIsKept() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("race.img")
            let device = try EmulatedDevice.create(at: path, geometry: Self.geometry)
            defer { try? device.close() }  // after a failed expectation; a second close is refused
            try device.fill(2)
            try device.flush()
            let written = try device.withDiscardsHeld {
                try device.resetZone(2)
                #expect(device.pendingDiscards == [2])
                let bytes = try device.writeBlocks(2, 3, tag: 42)
                #expect(device.pendingDiscards.isEmpty, "the write did not punch the zone first")
                return bytes
            }
            device.waitForDiscards()
            let start = device.info.zoneStart(2)
            #expect(try device.read(count: written.count, at: start) == written)
            try device.close()

            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(try reopened.read(count: written.count, at: start) == written)
        }
    }
}
