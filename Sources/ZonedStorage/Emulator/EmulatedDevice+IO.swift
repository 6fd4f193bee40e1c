import Synchronization
import SystemPackage

extension EmulatedDevice {
    // MARK: - Read

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        let count = buffer.count
        try checkIO("read", offset: offset, count: count)
        let failed: Bool = try state.withLock { (state) throws(ZonedStorageError) -> Bool in
            if state.closed { throw closedError("read") }
            state.reads += 1
            return Self.consumeFault(&state.readFaults, count: state.reads)
        }
        if failed {
            let index = geometry.zoneCount == 0 ? 0 : Int(offset / geometry.zoneSize)
            throw error(
                ZoneRefusal(errno: .ioError, reason: "injected read fault (medium error)"),
                operation: "read of \(count) bytes",
                zone: min(index, geometry.zoneCount - 1),
                offset: offset
            )
        }
        var done = 0
        while done < count {
            let position = offset + UInt64(done)
            let index = Int(position / geometry.zoneSize)
            let zoneEnd = zoneStart(index) + geometry.zoneSize
            let n = Int(min(UInt64(count - done), zoneEnd - position))
            let bytes = try readPiece(zone: index, at: position, count: n, totalCount: count)
            unsafe UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + n)]).copyBytes(from: bytes)
            done += n
        }
    }

    /// Reads a range inside one zone: data below the data end, zeros between the data end and
    /// the write pointer (finished zones), and at and above the write pointer the profile's fill
    /// (null_blk's 0xFF, zeros for ZNS and ZBC, item 65).
    private func readPiece(zone index: Int, at offset: UInt64, count: Int, totalCount: Int) throws(ZonedStorageError)
        -> [UInt8]
    {
        try stripe(for: index).data.withLock { (data) throws(ZonedStorageError) -> [UInt8] in
            let record = state.withLock { $0.machine.zones[index] }
            if record.condition == .offline {
                throw error(
                    ZoneRefusal(errno: .ioError, reason: "offline zones cannot be read"),
                    operation: "read of \(totalCount) bytes",
                    zone: index,
                    offset: offset
                )
            }
            let end = offset + UInt64(count)
            if index < geometry.conventionalZones {
                var bytes = try backingRead(&data, offset: offset, count: count)
                if let blocks = data.pendingBlocks[index] {
                    let block = UInt64(geometry.logicalBlockSize)
                    var position = offset
                    while position < end {
                        if let pending = blocks[position] {
                            let at = Int(position - offset)
                            bytes.replaceSubrange(at..<(at + Int(block)), with: pending)
                        }
                        position += block
                    }
                }
                return bytes
            }
            var bytes = [UInt8](repeating: profile.beyondWritePointerFill, count: count)
            // [offset, end) ∩ [start, flushedEnd): backing store.
            let start = zoneStart(index)
            let flushedTop = min(end, record.flushedEnd)
            if offset < flushedTop {
                let stored = try backingRead(&data, offset: offset, count: Int(flushedTop - offset))
                bytes.replaceSubrange(0..<stored.count, with: stored)
            }
            // [flushedEnd, dataEnd): the write cache.
            let cacheLow = max(offset, record.flushedEnd)
            let cacheHigh = min(end, record.dataEnd)
            if cacheLow < cacheHigh {
                let target = Int(cacheLow - offset)
                let n = Int(cacheHigh - cacheLow)
                if let pending = data.pending[index] {
                    let from = Int(cacheLow - record.flushedEnd)
                    bytes.replaceSubrange(target..<(target + n), with: pending[from..<(from + n)])
                } else {
                    // Metadata-only devices keep no data: zeros.
                    bytes.replaceSubrange(target..<(target + n), with: [UInt8](repeating: 0, count: n))
                }
            }
            // [dataEnd, writePointer): never written but below the write pointer (FINISH, or a
            // read-only zone): zeros, as memory-backed null_blk returns for pages it never had.
            let zeroLow = max(offset, record.dataEnd)
            let zeroHigh = min(end, max(record.writePointer, record.dataEnd))
            if zeroLow < zeroHigh {
                let target = Int(zeroLow - offset)
                let n = Int(zeroHigh - zeroLow)
                bytes.replaceSubrange(target..<(target + n), with: [UInt8](repeating: 0, count: n))
            }
            _ = start
            return bytes
        }
    }

    // MARK: - Write and append

    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        let count = bytes.count
        try checkIO("write", offset: offset, count: count)
        if count == 0 { return }
        // The data is copied once at the boundary; metadata-only devices keep none.
        let copy: [UInt8] = backing.storesData ? unsafe [UInt8](bytes) : []
        let failed = try countWrite("write")
        var done = 0
        while done < count {
            let position = offset + UInt64(done)
            let index = Int(position / geometry.zoneSize)
            let zoneEnd = zoneStart(index) + geometry.zoneSize
            let n = Int(min(UInt64(count - done), zoneEnd - position))
            let piece = backing.storesData ? copy[done..<(done + n)] : copy[0..<0]
            if index < geometry.conventionalZones {
                try writeConventional(zone: index, at: position, bytes: piece, count: n, injectedFault: failed)
            } else {
                _ = try writeSequential(
                    zone: index,
                    at: position,
                    bytes: piece,
                    length: UInt64(n),
                    append: false,
                    injectedFault: failed,
                    totalCount: count
                )
            }
            done += n
        }
    }

    public func append(_ bytes: UnsafeRawBufferPointer, toZoneAt zoneStart: UInt64) throws(ZonedStorageError) -> UInt64
    {
        let count = bytes.count
        // Misalignment (item 22) and an address outside the device are EINVAL. The size is not
        // checked against the end of the device: an append is addressed to a zone, so one that
        // is too large for it is EIO (item 28), in the last zone as in any other.
        let block = UInt64(geometry.logicalBlockSize)
        if zoneStart % block != 0 || UInt64(count) % block != 0 || zoneStart >= geometry.capacity {
            throw ZonedStorageError(
                code: .invalidArgument,
                message: "zone append of \(count) bytes to offset \(zoneStart) on \(path): "
                    + (zoneStart >= geometry.capacity
                        ? "the offset is past the end of the device (\(geometry.capacity) bytes)"
                        : "the offset and length must be multiples of the logical block size \(block)"),
                errno: .invalidArgument,
                offset: zoneStart
            )
        }
        let copy: [UInt8] = backing.storesData ? unsafe [UInt8](bytes) : []
        let index = Int(zoneStart / geometry.zoneSize)
        // > Not allowed for conventional zones, and the target must be a zone start
        // > (blk_check_zone_append).
        if zoneStart % geometry.zoneSize != 0 || index < geometry.conventionalZones || count == 0 {
            let why =
                index < geometry.conventionalZones
                ? "zone append is not allowed to conventional zones; use write"
                : count == 0
                    ? "a zone append needs at least one block of data"
                    : "a zone append must address the start of a sequential zone (\(self.zoneStart(index)))"
            throw error(
                ZoneRefusal(errno: .ioError, reason: why),
                operation: "zone append",
                zone: index,
                offset: zoneStart
            )
        }
        let failed = try countWrite("zone append")
        return try writeSequential(
            zone: index,
            at: zoneStart,
            bytes: copy[...],
            length: UInt64(count),
            append: true,
            injectedFault: failed,
            totalCount: count
        )
    }

    private func countWrite(_ operation: String) throws(ZonedStorageError) -> Bool {
        try state.withLock { (state) throws(ZonedStorageError) -> Bool in
            if state.closed { throw closedError(operation) }
            state.writes += 1
            return Self.consumeFault(&state.writeFaults, count: state.writes)
        }
    }

    private func writeConventional(
        zone index: Int,
        at offset: UInt64,
        bytes copy: ArraySlice<UInt8>,
        count: Int,
        injectedFault: Bool
    ) throws(ZonedStorageError) {
        if injectedFault {
            throw error(
                ZoneRefusal(errno: .ioError, reason: "injected write fault (medium error); nothing was written"),
                operation: "write of \(count) bytes",
                zone: index,
                offset: offset
            )
        }
        guard backing.storesData else { return }
        try stripe(for: index).data.withLock { (data) throws(ZonedStorageError) in
            if options.writeCache == .writeThrough {
                try backingWrite(&data, offset: offset, bytes: copy)
                return
            }
            let block = geometry.logicalBlockSize
            var blocks = data.pendingBlocks[index] ?? [:]
            for at in stride(from: 0, to: copy.count, by: block) {
                let from = copy.startIndex + at
                blocks[offset + UInt64(at)] = Array(copy[from..<(from + block)])
            }
            data.pendingBlocks[index] = blocks
            if blocks.count * block >= options.writebackThreshold {
                try writeBackBlocks(&data, zone: index)
            }
        }
    }

    /// One piece of a write (or an append) inside sequential zone `index`; returns where it landed.
    private func writeSequential(
        zone index: Int,
        at offset: UInt64,
        bytes copy: ArraySlice<UInt8>,
        length: UInt64,
        append: Bool,
        injectedFault: Bool,
        totalCount: Int
    ) throws(ZonedStorageError) -> UInt64 {
        let operation = append ? "zone append of \(length) bytes" : "write of \(totalCount) bytes"
        return try stripe(for: index).data.withLock { (data) throws(ZonedStorageError) -> UInt64 in
            // Write-through devices store the data first, at the write pointer, which cannot move
            // while this zone's stripe lock is held; bytes above the data end are never read back,
            // so data stored for a write that is then refused is harmless.
            if options.writeCache == .writeThrough, backing.storesData {
                let record = state.withLock { $0.machine.zones[index] }
                let target = append ? record.writePointer : offset
                if target == record.writePointer, record.condition.hasValidWritePointer,
                    target + length <= zoneStart(index) + geometry.zoneCapacity
                {
                    do throws(ZonedStorageError) {
                        try backingWrite(&data, offset: target, bytes: copy)
                    } catch {
                        state.withLock { $0.machine.failWrite(zone: index) }
                        throw error
                    }
                }
            }
            let outcome: Result<UInt64, ZoneRefusal> = state.withLock { state in
                do throws(ZoneRefusal) {
                    let at = try state.machine.beginWrite(zone: index, at: offset, length: length, append: append)
                    if injectedFault {
                        state.machine.failWrite(zone: index)
                        return .failure(
                            ZoneRefusal(
                                errno: .ioError,
                                reason: "injected write fault (medium error); nothing was written"
                            )
                        )
                    }
                    state.machine.completeWrite(zone: index, length: length)
                    if options.writeCache == .writeThrough {
                        state.machine.markFlushed(zone: index, to: at + length)
                        state.dirtyRows.insert(index)
                    }
                    return .success(at)
                } catch {
                    return .failure(error)
                }
            }
            switch outcome {
            case .failure(let refusal):
                throw error(refusal, operation: operation, zone: index, offset: offset)
            case .success(let at):
                if options.writeCache == .volatile, backing.storesData {
                    data.pending[index, default: []].append(contentsOf: copy)
                    if data.pending[index]!.count >= options.writebackThreshold {
                        try writeBackZone(&data, zone: index)
                    }
                } else if options.writeCache == .writeThrough {
                    // Every completed write is durable: the image's zone table must say so too, or
                    // a process that crashes before its next flush would lose the write on reopen.
                    try persistDurableRows([index])
                }
                return at
            }
        }
    }

    // MARK: - Write-back of the cache (stripe lock held)

    /// Moves a sequential zone's cached bytes to the backing store (not yet durable: the
    /// zone table and fsync come with ``flush()``).
    func writeBackZone(_ data: inout StripeData, zone index: Int) throws(ZonedStorageError) {
        guard let pending = data.pending[index], !pending.isEmpty else { return }
        let flushedEnd = state.withLock { $0.machine.zones[index].flushedEnd }
        try backingWrite(&data, offset: flushedEnd, bytes: pending[...])
        data.pending[index] = nil
        state.withLock {
            $0.machine.markFlushed(zone: index, to: flushedEnd + UInt64(pending.count))
            $0.dirtyRows.insert(index)
        }
    }

    func writeBackBlocks(_ data: inout StripeData, zone index: Int) throws(ZonedStorageError) {
        guard let blocks = data.pendingBlocks[index] else { return }
        for (offset, bytes) in blocks.sorted(by: { $0.key < $1.key }) {
            try backingWrite(&data, offset: offset, bytes: bytes[...])
            data.pendingBlocks[index]?[offset] = nil
        }
        data.pendingBlocks[index] = nil
    }
}
