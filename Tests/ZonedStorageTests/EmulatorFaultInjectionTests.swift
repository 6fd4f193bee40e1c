import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Injected media errors (`injectFault(_:)`) and the persistence of faulty zones.
@Suite("Emulated device fault injection")
struct EmulatorFaultInjectionTests {
    let geometry = TestDevices.geometry(zones: 8, conventional: 1, capacity: 48 << 10, maxOpen: 3, maxActive: 5)

    @Test("an injected read fault fails exactly the nth read with EIO, naming the zone")
    func readFault() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let data = try device.writeBlocks(2, 2)
            let start = device.info.zoneStart(2)
            device.injectFault(.failRead(nth: 2))
            #expect(try device.read(count: 8192, at: start) == data)
            expectRefusal(.ioError, zone: 2) { () throws(ZonedStorageError) in
                _ = try device.read(count: 8192, at: start)
            }
            #expect(try device.read(count: 8192, at: start) == data)
            #expect(device.peek(2).condition == .implicitOpen)
        }
    }

    @Test("an injected write fault fails the write with EIO: no data, write pointer unchanged")
    func writeFault() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let first = try device.writeBlocks(2)
            let wp = device.peek(2).writePointer
            device.injectFault(.failWrite(nth: 1))
            let error = expectRefusal(.ioError, zone: 2) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 8192), at: wp)
            }
            #expect(error?.offset == wp)
            #expect(device.peek(2).writePointer == wp)
            #expect(try device.read(count: 8192, at: wp) == [UInt8](repeating: 0xFF, count: 8192))
            // A failed write needs a write pointer refresh (item 25), then writing goes on.
            #expect(device.writePointerNeedsUpdate(zone: 2))
            _ = try device.zone(2)
            let second = TestData.bytes(tag: 2, count: 8192)
            try device.write(second, at: wp)
            #expect(try device.read(count: 12288, at: device.info.zoneStart(2)) == first + second)
        }
    }

    @Test("injected write faults also fail appends and conventional writes")
    func writeFaultOnAppendAndConventionalZone() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let before = try device.read(count: 4096, at: 8192)
            device.injectFault(.failWrite(nth: 1))
            device.injectFault(.failWrite(nth: 2))
            expectRefusal(.ioError, zone: 0) { () throws(ZonedStorageError) in
                try device.write(TestData.bytes(tag: 1, count: 4096), at: 8192)
            }
            #expect(try device.read(count: 4096, at: 8192) == before)
            expectRefusal(.ioError, zone: 3) { () throws(ZonedStorageError) in
                _ = try device.append(TestData.bytes(tag: 2, count: 4096), toZoneAt: device.info.zoneStart(3))
            }
            // The zone was opened before the media error, as null_blk does; nothing was written.
            #expect(device.peek(3).condition == .implicitOpen)
            #expect(device.peek(3).writePointer == device.info.zoneStart(3))
            _ = try device.zone(3)
            #expect(
                try device.append(TestData.bytes(tag: 3, count: 4096), toZoneAt: device.info.zoneStart(3))
                    == device.info.zoneStart(3)
            )
        }
    }

    @Test("an injected flush fault fails with EIO and makes nothing more durable")
    func flushFault() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            let flushed = try device.writeBlocks(2, 2)
            try device.flush()
            try device.writeBlocks(2, 3)
            device.injectFault(.failFlush(nth: 1))
            let error = #expect(throws: ZonedStorageError.self) { try device.flush() }
            #expect(error?.errno == .ioError)
            // A power loss may take the writes the failed flush did not make durable: find one
            // that does, for every seed the write pointer stays at or above the last good flush.
            var lost = false
            for seed in UInt64(0)..<8 {
                try TestDevices.withMemoryDevice(geometry) { copy in
                    try copy.write(flushed, at: copy.info.zoneStart(2))
                    try copy.flush()
                    try copy.writeBlocks(2, 3)
                    copy.injectFault(.failFlush(nth: 1))
                    _ = try? copy.flush()
                    try copy.simulatePowerLoss(seed: seed)
                    let wp = copy.peek(2).writePointer
                    #expect(wp >= copy.info.zoneStart(2) + 8192, "seed \(seed)")
                    if wp < copy.info.zoneStart(2) + 5 * 4096 { lost = true }
                }
            }
            #expect(lost, "a power loss after a failed flush can lose unflushed writes")
            try device.flush()
            try device.simulatePowerLoss(seed: 3)
            #expect(device.peek(2).writePointer == device.info.zoneStart(2) + 5 * 4096)
        }
    }

    @Test("faults are counted from injection and several can be pending")
    func faultCounting() throws {
        try TestDevices.withMemoryDevice(geometry) { device in
            device.injectFault(.failRead(nth: 1))
            device.injectFault(.failRead(nth: 3))
            var failures: [Int] = []
            for attempt in 1...4 {
                do {
                    _ = try device.read(count: 4096, at: 0)
                } catch {
                    failures.append(attempt)
                }
            }
            #expect(failures == [1, 3])
        }
    }

    @Test("READONLY and OFFLINE zones stay faulty in an image that is closed and reopened")
    func faultyZonesPersist() throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("faulty.img")
            let device = try EmulatedDevice.create(at: path, geometry: geometry)
            let data = try device.writeBlocks(2, 2)
            try device.setZoneCondition(2, to: .readOnly)
            try device.setZoneCondition(3, to: .offline)
            try device.close()
            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(reopened.peek(2).condition == .readOnly)
            #expect(reopened.peek(3).condition == .offline)
            #expect(try reopened.read(count: 8192, at: reopened.info.zoneStart(2)) == data)
            expectRefusal(.ioError, zone: 3) { () throws(ZonedStorageError) in
                _ = try reopened.read(count: 4096, at: reopened.info.zoneStart(3))
            }
            try reopened.resetAllZones()
            #expect(reopened.conditions[2...3] == [.readOnly, .offline])
            try reopened.setZoneCondition(2, to: .empty)
            try reopened.setZoneCondition(3, to: .empty)
            try reopened.writeBlocks(2)
            try reopened.writeBlocks(3)
            #expect(reopened.conditions[2...3] == [.implicitOpen, .implicitOpen])
        }
    }
}
