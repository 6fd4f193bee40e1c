import Foundation
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneGC
import ZonedStorage

/// Seeded model-based tests: random writes, overwrites, deletes, cached writes and copygc
/// passes on a small memory-backed device, with every invariant checked after every step.
@Suite("Copygc against a model of the live extents")
struct CopygcModelTests {
    /// Steps per run; `ZONEALLOC_MODEL_STEPS` raises it for soak runs.
    static let steps = ProcessInfo.processInfo.environment["ZONEALLOC_MODEL_STEPS"].flatMap(Int.init) ?? 600

    static let runs: [(seed: UInt64, policy: CopygcPolicy)] = [
        (1, .greedy), (2, .greedy), (3, .costBenefit), (4, .costBenefit), (5, .lifetime), (6, .lifetimeGreedy),
    ]

    @Test(
        "random writes, overwrites, deletes and passes never lose, duplicate or misplace an extent",
        arguments: runs.indices
    )
    func randomOperations(run: Int) throws {
        let (seed, policy) = Self.runs[run]
        let lifetime = policy.placement == .lifetime
        // Lifetime placement needs write points for 2 user and 4 copygc classes.
        let harness = try GCHarness(
            geometry: GCHarness.geometry(
                zones: lifetime ? 24 : 16,
                maxOpen: lifetime ? 10 : 5,
                maxActive: lifetime ? 12 : 6
            ),
            allocator: AllocatorConfiguration(
                copygcReserve: 0.2,
                metadataZoneSlots: 0,
                copygcZoneSlots: lifetime ? 4 : 1,
                allocationWaitLimit: 0.2
            ),
            copygc: CopygcConfiguration(
                policy: policy,
                startBelowFreeBuckets: 1,
                stopAtFreeBuckets: 3,
                checkIntervalSectors: 8
            )
        )
        var random = SeededRandom(seed: seed)
        let keys: UInt64 = 60
        var counts: [String: Int] = [:]
        var slowest = 0.0
        for step in 0..<Self.steps {
            let roll = random.int(in: 0..<100)
            let key = UInt64(random.int(in: 0..<Int(keys)))
            var op = ""
            let started = ContinuousClock.now
            do {
                switch roll {
                case 0..<55:
                    op = "write"
                    let hint: WriteHint =
                        lifetime
                        ? harness.copygc.userWriteHint(overwriting: harness.owner.snapshot[key]?.pointer)!
                        : .stream(key % 2)
                    try harness.write(key, blocks: random.int(in: 1...2), hint: hint)
                case 55..<65:
                    op = "cached write"
                    try harness.write(keys + key, blocks: 1, hint: .stream(5), cached: true)
                case 65..<80:
                    op = "delete"
                    harness.delete(key)
                case 80..<92:
                    op = "collect"
                    try harness.copygc.collect()
                default:
                    op = "collectIfNeeded"
                    try harness.copygc.collectIfNeeded(force: true)
                }
            } catch let error as AllocationError {
                op = "refused (\(error.code))"
                slowest = max(slowest, AllocatorFixtures.seconds(since: started))
                #expect(error.code == .noSpace || error.code == .timedOut, "seed \(seed) step \(step): \(error)")
            }
            counts[op, default: 0] += 1
            let problems = harness.problems(readData: step % 5 == 0)
            #expect(problems.isEmpty, "seed \(seed) \(policy) step \(step) after \(op): \(problems.prefix(5))")
            if !problems.isEmpty { break }
        }
        let stats = harness.copygc.statistics()
        print("copygc model seed \(seed) \(policy): \(counts.sorted { $0.key < $1.key }), \(stats)")
        #expect(stats.bucketsFreed > 0, "seed \(seed): copygc never freed a bucket")
        #expect(stats.copygcSectorsMoved > 0, "seed \(seed): copygc never moved anything")
        #expect(slowest < 1, "seed \(seed): a refused write took \(slowest) s; refusals must be prompt")
    }
}
