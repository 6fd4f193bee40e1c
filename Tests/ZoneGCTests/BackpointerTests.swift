import Testing
import ZoneAlloc
import ZoneGC

/// Backpointers as seen through copygc's API.
@Suite("Backpointers")
struct BackpointerTests {
    @Test("writes are recorded bucket → owner, key, offset, length; deaths remove them")
    func recordAndRemove() throws {
        let harness = try GCHarness()
        let a = try harness.write(1, blocks: 2)
        let b = try harness.write(2)
        let recorded = harness.copygc.backpointers(in: a.bucket)
        #expect(recorded.map(\.key) == [1, 2])
        #expect(recorded.map(\.pointer.offset) == [a.offset, b.offset])
        #expect(recorded.map(\.pointer.sectors) == [16, 8])
        #expect(recorded.allSatisfy { $0.owner == harness.ownerID })
        #expect(recorded[1].writtenAt == 16, "the write clock counts user sectors")
        harness.delete(1)
        #expect(harness.copygc.backpointers(in: a.bucket).map(\.key) == [2])
        #expect(harness.copygc.recordedLiveSectors(of: a.bucket) == (dirty: 8, cached: 0))
        #expect(harness.copygc.statistics().userSectorsWritten == 24)
    }

    @Test("owners are numbered in registration order")
    func owners() throws {
        let harness = try GCHarness()
        let second = try harness.copygc.register(TestOwner())
        #expect(harness.ownerID.rawValue == 0)
        #expect(second.rawValue == 1)
    }

    @Test("statistics subtract into an interval and compute write amplification")
    func statistics() {
        var earlier = CopygcStatistics()
        earlier.userSectorsWritten = 100
        earlier.copygcSectorsMoved = 50
        var later = earlier
        later.userSectorsWritten = 300
        later.copygcSectorsMoved = 450
        let interval = later.since(earlier)
        #expect(interval.userSectorsWritten == 200)
        #expect(interval.writeAmplification == 3)
        #expect(CopygcStatistics().writeAmplification == 1)
    }
}
