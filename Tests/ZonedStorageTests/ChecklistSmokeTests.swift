import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Checklist item 80: the smoke sequence from blktests, libzbc and fio, run on the emulator.
@Suite("Checklist I: smoke sequence")
struct ChecklistSmokeTests {
    @Test("#80 the smoke sequence passes: report, reset/write, boundary, open limit, active limit, sticky error")
    func smokeSequence() throws {
        // Capacity == size so that step (3) can cross a zone boundary.
        let geometry = TestDevices.geometry(zones: 16, conventional: 2, maxOpen: 3, maxActive: 5)
        try TestDevices.withMemoryDevice(geometry) { device in
            let size = device.info.zoneSize
            let block = UInt64(device.info.physicalBlockSize)
            // (1) Report all zones and check the invariants of items 1 and 5.
            #expect(ZoneInvariants.problems(of: device).isEmpty)

            // (2) Reset 2 adjacent sequential zones, write 4 KiB at each start, check, reset.
            try device.manageZones(.reset, zones: 2..<4)
            for index in 2..<4 {
                try device.write(TestData.bytes(tag: 1, count: 4096), at: device.info.zoneStart(index))
                #expect(try device.zone(index).writePointer == device.info.zoneStart(index) + 4096)
            }
            try device.manageZones(.reset, zones: 2..<4)
            for index in 2..<4 { #expect(try device.zone(index).writePointer == device.info.zoneStart(index)) }

            // (3) Fill zone 4 but one block, write 2 blocks across into zone 5.
            try device.write(TestData.bytes(tag: 2, count: Int(size - block)), at: 4 * size)
            try device.write(TestData.bytes(tag: 3, count: Int(2 * block)), at: 5 * size - block)
            #expect(try device.zone(4).condition == .full)
            #expect(try device.zone(5).writePointer == 5 * size + block)
            try device.resetAllZones()

            // (4) With max open M = 3, writing 2M EMPTY zones is fine (implicit opens are evicted),
            // as long as the active limit allows: 5 active.
            for index in 2..<7 { try device.writeBlocks(index) }
            #expect(device.resourceUsage().open == 3)
            try device.resetAllZones()
            for index in 2..<8 {
                try device.writeBlocks(index)
                try device.finishZone(index)
            }
            try device.resetAllZones()

            // (5) Open M zones explicitly: then write, open or finish of another EMPTY zone fails.
            for index in 2..<5 { try device.openZone(index) }
            expectRefusal(.tooManyReferences, zone: 5) { () throws(ZonedStorageError) in try device.writeBlocks(5) }
            expectRefusal(.tooManyReferences, zone: 6) { () throws(ZonedStorageError) in try device.openZone(6) }
            expectRefusal(.tooManyReferences, zone: 7) { () throws(ZonedStorageError) in try device.finishZone(7) }
            try device.resetAllZones()

            // (6) Fill the active slots, then a new EMPTY zone gets EOVERFLOW.
            for index in 2..<7 {
                try device.writeBlocks(index)
                try device.closeZone(index)
            }
            expectRefusal(.overflow, zone: 7) { () throws(ZonedStorageError) in try device.writeBlocks(7) }
            try device.resetAllZones()

            // (7) A misplaced write is EIO, then the true write pointer too until a report.
            try device.writeBlocks(8)
            let wp = device.peek(8).writePointer
            expectRefusal(.ioError, zone: 8) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 4, count: 4096), at: wp + 4096)
            }
            expectRefusal(.ioError, zone: 8) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 4, count: 4096), at: wp)
            }
            #expect(try device.zone(8).writePointer == wp)
            try device.write(TestData.bytes(tag: 4, count: 4096), at: wp)
            #expect(ZoneInvariants.problems(of: device).isEmpty)
        }
    }
}
