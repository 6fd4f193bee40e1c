import Foundation
import Testing
import ZoneAlloc
import ZoneGC
import ZoneSim
import ZonedStorage

/// The simulator on small devices: it runs the real allocator and copygc, its results are
/// reproducible, and the state it leaves is consistent.
@Suite("Simulator")
struct SimulatorTests {
    /// 48 zones of 256 KiB (64 blocks of 4 KiB), short volumes.
    /// Lifetime placement's six write points and four held-back buckets need more zones.
    static func small(
        _ workload: Workload = .uniform,
        policy: CopygcPolicy = .greedy,
        rho: Double = 0.2,
        seed: UInt64 = 1
    ) -> SimulationConfiguration {
        SimulationConfiguration(
            zones: policy.placement == .lifetime ? 128 : 48,
            zoneSize: 256 << 10,
            overProvisioning: rho,
            workload: workload,
            policy: policy,
            seed: seed,
            warmup: 2,
            measured: 2,
            batchBlocks: 16,
            sampleInterval: 0.5
        )
    }

    /// Every logical block points at live data, the allocator's dirty count is the logical
    /// size, and every block's backpointer names it.
    func checkConsistency(_ simulator: Simulator) {
        var live = 0
        var problems: [String] = []
        var seen: Set<DataPointer> = []
        simulator.space.forEachPointer { block, pointer in
            live += 1
            if simulator.allocator.isStale(pointer) { problems.append("block \(block): \(pointer) is stale") }
            if !seen.insert(pointer).inserted { problems.append("block \(block): \(pointer) is shared") }
        }
        let backpointers = Dictionary(
            (0..<simulator.layout.buckets).flatMap { simulator.copygc.backpointers(in: BucketIndex($0)) }.map {
                ($0.pointer, $0.key)
            },
            uniquingKeysWith: { a, _ in a }
        )
        simulator.space.forEachPointer { block, pointer in
            if backpointers[pointer] != block {
                problems.append("block \(block): backpointer \(String(describing: backpointers[pointer]))")
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        let stats = simulator.allocator.statistics()
        #expect(stats.dirtySectors == live * simulator.configuration.blockSize / 512)
        simulator.allocator.checkInvariants()
    }

    @Test(
        "uniform random overwrite with each policy runs to completion and stays consistent",
        arguments: CopygcPolicy.named.map(\.policy)
    )
    func policies(policy: CopygcPolicy) throws {
        let simulator = try Simulator(configuration: Self.small(policy: policy))
        let result = try simulator.run()
        #expect(result.writeAmplification > 1)
        #expect(result.writeAmplification < 30)
        #expect(result.measured.userSectorsWritten == Int(2 * Double(result.layout.logicalBlocks)) * 8)
        #expect(result.measured.passes > 0)
        #expect(result.total.passesWithNothingToDo == 0 || result.total.passes > result.total.passesWithNothingToDo)
        checkConsistency(simulator)
    }

    @Test("the same seed gives the same write amplification")
    func reproducible() throws {
        let first = try Simulator(configuration: Self.small(.hotCold(writePercent: 90, spacePercent: 10))).run()
        let second = try Simulator(configuration: Self.small(.hotCold(writePercent: 90, spacePercent: 10))).run()
        #expect(first.writeAmplification == second.writeAmplification)
        #expect(first.measured.copygcSectorsMoved == second.measured.copygcSectorsMoved)
        let other = try Simulator(configuration: Self.small(.hotCold(writePercent: 90, spacePercent: 10), seed: 2))
            .run()
        #expect(other.measured.copygcSectorsMoved != first.measured.copygcSectorsMoved)
    }

    @Test(
        "sizes follow ρ = (T − U) / U and the reserve lets U fill the usable capacity",
        arguments: [0.08, 0.12, 0.2, 0.28]
    )
    func layout(rho: Double) throws {
        var configuration = Self.small(rho: rho)
        configuration.zones = 256
        let simulator = try Simulator(configuration: configuration)
        let layout = simulator.layout
        #expect(layout.totalBlocks == 256 * 64)
        #expect(abs(layout.overProvisioning - rho) < 0.001)
        #expect(layout.usableBlocks >= layout.logicalBlocks + 16)
        #expect(layout.copygcReserve >= 0.05 && layout.copygcReserve <= 0.21)
    }

    @Test(
        "sequential overwrite needs almost no copygc; zipf and hot/cold run",
        arguments: [
            Workload.sequential, .zipf(exponent: 0.99), .hotCold(writePercent: 80, spacePercent: 20),
        ]
    )
    func workloads(workload: Workload) throws {
        let simulator = try Simulator(configuration: Self.small(workload, policy: .costBenefit))
        let result = try simulator.run()
        if workload == .sequential { #expect(result.writeAmplification < 1.05) }
        #expect(result.samples.contains { $0.phase == "measure" })
        checkConsistency(simulator)
    }

    @Test("the fixture trace replays in a loop, deletes included")
    func trace() throws {
        let path = WorkloadTests.fixture
        var configuration = Self.small(.trace(path: path), policy: .greedy)
        configuration.warmup = 1
        configuration.measured = 1
        let simulator = try Simulator(configuration: configuration)
        let result = try simulator.run()
        #expect(result.measured.userSectorsWritten > 0)
        checkConsistency(simulator)
    }

    @Test("a trace beyond the logical space is refused")
    func traceTooLarge() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zonesim-\(UUID()).csv")
        try "write,1099511627776,4096\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = #expect(throws: SimulationError.self) {
            try Simulator(configuration: Self.small(.trace(path: url.path)))
        }
        #expect(error?.code == .invalidTrace)
        #expect(error?.message.contains("beyond the logical space") == true)
    }

    @Test(
        "impossible parameters are refused with a reason",
        arguments: [
            (0.03, nil, CopygcPolicy.greedy, "5 %"), (0.2, 0.3, .greedy, "0.05–0.21"),
            (0.2, nil, .lifetime, "spare buckets"),
        ] as [(Double, Double?, CopygcPolicy, String)]
    )
    func refused(rho: Double, reserve: Double?, policy: CopygcPolicy, why: String) {
        var configuration = Self.small(policy: .greedy, rho: rho)
        configuration.policy = policy
        configuration.copygcReserve = reserve
        let error = #expect(throws: SimulationError.self) { try Simulator(configuration: configuration) }
        #expect(error?.code == .invalidParameter)
        #expect(error?.message.contains(why) == true, "\(String(describing: error))")
    }

    @Test("a copygc reserve instead of ρ sizes the logical space from the usable capacity")
    func reserveGiven() throws {
        var configuration = Self.small()
        configuration.zones = 256
        configuration.copygcReserve = 0.1
        let simulator = try Simulator(configuration: configuration)
        #expect(simulator.layout.logicalBlocks + 16 == simulator.layout.usableBlocks)
        #expect(abs(simulator.layout.overProvisioning - (1 / 0.9 - 1)) < 0.02)
    }

    @Test("blocks above 4 KiB are placement units on a ZNS-like device (capacity < size, active limit)")
    func largeBlocksWithZoneLimits() throws {
        // 64 zones of 4 MiB with 3 MiB capacity, 64 KiB blocks (48 per bucket), 6 active zones.
        var configuration = Self.small(rho: 0.2)
        configuration.zones = 64
        configuration.zoneSize = 4 << 20
        configuration.zoneCapacity = 3 << 20
        configuration.blockSize = 64 << 10
        configuration.maxOpenZones = 6
        configuration.maxActiveZones = 6
        let simulator = try Simulator(configuration: configuration)
        #expect(simulator.device.info.logicalBlockSize == 4096)
        #expect(simulator.device.info.maxActiveZones.value == 6)
        #expect(simulator.layout.blocksPerBucket == 48)
        #expect(simulator.layout.zoneBudget == 6)
        let result = try simulator.run()
        #expect(result.writeAmplification > 1)
        #expect(result.measured.userSectorsWritten == Int(2 * Double(result.layout.logicalBlocks)) * 128)
        #expect(result.measured.copygcSectorsMoved % 128 == 0)
        checkConsistency(simulator)
        // Copygc tracks one backpointer per 64 KiB block, each at a block-aligned offset.
        let backpointers = (0..<64).flatMap { simulator.copygc.backpointers(in: BucketIndex($0)) }
        #expect(backpointers.allSatisfy { $0.pointer.sectors == 128 && $0.pointer.offset % 128 == 0 })
    }

    @Test(
        "block sizes and zone limits the simulation cannot use are refused",
        arguments: [
            (3000, 0, CopygcPolicy.greedy, "block size"), (128 << 20, 0, .greedy, "block size"),
            (4096, 5, .lifetime, "open/active zones"),
        ] as [(Int, Int, CopygcPolicy, String)]
    )
    func refusedBlocksAndLimits(blockSize: Int, maxActive: Int, policy: CopygcPolicy, why: String) {
        var configuration = Self.small(policy: policy)
        configuration.blockSize = blockSize
        configuration.maxActiveZones = maxActive
        let error = #expect(throws: SimulationError.self) { try Simulator(configuration: configuration) }
        #expect(error?.code == .invalidParameter)
        #expect(error?.message.contains(why) == true, "\(String(describing: error))")
    }

    @Test("the CSV series has a header and one line per sample")
    func csv() throws {
        let result = try Simulator(configuration: Self.small()).run()
        #expect(!result.samples.isEmpty)
        #expect(
            SimulationSample.csvHeader.split(separator: ",").count
                == result.samples[0].csvLine.split(separator: ",").count
        )
        #expect(result.samples.last?.phase == "measure")
    }
}
