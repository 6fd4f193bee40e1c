import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Where the emulator's NVMe ZNS and SCSI ZBC profiles differ from null_blk (checklist items 79,
/// 35–43, 56–60, 65; qemu-zoned-notes.md). Every test names the checklist items it covers.
@Suite("Emulator profiles: where NVMe ZNS and SCSI ZBC differ from null_blk")
struct EmulatorProfileTests {
    typealias Profile = EmulatedDevice.Profile

    /// 8 zones of 64 KiB with 4 KiB blocks; one conventional zone except on ZNS; no active limit
    /// on ZBC.
    static func geometry(_ profile: Profile, maxOpen: Int = 3, maxActive: Int = 4) -> EmulatedGeometry {
        TestDevices.geometry(
            zones: 8,
            conventional: profile == .zns ? 0 : 1,
            maxOpen: maxOpen,
            maxActive: profile == .zbc ? 0 : maxActive
        )
    }

    /// Runs `body` with a memory-backed device of `profile` and the index of its first sequential
    /// zone.
    static func withDevice(
        _ profile: Profile,
        _ geometry: EmulatedGeometry? = nil,
        options: EmulatedDevice.Options = .init(),
        _ body: (EmulatedDevice, Int) throws -> Void
    ) throws {
        let geometry = geometry ?? Self.geometry(profile)
        let device = try EmulatedDevice(geometry: geometry, profile: profile, options: options)
        defer { try? device.close() }
        try body(device, geometry.conventionalZones)
    }

    /// CLOSE of an unwritten EXP_OPEN zone: EMPTY on null_blk and ZBC, CLOSED and still active on
    /// ZNS (qemu-zoned-notes.md measured it on all three).
    @Test("#37 CLOSE of an unwritten EXP_OPEN zone", arguments: Profile.allCases)
    func closeUnwrittenZone(profile: Profile) throws {
        try Self.withDevice(profile) { device, s in
            try device.openZone(s)
            try device.closeZone(s)
            let zone = device.peek(s)
            #expect(zone.writePointer == zone.start)
            if profile == .zns {
                #expect(zone.condition == .closed)
                #expect(device.resourceUsage() == usage(closed: 1))
            } else {
                #expect(zone.condition == .empty)
                #expect(device.resourceUsage() == usage())
            }
        }
    }

    @Test("#35 OPEN of a FULL zone: EIO, or success on ZBC (stays FULL)", arguments: Profile.allCases)
    func openFullZone(profile: Profile) throws {
        try Self.withDevice(profile) { device, s in
            try device.finishZone(s)
            if profile == .zbc {
                try device.openZone(s)
            } else {
                expectRefusal(.ioError, zone: s) { () throws(ZonedStorageError) in try device.openZone(s) }
            }
            #expect(device.peek(s).condition == .full)
            #expect(device.resourceUsage() == usage())
        }
    }

    @Test("#39 #40 CLOSE of an EMPTY or FULL zone: EIO, or a no-op success on ZBC", arguments: Profile.allCases)
    func closeZonesThatAreNotOpen(profile: Profile) throws {
        try Self.withDevice(profile) { device, s in
            try device.finishZone(s + 1)
            for (zone, condition) in [(s, ZoneCondition.empty), (s + 1, .full)] {
                if profile == .zbc {
                    try device.closeZone(zone)
                } else {
                    expectRefusal(.ioError, zone: zone) { () throws(ZonedStorageError) in try device.closeZone(zone) }
                }
                #expect(device.peek(zone).condition == condition)
            }
        }
    }

    @Test("#15 #16 #18 #47 device refusals: EREMOTEIO on ZBC, EIO elsewhere", arguments: Profile.allCases)
    func refusalErrno(profile: Profile) throws {
        let errno: Errno = profile == .zbc ? .remoteIOError : .ioError
        // Without sticky write errors (Debian 6.1, item 25), each refusal is the device's own.
        try Self.withDevice(profile, options: .init(stickyWriteErrors: false)) { device, s in
            try device.writeBlocks(s, 2)
            let start = device.peek(s).start
            let block = [UInt8](repeating: 1, count: 4096)
            expectRefusal(errno, zone: s, "#15 ahead of the wp") { () throws(ZonedStorageError) in
                try device.write(block, at: start + 3 * 4096)
            }
            expectRefusal(errno, zone: s, "#16 behind the wp") { () throws(ZonedStorageError) in
                try device.write(block, at: start)
            }
            try device.finishZone(s + 1)
            expectRefusal(errno, zone: s + 1, "#18 into a FULL zone") { () throws(ZonedStorageError) in
                try device.write(block, at: device.peek(s + 1).start)
            }
            if s > 0 {
                expectRefusal(errno, zone: 0, "#47 RESET of a conventional zone") { () throws(ZonedStorageError) in
                    try device.resetZone(0)
                }
            }
            // What the block layer refuses stays EIO: a misaligned write is EINVAL everywhere.
            expectRefusal(.invalidArgument, "#22 misaligned") { () throws(ZonedStorageError) in
                try device.write([UInt8](repeating: 0, count: 100), at: device.peek(s).writePointer)
            }
        }
    }

    @Test("#28 zone append refusals stay EIO on every profile: the kernel checks appends", arguments: Profile.allCases)
    func appendRefusals(profile: Profile) throws {
        try Self.withDevice(profile) { device, s in
            try device.finishZone(s)
            let start = device.peek(s).start
            expectRefusal(.ioError, zone: s, "append to a FULL zone") { () throws(ZonedStorageError) in
                _ = try device.append([UInt8](repeating: 1, count: 4096), toZoneAt: start)
            }
            expectRefusal(.ioError, zone: s + 1, "append not at a zone start") { () throws(ZonedStorageError) in
                _ = try device.append([UInt8](repeating: 1, count: 4096), toZoneAt: device.peek(s + 1).start + 4096)
            }
        }
    }

    /// FINISH of CLOSED and EMPTY zones with every open slot held explicitly: ETOOMANYREFS on
    /// null_blk, success on ZNS and ZBC.
    @Test("#42 #43 FINISH with every open slot held explicitly", arguments: Profile.allCases)
    func finishWithOpenSlotsHeld(profile: Profile) throws {
        try Self.withDevice(profile, Self.geometry(profile, maxOpen: 2, maxActive: 4)) { device, s in
            try device.writeBlocks(s + 2)
            try device.closeZone(s + 2)
            try device.openZone(s)
            try device.openZone(s + 1)
            for zone in [s + 2, s + 3] {
                let before = device.peek(zone).condition
                if profile == .nullBlk {
                    expectRefusal(.tooManyReferences, zone: zone) { () throws(ZonedStorageError) in
                        try device.finishZone(zone)
                    }
                    #expect(device.peek(zone).condition == before)
                } else {
                    try device.finishZone(zone)
                    #expect(device.peek(zone).condition == .full)
                }
            }
            #expect(device.resourceUsage() == usage(explicit: 2, closed: profile == .nullBlk ? 1 : 0))
        }
    }

    @Test("#43 #58 FINISH EMPTY at the active limit: EOVERFLOW, or success on ZNS", arguments: [Profile.nullBlk, .zns])
    func finishAtActiveLimit(profile: Profile) throws {
        try Self.withDevice(profile, Self.geometry(profile, maxOpen: 2, maxActive: 3)) { device, s in
            for zone in s..<(s + 3) {
                try device.writeBlocks(zone)
                try device.closeZone(zone)
            }
            if profile == .nullBlk {
                expectRefusal(.overflow, zone: s + 3) { () throws(ZonedStorageError) in try device.finishZone(s + 3) }
                #expect(device.peek(s + 3).condition == .empty)
            } else {
                try device.finishZone(s + 3)
                #expect(device.peek(s + 3).condition == .full)
            }
            #expect(device.resourceUsage() == usage(closed: 3))
        }
    }

    /// Open and active limits reached, write to a CLOSED zone: ETOOMANYREFS on null_blk; ZNS
    /// closes the oldest IMP_OPEN zone and writes.
    @Test("#60 write to a CLOSED zone at both limits", arguments: [Profile.nullBlk, .zns])
    func writeToClosedZoneAtBothLimits(profile: Profile) throws {
        try Self.withDevice(profile, Self.geometry(profile, maxOpen: 2, maxActive: 3)) { device, s in
            let (a, b, c) = (s, s + 1, s + 2)
            try device.writeBlocks(c)
            try device.closeZone(c)
            try device.writeBlocks(a)
            try device.writeBlocks(b)
            #expect(device.resourceUsage() == usage(implicit: 2, closed: 1))
            if profile == .nullBlk {
                expectRefusal(.tooManyReferences, zone: c) { () throws(ZonedStorageError) in try device.writeBlocks(c) }
                #expect(device.conditions[a...c] == [.implicitOpen, .implicitOpen, .closed])
            } else {
                try device.writeBlocks(c)
                #expect(device.conditions[a...c] == [.closed, .implicitOpen, .implicitOpen])
                #expect(device.peek(c).writePointer == device.peek(c).start + 8192)
            }
            #expect(device.resourceUsage() == usage(implicit: 2, closed: 1))
        }
    }

    /// ZNS closes an implicitly open zone before it checks the active limit, even when the write
    /// is then refused with EOVERFLOW; null_blk changes nothing.
    @Test("#58 #60 ZNS makes room before the active-limit check", arguments: [Profile.nullBlk, .zns])
    func evictionBeforeActiveCheck(profile: Profile) throws {
        try Self.withDevice(profile, Self.geometry(profile, maxOpen: 2, maxActive: 3)) { device, s in
            try device.writeBlocks(s + 2)
            try device.closeZone(s + 2)
            try device.writeBlocks(s)
            try device.writeBlocks(s + 1)
            expectRefusal(.overflow, zone: s + 3) { () throws(ZonedStorageError) in try device.writeBlocks(s + 3) }
            #expect(device.peek(s + 3).condition == .empty)
            if profile == .nullBlk {
                #expect(device.resourceUsage() == usage(implicit: 2, closed: 1))
            } else {
                #expect(device.peek(s).condition == .closed, "QEMU's auto-transition closed the oldest zone")
                #expect(device.resourceUsage() == usage(implicit: 1, closed: 2))
            }
        }
    }

    /// The implicitly open zone closed to make room: round robin on null_blk, the oldest on ZNS,
    /// the lowest-numbered on ZBC.
    @Test("#56 which implicitly open zone is closed to make room", arguments: Profile.allCases)
    func evictionVictims(profile: Profile) throws {
        try Self.withDevice(profile, Self.geometry(profile, maxOpen: 3, maxActive: 0)) { device, s in
            for zone in [s + 2, s, s + 1] { try device.writeBlocks(zone) }
            var victims: [Int] = []
            for zone in [s + 3, s + 4, s, s + 1] {
                let before = device.conditions
                try device.writeBlocks(zone)
                let closed = device.conditions.indices.filter {
                    before[$0] == .implicitOpen && device.conditions[$0] == .closed
                }
                #expect(closed.count == 1, "writing zone \(zone) closed \(closed)")
                victims += closed.map { $0 - s }
            }
            let expected: [Int] =
                switch profile {
                case .nullBlk: [0, 1, 2, 3]
                case .zns: [2, 0, 1, 3]
                case .zbc: [0, 1, 2, 0]
                }
            #expect(victims == expected)
        }
    }

    @Test("#65 #66 data beyond the wp: 0xFF on null_blk, zeros on ZNS and ZBC", arguments: Profile.allCases)
    func beyondWritePointerFill(profile: Profile) throws {
        try Self.withDevice(profile) { device, s in
            let written = try device.writeBlocks(s)
            let data = try device.read(count: 3 * 4096, at: device.peek(s).start)
            #expect(Array(data.prefix(4096)) == written)
            let fill: UInt8 = profile == .nullBlk ? 0xFF : 0
            #expect(data.dropFirst(4096).allSatisfy { $0 == fill })
            #expect(try device.read(count: 4096, at: device.peek(s + 1).start).allSatisfy { $0 == fill })
            // #66 never-written data below the write pointer of a finished zone is zeros everywhere.
            try device.finishZone(s)
            #expect(try device.read(count: 4096, at: device.peek(s).start + 4096).allSatisfy { $0 == 0 })
        }
    }

    @Test("#79 geometry: ZNS has no conventional zones; ZBC has capacity = zone size and no active limit")
    func profileGeometryRules() throws {
        let zns = #expect(throws: ZonedStorageError.self) {
            try EmulatedDevice(geometry: TestDevices.geometry(zones: 8, conventional: 1), profile: .zns)
        }
        #expect(zns?.code == .invalidGeometry)
        #expect(zns?.message.contains("no conventional zones") == true)
        let capacity = #expect(throws: ZonedStorageError.self) {
            try EmulatedDevice(geometry: TestDevices.geometry(zones: 8, capacity: 48 << 10), profile: .zbc)
        }
        #expect(capacity?.message.contains("zone capacity equal to the zone size") == true)
        let active = #expect(throws: ZonedStorageError.self) {
            try EmulatedDevice(geometry: TestDevices.geometry(zones: 8, maxOpen: 2, maxActive: 4), profile: .zbc)
        }
        #expect(active?.message.contains("no active-zone limit") == true)
        // What each profile accepts.
        let ok = try EmulatedDevice(
            geometry: TestDevices.geometry(zones: 8, conventional: 0, capacity: 48 << 10, maxOpen: 2, maxActive: 4),
            profile: .zns
        )
        try ok.close()
    }

    @Test("each profile names its kind of device in the vendor string and has the kernel's write cache mode")
    func vendorAndWriteCache() throws {
        for profile in Profile.allCases {
            let geometry = TestDevices.geometry(zones: 8, conventional: 0)
            let device = try EmulatedDevice(geometry: geometry, profile: profile)
            #expect(device.profile == profile)
            #expect(device.info.vendorID == profile.vendorID)
            try device.close()
            var named = geometry
            named.vendorID = "ACME SMR"
            let custom = try EmulatedDevice(geometry: named, profile: profile)
            #expect(custom.info.vendorID == "ACME SMR", "a vendor given in the geometry is kept")
            try custom.close()
        }
        #expect(Profile.nullBlk.vendorID == "zonealloc emulated")
        #expect(Profile.zns.vendorID.contains("NVMe"))
        #expect(Profile.zbc.vendorID.contains("SCSI"))
        #expect(EmulatedDevice.Options(profile: .nullBlk).writeCache == .writeThrough)
        #expect(EmulatedDevice.Options(profile: .zns).writeCache == .volatile)
        #expect(EmulatedDevice.Options(profile: .zbc).writeCache == .volatile)
        #expect(EmulatedDevice.Options().writeCache == .volatile, "the default options keep a volatile cache")
    }

    @Test("profile names parse leniently and round-trip")
    func profileNames() {
        for profile in Profile.allCases { #expect(Profile(name: profile.rawValue) == profile) }
        #expect(Profile(name: "null_blk") == .nullBlk)
        #expect(Profile(name: "NVMe") == .zns)
        #expect(Profile(name: "SMR") == .zbc)
        #expect(Profile(name: "floppy") == nil)
    }
}
