import Synchronization

// What copygc (the `ZoneGC` module) needs from the allocator beyond the single-extent API:
// a cheap count of buckets an allocation could still open, and marking many extents dead under
// one lock (an evacuated bucket releases thousands of extents at once).

extension BucketAllocator {
    /// Buckets an allocation at `watermark` could open now without copygc: free buckets, emptied
    /// buckets waiting for their reset, and cached-only buckets (reusable by invalidation),
    /// minus the buckets held back from `watermark` (see ``Watermark``). Copygc's pacing compares
    /// this with its thresholds (bcachefs's `dev_buckets_free`). Counted, not scanned; no I/O.
    ///
    /// - Parameter watermark: the watermark the caller allocates at.
    /// - Returns: the buckets available to it, 0 when none are.
    public func availableBuckets(for watermark: Watermark) -> Int {
        state.withLock { state in
            let reusable = state.count(.free) + state.count(.needsReset) + state.count(.cached)
            return max(0, reusable - state.heldBack(watermark))
        }
    }

    /// Sectors still writable: every free bucket's capacity plus the unwritten rest of every
    /// open bucket (``AllocatorStatistics/freeSectors``, without the rest of the snapshot).
    /// Space that is unwritten is space copygc cannot reclaim, so a simulator samples this to
    /// tell how much of its over-provisioning copygc actually works with. O(buckets), no I/O.
    ///
    /// - Returns: the unwritten sectors in free and open buckets.
    public func unwrittenSectors() -> Int {
        withState(detaching: .all) { state in
            var total = 0
            for record in state.buckets {
                switch record.state(bucketSectors: state.bucketSectors) {
                case .free: total += Int(state.bucketSectors)
                case .open: total += Int(state.bucketSectors - record.allocatedSectors)
                default: break
                }
            }
            return total
        }
    }

    /// Marks many extents dead under one lock, as ``markDead(_:)`` does one by one: buckets that
    /// are not open and hold nothing live afterwards are reset and freed (generation first).
    ///
    /// - Parameter pointers: the dead extents. Stale cached pointers are ignored; a stale dirty
    ///   pointer is a programmer error (a double free) and traps.
    public func markDead(_ pointers: [DataPointer]) {
        guard !pointers.isEmpty else { return }
        let emptied = withState(detaching: .all) { state in
            var emptied: [BucketIndex] = []
            // Consecutive extents of one bucket (an evacuated victim's) are accounted as one: the
            // same sectors leave the same bucket, and its fragmentation index moves once.
            var index = 0
            while index < pointers.count {
                var merged = pointers[index]
                var next = index + 1
                while next < pointers.count, pointers[next].bucket == merged.bucket,
                    pointers[next].generation == merged.generation, pointers[next].isCached == merged.isCached
                {
                    merged.offset = min(merged.offset, pointers[next].offset)
                    merged.sectors += pointers[next].sectors
                    next += 1
                }
                if state.markDead(merged) { emptied.append(merged.bucket) }
                index = next
            }
            return emptied
        }
        reclaim(emptied)
    }
}
