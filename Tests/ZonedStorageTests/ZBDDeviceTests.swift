import Foundation
import SystemPackage
import Testing

@testable import ZonedStorage

#if canImport(Glibc)
import Glibc
#endif

/// EREMOTEIO: what SCSI (SMR) devices return where NVMe and null_blk return EIO.
private let remoteIOErrno = Errno(rawValue: 121)

/// `ZBDDevice` refusing paths that are not zoned block devices. These run everywhere.
@Suite("ZBDDevice refuses paths that are not zoned block devices")
struct ZBDDeviceRefusalTests {
    @Test("/dev/null is a character device, not a zoned block device")
    func devNullIsNotZoned() throws {
        let error = try #require(throws: ZonedStorageError.self) {
            let device = try ZBDDevice(path: "/dev/null")
            try device.close()
        }
        #expect(error.code == .notZonedDevice)
        #expect(error.message.contains("not a zoned block device"))
        #expect(error.message.contains("'/dev/null'"))
        #expect(error.message.contains("character device"))
        #expect(error.message.contains("zonealloc device create"))
    }

    @Test("a regular file is not a zoned block device")
    func regularFileIsNotZoned() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("zbddevice-regular-\(UUID().uuidString).img")
        #expect(FileManager.default.createFile(atPath: url.path, contents: Data(count: 4096)))
        defer { try? FileManager.default.removeItem(at: url) }

        let error = try #require(throws: ZonedStorageError.self) {
            let device = try ZBDDevice(path: url.path)
            try device.close()
        }
        #expect(error.code == .notZonedDevice)
        #expect(error.message.contains("not a zoned block device"))
        #expect(error.message.contains("regular file"))
        #expect(!ZBDDevice.isZonedBlockDevice(path: url.path))
    }

    @Test("a missing path is reported as no such device")
    func missingPathIsNoSuchDevice() throws {
        let path = "/dev/zonealloc-missing-\(UUID().uuidString)"
        let error = try #require(throws: ZonedStorageError.self) {
            let device = try ZBDDevice(path: path)
            try device.close()
        }
        #expect(error.code == .noSuchDevice)
        #expect(error.errno == .noSuchFileOrDirectory)
        #expect(error.message.contains(path))
        #expect(!ZBDDevice.isZonedBlockDevice(path: path))
    }

    @Test("a directory is not a zoned block device")
    func directoryIsNotZoned() throws {
        let error = try #require(throws: ZonedStorageError.self) {
            let device = try ZBDDevice(path: "/")
            try device.close()
        }
        #expect(error.code == .notZonedDevice)
        #expect(error.message.contains("directory"))
    }

    @Test("isZonedBlockDevice is false for /dev/null")
    func devNullProbe() {
        #expect(ZBDDevice.isZonedBlockDevice(path: "/dev/null") == false)
    }
}

/// The normalizer of libzbd's two error conventions. These run everywhere.
@Suite("libzbd return codes are normalized")
struct ZBDCallNormalizerTests {
    @Test("a non-negative result is returned")
    func success() throws {
        #expect(try ZBDCalls.call("zbd_test") { 7 } == 7)
    }

    @Test("-1 with errno set (zbd_open, zbd_zones_operation) throws that errno")
    func minusOneWithErrno() {
        let error = #expect(throws: ZBDCallError.self) {
            try ZBDCalls.call("zbd_reset_zones") {
                Glibc.errno = EIO
                return -1
            }
        }
        #expect(error == ZBDCallError(function: "zbd_reset_zones", errno: .ioError))
    }

    @Test("-errno (zbd_report_zones) throws the negated result whatever errno says")
    func negativeErrno() {
        let error = #expect(throws: ZBDCallError.self) {
            try ZBDCalls.call("zbd_report_zones") {
                Glibc.errno = EINVAL
                return -ETOOMANYREFS
            }
        }
        #expect(error?.errno == .tooManyReferences)
    }

    @Test("-1 without errno (descriptor unknown to libzbd) throws a nil errno")
    func minusOneWithoutErrno() {
        Glibc.errno = EBUSY  // stale: the normalizer clears errno before the call
        let error = #expect(throws: ZBDCallError.self) { try ZBDCalls.call("zbd_get_info") { -1 } }
        #expect(error?.errno == nil)
        #expect(error?.description.contains("zbd_get_info") == true)
    }

    @Test("a negative errno (errno = -ENOTSUP in zbd_zones_operation) is read by magnitude")
    func negativeErrnoValue() {
        let error = #expect(throws: ZBDCallError.self) {
            try ZBDCalls.call("zbd_open_zones") {
                Glibc.errno = -EOPNOTSUPP
                return -1
            }
        }
        #expect(error?.errno == .notSupported)
    }
}

/// Tests against a real zoned block device named by `ZONEALLOC_TEST_DEVICE`.
///
/// DESTRUCTIVE: every test resets all zones of the device before and after it runs, and writes
/// data into sequential zones. Never point `ZONEALLOC_TEST_DEVICE` at a device holding data.
/// Suitable devices: null_blk with `zoned=1`, a QEMU NVMe ZNS namespace, scsi_debug with
/// `zbc=managed` (see shared/docs/qemu-zoned-notes.md).
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["ZONEALLOC_TEST_DEVICE"] != nil,
        "set ZONEALLOC_TEST_DEVICE to a zoned block device (DESTRUCTIVE: its zones are reset) to run these tests"
    ),
    .serialized
)
struct ZBDDeviceTests {
    static var devicePath: String { ProcessInfo.processInfo.environment["ZONEALLOC_TEST_DEVICE"] ?? "" }

    /// Opens the device, resets every zone, runs `body`, then resets every zone again and closes
    /// the device, whether `body` failed or not.
    private func withDevice(_ body: (ZBDDevice) throws -> Void) throws {
        let device = try ZBDDevice(path: Self.devicePath)
        defer {
            #expect(throws: Never.self) { try device.resetAllZones() }
            #expect(throws: Never.self) { try device.close() }
        }
        try device.resetAllZones()
        try body(device)
    }

    /// The first `count` sequential zones that are EMPTY after a reset (not read-only or offline).
    private func emptyZones(_ device: ZBDDevice, count: Int = 1) throws -> [Zone] {
        let zones = try device.reportZones(offset: 0, length: 0, filter: .empty)
        try #require(zones.count >= count, "the device needs at least \(count) writable sequential zones")
        return Array(zones.prefix(count))
    }

    /// 4 KiB, or one physical block if larger: a write every device accepts at the write pointer
    /// (512e SMR disks refuse writes smaller than the physical block; checklist item 23).
    private func ioSize(_ device: ZBDDevice) -> Int {
        let size = max(4096, device.info.physicalBlockSize, device.info.logicalBlockSize)
        return size
    }

    /// A buffer aligned to `alignment` bytes filled with `pattern`.
    private func withAlignedBuffer<R>(
        count: Int,
        alignment: Int,
        pattern: UInt8,
        _ body: (UnsafeMutableRawBufferPointer) throws -> R
    ) rethrows -> R {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: alignment)
        defer { buffer.deallocate() }
        for i in 0..<count { buffer[i] = pattern &+ UInt8(truncatingIfNeeded: i) }
        return try body(buffer)
    }

    private static func isRefusedWrite(_ error: ZonedStorageError) -> Bool {
        error.code == .ioError && (error.errno == .ioError || error.errno == remoteIOErrno)
    }

    @Test("device info is consistent: power-of-two zones that cover the capacity")
    func infoIsConsistent() throws {
        try withDevice { device in
            let info = device.info
            #expect(info.zoneSize > 0 && info.zoneSize.nonzeroBitCount == 1, "zone size \(info.zoneSize)")
            #expect(info.logicalBlockSize >= 512 && info.logicalBlockSize.nonzeroBitCount == 1)
            #expect(info.physicalBlockSize >= info.logicalBlockSize)
            #expect(info.zoneSize % UInt64(info.physicalBlockSize) == 0)
            #expect(info.zoneCount > 0)
            let covered = UInt64(info.zoneCount) * info.zoneSize
            let runt = covered > info.capacity && covered - info.capacity < info.zoneSize
            #expect(
                covered == info.capacity || runt,
                "\(info.zoneCount) zones of \(info.zoneSize) for \(info.capacity)"
            )
            #expect(info.model == .hostManaged || info.model == .hostAware)
            #expect(!info.vendorID.isEmpty)
            if case .limit(let open) = info.maxOpenZones, case .limit(let active) = info.maxActiveZones {
                #expect(open <= active, "max_open \(open) > max_active \(active) (item 55)")
            }
        }
    }

    @Test("a report of all zones is contiguous and covers the device")
    func reportIsContiguous() throws {
        try withDevice { device in
            let info = device.info
            let zones = try device.reportZones()
            #expect(zones.count == info.zoneCount)
            var expectedStart: UInt64 = 0
            for (i, zone) in zones.enumerated() {
                try #require(zone.index == i)
                try #require(zone.start == expectedStart, "zone \(i) starts at \(zone.start), not \(expectedStart)")
                try #require(zone.capacity > 0 && zone.capacity <= zone.length)
                try #require(i == zones.count - 1 ? zone.length <= info.zoneSize : zone.length == info.zoneSize)
                if zone.type == .conventional {
                    try #require(zone.condition == .notWritePointer)
                } else if zone.condition != .readOnly && zone.condition != .offline {
                    // Everything was just reset.
                    try #require(zone.condition == .empty, "zone \(i) is \(zone.condition) after RESET ALL")
                    try #require(zone.writePointer == zone.start)
                }
                expectedStart = zone.end
            }
            #expect(expectedStart == info.capacity)

            // A sub-range report starts at the zone containing the offset (item 2).
            let middle = zones[zones.count / 2]
            let one = try device.reportZones(offset: middle.start + 512, length: 1, filter: .all)
            #expect(one == [middle])
            #expect(try device.reportZones(offset: info.capacity, length: 0, filter: .all).isEmpty)

            // Filters select exactly the matching zones (item 8).
            let conventional = try device.reportZones(offset: 0, length: 0, filter: .notWritePointer)
            #expect(conventional == zones.filter { $0.condition == .notWritePointer })
            let empty = try device.reportZones(offset: 0, length: 0, filter: .empty)
            #expect(empty == zones.filter { $0.condition == .empty })
        }
    }

    @Test("a write at the write pointer advances it; a reset moves it back")
    func writeAtWritePointer() throws {
        try withDevice { device in
            let zone = try #require(try emptyZones(device).first)
            let size = ioSize(device)
            try withAlignedBuffer(count: size, alignment: 4096, pattern: 0x5A) { buffer in
                try device.write(UnsafeRawBufferPointer(buffer), at: zone.writePointer)
            }
            let written = try device.zone(zone.index)
            #expect(written.writePointer == zone.start + UInt64(size))
            #expect(written.condition == .implicitOpen)

            let readBack = try device.read(count: size, at: zone.start)
            #expect(readBack == (0..<size).map { 0x5A &+ UInt8(truncatingIfNeeded: $0) })

            try device.resetZone(zone.index)
            let reset = try device.zone(zone.index)
            #expect(reset.condition == .empty)
            #expect(reset.writePointer == zone.start)
        }
    }

    @Test("a write ahead of the write pointer fails with EIO (EREMOTEIO on SCSI) and changes nothing")
    func writeNotAtWritePointer() throws {
        try withDevice { device in
            let zone = try #require(try emptyZones(device).first)
            let size = ioSize(device)
            let target = zone.start + UInt64(size)
            let error = try #require(throws: ZonedStorageError.self) {
                try device.write([UInt8](repeating: 0xA5, count: size), at: target)
            }
            #expect(Self.isRefusedWrite(error), "\(error)")
            #expect(error.offset == target)
            #expect(error.message.contains(device.path))
            #expect(error.message.contains("zone \(zone.index)"))
            // The error carries the zone as re-read after the failure.
            #expect(error.zone?.condition == .empty)
            #expect(error.zone?.writePointer == zone.start)

            let after = try device.zone(zone.index)
            #expect(after.condition == .empty)
            #expect(after.writePointer == zone.start)

            // The re-read above cleared the kernel's sticky write error (item 25): a write at the
            // true write pointer succeeds.
            try device.write([UInt8](repeating: 0xA5, count: size), at: zone.start)
            #expect(try device.zone(zone.index).writePointer == zone.start + UInt64(size))
        }
    }

    @Test("explicitly opening max_open + 1 zones fails with ETOOMANYREFS")
    func explicitOpenLimit() throws {
        try withDevice { device in
            guard case .limit(let maxOpen) = device.info.maxOpenZones else {
                try Test.cancel("the device reports no open-zone limit (\(device.info.maxOpenZones))")
            }
            let zones = try emptyZones(device, count: maxOpen + 1)
            for zone in zones.dropLast() {
                try device.openZone(zone.index)
                #expect(try device.zone(zone.index).condition == .explicitOpen)
            }
            let extra = try #require(zones.last)
            // An EMPTY zone is checked against the active limit first (item 58).
            let activeFirst: Bool =
                if case .limit(let maxActive) = device.info.maxActiveZones { maxActive <= maxOpen } else { false }
            do throws(ZonedStorageError) {
                try device.openZone(extra.index)
                // Kernels with zone write plugging report 128 for devices without a limit (item 7).
                #expect(
                    maxOpen == 128 && device.info.maxActiveZones == .unlimited,
                    "opening zone \(extra.index) beyond max_open_zones \(maxOpen) succeeded"
                )
            } catch {
                if activeFirst {
                    #expect(error.code == .tooManyActiveZones)
                    #expect(error.errno == .overflow)
                } else {
                    #expect(error.code == .tooManyOpenZones, "\(error)")
                    #expect(error.errno == .tooManyReferences)
                }
                #expect(error.message.contains("zone \(extra.index)"))
                #expect(try device.zone(extra.index).condition == .empty)
            }
        }
    }

    @Test("finish makes a zone FULL, which refuses writes")
    func finishMakesFull() throws {
        try withDevice { device in
            let zone = try #require(try emptyZones(device).first)
            try device.finishZone(zone.index)
            let finished = try device.zone(zone.index)
            #expect(finished.condition == .full)
            #expect(finished.remainingCapacity == 0)

            let error = try #require(throws: ZonedStorageError.self) {
                try device.write([UInt8](repeating: 1, count: ioSize(device)), at: zone.start)
            }
            #expect(Self.isRefusedWrite(error), "\(error)")
            #expect(error.zone?.condition == .full)

            try device.resetZone(zone.index)
            #expect(try device.zone(zone.index).condition == .empty)
        }
    }

    @Test("buffers that are not block-aligned are written and read through a bounce buffer")
    func unalignedBuffers() throws {
        try withDevice { device in
            let zone = try #require(try emptyZones(device).first)
            let size = ioSize(device)
            // One byte past an aligned address is misaligned for any block size.
            let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: size + 1, alignment: 4096)
            defer { storage.deallocate() }
            let unaligned = UnsafeMutableRawBufferPointer(rebasing: storage[1...])
            for i in 0..<size { unaligned[i] = UInt8(truncatingIfNeeded: i &* 7) }

            try device.write(UnsafeRawBufferPointer(unaligned), at: zone.start)
            #expect(try device.zone(zone.index).writePointer == zone.start + UInt64(size))

            let expected = Array(unaligned)
            unaligned.initializeMemory(as: UInt8.self, repeating: 0)
            try device.read(into: unaligned, at: zone.start)
            #expect(Array(unaligned) == expected)
        }
    }

    @Test("offsets and lengths that are not multiples of the logical block size are EINVAL")
    func misalignedOffsets() throws {
        try withDevice { device in
            let zone = try #require(try emptyZones(device).first)
            let block = device.info.logicalBlockSize
            let offsetError = try #require(throws: ZonedStorageError.self) {
                try device.write([UInt8](repeating: 0, count: block), at: zone.start + 1)
            }
            #expect(offsetError.code == .invalidArgument)
            #expect(offsetError.errno == .invalidArgument)
            #expect(offsetError.message.contains("\(zone.start + 1)"))
            #expect(offsetError.message.contains("\(block)"))

            let lengthError = try #require(throws: ZonedStorageError.self) {
                _ = try device.read(count: block + 1, at: zone.start)
            }
            #expect(lengthError.code == .invalidArgument)
            #expect(try device.zone(zone.index).condition == .empty)
        }
    }

    @Test("zone append is unsupported through libzbd")
    func appendIsUnsupported() throws {
        try withDevice { device in
            let zone = try #require(try emptyZones(device).first)
            let error = try #require(throws: ZonedStorageError.self) {
                _ = try device.append([UInt8](repeating: 0, count: ioSize(device)), toZoneAt: zone.start)
            }
            #expect(error.code == .unsupported)
            #expect(error.message.contains("write"))
            #expect(try device.zone(zone.index).condition == .empty)
        }
    }

    @Test("a read-only device refuses writes and zone management")
    func readOnlyRefusesWrites() throws {
        let device = try ZBDDevice(path: Self.devicePath, readOnly: true)
        defer { #expect(throws: Never.self) { try device.close() } }
        #expect(device.isReadOnly)
        let zone = try #require(try device.reportZones().first { $0.isSequential && $0.condition.hasValidWritePointer })
        #expect(throws: ZonedStorageError.self) {
            try device.write([UInt8](repeating: 0, count: ioSize(device)), at: zone.writePointer)
        }
        #expect(throws: ZonedStorageError.self) { try device.resetZone(zone.index) }
        _ = try device.read(count: ioSize(device), at: zone.start)
    }

    @Test("writes to different zones from concurrent tasks all land")
    func concurrentWrites() async throws {
        let device = try ZBDDevice(path: Self.devicePath)
        defer {
            #expect(throws: Never.self) { try device.resetAllZones() }
            #expect(throws: Never.self) { try device.close() }
        }
        try device.resetAllZones()
        let writers = 4
        let blocks = 8
        let zones = try emptyZones(device, count: writers)
        if case .limit(let maxActive) = device.info.maxActiveZones, maxActive < writers {
            try Test.cancel("the device allows only \(maxActive) active zones")
        }
        let size = ioSize(device)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for zone in zones {
                group.addTask {
                    for block in 0..<blocks {
                        let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: zone.index &+ block), count: size)
                        try device.write(bytes, at: zone.start + UInt64(block * size))
                        _ = try device.reportZones(offset: zone.start, length: 1, filter: .all)
                    }
                }
            }
            try await group.waitForAll()
        }
        for zone in zones {
            #expect(try device.zone(zone.index).writePointer == zone.start + UInt64(blocks * size))
            let last = try device.read(count: size, at: zone.start + UInt64((blocks - 1) * size))
            #expect(last == [UInt8](repeating: UInt8(truncatingIfNeeded: zone.index &+ blocks - 1), count: size))
        }
    }

    @Test("after close every operation throws deviceClosed")
    func closeIsFinal() throws {
        let device = try ZBDDevice(path: Self.devicePath)
        try device.resetAllZones()
        try device.flush()
        try device.close()
        for operation: () throws -> Void in [
            { try device.close() },
            { try device.flush() },
            { _ = try device.reportZones() },
            { try device.resetAllZones() },
            { _ = try device.read(count: device.info.logicalBlockSize, at: 0) },
        ] {
            let error = try #require(throws: ZonedStorageError.self) { try operation() }
            #expect(error.code == .deviceClosed)
        }
    }
}
