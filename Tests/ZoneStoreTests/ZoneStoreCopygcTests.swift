import Synchronization
import Testing
import ZoneStore
import ZonedStorage

/// Explicit copygc passes through the store (`collectGarbage`, what `zonealloc gc` runs): the
/// victim limit, progress reports, and what survives them.
@Suite struct ZoneStoreCopygcTests {
    /// A store on ``StoreFixtures/small`` fragmented by ``StoreFixtures/fragment(_:seed:)``
    /// (ten buckets half dead), background copygc off.
    static func fragmented(seed: UInt64) throws -> (ZoneStore, [StoreKey: [UInt8]]) {
        let (_, store) = try StoreFixtures.store(options: StoreFixtures.options(copygcOnDemand: false))
        return (store, try StoreFixtures.fragment(store, seed: seed))
    }

    @Test("maxVictims bounds the pass; progress follows it; every value survives")
    func victimLimitAndProgress() throws {
        let seed: UInt64 = 21
        print("victimLimitAndProgress seed \(seed)")
        let (store, model) = try Self.fragmented(seed: seed)
        defer { try? store.close() }
        let steps = Mutex<[ZoneStore.CopygcProgress]>([])
        let limited = try store.collectGarbage(maxVictims: 1) { step in steps.withLock { $0.append(step) } }
        #expect(limited.outcome == .evacuated)
        #expect(limited.victims.count == 1, "victims: \(limited.victims)")
        let seen = steps.withLock { $0 }
        #expect(!seen.isEmpty)
        #expect(seen.allSatisfy { $0.victimsDone == 1 }, "\(seen)")
        #expect(seen.last?.bytesMoved == limited.bytesMoved)

        let full = try store.collectGarbage()
        #expect(full.victims.count > 1, "the default takes copygc's own limit: \(full.victims)")
        #expect(Set(full.victims).isDisjoint(with: limited.victims))
        #expect(try StoreFixtures.expectMatches(store, model) == [])
        #expect(try StoreFixtures.invariantProblems(store) == [])
    }

    @Test("a victim limit below 1 is refused with invalidArgument")
    func zeroVictimsIsRefused() throws {
        let (store, _) = try Self.fragmented(seed: 22)
        defer { try? store.close() }
        let error = #expect(throws: StoreError.self) { try store.collectGarbage(maxVictims: 0) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("at least 1") == true)
    }
}
