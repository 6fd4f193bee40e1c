import Foundation
import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Checklist section A: geometry, limits and zone reports of the emulated device.
@Suite("Checklist A: geometry and zone report")
struct ChecklistGeometryTests {
    @Test("#1 a fresh device reports every zone: conventional first, then EMPTY sequential zones")
    func freshDeviceReport() throws {
        let geometry = TestDevices.geometry(zones: 6, conventional: 2, capacity: 48 << 10)
        try TestDevices.withMemoryDevice(geometry) { device in
            let zones = try device.reportZones()
            try #require(zones.count == 6)
            for (index, zone) in zones.enumerated() {
                #expect(zone.index == index)
                #expect(zone.start == UInt64(index) * (64 << 10))
                #expect(zone.length == 64 << 10)
                #expect(!zone.resetRecommended && !zone.nonSequentialResources)
                if index < 2 {
                    #expect(zone.type == .conventional)
                    #expect(zone.condition == .notWritePointer)
                    #expect(zone.capacity == zone.length)
                } else {
                    #expect(zone.type == .sequentialWriteRequired)
                    #expect(zone.condition == .empty)
                    #expect(zone.writePointer == zone.start)
                    #expect(zone.capacity == 48 << 10)
                }
            }
            #expect(ZoneInvariants.problems(in: zones, info: device.info, usage: device.resourceUsage()).isEmpty)
        }
    }

    @Test("#2 a report starts at the zone containing the offset and is clamped to the device")
    func reportStartAndCount() throws {
        try TestDevices.withMemoryDevice(TestDevices.geometry(zones: 8)) { device in
            let size = device.info.zoneSize
            let middle = try device.reportZones(offset: 3 * size + 4096, length: 2 * size, filter: .all)
            #expect(middle.map(\.index) == [3, 4, 5])
            let tail = try device.reportZones(offset: 6 * size + 8192, length: 10 * size, filter: .all)
            #expect(tail.map(\.index) == [6, 7])
            #expect(try device.reportZones(offset: 8 * size, length: 0, filter: .all).isEmpty)
            #expect(try device.reportZones(offset: .max - 1, length: 4096, filter: .all).isEmpty)
        }
    }

    /// Geometries Linux refuses to expose as zoned (item 5), and two the emulator cannot hold.
    static let invalidGeometries: [(String, EmulatedGeometry)] = [
        ("zone size not a power of two", EmulatedGeometry(zoneCount: 4, zoneSize: 96 << 10)),
        ("capacity above the zone size", EmulatedGeometry(zoneCount: 4, zoneSize: 64 << 10, zoneCapacity: 128 << 10)),
        ("zero capacity", EmulatedGeometry(zoneCount: 4, zoneSize: 64 << 10, zoneCapacity: 0)),
        ("no sequential zone", EmulatedGeometry(zoneCount: 4, zoneSize: 64 << 10, conventionalZones: 4)),
        ("logical block size 1024", EmulatedGeometry(zoneCount: 4, zoneSize: 64 << 10, logicalBlockSize: 1024)),
        ("logical block size 0", EmulatedGeometry(zoneCount: 4, zoneSize: 64 << 10, logicalBlockSize: 0)),
        ("no zones", EmulatedGeometry(zoneCount: 0, zoneSize: 64 << 10)),
        (
            "physical block not a multiple of the logical block",
            EmulatedGeometry(zoneCount: 4, zoneSize: 64 << 10, logicalBlockSize: 4096, physicalBlockSize: 512)
        ),
        (
            "capacity not a multiple of the block size",
            EmulatedGeometry(zoneCount: 4, zoneSize: 64 << 10, zoneCapacity: (48 << 10) + 512)
        ),
        (
            "write granularity not dividing the capacity",
            EmulatedGeometry(
                zoneCount: 4,
                zoneSize: 64 << 10,
                zoneCapacity: 36 << 10,
                logicalBlockSize: 512,
                zoneWriteGranularity: 8192
            )
        ),
        ("zone size smaller than a block", EmulatedGeometry(zoneCount: 4, zoneSize: 2048)),
        ("negative limits", EmulatedGeometry(zoneCount: 4, zoneSize: 64 << 10, maxOpenZones: -1)),
        ("device larger than 2^63 bytes", EmulatedGeometry(zoneCount: 1 << 20, zoneSize: 1 << 50)),
    ]

    @Test("#5 geometries that violate the zone model are refused", arguments: invalidGeometries)
    func invalidGeometryRefused(reason: String, geometry: EmulatedGeometry) {
        let error = #expect(throws: ZonedStorageError.self, "\(reason)") {
            let device = try EmulatedDevice(geometry: geometry)
            try device.close()
        }
        #expect(error?.code == .invalidGeometry, "\(reason)")
        #expect(error?.errno == .invalidArgument, "\(reason)")
    }

    @Test("#5 valid geometries are accepted: capacity below the size, 512-byte blocks, one sequential zone")
    func validGeometriesAccepted() throws {
        let geometries = [
            EmulatedGeometry(zoneCount: 2, zoneSize: 64 << 10, zoneCapacity: 4096, conventionalZones: 1),
            EmulatedGeometry(zoneCount: 3, zoneSize: 1 << 20, logicalBlockSize: 512, physicalBlockSize: 4096),
            EmulatedGeometry(zoneCount: 1, zoneSize: 4096),
        ]
        for geometry in geometries {
            let device = try EmulatedDevice(geometry: geometry)
            #expect(device.invariantProblems.isEmpty)
            try device.close()
        }
    }

    @Test("#6 the device info gives the zone size, zone count, capacity and block sizes")
    func deviceInfo() throws {
        let geometry = EmulatedGeometry(
            zoneCount: 10,
            zoneSize: 1 << 20,
            zoneCapacity: 768 << 10,
            conventionalZones: 1,
            logicalBlockSize: 512,
            physicalBlockSize: 4096,
            maxOpenZones: 2,
            maxActiveZones: 4
        )
        try TestDevices.withMemoryDevice(geometry) { device in
            let info = device.info
            #expect(info.zoneSize == 1 << 20)
            #expect(info.zoneCount == 10)
            #expect(info.capacity == 10 << 20)
            #expect(info.logicalBlockSize == 512)
            #expect(info.physicalBlockSize == 4096)
            #expect(info.maxOpenZones == .limit(2))
            #expect(info.maxActiveZones == .limit(4))
            #expect(info.model == .hostManaged)
            #expect(info.zoneIndex(containing: (3 << 20) + 512) == 3)
        }
    }

    @Test("#7 limits of 0, or at least the number of sequential zones, are reported as no limit")
    func limitsReportedAsUnlimited() throws {
        try TestDevices.withMemoryDevice(TestDevices.geometry(zones: 8, conventional: 2)) { device in
            #expect(device.info.maxOpenZones == .unlimited)
            #expect(device.info.maxActiveZones == .unlimited)
        }
        let large = TestDevices.geometry(zones: 8, conventional: 2, maxOpen: 6, maxActive: 6)
        try TestDevices.withMemoryDevice(large) { device in
            #expect(device.info.maxOpenZones == .unlimited)
            #expect(device.info.maxActiveZones == .unlimited)
            // With no limit nothing is refused: all six sequential zones can be open.
            for index in 2..<8 { try device.openZone(index) }
            #expect(device.resourceUsage() == usage(explicit: 6))
        }
    }

    @Test("#8 every report filter returns exactly the zones in its condition")
    func reportFilters() throws {
        try TestDevices.withMemoryDevice(TestDevices.geometry(zones: 10, conventional: 1)) { device in
            try device.writeBlocks(1)  // IMP_OPEN
            try device.openZone(2)  // EXP_OPEN
            try device.writeBlocks(3)
            try device.closeZone(3)  // CLOSED
            try device.finishZone(4)  // FULL
            try device.setZoneCondition(5, to: .readOnly)
            try device.setZoneCondition(6, to: .offline)
            let expected: [ZoneReportFilter: [Int]] = [
                .all: Array(0..<10), .notWritePointer: [0], .implicitOpen: [1], .explicitOpen: [2],
                .closed: [3], .full: [4], .readOnly: [5], .offline: [6], .empty: [7, 8, 9],
                .resetRecommended: [], .nonSequential: [],
            ]
            for filter in ZoneReportFilter.allCases {
                let zones = try device.reportZones(offset: 0, length: 0, filter: filter)
                #expect(zones.map(\.index) == expected[filter], "filter \(filter)")
            }
        }
    }

    @Test("#9 report ranges are rounded out to zone boundaries, length 0 means to the end")
    func reportRangeArithmetic() throws {
        try TestDevices.withMemoryDevice(TestDevices.geometry(zones: 8)) { (device) throws in
            let size = device.info.zoneSize
            func indices(_ offset: UInt64, _ length: UInt64) throws -> [Int] {
                try device.reportZones(offset: offset, length: length, filter: .all).map(\.index)
            }
            #expect(try indices(size + 4096, 4096) == [1])
            #expect(try indices(size + 4096, size) == [1, 2])
            #expect(try indices(2 * size, size) == [2])
            #expect(try indices(2 * size - 4096, 8192) == [1, 2])
            #expect(try indices(5 * size, 0) == [5, 6, 7])
            #expect(try indices(0, 100 * size) == Array(0..<8))
            #expect(try indices(8 * size, 0) == [])
            #expect(try indices(7 * size, .max) == [7])
        }
    }

    @Test("#11 write pointers: conventional and FULL zones at start+length, READONLY/OFFLINE invalid")
    func writePointersWithoutMeaning() throws {
        let geometry = TestDevices.geometry(zones: 6, conventional: 1, capacity: 48 << 10)
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.fill(1)  // FULL by writes (capacity < size)
            try device.finishZone(2)  // FULL by FINISH
            try device.setZoneCondition(3, to: .readOnly)
            try device.setZoneCondition(4, to: .offline)
            let zones = try device.reportZones()
            #expect(zones[0].writePointer == zones[0].end)
            #expect(zones[1].condition == .full && zones[1].writePointer == zones[1].end)
            #expect(zones[2].condition == .full && zones[2].writePointer == zones[2].end)
            #expect(zones[3].writePointer == Zone.invalidWritePointer)
            #expect(zones[4].writePointer == Zone.invalidWritePointer)
        }
    }

    @Test("#7 a zone limit is encoded as the kernel's number: the limit, 0 for none, null for unknown")
    func limitEncoding() throws {
        let limits: [ZoneResourceLimit] = [.limit(14), .unlimited, .unknown]
        let json = String(decoding: try JSONEncoder().encode(limits), as: UTF8.self)
        #expect(json == "[14,0,null]")
        #expect(try JSONDecoder().decode([ZoneResourceLimit].self, from: Data(json.utf8)) == limits)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([ZoneResourceLimit].self, from: Data("[-1]".utf8))
        }
    }
}
