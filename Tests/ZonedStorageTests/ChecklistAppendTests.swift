import Dispatch
import Synchronization
import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Checklist section C: zone append.
@Suite("Checklist C: zone append")
struct ChecklistAppendTests {
    let geometry = TestDevices.geometry(zones: 8, conventional: 1, capacity: 48 << 10, maxOpen: 3, maxActive: 4)

    @Test("#27 an append lands at the write pointer, returns it and opens the zone like a write")
    func appendSemantics() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let start = device.info.zoneStart(1)
            let first = TestData.bytes(tag: 1, count: 8192)
            let second = TestData.bytes(tag: 2, count: 4096)
            #expect(try device.append(first, toZoneAt: start) == start)
            #expect(device.peek(1).condition == .implicitOpen)
            #expect(try device.append(second, toZoneAt: start) == start + 8192)
            #expect(device.peek(1).writePointer == start + 12288)
            #expect(try device.read(count: 12288, at: start) == first + second)

            // EXP_OPEN stays EXP_OPEN; CLOSED becomes IMP_OPEN.
            try device.openZone(2)
            _ = try device.append(second, toZoneAt: device.info.zoneStart(2))
            #expect(device.peek(2).condition == .explicitOpen)
            try device.closeZone(1)
            _ = try device.append(second, toZoneAt: start)
            #expect(device.peek(1).condition == .implicitOpen)
            #expect(device.resourceUsage() == usage(implicit: 1, explicit: 1))

            // An append that exactly fills the zone makes it FULL.
            let rest = Int(device.peek(1).remainingCapacity)
            _ = try device.append(TestData.bytes(tag: 3, count: rest), toZoneAt: start)
            #expect(device.peek(1).condition == .full)
        }
    }

    @Test("#27 appends go through the same resource checks as writes")
    func appendResourceChecks() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            for index in 1...4 { try device.writeBlocks(index) }  // 3 open + 1 evicted → CLOSED
            #expect(device.resourceUsage().active == 4)
            expectRefusal(.overflow, zone: 5) { () throws(ZonedStorageError) in
                _ = try device.append(TestData.bytes(tag: 1, count: 4096), toZoneAt: device.info.zoneStart(5))
            }
            #expect(device.peek(5).condition == .empty)
        }
    }

    @Test(
        "#28 appends are refused with EIO when they cannot be placed whole",
        arguments: [
            "not a zone start", "conventional zone", "larger than the zone", "larger than the last zone",
            "larger than the append limit", "full zone", "read-only zone", "offline zone", "does not fit", "no data",
        ]
    )
    func appendRejections(_ situation: String) throws {
        var geometry = self.geometry
        geometry.maxZoneAppendBytes = 16 << 10
        geometry.maxOpenZones = 0
        geometry.maxActiveZones = 0
        try TestDevices.withMemoryDevice(geometry) { device in
            let size = device.info.zoneSize
            var target = device.info.zoneStart(2)
            var count = 4096
            switch situation {
            case "not a zone start": target += 4096
            case "conventional zone": target = 0
            case "larger than the zone": count = Int(size) + 4096
            case "larger than the last zone":
                target = device.info.zoneStart(7)
                count = Int(size) + 4096
            case "larger than the append limit": count = (16 << 10) + 4096
            case "full zone": try device.finishZone(2)
            case "read-only zone": try device.setZoneCondition(2, to: .readOnly)
            case "offline zone": try device.setZoneCondition(2, to: .offline)
            case "does not fit":
                try device.write(TestData.bytes(tag: 1, count: (48 << 10) - 8192), at: target)
                count = 12288
            default: count = 0
            }
            let before = device.inspectZones()
            let zone = Int(target / size)
            expectRefusal(.ioError, zone: zone, "\(situation)") { () throws(ZonedStorageError) in
                _ = try device.append(TestData.bytes(tag: 2, count: count), toZoneAt: target)
            }
            #expect(device.inspectZones() == before, "\(situation): no state change")
        }
    }

    @Test("#28 appends addressed outside the device or misaligned are invalid arguments")
    func appendInvalidArguments() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            expectRefusal(.invalidArgument) { () throws(ZonedStorageError) in
                _ = try device.append(TestData.bytes(tag: 1, count: 4096), toZoneAt: device.info.capacity)
            }
            expectRefusal(.invalidArgument) { () throws(ZonedStorageError) in
                _ = try device.append(TestData.bytes(tag: 1, count: 100), toZoneAt: device.info.zoneStart(1))
            }
            expectRefusal(.invalidArgument) { () throws(ZonedStorageError) in
                _ = try device.append([], toZoneAt: device.info.capacity)
            }
            expectRefusal(.invalidArgument) { () throws(ZonedStorageError) in
                _ = try device.append(TestData.bytes(tag: 1, count: 4096), toZoneAt: device.info.zoneStart(1) + 512)
            }
        }
    }

    @Test("#29 concurrent appends to one zone land at distinct, non-overlapping offsets")
    func concurrentAppends() throws {
        let geometry = EmulatedGeometry(zoneCount: 4, zoneSize: 1 << 20, conventionalZones: 1)
        try TestDevices.withMemoryDevice(geometry) { device in
            let start = device.info.zoneStart(1)
            let appends = 64
            let results = Mutex<[(offset: UInt64, tag: UInt64, count: Int)]>([])
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: appends) { i in
                let count = 4096 * (1 + i % 3)
                let bytes = TestData.bytes(tag: UInt64(i), count: count)
                do {
                    let offset = try device.append(bytes, toZoneAt: start)
                    results.withLock { $0.append((offset, UInt64(i), count)) }
                } catch {
                    failures.withLock { $0.append("append \(i): \(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty)
            let placed = results.withLock { $0 }.sorted { $0.offset < $1.offset }
            try #require(placed.count == appends)
            var expected = start
            for append in placed {
                #expect(append.offset == expected, "appends must tile the zone without gaps or overlaps")
                #expect(
                    try device.read(count: append.count, at: append.offset)
                        == TestData.bytes(tag: append.tag, count: append.count)
                )
                expected = append.offset + UInt64(append.count)
            }
            #expect(device.peek(1).writePointer == expected)
        }
    }
}
