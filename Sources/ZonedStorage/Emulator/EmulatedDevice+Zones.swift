import Synchronization
import SystemPackage

extension EmulatedDevice {
    /// The zone range `[first, last)` a libzbd-style byte range covers, or nil when empty.
    func zoneRange(offset: UInt64, length: UInt64) -> Range<Int>? {
        let capacity = geometry.capacity
        guard offset < capacity else { return nil }
        let first = Int(offset / geometry.zoneSize)
        let end = length == 0 ? capacity : min(capacity, offset &+ length < offset ? capacity : offset + length)
        let last = Int((end + geometry.zoneSize - 1) / geometry.zoneSize)
        return first < last ? first..<last : nil
    }

    public func reportZones(offset: UInt64, length: UInt64, filter: ZoneReportFilter) throws(ZonedStorageError)
        -> [Zone]
    {
        guard let range = zoneRange(offset: offset, length: length) else {
            return try state.withLock { (state) throws(ZonedStorageError) -> [Zone] in
                if state.closed { throw closedError("zone report") }
                return []
            }
        }
        return try state.withLock { (state) throws(ZonedStorageError) -> [Zone] in
            if state.closed { throw closedError("zone report") }
            // > disk_zone_wplug_sync_wp_offset(): a report refreshes the kernel's write pointer
            // > of each reported zone (and clears a pending write error).
            state.machine.noteReported(range)
            var zones: [Zone] = []
            for index in range {
                let zone = state.machine.descriptor(index)
                if filter.matches(zone) { zones.append(zone) }
            }
            return zones
        }
    }

    public func manageZones(_ operation: ZoneOperation, offset: UInt64, length: UInt64) throws(ZonedStorageError) {
        try state.withLock { (state) throws(ZonedStorageError) in
            if state.closed { throw closedError("zone \(operation)") }
        }
        guard let range = zoneRange(offset: offset, length: length) else { return }
        // > In the case of a zone reset operation over all zones, use REQ_OP_ZONE_RESET_ALL
        // > (blkdev_zone_mgmt): conventional, read-only and offline zones are skipped.
        if operation == .reset, range == 0..<geometry.zoneCount {
            try resetAll()
            return
        }
        // > while (sector < end_sector) { bio = blk_next_bio(bio, bdev, 0, op | REQ_SYNC, gfp_mask);
        // >     bio->bi_iter.bi_sector = sector; sector += zone_sectors; ... }
        // > ret = submit_bio_wait(bio);   (blkdev_zone_mgmt)
        // One command per zone, every one issued, conventional and FULL zones included; each
        // bio is the child of the next, so the error returned is the last zone's that failed
        // (BlockLayerRequests.rangeErrorIndex).
        var lastError: ZonedStorageError?
        for index in range {
            do {
                try manage(operation, zone: index)
            } catch {
                lastError = error
            }
        }
        if let lastError { throw lastError }
    }

    private func manage(_ operation: ZoneOperation, zone index: Int) throws(ZonedStorageError) {
        try stripe(for: index).data.withLock { (data) throws(ZonedStorageError) in
            try checkNotClosed("zone \(operation)")
            let refusal: ZoneRefusal? = state.withLock { state in
                do throws(ZoneRefusal) {
                    try state.machine.apply(operation, zone: index)
                    return nil
                } catch {
                    return error
                }
            }
            if let refusal {
                throw error(refusal, operation: "zone \(operation)", zone: index, offset: zoneStart(index))
            }
            switch operation {
            case .reset:
                data.unflushed.remove(index)
                try persistDurableRows([index])
                // Only once the reset is durable: a crash must not leave a row that still claims
                // the data with the blocks already punched out.
                backingDiscard(&data, zone: index)
            case .finish:
                try persistDurableRows([index])
            case .open, .close:
                break  // No durable effect: after a power loss every open zone comes back closed.
            }
        }
    }

    private func resetAll() throws(ZonedStorageError) {
        var resetZones: [Int] = []
        for (stripeIndex, stripe) in stripes.enumerated() {
            try stripe.data.withLock { (data) throws(ZonedStorageError) in
                let zones = Array(stride(from: stripeIndex, to: geometry.zoneCount, by: stripes.count))
                let reset: [Int] = state.withLock { state in
                    zones.filter { index in
                        index >= geometry.conventionalZones && state.machine.resetForResetAll(zone: index)
                    }
                }
                for index in reset { data.unflushed.remove(index) }
                resetZones += reset
            }
        }
        try persistDurableRows(resetZones)
        // The blocks go once the resets are durable (see manage), and only from zones nothing was
        // written to since: a write that came in between keeps its zone's blocks (space, not data).
        for index in resetZones {
            stripe(for: index).data.withLock { data in
                // Still EMPTY: nothing was written (a write opens the zone) since the reset.
                if state.withLock({ $0.machine.zones[index].condition == .empty }) {
                    backingDiscard(&data, zone: index)
                }
            }
        }
    }

    // MARK: - Flush, close

    public func flush() throws(ZonedStorageError) {
        let failed = try state.withLock { (state) throws(ZonedStorageError) -> Bool in
            if state.closed { throw closedError("flush") }
            state.flushes += 1
            return Self.consumeFault(&state.flushFaults, count: state.flushes)
        }
        if failed {
            throw ZonedStorageError(
                code: .ioError,
                message: "flush of \(path) failed: injected flush fault; nothing more became durable",
                errno: .ioError
            )
        }
        try writeBackEverything()
        try backingSync()
        let dirty = state.withLock { state -> [Int] in
            defer { state.dirtyRows.removeAll() }
            return state.dirtyRows.sorted()
        }
        try persistDurableRows(dirty)
    }

    private func writeBackEverything() throws(ZonedStorageError) {
        for stripe in stripes {
            try stripe.data.withLock { (data) throws(ZonedStorageError) in
                for index in data.unflushed.sorted() { markWrittenBack(&data, zone: index) }
                for index in data.pendingBlocks.keys.sorted() { try writeBackBlocks(&data, zone: index) }
            }
        }
    }

    public func close() throws(ZonedStorageError) {
        // Like close(2), the device is closed even when the final flush fails: the error is
        // reported, and a file image is then left as a crash would leave it (its last
        // successful flush), without the clean-close record.
        var flushFailure: ZonedStorageError?
        do { try flush() } catch {
            if error.code == .deviceClosed { throw error }
            flushFailure = error
        }
        try state.withLock { (state) throws(ZonedStorageError) in
            if state.closed { throw closedError("close") }
            state.closed = true
        }
        guard case .file(let fd, _) = backing else {
            if let flushFailure { throw flushFailure }
            return
        }
        punchAllPending()
        if let flushFailure {
            try? fd.close()
            throw flushFailure
        }
        // A clean close records the live conditions (explicitly open zones stay open for the
        // next process, as a real device keeps them when a program closes its descriptor).
        let live = state.withLock { state in (0..<geometry.zoneCount).map { state.machine.zones[$0] } }
        var failure: ZonedStorageError?
        do {
            try persistLock.withLock { _ throws(ZonedStorageError) in
                try writeRows(fd, rows: Array(live.enumerated()))
                try writeHeader(fd, clean: true)
            }
        } catch {
            failure = error
        }
        try? fd.close()
        if let failure { throw failure }
    }

    // MARK: - Zone resources, faults and power loss

    /// Open / active zones in use, as the kernel counts them.
    public func resourceUsage() -> ResourceUsage {
        state.withLock {
            ResourceUsage(
                implicitOpen: $0.machine.implicitOpenCount,
                explicitOpen: $0.machine.explicitOpenCount,
                closed: $0.machine.closedCount
            )
        }
    }

    /// Schedules an injected fault (see ``Fault``).
    public func injectFault(_ fault: Fault) {
        state.withLock { state in
            switch fault {
            case .failRead(let n):
                precondition(n >= 1, "failRead(nth:) counts from 1")
                state.readFaults.append(state.reads + n)
            case .failWrite(let n):
                precondition(n >= 1, "failWrite(nth:) counts from 1")
                state.writeFaults.append(state.writes + n)
            case .failFlush(let n):
                precondition(n >= 1, "failFlush(nth:) counts from 1")
                state.flushFaults.append(state.flushes + n)
            }
        }
    }

    /// Turns sequential zone `index` read-only or offline, as null_blk's configfs `zone_readonly`
    /// / `zone_offline` do (checklist item 69), or a read-only or offline zone back to EMPTY
    /// (its data discarded) with `.empty`. The change is durable at once.
    ///
    /// Unlike null_blk, where writing a zone's current fault condition again restores it, the
    /// condition is set, not toggled: `.readOnly` on a read-only zone leaves it read-only.
    /// `.empty` on an EMPTY zone does nothing.
    ///
    /// - Throws: EINVAL for a conventional zone, an index out of range, another condition, or
    ///   `.empty` on a zone that is neither EMPTY, read-only nor offline (reset it instead).
    public func setZoneCondition(_ index: Int, to condition: ZoneCondition) throws(ZonedStorageError) {
        guard index >= geometry.conventionalZones, index < geometry.zoneCount,
            [.readOnly, .offline, .empty].contains(condition)
        else {
            throw ZonedStorageError(
                code: .invalidArgument,
                message: "cannot make zone \(index) of \(path) \(condition.kernelName): only sequential zones "
                    + "(\(geometry.conventionalZones)..<\(geometry.zoneCount)) can be made READONLY or OFFLINE, "
                    + "or returned to EMPTY",
                errno: .invalidArgument
            )
        }
        try stripe(for: index).data.withLock { (data) throws(ZonedStorageError) in
            try checkNotClosed("setting the condition of zone \(index)")
            enum Change { case none, faulty, restored, refused(ZoneCondition) }
            let change: Change = state.withLock { state in
                let current = state.machine.zones[index].condition
                guard condition == .empty else {
                    state.machine.setFaulty(zone: index, condition: condition)
                    return .faulty
                }
                switch current {
                case .readOnly, .offline:
                    state.machine.clearFault(zone: index)
                    return .restored
                case .empty:
                    return .none
                default:
                    return .refused(current)
                }
            }
            switch change {
            case .none:
                return
            case .refused(let current):
                // Discarding the data of a zone that keeps its condition would corrupt it.
                throw ZonedStorageError(
                    code: .invalidArgument,
                    message: "cannot return zone \(index) of \(path) to EMPTY: it is \(current.kernelName), not "
                        + "READONLY or OFFLINE; reset it instead",
                    errno: .invalidArgument,
                    zone: state.withLock { $0.machine.descriptor(index) }
                )
            case .restored:
                data.unflushed.remove(index)
            case .faulty:
                // The zone is finished before it turns read-only: its cached data stays readable.
                markWrittenBack(&data, zone: index)
            }
            try persistDurableRows([index])
            if case .restored = change { backingDiscard(&data, zone: index) }
        }
    }

    /// Simulates a power loss and restart: the write cache is lost except that each sequential
    /// zone keeps a random prefix of its unflushed data (its write pointer rolls back to a point
    /// between the last flushed and the current value, on a write-granularity boundary), each
    /// unflushed conventional block survives with probability 1/2, and open zones come back
    /// CLOSED (or EMPTY). Resets and finishes were durable when they completed.
    ///
    /// - Parameter seed: makes the choice of rollback points reproducible.
    public func simulatePowerLoss(seed: UInt64) throws(ZonedStorageError) {
        var rng = SplitMix64(seed: seed)
        let granularity = UInt64(geometry.zoneWriteGranularity)
        for (stripeIndex, stripe) in stripes.enumerated() {
            try stripe.data.withLock { (data) throws(ZonedStorageError) in
                for index in stride(from: stripeIndex, to: geometry.zoneCount, by: stripes.count) {
                    if index < geometry.conventionalZones {
                        if let blocks = data.pendingBlocks[index] {
                            for (offset, bytes) in blocks.sorted(by: { $0.key < $1.key }) where rng.next() & 1 == 0 {
                                try backingWrite(&data, offset: offset, bytes: bytes[...])
                            }
                            data.pendingBlocks[index] = nil
                        }
                        continue
                    }
                    let record = state.withLock { $0.machine.zones[index] }
                    let keptEnd: UInt64
                    if record.condition.hasValidWritePointer || record.condition == .full {
                        let steps = (record.dataEnd - record.flushedEnd) / granularity
                        keptEnd = record.flushedEnd + granularity * (steps == 0 ? 0 : rng.next() % (steps + 1))
                    } else {
                        keptEnd = record.flushedEnd
                    }
                    // The kept data is already in the backing store (sequential writes go
                    // straight there); what lies beyond the kept end is never read back.
                    data.unflushed.remove(index)
                    state.withLock { state in
                        let restored = state.machine.recordAfterPowerLoss(zone: index, keepingDataTo: keptEnd)
                        state.machine.restore(zone: index, to: restored)
                    }
                }
            }
        }
        state.withLock { state in
            state.machine.restart()
            state.dirtyRows.removeAll()
        }
        try backingSync()
        try persistDurableRows(Array(0..<geometry.zoneCount))
    }
}
