import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Checklist section F: reads.
@Suite("Checklist F: reads")
struct ChecklistReadTests {
    let geometry = TestDevices.geometry(zones: 8, conventional: 1, capacity: 48 << 10, maxOpen: 2)

    @Test("#63 a read below the write pointer returns the data written")
    func readBelowWritePointer() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let first = try device.writeBlocks(1, 3, tag: 1)
            let second = try device.writeBlocks(1, 2, tag: 2)
            let start = device.info.zoneStart(1)
            #expect(try device.read(count: 5 * 4096, at: start) == first + second)
            #expect(try device.read(count: 4096, at: start + 8192) == Array(first[8192...]))
        }
    }

    @Test("#64 a conventional zone reads zeros where it was never written")
    func readConventionalZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            #expect(try device.read(count: 16384, at: 0) == [UInt8](repeating: 0, count: 16384))
            let data = TestData.bytes(tag: 1, count: 4096)
            try device.write(data, at: 8192)
            #expect(
                try device.read(count: 12288, at: 4096) == [UInt8](repeating: 0, count: 4096) + data
                    + [UInt8](repeating: 0, count: 4096)
            )
        }
    }

    @Test("#65 a read at or beyond the write pointer succeeds with the 0xFF fill and changes nothing")
    func readBeyondWritePointer() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let start = device.info.zoneStart(1)
            #expect(try device.read(count: 8192, at: start) == [UInt8](repeating: 0xFF, count: 8192))
            let data = try device.writeBlocks(1, 1)
            let straddling = try device.read(count: 8192, at: start)
            #expect(straddling == data + [UInt8](repeating: 0xFF, count: 4096))
            // The gap between capacity and size of a zone filled by writes reads the fill too.
            try device.fill(2)
            let gap = try device.read(count: 16 << 10, at: device.info.zoneStart(2) + (48 << 10))
            #expect(gap == [UInt8](repeating: 0xFF, count: 16 << 10))
            #expect(device.peek(1).condition == .implicitOpen)
            #expect(device.peek(1).writePointer == start + 4096)
        }
    }

    @Test("#66 a zone finished while partly written reads zeros between its data and its end")
    func readFinishedZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let data = try device.writeBlocks(1, 2)
            try device.finishZone(1)
            let start = device.info.zoneStart(1)
            let zone = try device.read(count: 64 << 10, at: start)
            #expect(Array(zone[0..<8192]) == data)
            #expect(zone[8192...].allSatisfy { $0 == 0 })
        }
    }

    @Test("#67 a read crossing zone boundaries succeeds and returns each zone's content")
    func readAcrossZones() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let conventional = TestData.bytes(tag: 1, count: 4096)
            try device.write(conventional, at: (64 << 10) - 4096)
            let data = try device.writeBlocks(1, 1)
            let bytes = try device.read(count: 12288, at: (64 << 10) - 4096)
            #expect(bytes == conventional + data + [UInt8](repeating: 0xFF, count: 4096))
        }
    }

    @Test("#68 reads never change zone state or take resources, even at the open limit")
    func readsChangeNothing() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.writeBlocks(2)
            try device.writeBlocks(3)  // evicts zone 1
            let before = device.inspectZones()
            let counts = device.resourceUsage()
            for index in 0..<8 {
                _ = try device.read(count: 64 << 10, at: device.info.zoneStart(index))
            }
            _ = try device.read(count: Int(device.info.capacity), at: 0)
            #expect(device.inspectZones() == before)
            #expect(device.resourceUsage() == counts)
        }
    }
}
