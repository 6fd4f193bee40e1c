import Foundation
import Synchronization
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneGC
import ZonedStorage

/// Evacuation: moves through backpointers, compare-and-swap against concurrent overwrites,
/// cached data dropped, the reset gated on durability.
@Suite("Copygc evacuation")
struct EvacuationTests {
    /// Fills three buckets (12 blocks each) with keys, then overwrites 9 keys of the first one
    /// (it becomes the emptiest bucket, and the oldest) and 4 of the second, so more than a
    /// bucket's worth is dead.
    static func fragmented(_ harness: GCHarness) throws -> BucketIndex {
        for key in 0..<36 { try harness.write(UInt64(key)) }
        let victim = harness.owner.snapshot[0]!.pointer.bucket
        for key in 0..<9 { try harness.write(UInt64(key)) }
        for key in 12..<16 { try harness.write(UInt64(key)) }
        return victim
    }

    @Test("a pass moves the live extents of the emptiest bucket, swaps the owner's pointers and resets it")
    func movesAndResets() throws {
        let harness = try GCHarness()
        let victim = try Self.fragmented(harness)
        let generation = harness.allocator.generation(of: victim)
        let live = harness.owner.snapshot.filter { $0.value.pointer.bucket == victim }
        #expect(live.count == 3)
        let report = try harness.copygc.collect()
        #expect(report.outcome == .evacuated)
        #expect(report.victims.first == victim)
        #expect(report.bucketsFreed >= 1)
        #expect(report.sectorsMoved >= 3 * 8)
        #expect(harness.allocator.generation(of: victim) == generation.next)
        #expect(harness.generations.generation(of: victim) == generation.next, "the new generation was persisted")
        for (key, _) in live {
            let moved = try #require(harness.owner.snapshot[key])
            #expect(moved.pointer.bucket != victim || moved.pointer.generation != generation)
        }
        #expect(harness.problems().isEmpty)
        #expect(harness.owner.commits.withLock { $0 } >= 1)
    }

    @Test("collect(maxVictims:) evacuates no more buckets than asked; a later pass takes the rest")
    func victimLimit() throws {
        let harness = try GCHarness()
        // Four full buckets; half of the first three overwritten: three candidate victims.
        for key in 0..<48 { try harness.write(UInt64(key)) }
        for bucket in 0..<3 {
            for key in (bucket * 12)..<(bucket * 12 + 6) { try harness.write(UInt64(key)) }
        }
        var steps: [PassProgress] = []
        let first = try harness.copygc.collect(maxVictims: 1) { steps.append($0) }
        #expect(first.outcome == .evacuated)
        #expect(first.victims.count == 1, "victims: \(first.victims)")
        #expect(steps.map(\.victimsEvacuated) == [1], "one group of one victim: \(steps)")
        #expect(steps.last?.sectorsMoved == first.sectorsMoved)
        #expect(steps.allSatisfy { $0.candidates == 1 })
        #expect(harness.problems().isEmpty)
        let second = try harness.copygc.collect()
        #expect(second.victims.count >= 1)
        #expect(Set(second.victims).isDisjoint(with: first.victims))
        #expect(harness.problems().isEmpty)
    }

    @Test("an overwrite racing the move wins: the moved copy is marked dead and the newer data stays")
    func concurrentOverwriteWins() throws {
        let harness = try GCHarness()
        let victim = try Self.fragmented(harness)
        let racing = try #require(harness.owner.snapshot.first { $0.value.pointer.bucket == victim }?.key)
        let fired = Mutex(false)
        // The user overwrites `racing` after copygc read and rewrote it, before the swap.
        harness.owner.relocateHook.withLock {
            $0 = { [harness] moves in
                guard moves.contains(where: { $0.key == racing }), !fired.withLock({ $0 }) else { return }
                fired.withLock { $0 = true }
                _ = try? harness.write(racing)
            }
        }
        let newestTag = harness.tag + 1
        let report = try harness.copygc.collect()
        #expect(fired.withLock { $0 })
        #expect(report.racesLost == 1)
        #expect(harness.copygc.statistics().racesLost == 1)
        #expect(harness.copygc.statistics().copygcSectorsDiscarded == 8)
        let entry = try #require(harness.owner.snapshot[racing])
        #expect(entry.tag == newestTag, "the owner kept the overwrite, not the moved copy")
        #expect(try harness.read(entry.pointer) == AllocatorFixtures.payload(tag: newestTag, blocks: 1))
        #expect(harness.problems().isEmpty)
    }

    @Test("threads overwriting while copygc runs keep every key's newest data", arguments: [11, 12, 13] as [UInt64])
    func threadedOverwrites(seed: UInt64) throws {
        let harness = try GCHarness(
            geometry: GCHarness.geometry(zones: 24, maxOpen: 8, maxActive: 10),
            allocator: AllocatorConfiguration(
                copygcReserve: 0.2,
                metadataZoneSlots: 0,
                copygcZoneSlots: 1,
                allocationWaitLimit: 2
            )
        )
        for key in 0..<120 { try harness.write(UInt64(key)) }
        let writer = Mutex(SeededRandom(seed: seed))
        let serial = Mutex(())
        let stop = Atomic(false)
        let errors = Mutex<[String]>([])
        harness.copygc.start()
        AllocatorFixtures.onThreads(2) { thread in
            if thread == 0 {
                for _ in 0..<600 {
                    let key = UInt64(writer.withLock { $0.int(in: 0..<120) })
                    // Writes of one key are serialised (a store locks per key); keys race copygc.
                    do {
                        try serial.withLock { _ throws(AllocationError) in _ = try harness.write(key) }
                    } catch {
                        errors.withLock { $0.append("\(error)") }
                    }
                }
                stop.store(true, ordering: .releasing)
            } else {
                while !stop.load(ordering: .acquiring) {
                    do { try harness.copygc.collect() } catch { errors.withLock { $0.append("\(error)") } }
                }
            }
        }
        harness.copygc.stop()
        #expect(errors.withLock { $0 }.isEmpty, "\(errors.withLock { $0.prefix(3) })")
        let problems = harness.problems()
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(harness.copygc.statistics().copygcSectorsMoved > 0)
    }

    @Test("cached extents are dropped, not moved, and their owner is told")
    func cachedDropped() throws {
        let harness = try GCHarness()
        // One bucket: 9 cached blocks and 3 dirty ones, then the other dirty ones overwritten.
        for key in 0..<9 { try harness.write(100 + UInt64(key), hint: .stream(1), cached: true) }
        for key in 0..<3 { try harness.write(UInt64(key), hint: .stream(1)) }
        let victim = harness.owner.snapshot[0]!.pointer.bucket
        #expect(harness.allocator.liveSectors(of: victim) == (dirty: 24, cached: 72))
        for key in 0..<2 { try harness.write(UInt64(key), hint: .stream(0)) }
        // Fill a few more buckets so the victim is not open, and kill a few blocks there too.
        for key in 10..<40 { try harness.write(UInt64(key), hint: .stream(1)) }
        for key in 10..<14 { try harness.write(UInt64(key), hint: .stream(0)) }
        let report = try harness.copygc.collect()
        #expect(report.victims.contains(victim))
        #expect(report.cachedSectorsDropped == 72)
        #expect(harness.owner.dropped.withLock { $0.count } == 9)
        for key in 100..<109 {
            let cached = try #require(harness.owner.snapshot[UInt64(key)])
            #expect(harness.allocator.isStale(cached.pointer), "cached key \(key) was moved instead of dropped")
        }
        #expect(harness.problems().isEmpty)
    }

    @Test("an owner whose commit fails keeps the old copies live; a later pass releases them")
    func commitFailureGatesTheReset() throws {
        let harness = try GCHarness()
        let victim = try Self.fragmented(harness)
        let generation = harness.allocator.generation(of: victim)
        harness.owner.failingCommits.withLock { $0 = 1 }
        #expect(throws: GCError.self) { try harness.copygc.collect() }
        let error = try #require(harness.copygc.lastError)
        #expect(error.code == .owner)
        #expect(harness.allocator.generation(of: victim) == generation, "reset before the owner committed")
        #expect(harness.copygc.pendingReleaseCount > 0)
        #expect(harness.allocator.liveSectors(of: victim).dirty > 0, "old copies must stay live")
        // The new copies are what the owner points at; the old ones are still accounted.
        let report = try harness.copygc.collect()
        #expect(report.outcome != .busy)
        #expect(harness.copygc.pendingReleaseCount == 0)
        #expect(harness.allocator.generation(of: victim) != generation, "released and reset by the next pass")
        #expect(harness.problems().isEmpty)
    }

    @Test("the new generation is durable before the victim's zone is reset")
    func generationBeforeReset() throws {
        let log = AllocatorFixtures.EventLog()
        let inner = try EmulatedDevice(
            geometry: GCHarness.geometry(),
            storage: .memory,
            options: .init(writeCache: .writeThrough)
        )
        let recorder = AllocatorFixtures.RecordingDevice(inner, log: log)
        let store = AllocatorFixtures.RecordingGenerationStore(log: log)
        let allocator = try BucketAllocator(
            device: recorder,
            configuration: AllocatorConfiguration(copygcReserve: 0.2, metadataZoneSlots: 0, allocationWaitLimit: 0.2),
            generationStore: store
        )
        let copygc = try Copygc(allocator: allocator)
        let owner = TestOwner()
        let id = try copygc.register(owner)
        for key in Array(0..<36) + Array(0..<9) + Array(12..<16) {
            let key = UInt64(key)
            let pointer = try allocator.write(
                AllocatorFixtures.payload(tag: key, blocks: 1),
                hint: .stream(0),
                split: false
            )[0]
            copygc.recordWrite(pointer, owner: id, key: key, hint: .stream(0))
            if let old = owner.swap(key, to: pointer, tag: key) { copygc.markDead(old) }
        }
        log.clear()
        let report = try copygc.collect()
        let victim = try #require(report.victims.first)
        let events = log.all
        let persist = try #require(events.firstIndex { if case .persist(victim.zone, _) = $0 { true } else { false } })
        let reset = try #require(events.firstIndex { if case .reset(victim.zone) = $0 { true } else { false } })
        #expect(persist < reset)
        let lastWrite = try #require(events.lastIndex { if case .write = $0 { true } else { false } })
        #expect(lastWrite < reset, "moved data is written before the victim is reset")
        try inner.close()
    }
}
