import Testing
import ZoneAlloc
import ZoneGC
import ZoneSim

/// The workload generators, seen through the ages of the live versions a run leaves: a block
/// written k times as often as another is, on average, k times younger.
@Suite("Workload generators")
struct WorkloadGeneratorTests {
    /// Runs `workload` on a small device and returns the mean age (write clock since the live
    /// version was written) of the blocks in each of `ranges`.
    func meanAges(_ workload: Workload, _ ranges: [Range<Int>]) throws -> [Double] {
        let configuration = SimulationConfiguration(
            zones: 48,
            zoneSize: 256 << 10,
            overProvisioning: 0.2,
            workload: workload,
            warmup: 0,
            measured: 4,
            batchBlocks: 16
        )
        let simulator = try Simulator(configuration: configuration)
        _ = try simulator.run()
        let now = Double(simulator.copygc.writeClock)
        var sums = Array(repeating: 0.0, count: ranges.count)
        var counts = Array(repeating: 0, count: ranges.count)
        for bucket in 0..<simulator.layout.buckets {
            for backpointer in simulator.copygc.backpointers(in: BucketIndex(bucket)) {
                for (index, range) in ranges.enumerated() where range.contains(Int(backpointer.key)) {
                    sums[index] += now - Double(backpointer.writtenAt)
                    counts[index] += 1
                }
            }
        }
        return zip(sums, counts).map { $0 / Double(max($1, 1)) }
    }

    /// Hot blocks are written 81× as often per block as cold ones; a short run caps the ages of
    /// cold blocks (many are still at their fill-time version), so the ratio is lower.
    @Test("hot/cold 90/10 writes 10 % of the space much more often per block than the rest")
    func hotCold() throws {
        // 48 zones × 64 blocks = 3072; U = 3072 / 1.2 = 2560; hot = 256 blocks.
        let ages = try meanAges(.hotCold(writePercent: 90, spacePercent: 10), [0..<256, 256..<2560])
        #expect(ages[1] / ages[0] > 20, "cold blocks are \(ages[1] / ages[0])× older than hot ones")
    }

    @Test("zipf skews writes towards low ranks")
    func zipf() throws {
        let ages = try meanAges(.zipf(exponent: 1.2), [0..<8, 1280..<2560])
        #expect(ages[1] / ages[0] > 20, "high ranks are only \(ages[1] / ages[0])× older than rank 1–8")
    }

    @Test("uniform writes age every block alike")
    func uniform() throws {
        let ages = try meanAges(.uniform, [0..<1280, 1280..<2560])
        #expect(abs(ages[1] / ages[0] - 1) < 0.1)
    }
}
