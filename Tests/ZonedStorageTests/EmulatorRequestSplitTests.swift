import SystemPackage
import Testing
import ZoneAllocTestSupport

@testable import ZonedStorage

/// How the emulator reproduces the block layer between a system call and a zoned device:
/// writes cut into requests at zone boundaries and at the largest transfer (`max_sectors`), and
/// the errno the kernel returns when some requests or some zones of a range fail (checklist
/// items 20 and 50). These are the behaviours the differential run against Linux 6.1 in QEMU
/// found (`BlockLayerRequests`).
@Suite("Emulator: requests the block layer makes of a write or a zone range")
struct EmulatorRequestSplitTests {
    /// 512-byte blocks, capacity = size (writes can cross zones), open 2 / active 3, requests of
    /// at most 4 KiB.
    static let geometry = EmulatedGeometry(
        zoneCount: 8,
        zoneSize: 64 << 10,
        conventionalZones: 1,
        logicalBlockSize: 512,
        maxOpenZones: 2,
        maxActiveZones: 3,
        maxTransferBytes: 4096
    )

    // MARK: - Cutting a write into requests

    @Test("null_blk's 255-sector limit cuts 512 KiB into four requests of 130560 bytes and one of 2048")
    func nullBlkRequests() {
        let pieces = BlockLayerRequests.pieces(
            offset: 64 << 20,
            count: 512 << 10,
            maxTransfer: 255 * 512,
            zoneSize: 64 << 20,
            logicalBlock: 512,
            physicalBlock: 512
        )
        #expect(pieces.map(\.length) == [130560, 130560, 130560, 130560, 2048])
        let offsets: [UInt64] = (0..<5).map { UInt64(64 << 20) + UInt64($0) * 130560 }
        #expect(pieces.map(\.offset) == offsets)
        #expect(Set(pieces.map(\.bio)) == [0])
    }

    @Test("requests end at zone boundaries, on physical blocks where they can, and within 1 MiB bios")
    func requestBoundaries() {
        // Crossing a zone boundary 4 KiB before it.
        let crossing = BlockLayerRequests.pieces(
            offset: (64 << 10) - 4096,
            count: 12288,
            maxTransfer: 1 << 20,
            zoneSize: 64 << 10,
            logicalBlock: 4096,
            physicalBlock: 4096
        )
        #expect(crossing.map(\.offset) == [(64 << 10) - 4096, 64 << 10])
        #expect(crossing.map(\.length) == [4096, 8192])
        // 512e: a 10 KiB limit becomes requests ending on 4 KiB boundaries.
        let emulated = BlockLayerRequests.pieces(
            offset: 1024,
            count: 20480,
            maxTransfer: 10240,
            zoneSize: 1 << 20,
            logicalBlock: 512,
            physicalBlock: 4096
        )
        #expect(emulated.map(\.length) == [7168, 8192, 5120])
        // 2.5 MiB with a 4 MiB limit: three direct-I/O bios of 1 MiB, 1 MiB and 512 KiB.
        let large = BlockLayerRequests.pieces(
            offset: 0,
            count: 5 << 19,
            maxTransfer: 4 << 20,
            zoneSize: 64 << 20,
            logicalBlock: 4096,
            physicalBlock: 4096
        )
        #expect(large.map(\.length) == [1 << 20, 1 << 20, 1 << 19])
        #expect(large.map(\.bio) == [0, 1, 2])
    }

    @Test("a bio fails with its last request's error, else its first; the call with its first failed bio's")
    func errorChoice() {
        func piece(_ bio: Int) -> BlockLayerRequests.Piece { .init(offset: 0, length: 512, bio: bio) }
        let oneBio = [piece(0), piece(0), piece(0)]
        #expect(BlockLayerRequests.writeErrorIndex(oneBio, failed: [false, false, false]) == nil)
        #expect(BlockLayerRequests.writeErrorIndex(oneBio, failed: [true, true, true]) == 2)
        #expect(BlockLayerRequests.writeErrorIndex(oneBio, failed: [true, true, false]) == 0)
        #expect(BlockLayerRequests.writeErrorIndex(oneBio, failed: [false, true, false]) == 1)
        let twoBios = [piece(0), piece(0), piece(1), piece(1)]
        #expect(BlockLayerRequests.writeErrorIndex(twoBios, failed: [false, false, true, true]) == 3)
        #expect(BlockLayerRequests.writeErrorIndex(twoBios, failed: [true, false, true, true]) == 0)
        #expect(BlockLayerRequests.rangeErrorIndex([true, false, true, false]) == 2)
        #expect(BlockLayerRequests.rangeErrorIndex([false, false]) == nil)
    }

    // MARK: - Writes on the device

    /// Zone 4 CLOSED with its write pointer 8 KiB before its end, zone 5 explicitly open and
    /// EMPTY, zone 2 implicitly open: open 2 of 2, active 3 of 3, so zone 4 cannot reopen
    /// (item 60) and zone 5 takes writes at its start.
    private func saturate(_ device: EmulatedDevice) throws {
        try device.openZone(5)
        try device.writeBlocks(2)
        try device.write(TestData.bytes(tag: 4, count: (56 << 10)), at: device.info.zoneStart(4))
        try device.closeZone(4)
        try device.writeBlocks(2)
        #expect(device.resourceUsage() == usage(implicit: 1, explicit: 1, closed: 1))
        #expect(device.peek(4).condition == .closed)
    }

    @Test("a long write to a zone that cannot open fails with EIO: the later requests are misplaced")
    func longWriteToZoneThatCannotOpen() throws {
        try TestDevices.withMemoryDevice(Self.geometry) { device in
            try saturate(device)
            let wp = device.peek(4).writePointer
            // One request: the resource error itself.
            expectRefusal(.tooManyReferences, zone: 4) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 7, count: 4096), at: wp)
            }
        }
        // Without sticky write errors (Linux 6.1) the later requests are refused as misplaced.
        try TestDevices.withMemoryDevice(Self.geometry, options: .init(stickyWriteErrors: false)) { device in
            try saturate(device)
            let wp = device.peek(4).writePointer
            // Two requests: ETOOMANYREFS, then EIO (not at the write pointer); the last wins.
            expectRefusal(.ioError, zone: 4) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 7, count: 8192), at: wp)
            }
            #expect(device.peek(4).condition == .closed)
            #expect(device.peek(4).writePointer == wp)
            #expect(device.resourceUsage() == usage(implicit: 1, explicit: 1, closed: 1))
        }
    }

    @Test("when the last request lands, the first failed request's error is returned")
    func lastRequestLands() throws {
        try TestDevices.withMemoryDevice(Self.geometry, options: .init(stickyWriteErrors: false)) { device in
            try saturate(device)
            let wp = device.peek(4).writePointer
            let end = device.info.zoneStart(5)
            // 8 KiB in zone 4 (ETOOMANYREFS, EIO), then 4 KiB at the start of zone 5 (lands).
            let bytes = TestData.bytes(tag: 9, count: Int(end - wp) + 4096)
            expectRefusal(.tooManyReferences, zone: 4) { () throws(ZonedStorageError) in
                try device.write(bytes, at: wp)
            }
            #expect(device.peek(4).writePointer == wp)
            #expect(device.peek(5).condition == .explicitOpen)
            #expect(device.peek(5).writePointer == end + 4096)
            #expect(try device.read(count: 4096, at: end) == Array(bytes.suffix(4096)))
        }
    }

    @Test("#19 requests before the capacity end are written, the rest refused")
    func requestsBeforeCapacityLand() throws {
        var geometry = TestDevices.geometry(zones: 4, conventional: 0, capacity: 48 << 10)
        geometry.maxTransferBytes = 8192
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.write(TestData.bytes(tag: 1, count: 40 << 10), at: 0)
            let bytes = TestData.bytes(tag: 2, count: 16 << 10)
            expectRefusal(.ioError, zone: 0) { () throws(ZonedStorageError) in
                try device.write(bytes, at: 40 << 10)
            }
            // The first request (8 KiB) reached the capacity: FULL; the second was refused.
            #expect(device.peek(0).condition == .full)
            #expect(try device.read(count: 8192, at: 40 << 10) == Array(bytes.prefix(8192)))
        }
        // One request for all 16 KiB: refused whole, nothing written.
        geometry.maxTransferBytes = 16 << 10
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.write(TestData.bytes(tag: 1, count: 40 << 10), at: 0)
            expectRefusal(.ioError, zone: 0) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 2, count: 16 << 10), at: 40 << 10)
            }
            #expect(device.peek(0).condition == .implicitOpen)
            #expect(device.peek(0).writePointer == 40 << 10)
        }
    }

    @Test("#20 a write crossing into the next zone still lands there when its first part is refused")
    func crossingWriteAfterRefusedPart() throws {
        try TestDevices.withMemoryDevice(Self.geometry) { device in
            try device.finishZone(1)
            let end = device.info.zoneStart(2)
            let bytes = TestData.bytes(tag: 3, count: 8192)
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.write(bytes, at: end - 4096)
            }
            #expect(device.peek(2).condition == .implicitOpen)
            #expect(device.peek(2).writePointer == end + 4096)
            #expect(try device.read(count: 4096, at: end) == Array(bytes.suffix(4096)))
        }
    }

    // MARK: - Zone ranges

    @Test("#50 a zone range returns the last failing zone's error: a limit error after a conventional zone's EIO")
    func rangeReturnsLastError() throws {
        try TestDevices.withMemoryDevice(Self.geometry) { device in
            // OPEN over zones 0-4: conventional 0 EIO, 1 and 2 opened, 3 and 4 ETOOMANYREFS.
            expectRefusal(.tooManyReferences, zone: 4) { () throws(ZonedStorageError) in
                try device.manageZones(.open, zones: 0..<5)
            }
            #expect(device.conditions[0..<5] == [.notWritePointer, .explicitOpen, .explicitOpen, .empty, .empty])
            // Zone 3 FULL, zone 2 EMPTY again; OPEN over zones 1-4: FULL zone 3 fails with EIO,
            // then zone 4, EMPTY at the open limit, with ETOOMANYREFS, which is returned.
            try device.closeZone(2)
            try device.finishZone(3)
            expectRefusal(.tooManyReferences, zone: 4) { () throws(ZonedStorageError) in
                try device.manageZones(.open, zones: 1..<5)
            }
            // CLOSE over zones 1-3: FULL zone 3 is last: EIO; 1 and 2 were closed (to EMPTY).
            expectRefusal(.ioError, zone: 3) { () throws(ZonedStorageError) in
                try device.manageZones(.close, zones: 1..<4)
            }
            #expect(device.conditions[1..<4] == [.empty, .empty, .full])
        }
    }

    // MARK: - The parameter

    @Test(
        "the largest transfer defaults to the profile's, is rounded as the kernel rounds it, and is kept in the image"
    )
    func maxTransferParameter() throws {
        let plain = EmulatedGeometry(zoneCount: 4, zoneSize: 1 << 20, logicalBlockSize: 4096)
        #expect(try plain.validated(for: .nullBlk).maxTransferBytes == 126976)  // 255 sectors, 4 KiB blocks
        #expect(try plain.validated(for: .zns).maxTransferBytes == 512 << 10)
        #expect(try plain.validated(for: .zbc).maxTransferBytes == 4 << 20)
        var odd = plain
        odd.maxTransferBytes = 10000
        #expect(try odd.validated().maxTransferBytes == 8192)
        odd.maxTransferBytes = 512
        #expect(throws: ZonedStorageError.self) { try odd.validated() }
        #expect(try EmulatedDevice(geometry: plain, profile: .zns).info.maxTransferBytes == 512 << 10)

        try TestDevices.withFileDevice(Self.geometry) { device, path in
            #expect(device.info.maxTransferBytes == 4096)
            try device.close()
            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(reopened.geometry.maxTransferBytes == 4096)
        }
    }
}
