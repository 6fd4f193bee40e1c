import ZoneAlloc

/// The store's in-memory state, kept under one lock by ``ZoneStore``: the index, the bucket
/// generations as the journal has them (a generation is bumped here, under the lock, when it is
/// journaled, before the zone is reset), and the keys by entry number that copygc's
/// relocations name (copygc keeps the backpointers themselves). No I/O.
struct StoreState: Sendable {
    var index: [StoreKey: IndexEntry]
    var generations: [UInt8]
    /// Keys by entry number (``IndexEntry/id``), for copygc's relocations.
    var keysByID: [UInt64: StoreKey] = [:]
    /// The next entry number.
    var nextID: UInt64 = 1
    var closed = false
    /// Operations under way that ``ZoneStore/close()`` waits for (puts, deletes, checkpoints,
    /// copygc passes; see ``ZoneStore/enter()``).
    var inFlight = 0
    var counters = StoreCounters()

    init(index: [StoreKey: IndexEntry], generations: [UInt8]) {
        self.index = index
        self.generations = generations
        // Entry numbers live only in memory, so any order serves: the index's own, in place
        // (sorting the keys first cost O(n log n) byte-string comparisons on every open).
        keysByID.reserveCapacity(index.count)
        var position = self.index.startIndex
        while position != self.index.endIndex {
            self.index.values[position].id = nextID
            keysByID[nextID] = self.index.keys[position]
            nextID += 1
            self.index.formIndex(after: &position)
        }
    }

    /// A fresh entry number.
    mutating func takeID() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }

    /// Whether `extent` is at its bucket's current generation.
    func isCurrent(_ extent: StoredExtent) -> Bool {
        let zone = extent.pointer.bucket.zone
        return zone < generations.count && generations[zone] == extent.pointer.generation.rawValue
    }

    /// Whether `entry`'s data was dropped: an evicted marker, or a cached entry with a stale
    /// extent.
    func isEvicted(_ entry: IndexEntry) -> Bool {
        entry.isEvictedMarker || (entry.kind == .cached && !entry.extents.allSatisfy(isCurrent))
    }

    /// Replaces `key`'s entry, returning the old one.
    mutating func replace(_ key: StoreKey, with entry: IndexEntry) -> IndexEntry? {
        let old = index.updateValue(entry, forKey: key)
        if let old, old.id != entry.id { keysByID[old.id] = nil }
        keysByID[entry.id] = key
        return old
    }

    /// Removes `key`'s entry, returning it.
    mutating func remove(_ key: StoreKey) -> IndexEntry? {
        guard let old = index.removeValue(forKey: key) else { return nil }
        keysByID[old.id] = nil
        return old
    }
}

/// Operation counters of a store.
struct StoreCounters: Sendable, Hashable {
    var puts = 0
    var gets = 0
    var deletes = 0
    var userBytesWritten: UInt64 = 0
    var bytesRead: UInt64 = 0
    var checksumFailures = 0
    var checkpoints = 0
    var evictedReads = 0
    /// Reads that failed once and were tried again.
    var readRetries = 0
    /// Value writes that failed on the device and were written again elsewhere.
    var writeRetries = 0
}
