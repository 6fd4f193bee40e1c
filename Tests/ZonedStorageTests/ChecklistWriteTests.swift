import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Checklist section B: regular writes.
@Suite("Checklist B: regular writes")
struct ChecklistWriteTests {
    let geometry = TestDevices.geometry(zones: 8, conventional: 1, capacity: 48 << 10, maxOpen: 3, maxActive: 5)

    @Test("#12 a write at the write pointer of an EMPTY zone opens it implicitly")
    func writeOpensEmptyZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.write(TestData.bytes(tag: 1, count: 8192), at: device.info.zoneStart(2))
            let zone = try device.zone(2)
            #expect(zone.condition == .implicitOpen)
            #expect(zone.writePointer == zone.start + 8192)
            #expect(device.resourceUsage() == usage(implicit: 1))
        }
    }

    @Test("#13 writes at the write pointer keep IMP_OPEN and EXP_OPEN zones as they are")
    func sequentialWritesKeepCondition() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.openZone(2)
            for _ in 0..<3 {
                try device.writeBlocks(1)
                try device.writeBlocks(2)
            }
            #expect(device.peek(1).condition == .implicitOpen)
            #expect(device.peek(1).writePointer == device.peek(1).start + 4 * 4096)
            #expect(device.peek(2).condition == .explicitOpen)
            #expect(device.peek(2).writePointer == device.peek(2).start + 3 * 4096)
            #expect(device.resourceUsage() == usage(implicit: 1, explicit: 1))
        }
    }

    @Test("#14 a write at the write pointer of a CLOSED zone reopens it implicitly")
    func writeReopensClosedZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.closeZone(1)
            #expect(device.resourceUsage() == usage(closed: 1))
            try device.writeBlocks(1)
            #expect(device.peek(1).condition == .implicitOpen)
            #expect(device.peek(1).writePointer == device.peek(1).start + 8192)
            // Open +1, active unchanged.
            #expect(device.resourceUsage() == usage(implicit: 1))
        }
    }

    @Test("#15 a write ahead of the write pointer fails with EIO and changes nothing")
    func writeAheadOfWritePointer() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let start = device.info.zoneStart(1)
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 4096), at: start + 4096)
            }
            #expect(device.peek(1).condition == .empty)  // no implicit open
            #expect(device.peek(1).writePointer == start)
            #expect(device.resourceUsage() == usage())
            #expect(try device.read(count: 8192, at: start) == [UInt8](repeating: 0xFF, count: 8192))

            try device.writeBlocks(2, 2)
            let wp = device.peek(2).writePointer
            expectRefusal(.ioError, zone: 2) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 2, count: 4096), at: wp + 8192)
            }
            #expect(device.peek(2).writePointer == wp)
            #expect(device.peek(2).condition == .implicitOpen)
        }
    }

    @Test("#16 a write starting behind the write pointer fails with EIO, wherever it ends")
    func writeBehindWritePointer() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let written = try device.writeBlocks(1, 4)
            let start = device.info.zoneStart(1)
            let wp = start + 4 * 4096
            for (offset, count) in [(start, 4096), (start + 4096, 3 * 4096), (start + 8192, 4 * 4096)] {
                expectRefusal(.ioError, zone: 1, "write of \(count) at +\(offset - start)") {
                    () throws(ZonedStorageError) in
                    try device.write(TestData.bytes(tag: 9, count: count), at: offset)
                }
                #expect(device.peek(1).writePointer == wp)
                #expect(device.peek(1).condition == .implicitOpen)
            }
            #expect(try device.read(count: written.count, at: start) == written)
        }
    }

    @Test("#17 a write that fills the capacity makes the zone FULL and releases its slots")
    func writeFillingCapacity() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            try device.openZone(2)
            #expect(device.resourceUsage() == usage(implicit: 1, explicit: 1))
            try device.fill(1)
            try device.fill(2)
            for index in [1, 2] {
                #expect(device.peek(index).condition == .full)
                #expect(device.peek(index).writePointer == device.peek(index).end)
            }
            #expect(device.resourceUsage() == usage())
        }
    }

    @Test("#18 a write to a FULL zone fails with EIO, at its start or anywhere else")
    func writeToFullZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.fill(1)
            try device.finishZone(2)
            for index in [1, 2] {
                let zone = device.peek(index)
                for offset in [zone.start, zone.start + zone.capacity - 4096, zone.start + zone.capacity] {
                    expectRefusal(.ioError, zone: index) { () throws(ZonedStorageError) in
                        try device.write(TestData.bytes(tag: 3, count: 4096), at: offset)
                    }
                }
                #expect(device.peek(index).condition == .full)
            }
        }
    }

    @Test("#19 a write past the capacity fails with EIO and writes nothing")
    func writePastCapacity() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let zone = device.peek(1)
            try device.writeBlocks(1, 10)
            let wp = device.peek(1).writePointer
            let tooMuch = Int(zone.start + zone.capacity - wp) + 4096
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 4, count: tooMuch), at: wp)
            }
            #expect(device.peek(1).writePointer == wp)
            #expect(device.peek(1).condition == .implicitOpen)
            #expect(try device.read(count: 4096, at: wp) == [UInt8](repeating: 0xFF, count: 4096))
            // An EMPTY zone given more than its capacity stays EMPTY.
            expectRefusal(.ioError, zone: 2) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 4, count: Int(zone.capacity) + 4096), at: device.info.zoneStart(2))
            }
            #expect(device.peek(2).condition == .empty)
        }
    }

    @Test("#20 a write crossing into the next zone is split: each part is checked against its own zone")
    func writeCrossingZoneBoundary() throws {
        let geometry = TestDevices.geometry(zones: 6, conventional: 1)  // capacity == size
        try TestDevices.withMemoryDevice(geometry) { device in
            let size = device.info.zoneSize
            try device.write(TestData.bytes(tag: 1, count: Int(size) - 4096), at: size)
            let crossing = TestData.bytes(tag: 2, count: 8192)
            try device.write(crossing, at: 2 * size - 4096)
            #expect(device.peek(1).condition == .full)
            #expect(device.peek(2).condition == .implicitOpen)
            #expect(device.peek(2).writePointer == 2 * size + 4096)
            #expect(try device.read(count: 8192, at: 2 * size - 4096) == crossing)

            // Second part not at zone 4's write pointer: EIO, but the first part stays written.
            try device.write(TestData.bytes(tag: 3, count: Int(size) - 4096), at: 3 * size)
            try device.writeBlocks(4)
            expectRefusal(.ioError, zone: 4) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 4, count: 8192), at: 4 * size - 4096)
            }
            #expect(device.peek(3).condition == .full)
            #expect(device.peek(4).writePointer == 4 * size + 4096)
        }
    }

    @Test("#21 conventional zones accept writes anywhere, in any order, and never open")
    func conventionalZoneWrites() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let first = TestData.bytes(tag: 1, count: 8192)
            let second = TestData.bytes(tag: 2, count: 4096)
            try device.write(first, at: 32 << 10)
            try device.write(second, at: 0)
            try device.write(second, at: (32 << 10) + 4096)  // overwrite
            #expect(try device.read(count: 4096, at: 0) == second)
            #expect(try device.read(count: 8192, at: 32 << 10) == Array(first[0..<4096]) + second)
            #expect(device.peek(0).condition == .notWritePointer)
            #expect(device.resourceUsage() == usage())
        }
    }

    @Test("#22 misaligned offsets or lengths fail with EINVAL before any zone logic")
    func misalignedIOIsInvalid() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let start = device.info.zoneStart(1)
            for (offset, count) in [(start + 512, 4096), (start, 512), (start, 4096 + 1), (UInt64(100), 4096)] {
                expectRefusal(.invalidArgument, "write of \(count) at \(offset)") { () throws(ZonedStorageError) in
                    try device.write([UInt8](repeating: 7, count: count), at: offset)
                }
                expectRefusal(.invalidArgument, "read of \(count) at \(offset)") { () throws(ZonedStorageError) in
                    _ = try device.read(count: count, at: offset)
                }
            }
            #expect(device.peek(1).condition == .empty)
            // EINVAL is not a failed write to the zone: no sticky error follows.
            #expect(!device.writePointerNeedsUpdate(zone: 1))
            try device.writeBlocks(1)
        }
    }

    @Test("#23 with a 4 KiB zone write granularity on 512-byte blocks, smaller writes fail with EIO")
    func zoneWriteGranularity() throws {
        let geometry = EmulatedGeometry(
            zoneCount: 4,
            zoneSize: 64 << 10,
            conventionalZones: 1,
            logicalBlockSize: 512,
            physicalBlockSize: 4096,
            zoneWriteGranularity: 4096
        )
        try TestDevices.withMemoryDevice(geometry) { device in
            let start = device.info.zoneStart(1)
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 512), at: start)
            }
            #expect(device.peek(1).condition == .empty)
            _ = try device.zone(1)  // refresh after the failed write (item 25)
            try device.write(TestData.bytes(tag: 2, count: 4096), at: start)
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 3, count: 4096 + 512), at: start + 4096)
            }
            #expect(device.peek(1).writePointer == start + 4096)
            // Conventional zones keep the logical block granularity.
            try device.write(TestData.bytes(tag: 4, count: 512), at: 512)
        }
        // The default granularity is the logical block size, as null_blk's.
        let plain = EmulatedGeometry(zoneCount: 4, zoneSize: 64 << 10, logicalBlockSize: 512)
        try TestDevices.withMemoryDevice(plain) { device in
            try device.write(TestData.bytes(tag: 5, count: 512), at: 0)
            #expect(device.peek(0).writePointer == 512)
        }
    }

    @Test("#25 after a failed write, a write at the true write pointer fails until the zone is reported")
    func stickyWriteErrorClearedByReport() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1)
            let wp = device.peek(1).writePointer
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 4096), at: wp + 4096)
            }
            expectRefusal(.ioError, zone: 1, "write at the true write pointer before a report") {
                () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 2, count: 4096), at: wp)
            }
            expectRefusal(.ioError, zone: 1, "append before a report") { () throws(ZonedStorageError) in
                _ = try device.append(TestData.bytes(tag: 2, count: 4096), toZoneAt: device.info.zoneStart(1))
            }
            // A report of another zone does not help; a report covering zone 1 does.
            _ = try device.zone(2)
            #expect(device.writePointerNeedsUpdate(zone: 1))
            let reported = try device.reportZones(offset: 0, length: 0, filter: .empty)
            #expect(!reported.contains { $0.index == 1 })
            #expect(!device.writePointerNeedsUpdate(zone: 1), "an unfiltered zone range was reported")
            try device.write(TestData.bytes(tag: 3, count: 4096), at: wp)
            #expect(device.peek(1).writePointer == wp + 4096)
        }
    }

    @Test(
        "#25 a reset, a finish or RESET ALL also clears the sticky write error",
        arguments: ["reset", "finish", "reset all"]
    )
    func stickyWriteErrorClearedByZoneOperation(operation: String) throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let start = device.info.zoneStart(1)
            // A failed write to an EMPTY zone (ahead of its write pointer).
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 4096), at: start + 4096)
            }
            #expect(device.writePointerNeedsUpdate(zone: 1))
            switch operation {
            case "reset": try device.resetZone(1)
            case "finish":
                try device.finishZone(1)
                try device.resetZone(1)
            default: try device.resetAllZones()
            }
            #expect(!device.writePointerNeedsUpdate(zone: 1))
            try device.write(TestData.bytes(tag: 2, count: 4096), at: start)
            #expect(device.peek(1).condition == .implicitOpen)
        }
    }

    @Test("#25 a finish clears the sticky error of a partly written zone")
    func stickyWriteErrorClearedByFinish() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            try device.writeBlocks(1, 2)
            let wp = device.peek(1).writePointer
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 4096), at: wp - 4096)
            }
            try device.finishZone(1)
            #expect(!device.writePointerNeedsUpdate(zone: 1))
            #expect(device.peek(1).condition == .full)
        }
    }

    @Test("#25 kernels without sticky write errors accept the write at the true write pointer at once")
    func noStickyWriteErrorsOnOlderKernels() throws {
        try TestDevices.withMemoryDevice(geometry, options: .init(stickyWriteErrors: false)) { device in
            try device.writeBlocks(1)
            let wp = device.peek(1).writePointer
            expectRefusal(.ioError, zone: 1) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 4096), at: wp + 4096)
            }
            #expect(!device.writePointerNeedsUpdate(zone: 1))
            try device.write(TestData.bytes(tag: 2, count: 4096), at: wp)
        }
    }
}
