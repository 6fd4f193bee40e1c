import Foundation
import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// The metadata-only mode: zone state without data, for simulating very large drives.
@Suite("Metadata-only emulated devices")
struct EmulatorMetadataOnlyTests {
    /// A 20 TB host-managed SMR drive: 74 506 zones of 256 MiB (the last partial zone dropped).
    static let smr20TB = EmulatedGeometry(
        zoneCount: Int(20_000_000_000_000 / (256 << 20)),
        zoneSize: 256 << 20,
        conventionalZones: 64,
        logicalBlockSize: 4096,
        maxOpenZones: 128
    )

    @Test("a 20 TB SMR drive of 256 MiB zones stays well under 100 MiB while every zone is written")
    func twentyTerabytesFitInLittleMemory() async {
        // Measured in a fresh process, so that other tests running in parallel do not count.
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            let before = ProcessMemory.residentBytes() ?? 0
            let device = try EmulatedDevice(geometry: Self.smr20TB, storage: .metadataOnly)
            let info = device.info
            let block = [UInt8](repeating: 0xA5, count: 1 << 20)
            let first = Self.smr20TB.conventionalZones
            // Four zones are filled to capacity by 1 MiB writes ...
            for index in first..<first + 4 {
                for _ in 0..<Int(Self.smr20TB.zoneSize >> 20) {
                    try device.write(block, at: try device.zone(index).writePointer)
                }
            }
            // ... and every other sequential zone gets data and is left in some condition.
            for index in first + 4..<info.zoneCount {
                try device.write(block, at: info.zoneStart(index))
                switch index % 4 {
                case 0: try device.finishZone(index)
                case 1: try device.closeZone(index)
                default: break  // implicitly open, closed again by null_blk's eviction
                }
            }
            try device.flush()
            let zones = try device.reportZones()
            let used = (ProcessMemory.residentBytes() ?? UInt64.max) - before
            print("20 TB metadata-only device: \(zones.count) zones, resident growth \(used >> 20) MiB")
            guard zones.count == Self.smr20TB.zoneCount,
                zones[first..<first + 4].allSatisfy({ $0.condition == .full }),
                zones.filter({ $0.condition == .closed }).count > 18_000,
                used < 100 << 20
            else { exit(1) }
            try device.close()
        }
        // The child's measurement, for the README's numbers (`swift test --filter twentyTerabytes`).
        if let output = result?.standardOutputContent { print(String(decoding: output, as: UTF8.self), terminator: "") }
    }

    @Test("a metadata-only device keeps write pointers and conditions, and reads back zeros")
    func keepsStateWithoutData() throws {
        let device = try EmulatedDevice(geometry: TestDevices.tight, storage: .metadataOnly)
        defer { try? device.close() }
        let start = device.info.zoneStart(3)
        try device.write(TestData.bytes(tag: 9, count: 8192), at: start)
        #expect(device.peek(3).writePointer == start + 8192)
        #expect(device.peek(3).condition == .implicitOpen)
        #expect(try device.read(count: 8192, at: start) == [UInt8](repeating: 0, count: 8192))
        // The zone rules still hold: a write off the write pointer is refused.
        let refused = #expect(throws: ZonedStorageError.self) {
            try device.write(TestData.bytes(tag: 1, count: 4096), at: start)
        }
        #expect(refused?.errno == .ioError)
    }
}
