import Logging
import Synchronization
import ZoneAlloc
import ZoneGC

extension ZoneStore {
    /// The journal growth that triggers a checkpoint: ``OpenOptions/checkpointInterval`` (default
    /// 8 buckets), and at least twice the last checkpoint's size.
    var checkpointThreshold: UInt64 {
        let interval = UInt64(options.checkpointInterval ?? 8 * bucketBytes)
        return max(interval, 2 * lastCheckpointSize.load(ordering: .relaxed))
    }

    /// Writes a checkpoint when the journal has grown past ``checkpointThreshold`` and none is
    /// being written. Errors are logged: the journal stays valid without one.
    func maybeCheckpoint() {
        // Buffered changes are committed once 1 MiB of them is pending, which bounds the memory
        // they take and what a crash can lose.
        let (pending, growth) = journal.state.withLock { ($0.pendingBytes, $0.growth) }
        if pending >= 1 << 20 {
            do {
                try journal.commit(through: journal.lastSequence)
            } catch {
                logger.warning("committing buffered changes failed: \(error)")
            }
        }
        guard growth >= checkpointThreshold, !checkpointRunning.load(ordering: .relaxed) else { return }
        do {
            try writeCheckpoint()
        } catch {
            logger.warning("checkpoint failed: \(error)")
        }
    }

    /// Writes a checkpoint of the index and the bucket generations into the journal, points the
    /// superblock at it, and frees the journal buckets before it (FORMAT.md, "Checkpoints").
    ///
    /// The snapshot is taken under the index lock together with the checkpoint's begin record,
    /// so every record after it is newer than the snapshot; snapshot records are written while
    /// other changes go on, and replay applies each only where nothing newer decided the key.
    ///
    /// - Throws: ``StoreError`` when the journal or the superblock cannot be written; the old
    ///   checkpoint and journal stay valid.
    public func checkpoint() throws(StoreError) {
        try enter()
        defer { leave() }
        try writeCheckpoint()
    }

    /// ``checkpoint()`` within an operation ``close()`` waits for (``enter()``), or while the
    /// store opens. Returns at once when another checkpoint is being written.
    func writeCheckpoint() throws(StoreError) {
        guard checkpointRunning.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return
        }
        defer { checkpointRunning.store(false, ordering: .releasing) }
        if let failure = journal.failure { throw failure }
        let (snapshot, generations, begin) = state.withLock { state in
            // Cached entries whose data was dropped keep only a marker.
            var evicted: [(StoreKey, IndexEntry)] = []
            for (key, entry) in state.index where !entry.isEvictedMarker && state.isEvicted(entry) {
                evicted.append(
                    (
                        key,
                        IndexEntry(
                            length: entry.length,
                            kind: .cached,
                            extents: [],
                            version: entry.version,
                            isEvictedMarker: true
                        )
                    )
                )
            }
            for (key, marker) in evicted { _ = state.replace(key, with: marker) }
            let begin = journal.append(.checkpointBegin(entryCount: UInt64(state.index.count)), startsGroup: true)
            return (state.index, state.generations, begin)
        }
        journal.resetGrowth()
        var appendedBytes = 0
        var last = begin
        for (key, entry) in snapshot {
            let record = JournalRecord.snapshotEntry(key: key, entry: entry)
            last = journal.append(record)
            appendedBytes += 64 + key.bytes.count + entry.extents.count * JournalRecord.extentSize
            if appendedBytes >= 1 << 20 {
                try journal.commit(through: last)
                appendedBytes = 0
            }
        }
        for first in stride(from: 0, to: generations.count, by: 1024) {
            let slice = Array(generations[first..<min(first + 1024, generations.count)])
            last = journal.append(.snapshotGenerations(first: UInt32(first), generations: slice))
        }
        last = journal.append(.checkpointEnd(snapshotSequence: begin - 1, entryCount: UInt64(snapshot.count)))
        try journal.commit(through: last)
        guard let location = journal.location(ofGroupStartingAt: begin) else {
            throw StoreError(code: .failed, message: "the checkpoint's first journal group was not recorded")
        }
        try writeSuperblock { next in
            next.checkpointSequence = begin - 1
            next.chains = [
                Superblock.Chain(
                    bucket: location.bucket,
                    generation: location.generation,
                    offset: location.offset,
                    firstSequence: begin
                )
            ]
        }
        // The journal before the checkpoint is no longer needed: its buckets are freed (reset
        // once their new generation is journaled, by the allocator).
        let released = journal.release(before: location)
        allocator.markDead(released.filter { !unaccountedZones.contains($0.bucket.zone) })
        lastCheckpointSize.store(UInt64(snapshot.count * 96), ordering: .relaxed)
        let pointers = state.withLock { state in
            state.counters.checkpoints += 1
            return state.index.values.flatMap { entry in entry.extents.filter(state.isCurrent).map(\.pointer) }
        }
        allocator.updateOldestGenerations(pointers + journal.retainedBuckets)
        logger.debug(
            "checkpoint after record \(begin - 1): \(snapshot.count) keys, \(released.count) journal buckets freed"
        )
    }
}

extension ZoneStore {
    /// The totals since format: the superblock's at open plus this session's.
    var lifetime: LifetimeCounters {
        let counters = state.withLock { $0.counters }
        let copygc = collector.statistics()
        var session = LifetimeCounters()
        session.userBytesWritten = counters.userBytesWritten
        session.deviceBytesWritten = storeDevice.bytesWritten
        session.copygcPasses = UInt64(copygc.passes)
        session.copygcBytesMoved = UInt64(copygc.copygcSectorsMoved * DataPointer.sectorSize)
        session.copygcBucketsFreed = UInt64(copygc.bucketsFreed)
        session.resets = UInt64(allocator.statistics().resets)
        return baseLifetime.adding(session)
    }

    /// Writes the superblock with the next sequence number, `change` applied and the current
    /// totals (twice, see ``SuperblockLog/write(_:)``).
    ///
    /// The read-modify-write holds ``superblockWriter`` across the device write, so two writers
    /// (a checkpoint and close) never both start from the same superblock: the second starts
    /// from the first's, and never writes chains the first replaced (whose journal buckets the
    /// checkpoint frees right after).
    func writeSuperblock(_ change: (inout Superblock) -> Void = { _ in }) throws(StoreError) {
        try superblockWriter.withLock { (_: inout Void) throws(StoreError) in
            var next = superblock.withLock { $0 }
            next.sequence += 1
            change(&next)
            next.lifetime = lifetime
            next = try superblockLog.write(next)
            superblock.withLock { [next] in $0 = next }
        }
    }
}
