import Synchronization
public import ZoneAlloc

/// A snapshot of a store's usage (like `bcachefs fs usage`), as data.
public struct StoreStatistics: Sendable, Hashable {
    /// The allocator's accounting: buckets by state, dirty/cached/free sectors, fragmentation.
    public var allocator: AllocatorStatistics
    /// Keys stored.
    public var keys: Int
    /// Cached keys whose value was dropped.
    public var evictedKeys: Int
    /// Bytes of dirty values (their lengths).
    public var dirtyValueBytes: UInt64
    /// Bytes of cached values still held.
    public var cachedValueBytes: UInt64
    /// Bytes users stored since open.
    public var userBytesWritten: UInt64
    /// Bytes written to the device since open (data, copygc, journal).
    public var deviceBytesWritten: UInt64
    /// Journal groups written and flushes since open.
    public var journalGroups: Int
    /// Journal flushes since open.
    public var journalFlushes: Int
    /// Buckets holding the journal.
    public var journalBuckets: Int
    /// Checkpoints written since open.
    public var checkpoints: Int
    /// Copygc totals since open.
    public var copygc: CopygcCounters
    /// Values whose data failed its checksum on read.
    public var checksumFailures: Int
    /// Totals since the store was formatted (as of the last superblock write, plus this session).
    public var lifetime: LifetimeCounters
    /// Puts, gets and deletes since open.
    public var puts: Int
    /// Gets since open.
    public var gets: Int
    /// Deletes since open.
    public var deletes: Int
    /// Device faults absorbed by trying again.
    public var faults: FaultCounters

    /// Device bytes written per user byte since open (1 when nothing was written).
    public var writeAmplification: Double {
        userBytesWritten == 0 ? 1 : Double(deviceBytesWritten) / Double(userBytesWritten)
    }
}

extension ZoneStore {
    /// A snapshot of the store's usage.
    public func statistics() -> StoreStatistics {
        let allocatorStatistics = allocator.statistics()
        let (keys, evicted, dirty, cached, counters) = state.withLock { state in
            var evicted = 0
            var dirty: UInt64 = 0
            var cached: UInt64 = 0
            for entry in state.index.values {
                if state.isEvicted(entry) {
                    evicted += 1
                } else if entry.kind == .cached {
                    cached += UInt64(entry.length)
                } else {
                    dirty += UInt64(entry.length)
                }
            }
            return (state.index.count, evicted, dirty, cached, state.counters)
        }
        let journalCounters = journal.counters
        return StoreStatistics(
            allocator: allocatorStatistics,
            keys: keys,
            evictedKeys: evicted,
            dirtyValueBytes: dirty,
            cachedValueBytes: cached,
            userBytesWritten: counters.userBytesWritten,
            deviceBytesWritten: storeDevice.bytesWritten,
            journalGroups: journalCounters.groups,
            journalFlushes: journalCounters.flushes,
            journalBuckets: journal.retainedBuckets.count,
            checkpoints: counters.checkpoints,
            copygc: copygcCounters,
            checksumFailures: counters.checksumFailures,
            lifetime: lifetime,
            puts: counters.puts,
            gets: counters.gets,
            deletes: counters.deletes,
            faults: FaultCounters(
                readRetries: counters.readRetries,
                writeRetries: counters.writeRetries,
                journalRetries: journalCounters.retries
            )
        )
    }
}
