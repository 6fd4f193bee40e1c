import SystemPackage
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// `simulatePowerLoss(seed:)`: after random writes with some flushes, every zone comes back
/// between what was flushed and what was written, with its data intact below the new write
/// pointer and no zone open.
@Suite("Emulated device power loss")
struct EmulatorPowerLossTests {
    /// What the test knows about one sequential zone.
    struct Expectation {
        /// Data written since the last reset.
        var data: [UInt8] = []
        /// Bytes of `data` that were flushed (or made durable by a reset or finish).
        var durable = 0
        /// Finished: FULL at once and durably.
        var finished = false
    }

    enum Backing: String, CaseIterable, Sendable {
        case memory, file
    }

    static let geometry = TestDevices.geometry(zones: 12, conventional: 2, capacity: 48 << 10, maxOpen: 3, maxActive: 5)

    @Test(
        "after a power loss each zone lies between its flushed and its written state",
        arguments: TestSeeds.model,
        Backing.allCases
    )
    func powerLossProperty(seed: UInt64, backing: Backing) throws {
        try withTemporaryDirectory { directory in
            let path = directory.file("power.img")
            let device =
                backing == .memory
                ? try EmulatedDevice(geometry: Self.geometry)
                : try EmulatedDevice.create(at: path, geometry: Self.geometry)
            defer { try? device.close() }
            var rng = SeededRandom(seed: seed)
            var zones = [Int: Expectation]()
            var conventionalDurable = [UInt64: [UInt8]]()  // block offset → durable content
            var conventionalLatest = [UInt64: [UInt8]]()
            let block = UInt64(device.blockSize)
            for round in 0..<3 {
                try Self.randomWorkload(
                    device,
                    rng: &rng,
                    zones: &zones,
                    conventionalDurable: &conventionalDurable,
                    conventionalLatest: &conventionalLatest
                )
                let before = device.inspectZones()
                try device.simulatePowerLoss(seed: seed &+ UInt64(round))
                let context = "seed \(seed) round \(round) (\(backing))"
                try Self.checkAfterPowerLoss(device, before: before, zones: &zones, context)
                for (offset, durable) in conventionalDurable {
                    let bytes = try device.read(count: Int(block), at: offset)
                    let latest = conventionalLatest[offset] ?? durable
                    #expect(bytes == durable || bytes == latest, "\(context): conventional block \(offset)")
                    conventionalDurable[offset] = bytes
                    conventionalLatest[offset] = bytes
                }
            }
            guard backing == .file else { return try device.close() }
            // The image holds exactly what the device came back with.
            let zonesAfter = device.inspectZones()
            var data: [[UInt8]] = []
            for index in 0..<Self.geometry.zoneCount where zonesAfter[index].condition != .offline {
                data.append(try device.read(count: 64 << 10, at: device.info.zoneStart(index)))
            }
            try device.close()
            let reopened = try EmulatedDevice.open(at: path)
            defer { try? reopened.close() }
            #expect(reopened.inspectZones() == zonesAfter, "seed \(seed): zones after reopening")
            var reread: [[UInt8]] = []
            for index in 0..<Self.geometry.zoneCount where zonesAfter[index].condition != .offline {
                reread.append(try reopened.read(count: 64 << 10, at: reopened.info.zoneStart(index)))
            }
            #expect(reread == data, "seed \(seed): data after reopening")
        }
    }

    /// Random writes, flushes, finishes, resets, opens and closes; records expectations.
    static func randomWorkload(
        _ device: EmulatedDevice,
        rng: inout SeededRandom,
        zones: inout [Int: Expectation],
        conventionalDurable: inout [UInt64: [UInt8]],
        conventionalLatest: inout [UInt64: [UInt8]]
    ) throws {
        let block = device.blockSize
        for _ in 0..<120 {
            let index = rng.int(in: 2..<12)
            let zone = device.peek(index)
            switch rng.int(in: 0..<20) {
            case 0..<11:
                guard zone.condition.hasValidWritePointer, zone.remainingCapacity > 0 else { continue }
                let blocks = min(rng.int(in: 1...4), Int(zone.remainingCapacity) / block)
                let bytes = TestData.bytes(tag: rng.next(), count: blocks * block)
                do {
                    try device.write(bytes, at: zone.writePointer)
                    zones[index, default: Expectation()].data += bytes
                } catch {
                    // Only the resource limits may refuse a write at the write pointer.
                    #expect(error.errno == .overflow || error.errno == .tooManyReferences, "\(error)")
                    _ = try device.zone(index)
                }
            case 11..<14:
                try device.flush()
                for key in Array(zones.keys) {
                    let written = zones[key]?.data.count ?? 0
                    zones[key]?.durable = written
                }
                conventionalDurable.merge(conventionalLatest) { _, new in new }
            case 14:
                try device.resetZone(index)
                zones[index] = Expectation()
            case 15:
                do {
                    try device.finishZone(index)
                    // Finishing a zone that writes made FULL changes nothing.
                    if zone.condition != .full { zones[index, default: Expectation()].finished = true }
                } catch {
                    #expect(error.errno == .overflow || error.errno == .tooManyReferences, "\(error)")
                }
            case 16:
                try? device.openZone(index)
            case 17:
                try? device.closeZone(index)
            default:
                let offset = UInt64(rng.int(in: 0..<(2 * 16))) * UInt64(block)
                let bytes = TestData.bytes(tag: rng.next(), count: block)
                try device.write(bytes, at: offset)
                if conventionalDurable[offset] == nil {
                    conventionalDurable[offset] = [UInt8](repeating: 0, count: block)
                }
                conventionalLatest[offset] = bytes
            }
        }
    }

    /// Checks every sequential zone after a power loss and updates the expectations to what
    /// survived.
    static func checkAfterPowerLoss(
        _ device: EmulatedDevice,
        before: [Zone],
        zones: inout [Int: Expectation],
        _ context: String
    ) throws {
        let after = device.inspectZones()
        let granularity = UInt64(device.blockSize)
        for index in 2..<12 {
            let zone = after[index]
            var expectation = zones[index] ?? Expectation()
            let name = "\(context): zone \(index)"
            #expect(!zone.condition.isOpen, "\(name) is \(zone.condition.kernelName) after a power loss")
            if expectation.finished {
                #expect(zone.condition == .full, "\(name): a finish is durable")
            } else {
                // The write pointer as written data: FULL zones filled by writes end at the capacity.
                let wp = zone.condition == .full ? zone.start + zone.capacity : zone.writePointer
                let kept = Int(wp - zone.start)
                #expect(
                    kept >= expectation.durable,
                    "\(name): write pointer +\(kept) behind the flushed +\(expectation.durable)"
                )
                #expect(
                    kept <= expectation.data.count,
                    "\(name): write pointer +\(kept) beyond the written +\(expectation.data.count)"
                )
                #expect(UInt64(kept) % granularity == 0, "\(name): write pointer +\(kept) not on a block boundary")
                let expectedCondition: ZoneCondition =
                    kept == 0 ? .empty : UInt64(kept) == zone.capacity ? .full : .closed
                #expect(zone.condition == expectedCondition, "\(name): \(zone.condition.kernelName) at +\(kept)")
                if kept > 0, kept <= expectation.data.count {
                    let bytes = try device.read(count: kept, at: zone.start)
                    #expect(bytes == Array(expectation.data[0..<kept]), "\(name): data below the write pointer")
                }
                expectation.data = Array(expectation.data.prefix(kept))
            }
            if before[index].condition == .empty { #expect(zone.condition == .empty, "\(name) was EMPTY") }
            expectation.durable = expectation.data.count
            zones[index] = expectation
        }
        let closed = after.filter { $0.condition == .closed }.count
        #expect(device.resourceUsage() == usage(closed: closed), "\(context): resource counts")
        #expect(device.invariantProblems.isEmpty, "\(context): \(device.invariantProblems)")
        // The device is usable again: every CLOSED zone can be written at its write pointer
        // while open slots last.
        if let closedZone = after.first(where: { $0.condition == .closed }) {
            let bytes = TestData.bytes(tag: 42, count: device.blockSize)
            try device.write(bytes, at: closedZone.writePointer)
            zones[closedZone.index]?.data += bytes
        }
    }

    @Test("a power loss right after a flush loses nothing, and open zones come back closed")
    func powerLossAfterFlush() throws {
        try TestDevices.withMemoryDevice(Self.geometry) { device in
            let data = try device.writeBlocks(2, 3)
            try device.openZone(3)
            try device.openZone(4)
            try device.writeBlocks(4)
            try device.flush()
            try device.simulatePowerLoss(seed: 1)
            #expect(device.conditions[2...5] == [.closed, .empty, .closed, .empty])
            #expect(try device.read(count: data.count, at: device.info.zoneStart(2)) == data)
            #expect(device.resourceUsage() == usage(closed: 2))
        }
    }

    @Test("a power loss without any flush may lose every write, never a reset or a finish")
    func powerLossWithoutFlush() throws {
        for seed in TestSeeds.fixed {
            try TestDevices.withMemoryDevice(Self.geometry) { device in
                try device.writeBlocks(2, 4)
                try device.flush()
                try device.resetZone(2)
                try device.writeBlocks(3, 2)
                try device.finishZone(3)
                try device.writeBlocks(4, 5)
                try device.simulatePowerLoss(seed: seed)
                #expect(device.peek(2).condition == .empty, "seed \(seed): the reset is durable")
                #expect(device.peek(3).condition == .full, "seed \(seed): the finish is durable")
                #expect([.empty, .closed].contains(device.peek(4).condition), "seed \(seed)")
            }
        }
    }
}
