import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Checklist section H: zone capacity smaller than the zone size (ZNS-style).
@Suite("Checklist H: zone capacity below the zone size")
struct ChecklistCapacityTests {
    let geometry = TestDevices.geometry(zones: 6, conventional: 1, capacity: 40 << 10)

    @Test("#72 only [start, start + capacity) can be written; the rest reads but never writes")
    func capacityBoundary() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let zone = try device.zone(1)
            #expect(zone.length == 64 << 10)
            #expect(zone.capacity == 40 << 10)
            let start = zone.start
            try device.write(TestData.bytes(tag: 1, count: 36 << 10), at: start)
            try device.write(TestData.bytes(tag: 2, count: 4096), at: start + (36 << 10))
            #expect(device.peek(1).condition == .full)
            for offset in [start + (40 << 10), start + (60 << 10)] {
                expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                    try device.write(TestData.bytes(tag: 3, count: 4096), at: offset)
                }
            }
            #expect(try device.read(count: 24 << 10, at: start + (40 << 10)).count == 24 << 10)
            // An EMPTY zone: the gap reads fine and does not open the zone.
            _ = try device.read(count: 24 << 10, at: device.info.zoneStart(2) + (40 << 10))
            expectRefusal(.ioError, zone: 2) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 3, count: 4096), at: device.info.zoneStart(2) + (40 << 10))
            }
            #expect(device.peek(2).condition == .empty)
        }
    }

    @Test("#73 no write can cross from a capacity-limited zone into the next one")
    func noCrossingFromCapacityLimitedZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let start = device.info.zoneStart(1)
            try device.write(TestData.bytes(tag: 1, count: (40 << 10) - 4096), at: start)
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 2, count: 8192), at: start + (40 << 10) - 4096)
            }
            #expect(device.peek(1).condition == .implicitOpen)
            #expect(device.peek(1).writePointer == start + (40 << 10) - 4096)
            #expect(device.peek(2).condition == .empty)
        }
    }

    @Test("#74 FINISH with capacity below size: FULL, write pointer at start + size, capacity kept")
    func finishWithSmallCapacity() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.finishZone(1)
            let zone = try device.zone(1)
            #expect(zone.condition == .full)
            #expect(zone.writePointer == zone.start + zone.length)
            #expect(zone.capacity == 40 << 10)
        }
    }
}
