import Synchronization
package import ZonedStorage

extension BucketAllocator {
    /// Checks the allocator's invariants and traps with a message on the first broken one:
    /// accounting sums equal a recount, bucket state counts equal a recount, zone slots in use
    /// within the zone budget and each class within its slots, open-bucket and write-point links
    /// consistent, live sectors within written sectors, generations at most 96 ahead of the
    /// oldest live pointer, the fragmentation index complete, the hint map consistent, and every
    /// write point's cursor consistent with its open bucket (attached exactly when it owns one,
    /// its write pointer = the state's + what it handed out, its credit within the usable
    /// capacity; checked as each cursor is folded in). Compiled only with
    /// `ZONEALLOC_INTERNAL_CHECKS` (debug builds).
    package func checkInvariants() {
        #if ZONEALLOC_INTERNAL_CHECKS
        directory.withLock { $0.checkInvariants() }
        state.withLock { state in
            state.checkCursorBookkeeping()
            detachAll(&state)
            state.checkInvariants()
            attachOwners(&state)
        }
        #endif
    }

    /// Compares idle buckets with the device (invariant 2): an open bucket with nothing in flight
    /// has the device's write pointer at the allocator's; a bucket that is not open is EMPTY
    /// (nothing allocated) or FULL. Returns the mismatches in words (empty when consistent).
    package func deviceMismatches() throws(ZonedStorageError) -> [String] {
        let zones = try device.reportZones()
        return withState(detaching: .all) { state in
            var problems: [String] = []
            for zone in zones where zone.isSequential {
                let record = state.buckets[zone.index]
                if record.unusable || record.resetting { continue }
                let allocated = UInt64(record.allocatedSectors) * UInt64(DataPointer.sectorSize)
                if let ob = state.openBuckets[BucketIndex(zone.index)] {
                    if ob.inFlight == 0, zone.condition.hasValidWritePointer, zone.writtenBytes != allocated {
                        problems.append(
                            "zone \(zone.index): device write pointer +\(zone.writtenBytes), allocator +\(allocated)"
                        )
                    }
                    if ob.inFlight == 0, zone.condition == .full, allocated != zone.capacity {
                        problems.append("zone \(zone.index): FULL on the device, allocator at +\(allocated)")
                    }
                } else if allocated == 0 {
                    if zone.condition != .empty {
                        problems.append("zone \(zone.index): free bucket but the zone is \(zone.condition.kernelName)")
                    }
                } else if zone.condition != .full {
                    problems.append(
                        "zone \(zone.index): bucket not open with \(allocated) bytes allocated, zone "
                            + "\(zone.condition.kernelName)"
                    )
                }
            }
            return problems
        }
    }
}

extension AllocatorState {
    /// Checks the state's invariants; every cursor must be detached (folded in).
    func checkInvariants() {
        precondition(!attached.contains(true), "checking the state with cursors attached")
        precondition(outstandingCredit == 0, "credit outstanding with every cursor detached")
        var dirty = 0
        var cached = 0
        var counts = Array(repeating: 0, count: stateCounts.count)
        for (zone, record) in buckets.enumerated() {
            counts[record.state(bucketSectors: bucketSectors).ordinal] += 1
            dirty += Int(record.dirtySectors)
            cached += Int(record.cachedSectors)
            precondition(record.allocatedSectors <= bucketSectors, "bucket \(zone): allocated beyond capacity")
            precondition(
                record.liveSectors <= record.allocatedSectors,
                "bucket \(zone): \(record.liveSectors) live sectors but only \(record.allocatedSectors) allocated"
            )
            precondition(record.isOpen == (openBuckets[BucketIndex(zone)] != nil), "bucket \(zone): open flag mismatch")
            precondition(!(record.isOpen && record.resetting), "bucket \(zone): open and being reset")
            precondition(!record.resetting || record.dirtySectors == 0, "bucket \(zone): being reset with dirty data")
            let distance = record.generation.distance(from: record.oldestGeneration)
            precondition(
                distance >= 0 && distance <= BucketGeneration.maxDistanceToOldest,
                "bucket \(zone): \(record.generation) is \(distance) ahead of its oldest \(record.oldestGeneration)"
            )
            let expected: Int? =
                !record.unusable && !record.isOpen && record.dirtySectors > 0
                ? Int(UInt64(record.dirtySectors) * 256 / UInt64(bucketSectors)) : nil
            for (level, members) in fragmentationIndex.enumerated() {
                precondition(
                    members.contains(BucketIndex(zone)) == (level == expected),
                    "bucket \(zone): fragmentation index level \(level) membership wrong (expected \(String(describing: expected)))"
                )
            }
        }
        precondition(dirty == dirtyTotal, "dirty sectors: recount \(dirty), total \(dirtyTotal)")
        precondition(counts == stateCounts, "bucket state counts: recount \(counts), kept \(stateCounts)")
        precondition(cached == cachedTotal, "cached sectors: recount \(cached), total \(cachedTotal)")
        var slotsInUse = 0
        for kind in [WritePoint.Kind.user, .copygc, .metadata] {
            let used = slotUsage(kind).used
            slotsInUse += used
            precondition(
                used == 0 || used <= zoneSlots(kind),
                "\(used) \(kind) zone slots in use, only \(zoneSlots(kind))"
            )
        }
        precondition(slotsInUse <= zoneBudget, "\(slotsInUse) zone slots in use exceed the zone budget \(zoneBudget)")
        for ob in openBuckets.values {
            precondition(ob.kind == budgetClass(ob.kind), "\(ob.bucket): not in a budget class")
            if let owner = ob.writePoint {
                precondition(
                    ob.chain == owner,
                    "\(ob.bucket): owned by write point \(owner) but in chain \(String(describing: ob.chain))"
                )
                precondition(!ob.retiring, "\(ob.bucket): retiring but owned")
                precondition(
                    writePoints[owner].openBucket == ob.bucket,
                    "\(ob.bucket): owner write point does not point back"
                )
                precondition(budgetClass(writePoints[owner].kind) == ob.kind, "\(ob.bucket): owned by another class")
            }
            precondition(!ob.finishing || ob.retiring, "\(ob.bucket): finishing but not retiring")
            precondition(
                !ob.retiring || ob.inFlight > 0 || ob.finishing,
                "\(ob.bucket): retiring and idle but not settled"
            )
            precondition(ob.inFlight >= 0, "\(ob.bucket): negative in-flight count")
        }
        for (index, wp) in writePoints.enumerated() {
            if let bucket = wp.openBucket {
                precondition(openBuckets[bucket]?.writePoint == index, "write point \(index): open bucket link broken")
            }
        }
    }
}
