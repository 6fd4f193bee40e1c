import ZoneAlloc

/// The store's in-memory state, kept under one lock by ``ZoneStore``: the index, the bucket
/// generations as the journal has them (a generation is bumped here, under the lock, when it is
/// journaled, before the zone is reset), and the backpointers (bucket → keys with an extent in
/// it) that copygc walks. No I/O.
struct StoreState: Sendable {
    var index: [StoreKey: IndexEntry]
    var generations: [UInt8]
    /// Keys with an extent in each bucket (at any generation; checked against the entry).
    var backpointers: [Set<StoreKey>]
    /// Keys by entry number (``IndexEntry/id``), for copygc's relocations.
    var keysByID: [UInt64: StoreKey] = [:]
    /// The next entry number.
    var nextID: UInt64 = 1
    var closed = false
    var counters = StoreCounters()

    init(index: [StoreKey: IndexEntry], generations: [UInt8]) {
        self.index = index
        self.generations = generations
        self.backpointers = Array(repeating: [], count: generations.count)
        for key in index.keys.sorted() {
            self.index[key]!.id = nextID
            keysByID[nextID] = key
            nextID += 1
            link(key, self.index[key]!)
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

    mutating func link(_ key: StoreKey, _ entry: IndexEntry) {
        for extent in entry.extents where extent.pointer.bucket.zone < backpointers.count {
            backpointers[extent.pointer.bucket.zone].insert(key)
        }
    }

    mutating func unlink(_ key: StoreKey, _ entry: IndexEntry, keeping replacement: IndexEntry? = nil) {
        let kept = Set((replacement?.extents ?? []).map(\.pointer.bucket))
        for extent in entry.extents where extent.pointer.bucket.zone < backpointers.count {
            if !kept.contains(extent.pointer.bucket) { backpointers[extent.pointer.bucket.zone].remove(key) }
        }
    }

    /// Replaces `key`'s entry, returning the old one.
    mutating func replace(_ key: StoreKey, with entry: IndexEntry) -> IndexEntry? {
        let old = index.updateValue(entry, forKey: key)
        if let old {
            unlink(key, old, keeping: entry)
            keysByID[old.id] = nil
        }
        keysByID[entry.id] = key
        link(key, entry)
        return old
    }

    /// Removes `key`'s entry, returning it.
    mutating func remove(_ key: StoreKey) -> IndexEntry? {
        guard let old = index.removeValue(forKey: key) else { return nil }
        unlink(key, old)
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
