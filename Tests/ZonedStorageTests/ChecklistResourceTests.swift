import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Checklist section E: open / active zone accounting, null_blk's rules.
@Suite("Checklist E: open and active zone resources")
struct ChecklistResourceTests {
    /// max open 3, max active 4, zones 1-9 sequential.
    let geometry = TestDevices.geometry(zones: 10, conventional: 1, capacity: 48 << 10, maxOpen: 3, maxActive: 4)

    @Test("#54 open counts IMP_OPEN and EXP_OPEN zones, active adds CLOSED ones, nothing else counts")
    func whatCounts() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.openZone(2)
            try device.writeBlocks(3)
            try device.closeZone(3)
            try device.fill(4)
            try device.finishZone(5)
            try device.setZoneCondition(6, to: .readOnly)
            try device.setZoneCondition(7, to: .offline)
            try device.write(TestData.bytes(tag: 1, count: 4096), at: 0)
            let counts = device.resourceUsage()
            #expect(counts == usage(implicit: 1, explicit: 1, closed: 1))
            #expect(counts.open == 2)
            #expect(counts.active == 3)
            #expect(device.invariantProblems.isEmpty)
        }
    }

    /// (requested open, requested active, sequential zones, reported open, reported active).
    static let clampCases: [(Int, Int, Int, ZoneResourceLimit, ZoneResourceLimit)] = [
        (4, 2, 8, .limit(2), .limit(2)),  // open > active: clamped to active
        (12, 5, 10, .limit(5), .limit(5)),  // open > active and ≥ sequential: still clamped to active
        (7, 5, 6, .limit(5), .limit(5)),
        (3, 12, 10, .limit(3), .unlimited),  // active ≥ sequential: no active limit
        (10, 0, 10, .unlimited, .unlimited),  // open ≥ sequential: no open limit
        (9, 0, 10, .limit(9), .unlimited),
        (0, 3, 10, .unlimited, .limit(3)),
        (0, 0, 10, .unlimited, .unlimited),
    ]

    @Test("#55 limits are clamped as null_blk does", arguments: clampCases)
    func limitClamps(
        open: Int,
        active: Int,
        sequential: Int,
        reportedOpen: ZoneResourceLimit,
        reportedActive: ZoneResourceLimit
    ) throws {
        let geometry = TestDevices.geometry(zones: sequential + 1, conventional: 1, maxOpen: open, maxActive: active)
        try TestDevices.withMemoryDevice(geometry) { device in
            #expect(
                device.info.maxOpenZones == reportedOpen,
                "open \(open), active \(active), \(sequential) sequential"
            )
            #expect(
                device.info.maxActiveZones == reportedActive,
                "open \(open), active \(active), \(sequential) sequential"
            )
        }
    }

    @Test("#56 writing an EMPTY zone at the open limit closes one implicitly open zone")
    func implicitOpenEviction() throws {
        let geometry = TestDevices.geometry(zones: 10, conventional: 1, capacity: 48 << 10, maxOpen: 3)
        try TestDevices.withMemoryDevice(geometry) { device in
            for index in 1...3 { try device.writeBlocks(index) }
            try device.writeBlocks(4)
            #expect(device.resourceUsage() == usage(implicit: 3, closed: 1))
            #expect(device.conditions[1...4].filter { $0 == .closed }.count == 1)
            #expect(device.peek(4).condition == .implicitOpen)
            // null_blk's victims go round robin: 1, then 2, then 3.
            #expect(device.peek(1).condition == .closed)
            try device.writeBlocks(5)
            #expect(device.peek(2).condition == .closed)
            // A write to a CLOSED zone evicts too; EXP_OPEN zones are never closed.
            try device.openZone(4)
            try device.writeBlocks(1)
            #expect(device.peek(3).condition == .closed)
            #expect(device.peek(4).condition == .explicitOpen)
            #expect(device.resourceUsage() == usage(implicit: 2, explicit: 1, closed: 2))
        }
    }

    @Test("#56 explicit OPEN and FINISH of an EMPTY zone also evict; a victim without data becomes EMPTY")
    func evictionByOpenAndFinish() throws {
        let geometry = TestDevices.geometry(zones: 10, conventional: 1, capacity: 48 << 10, maxOpen: 2)
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            device.injectFault(.failWrite(nth: 1))
            expectRefusal(.ioError, zone: 2) { () throws(ZonedStorageError) in try device.writeBlocks(2) }
            #expect(device.resourceUsage() == usage(implicit: 2))
            try device.openZone(3)  // evicts zone 1 → CLOSED
            #expect(device.peek(1).condition == .closed)
            try device.finishZone(4)  // evicts zone 2, which has no data → EMPTY
            #expect(device.peek(2).condition == .empty)
            #expect(device.peek(4).condition == .full)
            #expect(device.resourceUsage() == usage(explicit: 1, closed: 1))
        }
    }

    @Test("#57 with every open slot held by EXP_OPEN zones, new zones get ETOOMANYREFS")
    func allOpenSlotsExplicit() throws {
        // Room for one more active zone, so that only the open limit refuses.
        let geometry = TestDevices.geometry(zones: 10, conventional: 1, capacity: 48 << 10, maxOpen: 3, maxActive: 5)
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(5)
            try device.closeZone(5)  // a CLOSED target
            for index in 1...3 { try device.openZone(index) }
            let before = device.inspectZones()
            for target in [4, 5] {
                let start = device.peek(target).writePointer
                expectRefusal(.tooManyReferences, zone: target, "write") { () throws(ZonedStorageError) in
                    try device.write(TestData.bytes(tag: 1, count: 4096), at: start)
                }
                expectRefusal(.tooManyReferences, zone: target, "open") { () throws(ZonedStorageError) in
                    try device.openZone(target)
                }
                expectRefusal(.tooManyReferences, zone: target, "finish") { () throws(ZonedStorageError) in
                    try device.finishZone(target)
                }
            }
            #expect(device.inspectZones() == before)
            for index in 1...3 { try device.writeBlocks(index) }
            try device.closeZone(1)
            _ = try device.zone(4)  // refresh after the failed write (item 25)
            try device.writeBlocks(4)
            #expect(device.peek(4).condition == .implicitOpen)
        }
    }

    @Test("#58 at the active limit, an EMPTY zone gets EOVERFLOW for write, open and finish, without eviction")
    func activeLimitReached() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            for index in 1...4 { try device.writeBlocks(index) }  // 3 open + 1 closed by eviction
            #expect(device.resourceUsage() == usage(implicit: 3, closed: 1))
            let before = device.inspectZones()
            expectRefusal(.overflow, zone: 5, "write") { () throws(ZonedStorageError) in try device.writeBlocks(5) }
            expectRefusal(.overflow, zone: 5, "open") { () throws(ZonedStorageError) in try device.openZone(5) }
            expectRefusal(.overflow, zone: 5, "finish") { () throws(ZonedStorageError) in try device.finishZone(5) }
            #expect(device.inspectZones() == before, "no eviction, zone 5 EMPTY")
        }
    }

    @Test("#59 at the active limit, a CLOSED zone can still be written when an open slot is free")
    func activeLimitClosedTarget() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            for index in 1...4 { try device.writeBlocks(index) }
            try device.closeZone(2)
            #expect(device.resourceUsage() == usage(implicit: 2, closed: 2))
            try device.writeBlocks(2)
            #expect(device.peek(2).condition == .implicitOpen)
            #expect(device.resourceUsage() == usage(implicit: 3, closed: 1))
        }
    }

    @Test("#60 with open and active both saturated, a CLOSED zone gets ETOOMANYREFS (no eviction)")
    func openAndActiveSaturated() throws {
        let geometry = TestDevices.geometry(zones: 10, conventional: 1, capacity: 48 << 10, maxOpen: 2, maxActive: 3)
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(3)
            try device.closeZone(3)
            try device.writeBlocks(1)
            try device.writeBlocks(2)
            #expect(device.resourceUsage() == usage(implicit: 2, closed: 1))
            let before = device.inspectZones()
            expectRefusal(.tooManyReferences, zone: 3, "write") { () throws(ZonedStorageError) in
                try device.writeBlocks(3)
            }
            expectRefusal(.tooManyReferences, zone: 3, "open") { () throws(ZonedStorageError) in try device.openZone(3)
            }
            #expect(device.inspectZones() == before)
        }
    }

    @Test("#61 FULL, FINISH, RESET and CLOSE-to-EMPTY release slots; CLOSE of a written zone only the open one")
    func resourcesReleased() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.openZone(1)
            try device.writeBlocks(2)
            try device.writeBlocks(3)
            #expect(device.resourceUsage() == usage(implicit: 2, explicit: 1))
            try device.fill(2)
            #expect(device.resourceUsage() == usage(implicit: 1, explicit: 1))
            try device.finishZone(3)
            #expect(device.resourceUsage() == usage(explicit: 1))
            try device.writeBlocks(4)
            try device.resetZone(4)
            #expect(device.resourceUsage() == usage(explicit: 1))
            try device.closeZone(1)  // nothing written: EMPTY, both slots freed
            #expect(device.resourceUsage() == usage())
            try device.writeBlocks(5)
            try device.closeZone(5)
            #expect(device.resourceUsage() == usage(closed: 1))
            // After the releases, three new zones open without any eviction.
            for index in 6...8 { try device.openZone(index) }
            #expect(device.resourceUsage() == usage(explicit: 3, closed: 1))
        }
    }

    @Test("#62 a refusal for want of resources changes nothing and writes no data")
    func limitErrorsHaveNoSideEffects() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            for index in 1...3 { try device.openZone(index) }
            let start = device.info.zoneStart(4)
            expectRefusal(.tooManyReferences, zone: 4) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 8192), at: start)
            }
            #expect(device.peek(4).condition == .empty)
            #expect(device.peek(4).writePointer == start)
            #expect(device.resourceUsage() == usage(explicit: 3))
            #expect(try device.read(count: 8192, at: start) == [UInt8](repeating: 0xFF, count: 8192))
        }
    }
}
