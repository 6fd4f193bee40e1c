import Synchronization
import ZoneAlloc
import ZoneGC

extension ZoneStore {
    /// Checks the store against the allocator while nothing is in flight, and returns the
    /// problems in words (empty when consistent): each bucket's live sectors equal the index's
    /// extents at the bucket's generation plus the journal buckets; the store's generations equal
    /// the allocator's; no dirty extent is stale; every extent has its backpointer.
    package func consistencyProblems() -> [String] {
        let journalBuckets = journal.retainedBuckets + [journal.reservedNext].compactMap { $0 }
        let pending = collector.pendingReleaseCount
        return state.withLock { state -> [String] in
            var problems: [String] = []
            if pending > 0 { problems.append("copygc holds \(pending) old copies not yet released") }
            var dirty = Array(repeating: 0, count: state.generations.count)
            var cached = Array(repeating: 0, count: state.generations.count)
            // Copygc's backpointer keys by bucket, read once per bucket.
            var recorded: [Int: Set<UInt64>] = [:]
            for (key, entry) in state.index where !entry.isEvictedMarker {
                for (position, extent) in entry.extents.enumerated() {
                    let zone = extent.pointer.bucket.zone
                    guard zone < dirty.count else {
                        problems.append("\(key): extent in \(extent.pointer.bucket), beyond the device")
                        continue
                    }
                    // Read-only or offline at open: kept in the index, not accounted.
                    if unaccountedZones.contains(zone) { continue }
                    guard state.isCurrent(extent) else {
                        if entry.kind == .dirty { problems.append("\(key): dirty extent \(extent.pointer) is stale") }
                        continue
                    }
                    let keys =
                        recorded[zone]
                        ?? Set(collector.backpointers(in: extent.pointer.bucket).map(\.key))
                    recorded[zone] = keys
                    if !keys.contains(IndexEntry.backpointerKey(id: entry.id, extent: position)) {
                        problems.append("\(key): no backpointer in \(extent.pointer.bucket)")
                    }
                    if extent.pointer.isCached {
                        cached[zone] += Int(extent.pointer.sectors)
                    } else {
                        dirty[zone] += Int(extent.pointer.sectors)
                    }
                }
            }
            for pointer in journalBuckets where !unaccountedZones.contains(pointer.bucket.zone) {
                dirty[pointer.bucket.zone] += Int(pointer.sectors)
            }
            for zone in 0..<dirty.count {
                let bucket = BucketIndex(zone)
                let live = allocator.liveSectors(of: bucket)
                if live.dirty != dirty[zone] || live.cached != cached[zone] {
                    problems.append(
                        "\(bucket): allocator counts \(live.dirty) dirty / \(live.cached) cached sectors, the index "
                            + "\(dirty[zone]) / \(cached[zone])"
                    )
                }
                let generation = allocator.generation(of: bucket).rawValue
                if generation != state.generations[zone] {
                    problems.append(
                        "\(bucket): allocator at gen \(generation), store at gen \(state.generations[zone])"
                    )
                }
            }
            return problems
        }
    }
}

extension ZoneStore {
    /// The zones holding journal groups still needed, oldest first (for tests and fsck).
    package var journalZoneIndexes: [Int] { journal.retainedBuckets.map(\.bucket.zone) }

    /// The zones the journal uses or has reserved to continue in (for fault-injection tests).
    package var metadataZoneIndexes: Set<Int> {
        Set((journal.retainedBuckets + [journal.reservedNext].compactMap { $0 }).map(\.bucket.zone))
    }

    /// The sticky failure after a journal write failed: the store refuses changes until it is
    /// reopened (reads go on). Nil while the store works.
    package var journalFailure: StoreError? { journal.failure }
}
