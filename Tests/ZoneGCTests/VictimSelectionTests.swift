import Testing
import ZoneAlloc
import ZoneGC

/// Victim policies and the lifetime classifier.
@Suite("Victim selection and lifetime classes")
struct VictimSelectionTests {
    /// Buckets A (oldest, 4 live of 12), B (6 live), C (newest, 4 live): greedy takes the
    /// emptiest (A or C: both 4 live, A first by index); cost-benefit prefers the older one of
    /// equal utilisation, and an old bucket over a newer emptier one.
    @Test("greedy picks the fewest live sectors; cost-benefit weighs age")
    func order() throws {
        for policy in [CopygcPolicy.greedy, .costBenefit] {
            let harness = try GCHarness(
                geometry: GCHarness.geometry(zones: 16, maxOpen: 6, maxActive: 8),
                copygc: CopygcConfiguration(
                    policy: policy,
                    startBelowFreeBuckets: 1,
                    stopAtFreeBuckets: 2,
                    maxVictimsPerPass: 1
                )
            )
            // Bucket A: keys 0..<12; B: 12..<24; C: 24..<36; then D filled later.
            for key in 0..<36 { try harness.write(UInt64(key)) }
            let a = harness.owner.snapshot[0]!.pointer.bucket
            let b = harness.owner.snapshot[12]!.pointer.bucket
            let c = harness.owner.snapshot[24]!.pointer.bucket
            // Old bucket A loses 7 (5 live); B loses 6 (6 live); much later C loses 8 (4 live).
            for key in 0..<7 { try harness.write(UInt64(key)) }
            for key in 12..<18 { try harness.write(UInt64(key)) }
            for key in 40..<60 { try harness.write(UInt64(key)) }
            for key in 24..<32 { try harness.write(UInt64(key)) }
            let report = try harness.copygc.collect()
            let first = try #require(report.victims.first)
            switch policy.selection {
            case .greedy:
                #expect(first == c, "greedy took \(first), not the emptiest \(c)")
            case .costBenefit:
                // A: u = 5/12, age ≈ its last write long ago; C: u = 4/12 but young.
                #expect(first == a, "cost-benefit took \(first), not the old bucket \(a) (b \(b), c \(c))")
            }
            #expect(harness.problems().isEmpty)
        }
    }

    @Test("SepBIT user classes: short previous lifespans are class 0, first writes and long ones class 1")
    func userClasses() {
        var classifier = LifetimeClassifier(window: 2, shortLifespanFactor: 1)
        #expect(classifier.userClass(previousLifespan: nil) == 1)
        #expect(classifier.userClass(previousLifespan: 1_000_000) == 0, "ℓ is infinite until buckets are reclaimed")
        classifier.noteReclaimed(bucketClass: 0, lifespan: 100)
        #expect(classifier.averageLifespan.isInfinite, "averaged over the window")
        classifier.noteReclaimed(bucketClass: 1, lifespan: 5)
        classifier.noteReclaimed(bucketClass: 0, lifespan: 300)
        #expect(classifier.averageLifespan == 200)
        #expect(classifier.userClass(previousLifespan: 150) == 0)
        #expect(classifier.userClass(previousLifespan: 250) == 1)
        let wider = LifetimeClassifier(window: 2)
        #expect(wider.shortLifespanFactor == 8)
    }

    @Test(
        "SepBIT copygc classes: class-0 victims to class 2, others by age against 4ℓ and 16ℓ",
        arguments: [(nil, 10, 3), (1, 799, 3), (1, 800, 4), (1, 3199, 4), (1, 3200, 5), (0, 99_999, 2)]
            as [(Int?, UInt64, Int)]
    )
    func copygcClasses(victimClass: Int?, age: UInt64, expected: Int) {
        var classifier = LifetimeClassifier(window: 1)
        classifier.noteReclaimed(bucketClass: 0, lifespan: 200)
        #expect(classifier.copygcClass(victimClass: victimClass, age: age) == expected)
    }

    @Test("policies parse from their command-line names", arguments: CopygcPolicy.named.map(\.name))
    func names(name: String) throws {
        let policy = try #require(CopygcPolicy(named: name))
        #expect(policy.description == name)
    }

    @Test("lifetime placement routes user writes by inferred lifetime and moves copygc data to its classes")
    func lifetimePlacement() throws {
        let harness = try GCHarness(
            geometry: GCHarness.geometry(zones: 24, maxOpen: 10, maxActive: 12),
            allocator: AllocatorConfiguration(
                copygcReserve: 0.2,
                metadataZoneSlots: 0,
                copygcZoneSlots: 4,
                allocationWaitLimit: 0.2
            ),
            copygc: CopygcConfiguration(policy: .lifetime, startBelowFreeBuckets: 1, stopAtFreeBuckets: 2)
        )
        #expect(harness.copygc.userWriteHint(overwriting: nil) == .temperature(.cold))
        let first = try harness.write(0, hint: .temperature(.cold))
        #expect(harness.copygc.userWriteHint(overwriting: first) == .temperature(.hot), "ℓ is infinite at first")
        let single = try GCHarness()
        #expect(single.copygc.userWriteHint(overwriting: nil) == nil, "single placement leaves hints to the caller")
    }
}
