import ZoneAlloc
import ZonedStorage

/// Journal replay (FORMAT.md, "Replay"): from the superblock's chains to the index and the
/// bucket generations, with the device's write pointers deciding what exists.
///
/// 1. Every chain is read: closed chains to their recorded last record (a shorter chain is
///    corruption), the open one until its first torn, invalid or out-of-sequence group.
/// 2. The replay is cut before the first put of the open chain's last group whose data is not on
///    the device intact: an extent that reaches past its zone's write pointer or whose bytes do
///    not match its checksum. The writer flushes every group before it writes the next, so only
///    that last group can hold records that were never acknowledged as durable (the flush
///    acknowledging them would have made their data, written before them, durable too); every
///    earlier put's data was durable when its group was, and is not checked again (its bucket
///    may have been reset since, even so often that the 8-bit generation came round to the same
///    value). The check reads the data rather than trusting the write pointer because a zone
///    finished while it held unflushed data keeps its FULL write pointer across a power loss
///    while the data is gone.
/// 3. The records before the cut are applied in order. A checkpoint's snapshot records apply
///    only where no newer record (a higher version) already decided the key or the generation.
/// 4. Cached extents that are stale or missing become evicted markers.
struct Recovery {
    /// The recovered state.
    struct Result: Sendable {
        var index: [StoreKey: IndexEntry] = [:]
        var generations: [UInt8]
        /// The last sequence number applied (the next record gets this + 1).
        var lastSequence: UInt64
        /// The superblock's chains, the last one closed at ``lastSequence``, empty ones dropped.
        var chains: [Superblock.Chain] = []
        /// Journal buckets holding records that are still needed (oldest first).
        var journalBuckets: [DataPointer] = []
        /// Buckets the journal ran through that hold nothing needed (a torn tail).
        var discardedJournalBuckets: [UInt32] = []
        /// What happened, in words, for the log.
        var notes: [String] = []
        var groupsRead = 0
        var recordsApplied = 0
        /// Records after the cut that were dropped (not acknowledged as durable).
        var recordsDropped = 0
        /// Dirty values that point where the device has no data (lost to a device failure).
        var lostKeys: [StoreKey] = []
        var evictedOnRecovery = 0
    }

    let superblock: Superblock
    let device: any ZonedDevice
    let zones: [Zone]
    let bucketSectors: Int

    /// Replays the journal.
    ///
    /// - Throws: ``StoreError`` `.corrupt` when a closed chain is shorter than recorded, a chain
    ///   does not continue the previous one, or the checkpoint the superblock names is incomplete.
    func run() throws(StoreError) -> Result {
        let reader = JournalReader(device: device, uuid: superblock.uuid, zones: zones)
        var entries: [JournalReader.Entry] = []
        var spans: [[JournalReader.BucketSpan]] = []
        var result = Result(generations: Array(repeating: 0, count: zones.count), lastSequence: 0)
        var expected = superblock.chains.first?.firstSequence ?? 1
        var lastGroupStart: Int?
        for (position, chain) in superblock.chains.enumerated() {
            guard chain.firstSequence == expected else {
                throw StoreError(
                    code: .corrupt,
                    message: "journal chain \(position) starts at record \(chain.firstSequence), but the previous "
                        + "chain ended before record \(expected); the superblock is inconsistent. Run "
                        + "`zonealloc fsck` for details"
                )
            }
            let read = try reader.read(chain)
            result.groupsRead += read.groups
            if let stale = read.staleHead {
                throw StoreError(
                    code: .corrupt,
                    message: "superblock \(superblock.sequence) is older than the journal: journal chain \(position) "
                        + "(\(stale)); a newer superblock was lost or damaged, and replaying this one would read "
                        + "freed journal buckets. The store is not opened; run `zonealloc fsck`",
                    bucket: BucketIndex(rawValue: chain.bucket)
                )
            }
            if chain.lastSequence != nil, !read.complete {
                throw StoreError(
                    code: .corrupt,
                    message: "journal chain \(position) (bucket \(chain.bucket)) ends early: \(read.stopReason); "
                        + "records up to \(chain.lastSequence!) were acknowledged and are missing. Run "
                        + "`zonealloc fsck` for details",
                    bucket: BucketIndex(rawValue: chain.bucket)
                )
            }
            if chain.lastSequence == nil {
                result.notes.append("journal ends: \(read.stopReason)")
            }
            if chain.lastSequence == nil, let start = read.lastGroupStart {
                lastGroupStart = entries.count + start
            }
            entries += read.entries
            spans.append(read.buckets)
            expected = (read.entries.last?.sequence).map { $0 + 1 } ?? chain.firstSequence
        }
        if superblock.checkpointSequence > 0 {
            guard case .checkpointBegin = entries.first?.record,
                entries.first?.sequence == superblock.checkpointSequence + 1
            else {
                throw StoreError(
                    code: .corrupt,
                    message: "the journal does not start with the checkpoint after record "
                        + "\(superblock.checkpointSequence) that the superblock names; the store cannot be recovered"
                )
            }
        }
        let cut = try cutPoint(entries, lastGroupStart: lastGroupStart)
        if cut < entries.count {
            result.recordsDropped = entries.count - cut
            result.notes.append(
                "dropped \(entries.count - cut) journal records from record \(entries[cut].sequence) on: their data "
                    + "did not reach the device (they were never acknowledged as durable)"
            )
        }
        try apply(entries.prefix(cut), into: &result)
        // The index was sized for every put and snapshot record; a journal that overwrote few
        // keys many times leaves it mostly empty, and a dictionary never shrinks: rebuild it at
        // its real size for the rest of the store's life.
        if result.index.capacity > 2 * result.index.count + 1024 {
            var compact = [StoreKey: IndexEntry](minimumCapacity: result.index.count)
            for (key, entry) in result.index { compact[key] = entry }
            result.index = compact
        }
        result.lastSequence =
            cut > 0
            ? entries[cut - 1].sequence : (superblock.chains.first?.firstSequence ?? 1) - 1
        finishChains(spans: spans, into: &result)
        validate(&result)
        return result
    }

    // MARK: - Cut

    /// The index of the first put from `lastGroupStart` on (the open chain's last group) whose
    /// data is not on the device intact, or `entries.count` if there is none.
    ///
    /// - Throws: ``StoreError`` `.device` when the device cannot read an extent that its write
    ///   pointer says is there (not opening is better than dropping acknowledged records).
    func cutPoint(_ entries: [JournalReader.Entry], lastGroupStart: Int?) throws(StoreError) -> Int {
        guard let start = lastGroupStart, start < entries.count else { return entries.count }
        let reader = JournalReader(device: device, uuid: [], zones: zones)
        for position in start..<entries.count {
            guard case .put(_, let record, _) = entries[position].record else { continue }
            for extent in record.extents where try !isIntact(extent, reader: reader) {
                return position
            }
        }
        return entries.count
    }

    /// Whether `extent`, named by a record that may not have been acknowledged, is on the device
    /// as written: below its zone's write pointer and matching its checksum. An offline zone
    /// counts as intact: that is a device failure, not a torn write, and ``validate(_:)`` reports
    /// the values it held.
    func isIntact(_ extent: StoredExtent, reader: JournalReader) throws(StoreError) -> Bool {
        let zone = extent.pointer.bucket.zone
        guard zone < zones.count else { return false }
        if zones[zone].condition == .offline { return true }
        let sectorSize = UInt64(DataPointer.sectorSize)
        let start = UInt64(extent.pointer.offset) * sectorSize
        let length = UInt64(extent.pointer.sectors) * sectorSize
        guard start + length <= reader.readableEnd(of: zone) else { return false }
        let bytes = try reader.readChecked(count: Int(length), at: zones[zone].start + start)
        return Checksum.of(bytes) == extent.checksum
    }

    /// Whether `extent` is on the device: superseded (its bucket's generation moved on, so it
    /// was acknowledged before a reset), or below its zone's write pointer.
    func isPresent(_ extent: StoredExtent, generations: [UInt8]) -> Bool {
        let zone = extent.pointer.bucket.zone
        guard zone < zones.count else { return false }
        if generations[zone] != extent.pointer.generation.rawValue { return true }
        if zones[zone].condition == .offline { return true }  // a device failure, not a torn write
        let end = UInt64(extent.pointer.offset + extent.pointer.sectors) * UInt64(DataPointer.sectorSize)
        return end <= JournalReader(device: device, uuid: [], zones: zones).readableEnd(of: zone)
    }

    // MARK: - Apply

    private func apply(_ entries: ArraySlice<JournalReader.Entry>, into result: inout Result) throws(StoreError) {
        var tombstones: [StoreKey: UInt64] = [:]
        var generationDecided: Set<Int> = []
        var snapshotSequence: UInt64?
        var snapshotCount: UInt64 = 0
        var snapshotComplete = superblock.checkpointSequence == 0
        // The index grows to at most one entry per put or snapshot record: sized once, it is not
        // rehashed again and again while a long journal replays.
        var keyRecords = 0
        for entry in entries {
            switch entry.record {
            case .put, .snapshotEntry: keyRecords += 1
            default: break
            }
        }
        result.index.reserveCapacity(result.index.count + keyRecords)
        for entry in entries {
            result.recordsApplied += 1
            switch entry.record {
            case .put(let key, var record, _):
                record.version = entry.sequence
                result.index[key] = record
                tombstones[key] = nil
            case .delete(let key):
                result.index[key] = nil
                if snapshotSequence != nil { tombstones[key] = entry.sequence }
            case .generation(let bucket, let generation):
                guard Int(bucket) < zones.count else { continue }
                result.generations[Int(bucket)] = generation
                generationDecided.insert(Int(bucket))
            case .checkpointBegin:
                snapshotSequence = entry.sequence - 1
                snapshotCount = 0
            case .snapshotEntry(let key, let record):
                guard snapshotSequence != nil else { continue }
                snapshotCount += 1
                if let newer = tombstones[key], newer > record.version { continue }
                if let current = result.index[key], current.version > record.version { continue }
                result.index[key] = record
            case .snapshotGenerations(let first, let values):
                guard snapshotSequence != nil else { continue }
                for (offset, value) in values.enumerated() {
                    let bucket = Int(first) + offset
                    if bucket < zones.count, !generationDecided.contains(bucket) { result.generations[bucket] = value }
                }
            case .checkpointEnd(let sequence, let count):
                guard let begun = snapshotSequence, begun == sequence, count == snapshotCount else {
                    throw StoreError(
                        code: .corrupt,
                        message:
                            "the checkpoint after record \(sequence) is inconsistent (\(snapshotCount) of \(count) "
                            + "entries); the store cannot be recovered"
                    )
                }
                snapshotSequence = nil
                tombstones.removeAll()
                if sequence == superblock.checkpointSequence { snapshotComplete = true }
            }
        }
        guard snapshotComplete else {
            throw StoreError(
                code: .corrupt,
                message: "the checkpoint after record \(superblock.checkpointSequence) that the superblock names is "
                    + "incomplete; the store cannot be recovered"
            )
        }
    }

    // MARK: - Chains and journal buckets

    /// Closes the last chain at the last applied record, drops empty chains, and lists the
    /// journal buckets still needed.
    private func finishChains(spans: [[JournalReader.BucketSpan]], into result: inout Result) {
        let last = result.lastSequence
        var seen: Set<UInt32> = []
        for (position, chain) in superblock.chains.enumerated() {
            var closed = chain
            if closed.lastSequence == nil || closed.lastSequence! > last { closed.lastSequence = last }
            for span in spans[position] {
                let needed = span.firstSequence.map { $0 <= last } ?? false
                if needed, closed.lastSequence! >= closed.firstSequence {
                    if seen.insert(span.bucket).inserted {
                        result.journalBuckets.append(
                            DataPointer(
                                bucket: BucketIndex(rawValue: span.bucket),
                                offset: 0,
                                sectors: UInt32(bucketSectors),
                                generation: BucketGeneration(rawValue: span.generation)
                            )
                        )
                    }
                } else if span.end > 0 {
                    result.discardedJournalBuckets.append(span.bucket)
                }
            }
            if closed.lastSequence! >= closed.firstSequence { result.chains.append(closed) }
        }
        // A chain's head bucket also holds the groups before its first record (a checkpoint's
        // begin group shares its bucket with older records); those buckets are kept too.
        result.discardedJournalBuckets.removeAll { seen.contains($0) }
    }

    // MARK: - Validation

    /// Checks the recovered index against the generations and write pointers: stale or missing
    /// cached data becomes an evicted marker; missing dirty data is reported lost and dropped.
    private func validate(_ result: inout Result) {
        for (key, entry) in result.index where !entry.isEvictedMarker {
            let valid = entry.extents.allSatisfy { extent in
                extent.pointer.bucket.zone < result.generations.count
                    && extent.pointer.generation.rawValue == result.generations[extent.pointer.bucket.zone]
                    && isPresent(extent, generations: result.generations)
            }
            if valid { continue }
            if entry.kind == .cached {
                result.index[key] = IndexEntry(
                    length: entry.length,
                    kind: .cached,
                    extents: [],
                    version: entry.version,
                    isEvictedMarker: true
                )
                result.evictedOnRecovery += 1
            } else {
                result.lostKeys.append(key)
                result.index[key] = nil
            }
        }
        if !result.lostKeys.isEmpty {
            result.notes.append(
                "\(result.lostKeys.count) values point where the device has no data (offline zones or a damaged "
                    + "journal) and were dropped: \(result.lostKeys.prefix(5).map(\.description).joined(separator: ", "))"
            )
        }
    }
}
