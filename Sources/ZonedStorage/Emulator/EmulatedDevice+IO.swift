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
            // [offset, end) ∩ [start, dataEnd): the backing store (flushed or not: sequential
            // writes go straight to it; metadata-only devices read zeros).
            let storedTop = min(end, record.dataEnd)
            if offset < storedTop {
                let stored = try backingRead(&data, offset: offset, count: Int(storedTop - offset))
                bytes.replaceSubrange(0..<stored.count, with: stored)
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
            return bytes
        }
    }

    // MARK: - Write and append

    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(ZonedStorageError) {
        let count = bytes.count
        try checkIO("write", offset: offset, count: count)
        if count == 0 { return }
        let failed = try countWrite("write")
        // The requests the block layer makes of it: cut at zone boundaries and at the largest
        // transfer, in 1 MiB direct-I/O bios (BlockLayerRequests).
        let pieces = BlockLayerRequests.pieces(
            offset: offset,
            count: UInt64(count),
            maxTransfer: maxTransferBytes,
            zoneSize: geometry.zoneSize,
            logicalBlock: UInt64(geometry.logicalBlockSize),
            physicalBlock: UInt64(geometry.physicalBlockSize)
        )
        if failed {
            // An injected media error fails the request at its first piece (after that piece's
            // zone was implicitly opened); nothing is written, no later piece is tried.
            try writeWithInjectedFault(pieces[0], operation: "write of \(count) bytes", append: false)
        }
        // Pieces are applied in order, those of one zone together (under that zone's lock): a
        // refused piece leaves the earlier ones written, and the later ones are still tried.
        var refusals: [(zone: Int, refusal: ZoneRefusal)?] = Array(repeating: nil, count: pieces.count)
        var first = 0
        while first < pieces.count {
            let index = Int(pieces[first].offset / geometry.zoneSize)
            var end = first + 1
            while end < pieces.count, Int(pieces[end].offset / geometry.zoneSize) == index { end += 1 }
            let low = Int(pieces[first].offset - offset)
            let high = Int(pieces[end - 1].offset + pieces[end - 1].length - offset)
            // The caller's buffer, valid for the whole call: no copy on the way to the backing store.
            let piece = unsafe UnsafeRawBufferPointer(rebasing: bytes[low..<high])
            if index < geometry.conventionalZones {
                try unsafe writeConventional(zone: index, at: pieces[first].offset, bytes: piece)
            } else {
                let results = try unsafe writeSequential(
                    zone: index,
                    pieces: pieces[first..<end],
                    bytes: piece,
                    append: false
                )
                for (k, result) in results.enumerated() {
                    if case .failure(let refusal) = result { refusals[first + k] = (index, refusal) }
                }
            }
            first = end
        }
        let failedPieces = refusals.map { $0 != nil }
        if let chosen = BlockLayerRequests.writeErrorIndex(pieces, failed: failedPieces), let refused = refusals[chosen]
        {
            let described =
                pieces.count > 1 ? " (request \(chosen + 1) of \(pieces.count) the kernel splits it into)" : ""
            throw error(
                refused.refusal,
                operation: "write of \(count) bytes\(described)",
                zone: refused.zone,
                offset: pieces[chosen].offset
            )
        }
    }

    /// The largest request the emulated block layer sends the device (``EmulatedGeometry/maxTransferBytes``).
    var maxTransferBytes: UInt64 {
        geometry.maxTransferBytes ?? profile.defaultMaxTransferBytes
    }

    /// A write or zone append whose first request meets an injected media error: a sequential
    /// zone checks the request as usual (a refusal wins), then records the failed write.
    private func writeWithInjectedFault(
        _ piece: BlockLayerRequests.Piece,
        operation: String,
        append: Bool
    ) throws(ZonedStorageError) -> Never {
        let index = Int(piece.offset / geometry.zoneSize)
        let fault = ZoneRefusal(errno: .ioError, reason: "injected write fault (medium error); nothing was written")
        if index >= geometry.conventionalZones {
            let refusal: ZoneRefusal = state.withLock { state in
                do throws(ZoneRefusal) {
                    _ = try state.machine.beginWrite(
                        zone: index,
                        at: piece.offset,
                        length: piece.length,
                        append: append
                    )
                    state.machine.failWrite(zone: index)
                    return fault
                } catch {
                    return error
                }
            }
            throw error(refusal, operation: operation, zone: index, offset: piece.offset)
        }
        throw error(fault, operation: operation, zone: index, offset: piece.offset)
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
        // A zone append is never split (bio_split refuses REQ_OP_ZONE_APPEND); one that is too
        // large for the device is refused whole (item 28).
        let piece = BlockLayerRequests.Piece(offset: zoneStart, length: UInt64(count), bio: 0)
        if try countWrite("zone append") {
            try writeWithInjectedFault(piece, operation: "zone append of \(count) bytes", append: true)
        }
        let results = try unsafe writeSequential(zone: index, pieces: [piece][...], bytes: bytes, append: true)
        switch results[0] {
        case .success(let at): return at
        case .failure(let refusal):
            throw error(refusal, operation: "zone append of \(count) bytes", zone: index, offset: zoneStart)
        }
    }

    /// Refuses `operation` once ``close()`` has begun. Called with a stripe lock held: close()
    /// takes every stripe lock after setting the flag and before it closes the image, so an
    /// operation that passed its first check before close() began cannot reach the image's
    /// descriptor after it was closed (or its number reused).
    func checkNotClosed(_ operation: String) throws(ZonedStorageError) {
        try state.withLock { (state) throws(ZonedStorageError) in
            if state.closed { throw closedError(operation) }
        }
    }

    private func countWrite(_ operation: String) throws(ZonedStorageError) -> Bool {
        try state.withLock { (state) throws(ZonedStorageError) -> Bool in
            if state.closed { throw closedError(operation) }
            state.writes += 1
            return Self.consumeFault(&state.writeFaults, count: state.writes)
        }
    }

    /// A write to conventional zone `index`. With a volatile cache the blocks are kept aside
    /// until the next flush: they overwrite data that a power loss must be able to bring back.
    private func writeConventional(
        zone index: Int,
        at offset: UInt64,
        bytes: UnsafeRawBufferPointer
    ) throws(ZonedStorageError) {
        guard backing.storesData else { return }
        try stripe(for: index).data.withLock { (data) throws(ZonedStorageError) in
            try checkNotClosed("write")
            if options.writeCache == .writeThrough {
                try unsafe backingWrite(&data, offset: offset, raw: bytes)
                return
            }
            let block = geometry.logicalBlockSize
            for at in stride(from: 0, to: bytes.count, by: block) {
                data.pendingBlocks[index, default: [:]][offset + UInt64(at)] = unsafe Array(
                    UnsafeRawBufferPointer(rebasing: bytes[at..<(at + block)])
                )
            }
            if (data.pendingBlocks[index]?.count ?? 0) * block >= options.writebackThreshold {
                try writeBackBlocks(&data, zone: index)
            }
        }
    }

    /// The requests of one write (or one zone append) inside sequential zone `index`, applied in
    /// order: each is checked against the zone as the earlier ones left it. Returns, per request,
    /// where it landed or why the zone refused it. `bytes` holds the data of all of them.
    ///
    /// The data goes straight to the backing store, at the write pointer, before the zone's state
    /// changes (the write pointer cannot move while this zone's stripe lock is held). Nothing
    /// durable lies there: the write pointer is at or after the zone's flushed end, and bytes at
    /// or above the data end are never read back, so data stored for requests that are then
    /// refused, or rolled back by a power loss, is harmless. With a volatile cache the flushed
    /// end follows at the next ``flush()``; write-through devices move it at once.
    ///
    /// Throws only when the backing store fails, or when the device was closed meanwhile.
    private func writeSequential(
        zone index: Int,
        pieces: ArraySlice<BlockLayerRequests.Piece>,
        bytes: UnsafeRawBufferPointer,
        append: Bool
    ) throws(ZonedStorageError) -> [Result<UInt64, ZoneRefusal>] {
        try stripe(for: index).data.withLock { (data) throws(ZonedStorageError) -> [Result<UInt64, ZoneRefusal>] in
            try checkNotClosed(append ? "zone append" : "write")
            let first = pieces.first!
            let total = pieces.reduce(0) { $0 + $1.length }
            if backing.storesData {
                let record = state.withLock { $0.machine.zones[index] }
                let target = append ? record.writePointer : first.offset
                let capacityEnd = zoneStart(index) + geometry.zoneCapacity
                if target == record.writePointer, record.condition.hasValidWritePointer, target < capacityEnd,
                    !append || target + total <= capacityEnd
                {
                    let n = Int(min(total, capacityEnd - target))
                    do throws(ZonedStorageError) {
                        try unsafe backingWrite(
                            &data,
                            offset: target,
                            raw: UnsafeRawBufferPointer(rebasing: bytes[..<n])
                        )
                    } catch {
                        state.withLock { $0.machine.failWrite(zone: index) }
                        throw error
                    }
                }
            }
            var landed: UInt64 = 0
            let writeThrough = options.writeCache == .writeThrough
            let results: [Result<UInt64, ZoneRefusal>] = state.withLock { state in
                var results: [Result<UInt64, ZoneRefusal>] = []
                results.reserveCapacity(pieces.count)
                var contiguous = true
                for piece in pieces {
                    do throws(ZoneRefusal) {
                        let at = try state.machine.beginWrite(
                            zone: index,
                            at: piece.offset,
                            length: piece.length,
                            append: append
                        )
                        state.machine.completeWrite(zone: index, length: piece.length)
                        if writeThrough {
                            state.machine.markFlushed(zone: index, to: at + piece.length)
                            state.dirtyRows.insert(index)
                        }
                        if contiguous { landed += piece.length }
                        results.append(.success(at))
                    } catch {
                        contiguous = false
                        results.append(.failure(error))
                    }
                }
                return results
            }
            if landed > 0 {
                if writeThrough {
                    // Every completed write is durable: the image's zone table must say so too, or
                    // a process that crashes before its next flush would lose the write on reopen.
                    try persistDurableRows([index])
                } else {
                    data.unflushed.insert(index)
                }
            }
            return results
        }
    }

    // MARK: - Write-back of the cache (stripe lock held)

    /// Records that the data of sequential zone `index` written so far is in the backing store
    /// for good: its flushed end moves to its data end (durable once the backing store is synced
    /// and the zone table written, as ``flush()`` does).
    func markWrittenBack(_ data: inout StripeData, zone index: Int) {
        guard data.unflushed.remove(index) != nil else { return }
        state.withLock {
            $0.machine.markFlushed(zone: index, to: $0.machine.zones[index].dataEnd)
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
