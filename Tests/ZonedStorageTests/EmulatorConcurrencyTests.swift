import Foundation
import Synchronization
import Testing
import ZoneAllocTestSupport
import ZonedStorage

/// Several threads driving one device: I/O to different zones proceeds in parallel and the
/// result is the one a serial run of the same per-zone operations gives.
@Suite("Emulated device under concurrent writers")
struct EmulatorConcurrencyTests {
    /// 4 conventional zones then 28 sequential zones of 64 KiB; no open limit, so that the
    /// end state does not depend on the order in which threads open zones.
    static let geometry = TestDevices.geometry(zones: 32, conventional: 4, capacity: 56 << 10)

    /// One thread's work: writes and appends to its own zones, with sizes drawn from `seed`.
    struct Script: Sendable {
        enum Step: Sendable {
            case write(zone: Int, blocks: Int, tag: UInt64)
            case append(zone: Int, blocks: Int, tag: UInt64)
            case finish(zone: Int)
            case conventional(block: Int, tag: UInt64)
        }
        var steps: [Step] = []

        init(seed: UInt64, zones: [Int], conventionalBlocks: Range<Int>, capacityBlocks: Int) {
            var rng = SeededRandom(seed: seed)
            var used = [Int: Int]()
            for _ in 0..<200 {
                let zone = rng.pick(zones)
                let left = capacityBlocks - used[zone, default: 0]
                switch rng.int(in: 0..<10) {
                case 0..<4 where left > 0:
                    let blocks = rng.int(in: 1...min(3, left))
                    steps.append(.write(zone: zone, blocks: blocks, tag: rng.next()))
                    used[zone, default: 0] += blocks
                case 4..<8 where left > 0:
                    let blocks = rng.int(in: 1...min(2, left))
                    steps.append(.append(zone: zone, blocks: blocks, tag: rng.next()))
                    used[zone, default: 0] += blocks
                case 8 where left > 0 && rng.chance(1, in: 4):
                    steps.append(.finish(zone: zone))
                    used[zone] = capacityBlocks
                default:
                    steps.append(.conventional(block: rng.int(in: conventionalBlocks), tag: rng.next()))
                }
            }
        }

        func run(on device: EmulatedDevice) throws {
            let block = device.info.logicalBlockSize
            for step in steps {
                switch step {
                case .write(let zone, let blocks, let tag):
                    let wp = try device.zone(zone).writePointer
                    try device.write(TestData.bytes(tag: tag, count: blocks * block), at: wp)
                case .append(let zone, let blocks, let tag):
                    _ = try device.append(
                        TestData.bytes(tag: tag, count: blocks * block),
                        toZoneAt: device.info.zoneStart(zone)
                    )
                case .finish(let zone):
                    try device.finishZone(zone)
                case .conventional(let index, let tag):
                    try device.write(TestData.bytes(tag: tag, count: block), at: UInt64(index * block))
                }
            }
        }
    }

    /// Thread `t` owns sequential zones t+4, t+4+threads, … and conventional blocks of its own.
    static func scripts(seed: UInt64, threads: Int, info: DeviceInfo) -> [Script] {
        let blocksPerZone = Int(info.zoneSize) / info.logicalBlockSize
        let conventionalBlocks = 4 * blocksPerZone / threads
        return (0..<threads).map { thread in
            Script(
                seed: seed &+ UInt64(thread),
                zones: Array(stride(from: 4 + thread, to: info.zoneCount, by: threads)),
                conventionalBlocks: thread * conventionalBlocks..<(thread + 1) * conventionalBlocks,
                capacityBlocks: Int(Self.geometry.zoneCapacity) / info.logicalBlockSize
            )
        }
    }

    /// The whole device: its zone report and every byte of it.
    static func snapshot(_ device: EmulatedDevice) throws -> (zones: [Zone], bytes: [UInt8]) {
        let zones = try device.reportZones()
        var bytes: [UInt8] = []
        for zone in zones {
            // Sequential zones are read up to their write pointer: past it the content is
            // unspecified (checklist F).
            let end = zone.type == .conventional ? zone.start + zone.length : zone.writePointer
            if end > zone.start { bytes += try device.read(count: Int(end - zone.start), at: zone.start) }
        }
        return (zones, bytes)
    }

    @Test(
        "writers on different zones from several threads end where a serial run ends",
        arguments: [(UInt64(0xC0FFEE), false), (0xBADC0DE, false), (0x5EED, true)]
    )
    func parallelEqualsSerial(seed: UInt64, fileBacked: Bool) throws {
        let threads = 4
        let serial = try EmulatedDevice(geometry: Self.geometry)
        defer { try? serial.close() }
        let scripts = Self.scripts(seed: seed, threads: threads, info: serial.info)
        for script in scripts { try script.run(on: serial) }
        let expected = try Self.snapshot(serial)

        func runInParallel(_ device: EmulatedDevice) throws {
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                do { try scripts[thread].run(on: device) } catch {
                    failures.withLock { $0.append("thread \(thread): \(error)") }
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "seed \(seed)")
            let observed = try Self.snapshot(device)
            #expect(observed.zones == expected.zones, "seed \(seed): zone reports differ")
            #expect(observed.bytes == expected.bytes, "seed \(seed): device contents differ")
            #expect(device.invariantProblems.isEmpty, "seed \(seed): \(device.invariantProblems)")
        }
        if fileBacked {
            try TestDevices.withFileDevice(Self.geometry) { device, _ in try runInParallel(device) }
        } else {
            try TestDevices.withMemoryDevice(Self.geometry) { device in try runInParallel(device) }
        }
    }
}
