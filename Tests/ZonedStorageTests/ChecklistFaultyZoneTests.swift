import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Checklist section G: READONLY and OFFLINE zones (null_blk's configfs `zone_readonly` /
/// `zone_offline`, here `EmulatedDevice.setZoneCondition(_:to:)`).
@Suite("Checklist G: READONLY and OFFLINE zones")
struct ChecklistFaultyZoneTests {
    let geometry = TestDevices.geometry(zones: 8, conventional: 1, capacity: 48 << 10, maxOpen: 3, maxActive: 4)

    @Test(
        "#69 a zone turned READONLY or OFFLINE first releases its slots; .empty brings it back EMPTY",
        arguments: [ZoneCondition.readOnly, .offline]
    )
    func enteringFaultyCondition(_ condition: ZoneCondition) throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.openZone(1)
            try device.writeBlocks(1, 2)
            try device.writeBlocks(2)
            try device.closeZone(2)
            #expect(device.resourceUsage() == usage(explicit: 1, closed: 1))
            try device.setZoneCondition(1, to: condition)
            try device.setZoneCondition(2, to: condition)
            for index in [1, 2] {
                #expect(device.peek(index).condition == condition)
                #expect(device.peek(index).writePointer == Zone.invalidWritePointer)
            }
            #expect(device.resourceUsage() == usage())
            #expect(device.invariantProblems.isEmpty)
            try device.setZoneCondition(1, to: .empty)
            #expect(device.peek(1).condition == .empty)
            #expect(device.peek(1).writePointer == device.info.zoneStart(1))
            #expect(try device.read(count: 8192, at: device.info.zoneStart(1)) == [UInt8](repeating: 0xFF, count: 8192))
            try device.writeBlocks(1)
        }
    }

    @Test("#69 only sequential zones can be made READONLY or OFFLINE")
    func conventionalZoneCannotBeFaulty() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let conventional = #expect(throws: ZonedStorageError.self) { try device.setZoneCondition(0, to: .readOnly) }
            #expect(conventional?.errno == .invalidArgument)
            let outOfRange = #expect(throws: ZonedStorageError.self) { try device.setZoneCondition(8, to: .offline) }
            #expect(outOfRange?.errno == .invalidArgument)
            let wrongCondition = #expect(throws: ZonedStorageError.self) { try device.setZoneCondition(1, to: .full) }
            #expect(wrongCondition?.errno == .invalidArgument)
        }
    }

    @Test("#69 setting EMPTY on a zone that is not READONLY or OFFLINE keeps its data")
    func emptyOnHealthyZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let data = try device.writeBlocks(1, 2)
            let before = device.inspectZones()
            do throws(ZonedStorageError) {
                try device.setZoneCondition(1, to: .empty)
            } catch {
                #expect(error.errno == .invalidArgument)
            }
            #expect(device.inspectZones() == before)
            #expect(try device.read(count: 8192, at: device.info.zoneStart(1)) == data)
            try device.setZoneCondition(2, to: .empty)  // already EMPTY: nothing to do
            #expect(device.peek(2).condition == .empty)
        }
    }

    @Test("#70 a READONLY zone refuses writes and zone operations but reads its old data")
    func readOnlyZoneIO() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let data = try device.writeBlocks(1, 3)
            try device.setZoneCondition(1, to: .readOnly)
            let start = device.info.zoneStart(1)
            expectRefusal(.ioError, zone: 1, "write at the old write pointer") { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 4096), at: start + 12288)
            }
            expectRefusal(.ioError, zone: 1, "write at the start") { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 4096), at: start)
            }
            expectRefusal(.ioError, zone: 1, "append") { () throws(ZonedStorageError) in
                _ = try device.append(TestData.bytes(tag: 1, count: 4096), toZoneAt: start)
            }
            for operation in ZoneOperation.allCases {
                expectRefusal(.ioError, zone: 1, "\(operation)") { () throws(ZonedStorageError) in
                    try device.manageZones(operation, zones: 1..<2)
                }
            }
            let bytes = try device.read(count: 64 << 10, at: start)
            #expect(Array(bytes[0..<12288]) == data)
            #expect(bytes[12288...].allSatisfy { $0 == 0 }, "never-written blocks of a read-only zone read zeros")
            try device.resetAllZones()
            #expect(device.peek(1).condition == .readOnly)
            #expect(device.resourceUsage() == usage())
        }
    }

    @Test("#71 an OFFLINE zone refuses reads, writes and zone operations; RESET ALL skips it")
    func offlineZoneIO() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1, 2)
            try device.setZoneCondition(1, to: .offline)
            let start = device.info.zoneStart(1)
            expectRefusal(.ioError, zone: 1, "read") { () throws(ZonedStorageError) in
                _ = try device.read(count: 4096, at: start)
            }
            expectRefusal(.ioError, zone: 1, "read across zones") { () throws(ZonedStorageError) in
                _ = try device.read(count: 8192, at: start - 4096)
            }
            expectRefusal(.ioError, zone: 1, "write") { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 4096), at: start)
            }
            expectRefusal(.ioError, zone: 1, "append") { () throws(ZonedStorageError) in
                _ = try device.append(TestData.bytes(tag: 1, count: 4096), toZoneAt: start)
            }
            for operation in ZoneOperation.allCases {
                expectRefusal(.ioError, zone: 1, "\(operation)") { () throws(ZonedStorageError) in
                    try device.manageZones(operation, zones: 1..<2)
                }
            }
            try device.resetAllZones()
            #expect(device.peek(1).condition == .offline)
        }
    }
}
