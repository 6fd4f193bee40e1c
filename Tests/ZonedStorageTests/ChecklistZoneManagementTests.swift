import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Checklist section D: explicit zone management (open, close, finish, reset).
@Suite("Checklist D: zone management")
struct ChecklistZoneManagementTests {
    let geometry = TestDevices.geometry(zones: 8, conventional: 1, capacity: 48 << 10, maxOpen: 3, maxActive: 4)

    @Test("#31 OPEN of an EMPTY zone makes it EXP_OPEN and takes an open and an active slot")
    func openEmptyZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.openZone(1)
            #expect(device.peek(1).condition == .explicitOpen)
            #expect(device.peek(1).writePointer == device.peek(1).start)
            #expect(device.resourceUsage() == usage(explicit: 1))
        }
    }

    @Test("#32 OPEN of an IMP_OPEN zone makes it EXP_OPEN without a resource check")
    func openImplicitlyOpenZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            for index in 1...3 { try device.writeBlocks(index) }
            #expect(device.resourceUsage().open == 3)
            try device.openZone(2)
            #expect(device.peek(2).condition == .explicitOpen)
            #expect(device.peek(2).writePointer == device.peek(2).start + 4096)
            #expect(device.resourceUsage() == usage(implicit: 2, explicit: 1))
            #expect(device.conditions.filter { $0 == .closed }.isEmpty, "nothing was evicted")
        }
    }

    @Test("#33 OPEN of an EXP_OPEN zone is a successful no-op")
    func openExplicitlyOpenZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.openZone(1)
            try device.openZone(1)
            #expect(device.peek(1).condition == .explicitOpen)
            #expect(device.resourceUsage() == usage(explicit: 1))
        }
    }

    @Test("#34 OPEN of a CLOSED zone needs an open slot only, not an active one")
    func openClosedZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.closeZone(1)
            for index in 2...4 { try device.openZone(index) }
            // Active is at its limit (4), open is not (3): opening the CLOSED zone fails only for
            // want of an open slot, and all of them are explicit.
            expectRefusal(.tooManyReferences, zone: 1) { () throws(ZonedStorageError) in try device.openZone(1) }
            try device.closeZone(4)  // EXP_OPEN with nothing written → EMPTY, frees both slots
            try device.openZone(1)
            #expect(device.peek(1).condition == .explicitOpen)
            #expect(device.peek(1).writePointer == device.peek(1).start + 4096)
            #expect(device.resourceUsage() == usage(explicit: 3))
        }
    }

    @Test("#35 OPEN of a FULL zone fails with EIO")
    func openFullZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.finishZone(1)
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in try device.openZone(1) }
            #expect(device.peek(1).condition == .full)
        }
    }

    @Test("#36 CLOSE of an open zone with data makes it CLOSED and frees only the open slot")
    func closeOpenZoneWithData() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.openZone(2)
            try device.writeBlocks(2)
            try device.closeZone(1)
            try device.closeZone(2)
            for index in [1, 2] {
                #expect(device.peek(index).condition == .closed)
                #expect(device.peek(index).writePointer == device.peek(index).start + 4096)
            }
            #expect(device.resourceUsage() == usage(closed: 2))
        }
    }

    @Test("#37 CLOSE of an open zone whose write pointer is at its start makes it EMPTY")
    func closeOpenZoneWithoutData() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.openZone(1)
            // An implicitly open zone without data: a write that failed after opening the zone.
            device.injectFault(.failWrite(nth: 1))
            expectRefusal(.ioError, zone: 2) { () throws(ZonedStorageError) in try device.writeBlocks(2) }
            #expect(device.peek(2).condition == .implicitOpen)
            try device.closeZone(1)
            try device.closeZone(2)
            #expect(device.peek(1).condition == .empty)
            #expect(device.peek(2).condition == .empty)
            #expect(device.resourceUsage() == usage())
        }
    }

    @Test("#38 CLOSE of a CLOSED zone is a successful no-op")
    func closeClosedZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.closeZone(1)
            try device.closeZone(1)
            #expect(device.peek(1).condition == .closed)
            #expect(device.resourceUsage() == usage(closed: 1))
        }
    }

    @Test("#39 CLOSE of an EMPTY zone fails with EIO")
    func closeEmptyZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in try device.closeZone(1) }
            #expect(device.peek(1).condition == .empty)
        }
    }

    @Test("#40 CLOSE of a FULL zone fails with EIO")
    func closeFullZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.fill(1)
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in try device.closeZone(1) }
            #expect(device.peek(1).condition == .full)
        }
    }

    @Test("#41 FINISH of an open zone makes it FULL with the write pointer at the zone end")
    func finishOpenZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.openZone(2)
            try device.finishZone(1)
            try device.finishZone(2)
            for index in [1, 2] {
                #expect(device.peek(index).condition == .full)
                #expect(device.peek(index).writePointer == device.peek(index).end)
            }
            #expect(device.resourceUsage() == usage())
        }
    }

    @Test("#42 FINISH of a CLOSED zone needs an open slot: ETOOMANYREFS when all are explicit")
    func finishClosedZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.closeZone(1)
            for index in 2...4 { try device.openZone(index) }
            expectRefusal(.tooManyReferences, zone: 1) { () throws(ZonedStorageError) in try device.finishZone(1) }
            #expect(device.peek(1).condition == .closed)
            #expect(device.peek(1).writePointer == device.peek(1).start + 4096)
            try device.closeZone(2)
            try device.finishZone(1)
            #expect(device.peek(1).condition == .full)
            #expect(device.resourceUsage() == usage(explicit: 2))
        }
    }

    @Test("#42 FINISH of a CLOSED zone at the open limit closes an implicitly open zone first")
    func finishClosedZoneEvicts() throws {
        let geometry = TestDevices.geometry(zones: 8, conventional: 1, capacity: 48 << 10, maxOpen: 2)
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.closeZone(1)
            try device.writeBlocks(2)
            try device.writeBlocks(3)
            try device.finishZone(1)
            #expect(device.peek(1).condition == .full)
            #expect(device.resourceUsage() == usage(implicit: 1, closed: 1))
        }
    }

    @Test("#43 FINISH of an EMPTY zone makes it FULL after the same resource checks as a write")
    func finishEmptyZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.finishZone(1)
            #expect(device.peek(1).condition == .full)
            #expect(device.peek(1).writePointer == device.peek(1).end)
            #expect(try device.read(count: 8192, at: device.peek(1).start) == [UInt8](repeating: 0, count: 8192))
            // All open slots explicit: ETOOMANYREFS.
            for index in 2...4 { try device.openZone(index) }
            expectRefusal(.tooManyReferences, zone: 5) { () throws(ZonedStorageError) in try device.finishZone(5) }
            // Active limit reached (3 open + 1 closed): EOVERFLOW.
            try device.writeBlocks(2)
            try device.closeZone(2)
            try device.openZone(6)
            #expect(device.resourceUsage().active == 4)
            expectRefusal(.overflow, zone: 5) { () throws(ZonedStorageError) in try device.finishZone(5) }
            #expect(device.peek(5).condition == .empty)
        }
    }

    @Test("#44 FINISH of a FULL zone is a successful no-op")
    func finishFullZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.fill(1)
            try device.finishZone(1)
            #expect(device.peek(1).condition == .full)
            try device.finishZone(2)
            try device.finishZone(2)
            #expect(device.peek(2).condition == .full)
        }
    }

    @Test(
        "#45 RESET makes IMP_OPEN, EXP_OPEN, CLOSED and FULL zones EMPTY and discards their data",
        arguments: [ZoneCondition.implicitOpen, .explicitOpen, .closed, .full]
    )
    func resetZone(from condition: ZoneCondition) throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            if condition == .explicitOpen { try device.openZone(1) }
            try device.writeBlocks(1, 2)
            if condition == .closed { try device.closeZone(1) }
            if condition == .full { try device.finishZone(1) }
            #expect(device.peek(1).condition == condition)
            try device.resetZone(1)
            #expect(device.peek(1).condition == .empty)
            #expect(device.peek(1).writePointer == device.peek(1).start)
            #expect(device.resourceUsage() == usage())
            #expect(try device.read(count: 8192, at: device.peek(1).start) == [UInt8](repeating: 0xFF, count: 8192))
        }
    }

    @Test("#46 RESET of an EMPTY zone is a successful no-op")
    func resetEmptyZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.resetZone(1)
            #expect(device.peek(1).condition == .empty)
        }
    }

    @Test("#47 every zone operation on a conventional zone fails with EIO", arguments: ZoneOperation.allCases)
    func operationOnConventionalZone(_ operation: ZoneOperation) throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            expectRefusal(.ioError, zone: 0) { () throws(ZonedStorageError) in
                try device.manageZones(operation, zones: 0..<1)
            }
            #expect(device.peek(0).condition == .notWritePointer)
        }
    }

    @Test(
        "#48 every zone operation on a READONLY or OFFLINE zone fails with EIO",
        arguments: ZoneOperation.allCases,
        [ZoneCondition.readOnly, .offline]
    )
    func operationOnFaultyZone(_ operation: ZoneOperation, _ condition: ZoneCondition) throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.setZoneCondition(1, to: condition)
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.manageZones(operation, zones: 1..<2)
            }
            #expect(device.peek(1).condition == condition)
            #expect(device.peek(1).writePointer == Zone.invalidWritePointer)
        }
    }

    @Test("#49 a reset of the whole device is RESET ALL: it skips conventional, READONLY and OFFLINE zones")
    func resetAll() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.openZone(2)
            try device.writeBlocks(3)
            try device.closeZone(3)
            try device.finishZone(4)
            try device.setZoneCondition(5, to: .readOnly)
            try device.setZoneCondition(6, to: .offline)
            try device.write(TestData.bytes(tag: 1, count: 4096), at: 0)
            try device.manageZones(.reset, offset: 0, length: 0)
            #expect(
                device.conditions == [.notWritePointer, .empty, .empty, .empty, .empty, .readOnly, .offline, .empty]
            )
            #expect(device.resourceUsage() == usage())
            #expect(try device.read(count: 4096, at: 0) == TestData.bytes(tag: 1, count: 4096))
            // The same through an explicit byte range covering the device.
            try device.writeBlocks(1)
            try device.manageZones(.reset, offset: 0, length: device.info.capacity)
            #expect(device.peek(1).condition == .empty)
        }
    }

    @Test("#50 an operation over several zones is applied zone by zone; failures do not roll back")
    func multiZoneOperation() throws {
        let geometry = TestDevices.geometry(zones: 8, conventional: 1, capacity: 48 << 10)
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(2)
            try device.closeZone(2)
            try device.finishZone(3)
            // OPEN over zones 0-4: conventional 0 and FULL 3 fail, 1, 2 and 4 are opened.
            let error = expectRefusal(.ioError) { () throws(ZonedStorageError) in
                try device.manageZones(.open, zones: 0..<5)
            }
            #expect(error?.zone?.index == 3, "the last failure is reported (blk_next_bio chain)")
            #expect(device.conditions[0..<5] == [.notWritePointer, .explicitOpen, .explicitOpen, .full, .explicitOpen])
            // A reset over a range that is not the whole device is not RESET ALL: zone 0 fails.
            expectRefusal(.ioError, zone: 0) { () throws(ZonedStorageError) in
                try device.manageZones(.reset, zones: 0..<7)
            }
            #expect(device.conditions[1..<7].allSatisfy { $0 == .empty })
        }
    }

    @Test("#52 OPEN and CLOSE leave the write pointer; FINISH moves it to the end, RESET to the start")
    func operationsAndWritePointer() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1, 3)
            let wp = device.peek(1).writePointer
            try device.openZone(1)
            #expect(device.peek(1).writePointer == wp)
            try device.closeZone(1)
            #expect(device.peek(1).writePointer == wp)
            try device.openZone(1)
            #expect(device.peek(1).writePointer == wp)
            try device.finishZone(1)
            #expect(device.peek(1).writePointer == device.peek(1).end)
            try device.resetZone(1)
            #expect(device.peek(1).writePointer == device.peek(1).start)
        }
    }

    @Test("#77 zone operation ranges are rounded to zone boundaries; a range past the end does nothing")
    func operationRangeRounding() throws {
        try TestDevices.withMemoryDevice(TestDevices.geometry(zones: 8, conventional: 1)) { device in
            let size = device.info.zoneSize
            try device.manageZones(.open, offset: size + 4096, length: 4096)
            #expect(device.peek(1).condition == .explicitOpen)
            try device.manageZones(.open, offset: 3 * size - 4096, length: 8192)
            #expect(device.conditions[2...3] == [.explicitOpen, .explicitOpen])
            try device.manageZones(.finish, offset: 8 * size, length: size)
            try device.manageZones(.close, offset: .max - 1, length: 0)
            #expect(device.conditions[4...] == [.empty, .empty, .empty, .empty])
        }
    }

    @Test("zone numbers outside the device are refused with EINVAL before any zone changes")
    func zoneIndicesOutsideTheDevice() throws {
        try TestDevices.withMemoryDevice(TestDevices.tight) { device in
            try device.writeBlocks(3)
            for range in [10..<13, -1..<2, 12..<13] {
                let refused = #expect(throws: ZonedStorageError.self) { try device.manageZones(.reset, zones: range) }
                #expect(refused?.errno == .invalidArgument)
                #expect(refused?.message.contains("0..<12") == true)
            }
            #expect(device.peek(3).condition == .implicitOpen)
        }
    }
}
