import SystemPackage
import Testing
import ZoneAllocTestSupport

@testable import ZonedStorage

/// The volatile write cache of a file-backed device: sequential-zone data goes to the image at
/// once (it lands where nothing durable lies), and only the write pointer waits for the flush;
/// conventional-zone data, which overwrites durable data, waits in memory.
@Suite("Emulated device write cache")
struct EmulatorWriteCacheTests {
    static let geometry = TestDevices.geometry(zones: 6, conventional: 1, capacity: 48 << 10, maxOpen: 3, maxActive: 5)

    /// The bytes of the image file at device offset `offset`.
    static func imageBytes(_ path: String, offset: UInt64, count: Int) throws -> [UInt8] {
        let fd = try FileDescriptor.open(FilePath(path), .readOnly)
        defer { try? fd.close() }
        var bytes = [UInt8](repeating: 0, count: count)
        let dataOffset = EmulatedImageFormat.dataOffset(zoneCount: geometry.zoneCount)
        _ = try bytes.withUnsafeMutableBytes { raw in
            try fd.read(fromAbsoluteOffset: Int64(dataOffset + offset), into: raw)
        }
        return bytes
    }

    @Test("sequential data is in the image before the flush; a power loss rolls back only the write pointer")
    func sequentialDataGoesStraightToTheImage() throws {
        try TestDevices.withFileDevice(Self.geometry, options: .init(writeCache: .volatile)) { device, path in
            let start = device.info.zoneStart(2)
            let flushed = TestData.bytes(tag: 1, count: 8192)
            let cached = TestData.bytes(tag: 2, count: 16384)
            var lost = false
            for seed in UInt64(0)..<32 where !lost {
                try device.resetZone(2)
                try device.write(flushed, at: start)
                try device.flush()
                try device.write(cached, at: start + 8192)
                // No copy waits in memory: the image holds the unflushed bytes already.
                #expect(try Self.imageBytes(path, offset: start + 8192, count: 16384) == cached)
                #expect(try device.read(count: 24576, at: start) == flushed + cached)
                try device.simulatePowerLoss(seed: seed)
                let zone = device.peek(2)
                #expect(zone.writePointer >= start + 8192 && zone.writePointer <= start + 24576)
                let kept = Int(zone.writePointer - start)
                #expect(try device.read(count: kept, at: start) == Array((flushed + cached).prefix(kept)))
                if zone.writePointer == start + 8192 {
                    // Everything unflushed lost: what lies beyond the write pointer reads as the
                    // fill pattern, not as the bytes still in the image.
                    lost = true
                    #expect(try device.read(count: 8192, at: start + 8192) == [UInt8](repeating: 0xFF, count: 8192))
                    #expect(try Self.imageBytes(path, offset: start + 8192, count: 8192) == Array(cached.prefix(8192)))
                }
            }
            #expect(lost, "no seed rolled the zone back to its flushed write pointer")
        }
    }

    @Test("conventional blocks wait in memory until the flush: a power loss may bring the old bytes back")
    func conventionalBlocksWait() throws {
        try TestDevices.withFileDevice(Self.geometry, options: .init(writeCache: .volatile)) { device, path in
            let old = TestData.bytes(tag: 3, count: 4096)
            try device.write(old, at: 0)
            try device.flush()
            let new = TestData.bytes(tag: 4, count: 4096)
            try device.write(new, at: 0)
            #expect(try Self.imageBytes(path, offset: 0, count: 4096) == old)
            #expect(try device.read(count: 4096, at: 0) == new)
            try device.flush()
            #expect(try Self.imageBytes(path, offset: 0, count: 4096) == new)
        }
    }
}
