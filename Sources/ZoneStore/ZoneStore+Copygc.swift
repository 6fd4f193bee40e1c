import Logging
import Synchronization
import ZoneAlloc
import ZoneGC

extension ZoneStore {
    /// Progress of a copygc pass, for a progress display.
    public struct CopygcProgress: Sendable, Hashable {
        /// Victims evacuated so far.
        public var victimsDone: Int
        /// The most victims the pass may take (the candidates it picked; it stops earlier once it
        /// has reclaimed what it aimed for). The last report, when the pass is done, has the
        /// number it took.
        public var victims: Int
        /// Bytes moved so far.
        public var bytesMoved: UInt64
    }

    /// Runs one copygc pass now (the `ZoneGC` module's ``ZoneGC/Copygc/collect()``): it evacuates
    /// the most fragmented buckets (greedy: fewest live sectors first), rewriting their live dirty
    /// extents through the copygc write point. Each move updates the index only if the key still
    /// points at the old place (compare-and-swap, ``relocate(_:)``; a value changed meanwhile wins
    /// and the copy is released); the moved data is flushed and the moves committed to the
    /// journal before the old places are released, so a victim's zone is reset only after that.
    /// Cached extents are not moved: they read as evicted once the victim is reset.
    ///
    /// - Parameters:
    ///   - maxVictims: evacuate at most this many buckets (≥ 1); nil: copygc's per-pass limit
    ///     (16 victims, enough to reach the stop threshold), which also caps a larger value.
    ///   - progress: called on this thread after each group of victims is evacuated and once
    ///     more when the pass is done (not at all when it evacuated nothing). The pass is still
    ///     running then: calling ``close()`` from it would wait for itself.
    /// - Returns: what the pass did; `.nothingToFree` when no bucket holds dead space.
    /// - Throws: ``StoreError`` `.invalidArgument` for `maxVictims` < 1; otherwise when the store
    ///   is closed, the journal cannot be written, or copygc fails (`.device`, `.allocator`).
    @discardableResult
    public func collectGarbage(
        maxVictims: Int? = nil,
        progress: (@Sendable (CopygcProgress) -> Void)? = nil
    ) throws(StoreError) -> CopygcReport {
        if let maxVictims, maxVictims < 1 {
            throw StoreError(
                code: .invalidArgument,
                message: "a copygc pass of at most \(maxVictims) victims can free nothing; ask for at least 1, or "
                    + "pass nil for copygc's own limit"
            )
        }
        try enter()
        defer { leave() }
        let evacuated = try evacuateReadOnlyZones()
        let pass: PassReport
        do {
            pass = try collector.collect(maxVictims: maxVictims) { step in
                progress?(
                    CopygcProgress(
                        victimsDone: step.victimsEvacuated,
                        victims: step.candidates,
                        bytesMoved: UInt64(step.sectorsMoved * DataPointer.sectorSize) + evacuated
                    )
                )
            }
        } catch {
            throw copygcFailure(error)
        }
        var report = CopygcReport(outcome: .evacuated)
        switch pass.outcome {
        case .evacuated: report.outcome = .evacuated
        case .nothingToFree(let reason): report.outcome = .nothingToFree(reason)
        case .busy, .backingOff: report.outcome = .busy
        }
        report.victims = pass.victims
        report.bucketsFreed = pass.bucketsFreed
        report.bytesMoved = UInt64(pass.sectorsMoved * DataPointer.sectorSize) + evacuated
        report.racesLost = pass.racesLost
        report.cachedBytesDropped = UInt64(pass.cachedSectorsDropped * DataPointer.sectorSize)
        report.stoppedEarly = pass.stoppedEarly
        if let reason = pass.stoppedEarly { logger.info("copygc pass stopped early: \(reason)") }
        if !pass.victims.isEmpty {
            progress?(
                CopygcProgress(
                    victimsDone: pass.victims.count,
                    victims: pass.victims.count,
                    bytesMoved: report.bytesMoved
                )
            )
        }
        metrics.update(self)
        logger.debug(
            "copygc: \(pass.victims.count) victims, \(pass.bucketsFreed) freed, \(report.bytesMoved) bytes moved"
        )
        return report
    }

    /// The copygc service's pass: copygc's background trigger (``ZoneGC/Copygc/collectIfNeeded(force:)``)
    /// as an operation ``close()`` waits for; nothing once the store is closing.
    ///
    /// - Throws: ``StoreError`` when a pass fails.
    func collectInBackground() throws(StoreError) {
        do {
            try enter()
        } catch {
            return
        }
        defer { leave() }
        try evacuateReadOnlyZones()
        do {
            _ = try collector.collectIfNeeded(force: true)
        } catch {
            throw copygcFailure(error)
        }
    }

    /// The store's error for a failed copygc pass: the journal's own failure when the pass
    /// stopped because the journal could not be written, otherwise copygc's error as `.device`
    /// or `.allocator`.
    private func copygcFailure(_ error: GCError) -> StoreError {
        if let failure = journal.failure { return failure }
        return StoreError(
            code: error.code == .device ? .device : .allocator,
            message: "copygc failed: \(error.message)",
            cause: error
        )
    }

    /// Moves the dirty values left in zones that were read-only when the store was opened
    /// (``readOnlyZones``) to writable buckets, as copygc would, had it their backpointers: the
    /// allocator never accounts those zones, so copygc cannot pick them as victims. Each extent
    /// is read (checksum checked), rewritten through the copygc write point, and swapped in only
    /// if its entry still points at the old place (otherwise the copy is released); the moves
    /// are committed to the journal before this returns. The old copies need no release: the
    /// zone is never written again. Cached values are left where they are (still readable).
    ///
    /// - Returns: the bytes moved.
    /// - Throws: ``StoreError`` when the copies cannot be written or the journal commit fails;
    ///   an extent that cannot be read is left in place (``get(_:)`` reports it).
    @discardableResult
    func evacuateReadOnlyZones() throws(StoreError) -> UInt64 {
        guard readOnlyDataLeft.load(ordering: .relaxed) else { return 0 }
        let zones = readOnlyZones
        let candidates = state.withLock { state -> [(StoreKey, UInt64, Int, StoredExtent)] in
            var found: [(StoreKey, UInt64, Int, StoredExtent)] = []
            for (key, entry) in state.index where entry.kind == .dirty && !entry.isEvictedMarker {
                for (position, extent) in entry.extents.enumerated()
                where zones.contains(extent.pointer.bucket.zone) {
                    found.append((key, entry.id, position, extent))
                }
            }
            return found
        }
        var moved: UInt64 = 0
        var unreadable = 0
        for (key, id, position, extent) in candidates {
            let data: [UInt8]
            do {
                data = try readExtent(extent, key: key)
            } catch {
                unreadable += 1
                continue
            }
            let pointers: [DataPointer]
            do {
                pointers = try allocator.write(data, hint: .copygc, watermark: .copygc, cached: false, split: false)
            } catch {
                throw StoreError.allocation(error, "cannot move \(key) out of read-only zone", key: key)
            }
            guard let pointer = pointers.first, pointers.count == 1 else {
                collector.markDead(pointers)
                continue
            }
            let backpointerKey = IndexEntry.backpointerKey(id: id, extent: position)
            collector.recordWrites(owner: ownerID, keys: [backpointerKey], pointers: [pointer], hint: .copygc)
            // Swapped in only if the key still points there, as copygc's own moves are.
            let move = ExtentMove(key: backpointerKey, from: extent.pointer, to: pointer)
            guard relocate([move])[0] else {
                collector.markDead([pointer])
                continue
            }
            moved += UInt64(pointer.byteCount)
        }
        if moved > 0 { try journal.commit(through: journal.lastSequence) }
        if unreadable == 0 { readOnlyDataLeft.store(false, ordering: .relaxed) }
        if moved > 0 { logger.info("moved \(moved) bytes out of read-only zones \(zones.sorted())") }
        return moved
    }

    /// Copygc's compare-and-swap (``ZoneGC/ExtentOwner/relocate(_:)``): each move's key names an
    /// entry and one of its extents; the extent is replaced only if it is still the moved-from
    /// one, and the new entry is journaled as a move (visible at once, durable at the next
    /// commit, which copygc asks for before it releases the old places).
    func relocate(_ moves: [ExtentMove]) -> [Bool] {
        state.withLock { state in
            moves.map { move in
                let id = move.key >> 6
                let position = Int(move.key & 63)
                guard !state.closed, let key = state.keysByID[id], var entry = state.index[key], entry.id == id,
                    position < entry.extents.count, move.matches(entry.extents[position].pointer)
                else { return false }
                entry.extents[position].pointer = move.relocated(entry.extents[position].pointer)
                let sequence = journal.append(.put(key: key, entry: entry, moved: true))
                entry.version = sequence
                _ = state.replace(key, with: entry)
                return true
            }
        }
    }

    /// Free buckets (empty, generation allocatable) now.
    var freeBuckets: Int {
        allocator.statistics().bucketsByState[.free] ?? 0
    }

    /// Copygc's totals since the store was opened.
    var copygcCounters: CopygcCounters {
        let statistics = collector.statistics()
        return CopygcCounters(
            passes: statistics.passes,
            passesFreeingNothing: statistics.passesWithNothingToDo,
            bucketsFreed: statistics.bucketsFreed,
            bytesMoved: UInt64(statistics.copygcSectorsMoved * DataPointer.sectorSize),
            racesLost: statistics.racesLost,
            cachedBytesDropped: UInt64(statistics.cachedSectorsDropped * DataPointer.sectorSize),
            kicks: statistics.kicks
        )
    }
}
