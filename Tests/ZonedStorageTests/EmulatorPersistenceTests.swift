import Foundation
import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// File-backed images: what survives a clean close, another process, and a process that dies
/// without closing the image.
@Suite("Emulated device images persist across close, reopen and crashes")
struct EmulatorPersistenceTests {
    static let geometry = TestDevices.geometry(zones: 10, conventional: 1, capacity: 48 << 10, maxOpen: 3, maxActive: 5)

    /// Puts zones 1-8 of `device` in every condition; returns the data written, by offset.
    static func populate(_ device: EmulatedDevice) throws -> [UInt64: [UInt8]] {
        var written: [UInt64: [UInt8]] = [:]
        func write(_ index: Int, blocks: Int) throws {
            let wp = device.peek(index).writePointer
            written[wp] = try device.writeBlocks(index, blocks, tag: 77)
        }
        let conventional = TestData.bytes(tag: 5, count: 8192)
        try device.write(conventional, at: 16384)
        written[16384] = conventional
        try write(1, blocks: 2)  // IMP_OPEN
        try device.openZone(2)
        try write(2, blocks: 3)  // EXP_OPEN with data
        try device.openZone(3)  // EXP_OPEN without data
        try write(4, blocks: 1)
        try device.closeZone(4)  // CLOSED
        try device.fill(5)  // FULL by writes
        written[device.info.zoneStart(5)] = try device.read(count: 48 << 10, at: device.info.zoneStart(5))
        try write(6, blocks: 2)
        try device.finishZone(6)  // FULL by FINISH
        try write(7, blocks: 1)
        try device.setZoneCondition(7, to: .readOnly)
        try device.setZoneCondition(8, to: .offline)
        return written
    }

    static func expectData(_ device: EmulatedDevice, _ written: [UInt64: [UInt8]], _ comment: Comment? = nil) throws {
        for (offset, bytes) in written {
            #expect(try device.read(count: bytes.count, at: offset) == bytes, comment)
        }
    }

    @Test("a cleanly closed image reopens with its data, write pointers and conditions, EXP_OPEN included")
    func cleanCloseAndReopen() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("clean.img")
            let device = try EmulatedDevice.create(at: path, geometry: Self.geometry)
            let written = try Self.populate(device)
            let zones = try device.reportZones()
            let counts = device.resourceUsage()
            // Writing zone 4 with three zones open evicts implicitly-open zone 1 (null_blk rule): it is CLOSED.
            #expect(counts == usage(implicit: 0, explicit: 2, closed: 2))
            try device.close()

            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(try reopened.reportZones() == zones)
            #expect(reopened.resourceUsage() == counts)
            #expect(reopened.info == device.info)
            try Self.expectData(reopened, written)
            #expect(
                try reopened.read(count: 8192, at: reopened.info.zoneStart(6) + 8192)
                    == [UInt8](repeating: 0, count: 8192)
            )
            // The reopened device goes on from where it was.
            try reopened.writeBlocks(2)
            try reopened.writeBlocks(1)
            #expect(reopened.peek(2).condition == .explicitOpen)
            #expect(reopened.invariantProblems.isEmpty)
        }
    }

    @Test("an image cannot be opened twice at once, and a closed device refuses further use")
    func exclusiveUse() throws {
        try TestDevices.withFileDevice(Self.geometry) { device, path in
            let second = #expect(throws: ZonedStorageError.self) { _ = try EmulatedDevice.open(at: path) }
            #expect(second?.code == .systemCall)
            try device.close()
            let closed = #expect(throws: ZonedStorageError.self) { try device.writeBlocks(1) }
            #expect(closed?.code == .deviceClosed)
            let again = #expect(throws: ZonedStorageError.self) { try device.close() }
            #expect(again?.code == .deviceClosed)
        }
    }

    @Test("a file that is not an image is refused as not zoned")
    func notAnImage() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("plain.bin")
            #expect(FileManager.default.createFile(atPath: path, contents: Data(count: 8192)))
            let error = #expect(throws: ZonedStorageError.self) { _ = try EmulatedDevice.open(at: path) }
            #expect(error?.code == .notZonedDevice)
            #expect(!EmulatedDevice.isEmulatedImage(path: path))
        }
    }

    @Test("writes flushed and closed by another process are seen by this one")
    func writesFromAnotherProcess() async throws {
        let directory = try TemporaryDirectory(label: "zonealloc-child")
        defer { directory.remove() }
        let path = directory.file("shared.img")
        try EmulatedDevice.create(at: path, geometry: Self.geometry).close()

        await #expect(processExitsWith: .success) { [path = path as String] in
            let device = try EmulatedDevice.open(at: path)
            try device.write(TestData.bytes(tag: 1, count: 12288), at: device.info.zoneStart(1))
            try device.openZone(2)
            try device.write(TestData.bytes(tag: 2, count: 4096), at: device.info.zoneStart(2))
            try device.write(TestData.bytes(tag: 3, count: 4096), at: 0)
            try device.flush()
            try device.close()
        }

        let device = try EmulatedDevice.open(at: path)
        defer { try? device.close() }
        #expect(device.peek(1).condition == .implicitOpen)
        #expect(device.peek(1).writePointer == device.info.zoneStart(1) + 12288)
        #expect(device.peek(2).condition == .explicitOpen)
        #expect(try device.read(count: 12288, at: device.info.zoneStart(1)) == TestData.bytes(tag: 1, count: 12288))
        #expect(try device.read(count: 4096, at: device.info.zoneStart(2)) == TestData.bytes(tag: 2, count: 4096))
        #expect(try device.read(count: 4096, at: 0) == TestData.bytes(tag: 3, count: 4096))
        #expect(device.resourceUsage() == usage(implicit: 1, explicit: 1))
    }

    @Test("a process that exits without flushing or closing leaves the image at its last flush")
    func crashWithoutFlush() async throws {
        let directory = try TemporaryDirectory(label: "zonealloc-crash")
        defer { directory.remove() }
        let path = directory.file("crash.img")
        try EmulatedDevice.create(at: path, geometry: Self.geometry).close()

        await #expect(processExitsWith: .exitCode(0)) { [path = path as String] in
            let device = try EmulatedDevice.open(at: path)
            let start1 = device.info.zoneStart(1)
            try device.write(TestData.bytes(tag: 1, count: 8192), at: start1)
            try device.openZone(2)
            try device.write(TestData.bytes(tag: 2, count: 4096), at: device.info.zoneStart(2))
            try device.openZone(3)
            try device.finishZone(5)  // durable at once
            try device.flush()
            // Not flushed: more data in zone 1, a new zone 4, zone 3 still EXP_OPEN without data.
            try device.write(TestData.bytes(tag: 3, count: 8192), at: start1 + 8192)
            try device.write(TestData.bytes(tag: 4, count: 4096), at: device.info.zoneStart(4))
            exit(0)  // no close(): the process dies with the image open
        }

        let device = try EmulatedDevice.open(at: path)
        defer { try? device.close() }
        let start1 = device.info.zoneStart(1)
        #expect(device.peek(1).condition == .closed)
        #expect(device.peek(1).writePointer == start1 + 8192, "write pointer at the last flush")
        #expect(try device.read(count: 8192, at: start1) == TestData.bytes(tag: 1, count: 8192))
        #expect(device.peek(2).condition == .closed, "an open zone comes back closed")
        #expect(device.peek(3).condition == .empty, "an open zone without data comes back empty")
        #expect(device.peek(4).condition == .empty, "unflushed writes to an empty zone are gone")
        #expect(device.peek(5).condition == .full)
        #expect(device.resourceUsage() == usage(closed: 2))
        #expect(device.invariantProblems.isEmpty)
        // Writing goes on at the recovered write pointer.
        try device.write(TestData.bytes(tag: 5, count: 4096), at: start1 + 8192)
    }

    @Test("with a write-through cache, every completed write survives a process that dies without closing")
    func crashWithWriteThroughCache() async throws {
        let directory = try TemporaryDirectory(label: "zonealloc-crash-wt")
        defer { directory.remove() }
        let path = directory.file("crash.img")
        try EmulatedDevice.create(at: path, geometry: Self.geometry).close()

        await #expect(processExitsWith: .exitCode(0)) { [path = path as String] in
            let device = try EmulatedDevice.open(at: path, options: .init(writeCache: .writeThrough))
            try device.write(TestData.bytes(tag: 1, count: 12288), at: device.info.zoneStart(1))
            try device.write(TestData.bytes(tag: 2, count: 8192), at: 4096)
            try device.fill(2)
            exit(0)
        }

        let device = try EmulatedDevice.open(at: path)
        defer { try? device.close() }
        #expect(device.peek(1).condition == .closed)
        #expect(device.peek(1).writePointer == device.info.zoneStart(1) + 12288)
        #expect(try device.read(count: 12288, at: device.info.zoneStart(1)) == TestData.bytes(tag: 1, count: 12288))
        #expect(try device.read(count: 8192, at: 4096) == TestData.bytes(tag: 2, count: 8192))
        #expect(device.peek(2).condition == .full)
    }

    @Test("a reopened image after a crash has the same zones as a power loss at the last flush")
    func crashMatchesPowerLossAtFlush() async throws {
        let directory = try TemporaryDirectory(label: "zonealloc-crash-pl")
        defer { directory.remove() }
        let path = directory.file("crash.img")
        let device = try EmulatedDevice.create(at: path, geometry: Self.geometry)
        let written = try Self.populate(device)
        try device.flush()
        try device.close()

        await #expect(processExitsWith: .exitCode(0)) { [path = path as String] in
            let device = try EmulatedDevice.open(at: path)
            for index in 1...4 { try device.writeBlocks(index, tag: 99) }
            exit(0)
        }

        let reopened = try EmulatedDevice.open(at: path)
        defer { try? reopened.close() }
        // Open zones come back CLOSED (or EMPTY), nothing written by the child survives.
        #expect(
            reopened.conditions == [
                .notWritePointer, .closed, .closed, .empty, .closed, .full, .full, .readOnly, .offline, .empty,
            ]
        )
        try Self.expectData(reopened, written)
        #expect(reopened.resourceUsage() == usage(closed: 3))
    }

    @Test("replacing an image that another program has open fails and leaves it intact")
    func overwriteInUseIsRefused() throws {
        try TestDevices.withFileDevice(Self.geometry) { device, path in
            let data = try device.writeBlocks(1, 2, tag: 3)
            try device.flush()
            let refused = #expect(throws: ZonedStorageError.self) {
                _ = try EmulatedDevice.create(at: path, geometry: Self.geometry, overwrite: true)
            }
            #expect(refused?.errno == .wouldBlock)
            #expect(try device.read(count: data.count, at: device.info.zoneStart(1)) == data)
            try device.close()
            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(try reopened.read(count: data.count, at: reopened.info.zoneStart(1)) == data)
        }
    }

    @Test("a close whose final flush fails reports EIO, releases the image and leaves it at the last flush")
    func closeWithFailingFlush() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("flaky.img")
            let device = try EmulatedDevice.create(at: path, geometry: Self.geometry)
            let durable = try device.writeBlocks(1, 1, tag: 4)
            try device.flush()
            try device.writeBlocks(1, 2, tag: 5)
            device.injectFault(.failFlush(nth: 1))
            let failed = #expect(throws: ZonedStorageError.self) { try device.close() }
            #expect(failed?.errno == .ioError)
            let again = #expect(throws: ZonedStorageError.self) { try device.close() }
            #expect(again?.code == .deviceClosed)

            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(reopened.peek(1).writePointer == reopened.info.zoneStart(1) + 4096)
            #expect(try reopened.read(count: 4096, at: reopened.info.zoneStart(1)) == durable)
        }
    }
}
