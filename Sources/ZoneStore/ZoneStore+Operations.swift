import Logging
import Synchronization
public import ZoneAlloc
import ZoneGC
import ZonedStorage

extension ZoneStore {
    // MARK: - Put

    /// Stores `bytes` under `key`, replacing any value it had.
    ///
    /// The value is written through the write point of `hint` in whole logical blocks (the last
    /// one zero-padded), split into one extent per bucket when it does not fit in what is left
    /// of the write point's bucket; each extent gets an XXH3-64 checksum. The journal record
    /// naming the extents is appended after the data is written, and the old value's space is
    /// released after that.
    ///
    /// - Parameters:
    ///   - key: 1 to ``StoreLimits/maximumKeyLength`` bytes.
    ///   - bytes: 0 to ``maximumValueSize`` bytes.
    ///   - hint: keeps unrelated streams in different buckets (``ZoneAlloc/WriteHint``).
    ///   - durability: `.durable` returns once the value survives a crash; `.buffered` once it
    ///     is written and visible.
    ///   - kind: `.dirty` (kept until deleted) or `.cached` (the store may drop it).
    /// - Throws: ``StoreError``: `.invalidArgument` for a bad key or size, `.noSpace` when the
    ///   usable capacity is exhausted, `.timedOut` when copygc freed no bucket in time,
    ///   `.device` when writes failed in three buckets in a row or the journal write failed,
    ///   `.failed` / `.closed` when the store refuses changes.
    public func put(
        _ key: StoreKey,
        _ bytes: [UInt8],
        hint: WriteHint = .stream(0),
        durability: Durability = .durable,
        kind: ValueKind = .dirty
    ) throws(StoreError) {
        try checkKey(key)
        guard bytes.count <= maximumValueSize else {
            throw StoreError(
                code: .invalidArgument,
                message:
                    "a value of \(bytes.count) bytes is larger than the \(maximumValueSize) bytes this store takes "
                    + "(at most \(StoreLimits.maximumExtentsPerValue) extents of one \(bucketBytes)-byte bucket each); "
                    + "split it over several keys",
                key: key
            )
        }
        var entry = IndexEntry(length: bytes.count, kind: kind, extents: [], version: 0)
        entry.id = try enter(takingID: true)
        defer { leave() }
        if !bytes.isEmpty {
            let padded = bytes.count % blockSize == 0 ? bytes : pad(bytes)
            var invalidated = 0
            while true {
                let pointers = try writeValue(padded, key: key, hint: hint, kind: kind)
                entry.extents = Self.extents(of: padded, valueLength: bytes.count, pointers: pointers)
                // Backpointers before the entry is visible: from then on the extents can die.
                guard kind == .cached else {
                    collector.recordWrites(
                        owner: ownerID,
                        keys: entry.extents.indices.map { IndexEntry.backpointerKey(id: entry.id, extent: $0) },
                        pointers: pointers,
                        hint: hint
                    )
                    break
                }
                let stale = recordCachedWrites(entry, hint: hint)
                if stale.isEmpty { break }
                // A bucket of the value was invalidated (cached-only: new generation, reset)
                // before its backpointers were recorded: write the value again, or, after
                // ``writeAttempts`` such races, store it as it is (it reads as evicted).
                invalidated += 1
                if invalidated >= Self.writeAttempts { break }
                let live = entry.extents.indices.filter { !stale.contains($0) }.map { entry.extents[$0].pointer }
                collector.markDead(live)
            }
        }
        let extents = entry.extents
        let outcome = state.withLock { state -> (IndexEntry?, UInt64)? in
            guard !state.closed else { return nil }
            let sequence = journal.append(.put(key: key, entry: entry, moved: false))
            var stored = entry
            stored.version = sequence
            let old = state.replace(key, with: stored)
            state.counters.puts += 1
            state.counters.userBytesWritten += UInt64(bytes.count)
            return (old, sequence)
        }
        guard let (old, sequence) = outcome else {
            collector.markDead(extents.map(\.pointer))
            throw StoreError(code: .closed, message: "the store was closed while \(key) was being written", key: key)
        }
        metrics.recordPut(bytes: bytes.count)
        if let old { release(old) }
        if durability == .durable { try journal.commit(through: sequence) }
        maybeCheckpoint()
    }

    /// Begins an operation that ``close()`` waits for (it may write to the device): refused once
    /// the store is closing or its journal failed. Pair with ``leave()``.
    ///
    /// - Parameter takingID: also hand out a fresh entry number (under the same lock).
    /// - Returns: the entry number, or 0 without `takingID`.
    /// - Throws: ``StoreError`` `.closed`, or the journal's sticky failure.
    @discardableResult
    func enter(takingID: Bool = false) throws(StoreError) -> UInt64 {
        let id = state.withLock { state -> UInt64? in
            guard !state.closed else { return nil }
            state.inFlight += 1
            return takingID ? state.takeID() : 0
        }
        guard let id else { throw StoreError(code: .closed, message: "the store is closed; open it again") }
        if let failure = journal.failure {
            leave()
            throw failure
        }
        return id
    }

    /// Ends an operation begun with ``enter()``; the last one to end after ``close()`` began
    /// wakes it.
    func leave() {
        let last = state.withLock { state -> Bool in
            state.inFlight -= 1
            return state.closed && state.inFlight == 0
        }
        if last { quiesced.signal() }
    }

    /// How many buckets a value write tries before a device error fails the put.
    static let writeAttempts = 3

    /// Writes `padded` through the write point of `hint`; after a device error, again in
    /// another bucket (up to ``writeAttempts`` times).
    private func writeValue(
        _ padded: [UInt8],
        key: StoreKey,
        hint: WriteHint,
        kind: ValueKind
    ) throws(StoreError) -> [DataPointer] {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try allocator.write(padded, hint: hint, watermark: .normal, cached: kind == .cached, split: true)
            } catch {
                // A device write error gave up the bucket it hit (finished, or retired when its
                // zone went read-only or offline) and left nothing live: write again elsewhere.
                if error.code == .device, attempt < Self.writeAttempts {
                    state.withLock { $0.counters.writeRetries += 1 }
                    continue
                }
                throw StoreError.allocation(
                    error,
                    "cannot store \(padded.count) bytes under \(key)"
                        + (attempt > 1 ? " (\(attempt) attempts in different buckets failed)" : ""),
                    key: key
                )
            }
        }
    }

    /// Records the backpointers of a cached value's extents that are still at their bucket's
    /// generation, and returns the positions of those that are not.
    ///
    /// A cached extent's bucket can be invalidated (new generation, reset) and written again by
    /// another put between the write and this call; copygc's backpointers for the bucket are
    /// then at the newer generation, and recording the stale extent would contradict them. The
    /// check and the record are made under the index lock, which a new generation also takes
    /// (``persistGenerations(_:)``) before the zone is reset and reused: an extent found
    /// current here cannot have been superseded in copygc's backpointers yet.
    private func recordCachedWrites(_ entry: IndexEntry, hint: WriteHint) -> [Int] {
        state.withLock { state in
            var stale: [Int] = []
            var keys: [UInt64] = []
            var pointers: [DataPointer] = []
            for (position, extent) in entry.extents.enumerated() {
                if state.isCurrent(extent) {
                    keys.append(IndexEntry.backpointerKey(id: entry.id, extent: position))
                    pointers.append(extent.pointer)
                } else {
                    stale.append(position)
                }
            }
            if !pointers.isEmpty { collector.recordWrites(owner: ownerID, keys: keys, pointers: pointers, hint: hint) }
            return stale
        }
    }

    /// The extents of `padded` (written at `pointers`, in order), with checksums.
    static func extents(of padded: [UInt8], valueLength: Int, pointers: [DataPointer]) -> [StoredExtent] {
        var extents: [StoredExtent] = []
        extents.reserveCapacity(pointers.count)
        var position = 0
        for pointer in pointers {
            let count = pointer.byteCount
            let valueBytes = max(0, min(count, valueLength - position))
            extents.append(
                StoredExtent(
                    pointer: pointer,
                    byteCount: valueBytes,
                    checksum: Checksum.of(padded, position..<(position + count))
                )
            )
            position += count
        }
        return extents
    }

    private func pad(_ bytes: [UInt8]) -> [UInt8] {
        var padded = bytes
        padded.append(contentsOf: repeatElement(0, count: blockSize - bytes.count % blockSize))
        return padded
    }

    func checkKey(_ key: StoreKey) throws(StoreError) {
        guard !key.bytes.isEmpty, key.bytes.count <= StoreLimits.maximumKeyLength else {
            throw StoreError(
                code: .invalidArgument,
                message: "a key must be 1 to \(StoreLimits.maximumKeyLength) bytes long, not \(key.bytes.count)",
                key: key.bytes.isEmpty ? nil : key
            )
        }
    }

    func checkOpen() throws(StoreError) {
        if state.withLock({ $0.closed }) {
            throw StoreError(code: .closed, message: "the store is closed; open it again")
        }
        if let failure = journal.failure { throw failure }
    }

    /// Marks the space of a replaced or deleted entry dead, through copygc (which drops the
    /// backpointers); stale cached extents are ignored.
    func release(_ entry: IndexEntry) {
        guard !entry.extents.isEmpty, !entry.isEvictedMarker else { return }
        let pointers = entry.extents.map(\.pointer).filter { !unaccountedZones.contains($0.bucket.zone) }
        if !pointers.isEmpty { collector.markDead(pointers) }
    }

    // MARK: - Get

    /// The value stored under `key`, every extent checked against its checksum.
    ///
    /// - Parameter key: the key.
    /// - Returns: the value's bytes.
    /// - Throws: ``StoreError``: `.notFound` when no value is stored under `key`; `.evicted` when it
    ///   was stored as cached and has been dropped; `.checksumMismatch` naming the key, bucket and
    ///   offset when the device returns bad data; `.dataLost` when the value's zone went offline
    ///   (a device failure); `.device` when a read fails twice.
    public func get(_ key: StoreKey) throws(StoreError) -> [UInt8] {
        try checkKey(key)
        var attempt = 0
        while true {
            attempt += 1
            // A read counts as an operation in flight (``close()`` waits for it), but unlike
            // ``enter()`` it is served after a journal failure: reads need no journal.
            let lookup = state.withLock { state -> (IndexEntry, Bool)? in
                guard !state.closed, let entry = state.index[key] else { return nil }
                state.counters.gets += 1
                let evicted = state.isEvicted(entry)
                if !evicted { state.inFlight += 1 }
                return (entry, evicted)
            }
            guard let (entry, evicted) = lookup else {
                try checkOpen()
                throw StoreError(code: .notFound, message: "no value is stored under \(key)", key: key)
            }
            if evicted {
                state.withLock { $0.counters.evictedReads += 1 }
                throw StoreError(
                    code: .evicted,
                    message: "the cached value of \(key) was dropped to reuse its space; store it again",
                    key: key
                )
            }
            var value: [UInt8] = []
            value.reserveCapacity(min(entry.length, entry.extents.reduce(0) { $0 + $1.byteCount }))
            var failure: StoreError?
            for extent in entry.extents {
                let data: [UInt8]
                do {
                    data = try readExtent(extent, key: key)
                } catch {
                    failure = error
                    break
                }
                value.append(contentsOf: data[0..<extent.byteCount])
            }
            leave()
            guard let failure else {
                state.withLock { $0.counters.bytesRead += UInt64(value.count) }
                return value
            }
            // The entry may have changed (overwritten, moved by copygc, its bucket reset) while
            // it was read: look again. The same entry still current means the data is bad.
            let changed = state.withLock { state -> Bool in
                guard let now = state.index[key] else { return true }
                return now.version != entry.version || !now.extents.allSatisfy(state.isCurrent)
            }
            if changed, attempt < 8 { continue }
            if failure.code == .checksumMismatch { state.withLock { $0.counters.checksumFailures += 1 } }
            throw failure
        }
    }

    /// Reads the sectors of `extent` and checks their checksum.
    func readExtent(_ extent: StoredExtent, key: StoreKey) throws(StoreError) -> [UInt8] {
        let offset =
            UInt64(extent.pointer.bucket.zone) * device.info.zoneSize
            + UInt64(extent.pointer.offset) * UInt64(DataPointer.sectorSize)
        let data: [UInt8]
        do {
            data = try readTwice(count: extent.pointer.byteCount, at: offset)
        } catch {
            // An offline zone is a device data loss: say so, rather than a plain I/O error.
            if (try? device.zone(extent.pointer.bucket.zone))?.condition == .offline {
                throw StoreError(
                    code: .dataLost,
                    message:
                        "the value of \(key) is lost: zone \(extent.pointer.bucket.zone) (\(extent.pointer.bucket)) "
                        + "of \(device.path) went offline, a device failure; delete the key or store the value again",
                    key: key,
                    bucket: extent.pointer.bucket,
                    offset: offset,
                    cause: error
                )
            }
            throw StoreError(
                code: .device,
                message: "reading \(key) from \(extent.pointer.bucket) at offset \(offset) failed (twice)",
                key: key,
                bucket: extent.pointer.bucket,
                offset: offset,
                cause: error
            )
        }
        let actual = Checksum.of(data)
        guard actual == extent.checksum else {
            throw StoreError(
                code: .checksumMismatch,
                message:
                    "checksum mismatch reading \(key): \(extent.pointer.bucket) (zone \(extent.pointer.bucket.zone)) at "
                    + "device offset \(offset), \(extent.pointer.byteCount) bytes: expected "
                    + "\(String(extent.checksum, radix: 16)), read \(String(actual, radix: 16)); the device returned "
                    + "bad data, the value is not returned",
                key: key,
                bucket: extent.pointer.bucket,
                offset: offset
            )
        }
        return data
    }

    /// Reads `count` bytes at `offset`, once more after a failure (a transient medium error).
    private func readTwice(count: Int, at offset: UInt64) throws(ZonedStorageError) -> [UInt8] {
        do {
            return try storeDevice.read(count: count, at: offset)
        } catch {
            state.withLock { $0.counters.readRetries += 1 }
            return try storeDevice.read(count: count, at: offset)
        }
    }

    // MARK: - Delete

    /// Deletes `key`'s value. Its space is released once the deletion is journaled; a bucket left
    /// with nothing live is reset only after that journal record is durable.
    ///
    /// - Parameters:
    ///   - key: the key.
    ///   - durability: `.durable` returns once the deletion survives a crash.
    /// - Returns: whether a value was stored under `key`.
    /// - Throws: ``StoreError``: `.closed` / `.failed` when the store refuses changes, `.device`
    ///   when the journal cannot be written.
    @discardableResult
    public func delete(_ key: StoreKey, durability: Durability = .durable) throws(StoreError) -> Bool {
        try checkKey(key)
        try enter()
        defer { leave() }
        let outcome = state.withLock { state -> (IndexEntry, UInt64)? in
            guard !state.closed, let old = state.remove(key) else { return nil }
            let sequence = journal.append(.delete(key: key))
            state.counters.deletes += 1
            return (old, sequence)
        }
        guard let (old, sequence) = outcome else {
            // Nothing to delete; a durable call still makes every earlier change durable.
            if durability == .durable { try journal.commit(through: journal.lastSequence) }
            return false
        }
        release(old)
        if durability == .durable { try journal.commit(through: sequence) }
        maybeCheckpoint()
        return true
    }

    // MARK: - List, stat

    /// The keys starting with `prefix`, in bytewise order (evicted cached keys included).
    public func list(prefix: StoreKey = StoreKey([UInt8]())) -> [StoreKey] {
        let keys = state.withLock { state in
            prefix.bytes.isEmpty ? Array(state.index.keys) : state.index.keys.filter { $0.hasPrefix(prefix) }
        }
        return keys.sorted()
    }

    /// What the store knows about `key`, or nil when nothing is stored under it.
    public func stat(_ key: StoreKey) -> KeyInfo? {
        state.withLock { state in
            guard let entry = state.index[key] else { return nil }
            return KeyInfo(
                key: key,
                length: entry.length,
                kind: entry.kind,
                isEvicted: state.isEvicted(entry),
                extents: entry.extents,
                version: entry.version
            )
        }
    }

    /// Whether the store is open.
    public var isOpen: Bool { !state.withLock { $0.closed } }

    /// The number of keys.
    public var count: Int { state.withLock { $0.index.count } }

    // MARK: - Sync, close

    /// Makes every change made so far durable.
    ///
    /// - Throws: ``StoreError`` when the journal cannot be written.
    public func sync() throws(StoreError) {
        try journal.commit(through: journal.lastSequence)
    }

    /// Stops copygc, makes every change durable and closes the store. The device stays open.
    ///
    /// New reads, changes, checkpoints and copygc passes are refused from the start; close waits
    /// for those under way (a get's reads, a put's write, a checkpoint, an explicit or background
    /// copygc pass) to end, so the device sees no operation from the store once this returns.
    ///
    /// - Throws: ``StoreError`` when the final journal commit fails.
    public func close() throws(StoreError) {
        let wasClosed = state.withLock { state -> Bool in
            defer { state.closed = true }
            return state.closed
        }
        guard !wasClosed else { return }
        while true {
            let epoch = quiesced.current
            if state.withLock({ $0.inFlight == 0 }) { break }
            quiesced.wait(after: epoch)
        }
        collector.stop()
        // No put is left to kick copygc onto its own thread.
        allocator.setCopygcTrigger(nil)
        defer { journal.shutDown() }
        try journal.commit(through: journal.lastSequence)
        // The totals since format, for `zonealloc stat`.
        try writeSuperblock()
        logger.info("closed store on \(device.path)")
    }

    // MARK: - Generations

    /// Journals each of `generations` as its bucket's new generation and (once the store is
    /// open) commits them together, with one journal commit: the allocator resets the zones when
    /// this returns.
    func persistGenerations(_ generations: [(bucket: BucketIndex, generation: BucketGeneration)])
        throws(StoreError)
    {
        guard !generations.isEmpty else { return }
        let sequence = state.withLock { state -> UInt64 in
            var last: UInt64 = 0
            for (bucket, generation) in generations {
                if bucket.zone < state.generations.count {
                    state.generations[bucket.zone] = generation.rawValue
                }
                last = journal.append(.generation(bucket: bucket.rawValue, generation: generation.rawValue))
            }
            return last
        }
        if bootstrapping.load(ordering: .acquiring) { return }
        try journal.commit(through: sequence)
    }
}

/// What ``ZoneStore/stat(_:)`` tells about a key.
public struct KeyInfo: Sendable, Hashable {
    /// The key.
    public var key: StoreKey
    /// The value's length in bytes.
    public var length: Int
    /// Dirty or cached.
    public var kind: ValueKind
    /// The cached value was dropped.
    public var isEvicted: Bool
    /// Where the value lies.
    public var extents: [StoredExtent]
    /// The journal sequence number of the record that wrote it.
    public var version: UInt64
}
