package import SystemPackage
package import ZonedStorage

/// A small, independent reference model of a memory-backed null_blk zoned device (`zoned=1`)
/// behind the Linux block layer, written from `shared/docs/zone-model-checklist.md` (item
/// numbers in the comments) and not from the emulator's code, so that comparing the two checks
/// the emulator.
///
/// What it models:
/// - geometry and limit clamps (items 1, 5, 55), in null_blk's order: an active limit at or
///   above the number of sequential zones is dropped first; then an open limit above the
///   active limit is lowered to it, or else an open limit at or above the number of sequential
///   zones is dropped;
/// - conditions and write pointers (items 12-21, 31-52, 72-74); the write pointer is kept as
///   null_blk keeps it (`start + capacity` when filled by writes, `start + length` after
///   FINISH) and ``zones()`` reports `start + length` for every FULL zone (item 11);
/// - open / active accounting computed from the conditions (item 54), the errno order of
///   `null_check_zone_resources` (EMPTY: EOVERFLOW before ETOOMANYREFS; CLOSED: only the open
///   check, item 58/59), item 60's refusal when open and active are both saturated, and the
///   resource checks of FINISH (items 42, 43);
/// - implicit-open eviction (item 56). The victim is implementation-defined; this model
///   **mimics null_blk's round robin** (`imp_close_zone_no`): scan the sequential zones starting
///   at the zone after the previous victim (initially the first sequential zone, and again
///   after ``restart()``), wrapping around, and close the first IMPLICIT OPEN zone found (to
///   EMPTY when nothing was written in it). Comparing victims exactly is a stronger check than
///   comparing counts;
/// - the sticky write error of item 25 (Linux 6.13+, the emulator's default): a failed write or
///   append to a sequential zone makes every later write or append to it fail with EIO until a
///   report covering the zone, a reset (also RESET ALL) or a finish. Zone appends are treated
///   like writes here, as the block layer's zone-append emulation (SCSI disks) does; mixing
///   native appends and writes in one zone is unsupported (item 29), so the checklist does not
///   decide it;
/// - data: conventional zones read zeros until written (item 64); a sequential zone reads its
///   data below the end of what was written, zeros between that and the write pointer (a zone
///   finished early, or a read-only zone, item 66) and `0xFF` from the write pointer on
///   (item 65);
/// - READONLY / OFFLINE zones (items 69-71) and the emulator's EINVAL rules for misaligned or
///   out-of-device I/O (item 22);
/// - how the block layer cuts a write into requests and which errno the call returns (items 20,
///   50): requests end at zone boundaries and after at most `max_sectors` bytes
///   (``EmulatedGeometry/maxTransferBytes``, null_blk's 255 sectors by default), within direct-I/O
///   bios of 1 MiB; every request is tried in order; a bio fails with its last request's error,
///   or else its first; the call with its first failed bio's. A zone operation over a range tries
///   every zone and returns the last zone's error (the `blk_next_bio` chain).
///
/// It does not model the write cache, power loss, or the kernel's zone-append limits beyond
/// "no larger than the zone append limit".
package struct NullBlkZoneModel: Sendable {
    /// The model's view of one zone.
    package struct ZoneState: Sendable, Hashable {
        package var condition: ZoneCondition
        /// null_blk's internal write pointer; ``Zone/invalidWritePointer`` for READONLY/OFFLINE.
        package var writePointer: UInt64
        /// Bytes written since the last reset, from the zone start (the whole zone for
        /// conventional zones).
        package var data: [UInt8]
        /// Item 25: writes refused until the write pointer is refreshed.
        package var needsWritePointerUpdate: Bool
    }

    /// Zone resources in use.
    package struct Usage: Sendable, Hashable {
        package var implicitOpen: Int
        package var explicitOpen: Int
        package var closed: Int
        package var open: Int { implicitOpen + explicitOpen }
        package var active: Int { open + closed }
    }

    package let zoneCount: Int
    package let zoneSize: UInt64
    package let zoneCapacity: UInt64
    package let conventionalZones: Int
    package let blockSize: UInt64
    package let writeGranularity: UInt64
    package let maxAppendBytes: UInt64
    /// The largest request (`max_sectors`), in bytes.
    package let maxTransfer: UInt64
    package let physicalBlockSize: UInt64
    /// Effective limits after the clamps of item 55; 0 = no limit.
    package let maxOpen: Int
    package let maxActive: Int
    package let stickyWriteErrors: Bool
    package private(set) var zoneStates: [ZoneState]
    /// The zone where the next eviction scan starts (null_blk's `imp_close_zone_no`).
    package private(set) var evictionCursor: Int

    /// Creates the model of a fresh device with `geometry` (as requested, before any clamping).
    package init(geometry: EmulatedGeometry, stickyWriteErrors: Bool = true) {
        zoneCount = geometry.zoneCount
        zoneSize = geometry.zoneSize
        zoneCapacity = geometry.zoneCapacity
        conventionalZones = geometry.conventionalZones
        blockSize = UInt64(geometry.logicalBlockSize)
        writeGranularity = UInt64(geometry.zoneWriteGranularity)
        maxAppendBytes = min(geometry.maxZoneAppendBytes, geometry.zoneCapacity)
        // null_blk's default is BLK_SAFE_MAX_SECTORS (255); the kernel keeps at least a page
        // and rounds down to the logical block size.
        maxTransfer = max(geometry.maxTransferBytes ?? 255 * 512, 4096) / blockSize * blockSize
        physicalBlockSize = UInt64(geometry.physicalBlockSize)
        self.stickyWriteErrors = stickyWriteErrors
        let sequential = geometry.zoneCount - geometry.conventionalZones
        // Item 55 in null_blk's order (null_init_zoned_dev), then the block layer's rule.
        var active = geometry.maxActiveZones
        var open = geometry.maxOpenZones
        if active >= sequential { active = 0 }
        if active > 0, open > active {
            open = active
        } else if open >= sequential {
            open = 0
        }
        if open >= sequential { open = 0 }
        maxOpen = open
        maxActive = active
        evictionCursor = geometry.conventionalZones
        zoneStates = (0..<geometry.zoneCount).map { index in
            let start = UInt64(index) * geometry.zoneSize
            return index < geometry.conventionalZones
                ? ZoneState(
                    condition: .notWritePointer,
                    writePointer: start + geometry.zoneSize,
                    data: [UInt8](repeating: 0, count: Int(geometry.zoneSize)),
                    needsWritePointerUpdate: false
                )
                : ZoneState(condition: .empty, writePointer: start, data: [], needsWritePointerUpdate: false)
        }
    }

    // MARK: - Observation

    package var capacity: UInt64 { UInt64(zoneCount) * zoneSize }
    package func start(_ index: Int) -> UInt64 { UInt64(index) * zoneSize }
    package func isConventional(_ index: Int) -> Bool { index < conventionalZones }

    /// The zones as a report shows them (does not refresh sticky errors; see ``report(_:)``).
    package func zones() -> [Zone] {
        (0..<zoneCount).map(zone)
    }

    /// One zone as a report shows it.
    package func zone(_ index: Int) -> Zone {
        let state = zoneStates[index]
        let start = start(index)
        let conventional = isConventional(index)
        let writePointer: UInt64 =
            switch state.condition {
            case .notWritePointer, .full: start + zoneSize  // item 11
            case .readOnly, .offline: Zone.invalidWritePointer
            default: state.writePointer
            }
        return Zone(
            index: index,
            start: start,
            length: zoneSize,
            capacity: conventional ? zoneSize : zoneCapacity,
            writePointer: writePointer,
            type: conventional ? .conventional : .sequentialWriteRequired,
            condition: state.condition
        )
    }

    /// Open and active zones (item 54), counted from the conditions.
    package var usage: Usage {
        var usage = Usage(implicitOpen: 0, explicitOpen: 0, closed: 0)
        for state in zoneStates {
            switch state.condition {
            case .implicitOpen: usage.implicitOpen += 1
            case .explicitOpen: usage.explicitOpen += 1
            case .closed: usage.closed += 1
            default: break
            }
        }
        return usage
    }

    /// Whether item 25's sticky error is pending for `index`.
    package func needsWritePointerUpdate(_ index: Int) -> Bool { zoneStates[index].needsWritePointerUpdate }

    // MARK: - Report

    /// A zone report over the zones `range` (libzbd rounding is the caller's): refreshes the
    /// write pointer of every reported zone (item 25) and returns their descriptors.
    @discardableResult
    package mutating func report(_ range: Range<Int>) -> [Zone] {
        for index in range { zoneStates[index].needsWritePointerUpdate = false }
        return range.map(zone)
    }

    /// The zone range a libzbd-style byte range covers (item 9), or nil when empty.
    package func zoneRange(offset: UInt64, length: UInt64) -> Range<Int>? {
        guard offset < capacity else { return nil }
        let first = Int(offset / zoneSize)
        let end = length == 0 || length > capacity - offset ? capacity : offset + length
        let last = Int((end + zoneSize - 1) / zoneSize)
        return first < last ? first..<last : nil
    }

    // MARK: - Writes

    /// A write of `bytes` at `offset`, cut into requests as the block layer cuts it. Returns nil
    /// on success or the errno the system call returns; requests before a refused one stay
    /// written, and later ones are still tried (item 20).
    package mutating func write(_ bytes: [UInt8], at offset: UInt64, failInjected: Bool = false) -> Errno? {
        if let errno = checkAlignment(offset: offset, count: bytes.count) { return errno }
        let requests = self.requests(offset: offset, count: UInt64(bytes.count))
        if failInjected {
            // A media error on the first request: nothing is written, nothing else is tried.
            let first = requests[0]
            let index = Int(first.offset / zoneSize)
            if isConventional(index) { return .ioError }
            let piece = Array(bytes[0..<Int(first.length)])
            if case .failure(let errno) = writeSequential(
                index,
                at: first.offset,
                bytes: piece,
                append: false,
                failInjected: true
            ) {
                return errno
            }
            return nil
        }
        var errors: [Errno?] = []
        for request in requests {
            let index = Int(request.offset / zoneSize)
            let from = Int(request.offset - offset)
            let piece = Array(bytes[from..<(from + Int(request.length))])
            if isConventional(index) {
                // Item 21: any aligned offset, no state change.
                let at = Int(request.offset - start(index))
                zoneStates[index].data.replaceSubrange(at..<(at + piece.count), with: piece)
                errors.append(nil)
            } else {
                switch writeSequential(index, at: request.offset, bytes: piece, append: false, failInjected: false) {
                case .failure(let errno): errors.append(errno)
                case .success: errors.append(nil)
                }
            }
        }
        // Per bio: the last request's error, else the first; the call: the first failed bio's.
        var first = 0
        while first < requests.count {
            var last = first
            while last + 1 < requests.count, requests[last + 1].bio == requests[first].bio { last += 1 }
            if let errno = errors[last] { return errno }
            if let errno = errors[first...last].compactMap({ $0 }).first { return errno }
            first = last + 1
        }
        return nil
    }

    /// The requests of a write: at most ``maxTransfer`` bytes, not crossing a zone boundary,
    /// ending on a physical block boundary where possible, within bios of 256 pages (1 MiB).
    package func requests(offset: UInt64, count: UInt64) -> [(offset: UInt64, length: UInt64, bio: Int)] {
        var result: [(offset: UInt64, length: UInt64, bio: Int)] = []
        let end = offset + count
        var bio = 0
        var bioStart = offset
        while bioStart < end {
            let bioEnd = min(end, bioStart + (1 << 20))
            var position = bioStart
            while position < bioEnd {
                let toZoneEnd = zoneSize - position % zoneSize
                let limit = min(maxTransfer, toZoneEnd)
                let misalignment = position % physicalBlockSize
                let alignedEnd = (misalignment + limit) / physicalBlockSize * physicalBlockSize
                var length = alignedEnd > misalignment ? alignedEnd - misalignment : limit / blockSize * blockSize
                length = min(max(length, blockSize), bioEnd - position)
                result.append((position, length, bio))
                position += length
            }
            bio += 1
            bioStart = bioEnd
        }
        return result
    }

    /// A zone append to the zone starting at `zoneStart` (items 27, 28): the offset where the
    /// data landed, or the errno.
    package mutating func append(_ bytes: [UInt8], toZoneAt zoneStart: UInt64, failInjected: Bool = false) -> Result<
        UInt64, Errno
    > {
        // Item 22 first (O_DIRECT alignment); an address outside the device is EINVAL as for writes.
        if zoneStart % blockSize != 0 || UInt64(bytes.count) % blockSize != 0 { return .failure(.invalidArgument) }
        if zoneStart >= capacity { return .failure(.invalidArgument) }
        let index = Int(zoneStart / zoneSize)
        // Item 28: the target must be the start of a sequential zone, and carry data.
        if zoneStart % zoneSize != 0 || isConventional(index) || bytes.isEmpty { return .failure(.ioError) }
        return writeSequential(index, at: zoneStart, bytes: bytes, append: true, failInjected: failInjected)
    }

    private func checkAlignment(offset: UInt64, count: Int) -> Errno? {
        if offset % blockSize != 0 || UInt64(count) % blockSize != 0 { return .invalidArgument }
        if offset > capacity || UInt64(count) > capacity - offset { return .invalidArgument }
        return nil
    }

    /// One write (or append) inside sequential zone `index`.
    private mutating func writeSequential(
        _ index: Int,
        at offset: UInt64,
        bytes: [UInt8],
        append: Bool,
        failInjected: Bool
    ) -> Result<UInt64, Errno> {
        let result = checkedWrite(index, at: offset, bytes: bytes, append: append, failInjected: failInjected)
        // Item 25: any failed write to a sequential zone needs a write pointer refresh.
        if case .failure = result, stickyWriteErrors { zoneStates[index].needsWritePointerUpdate = true }
        return result
    }

    private mutating func checkedWrite(
        _ index: Int,
        at offset: UInt64,
        bytes: [UInt8],
        append: Bool,
        failInjected: Bool
    ) -> Result<UInt64, Errno> {
        let state = zoneStates[index]
        let length = UInt64(bytes.count)
        let zoneStart = start(index)
        // Every rule violation is EIO (items 15-19, 23, 25, 28, 70, 71); which one fires first
        // does not matter to the caller.
        switch state.condition {
        case .readOnly, .offline, .full: return .failure(.ioError)
        default: break
        }
        if state.needsWritePointerUpdate { return .failure(.ioError) }
        if append, length > maxAppendBytes { return .failure(.ioError) }
        let target = append ? state.writePointer : offset
        if target != state.writePointer { return .failure(.ioError) }
        if target + length > zoneStart + zoneCapacity { return .failure(.ioError) }
        if (target - zoneStart) % writeGranularity != 0 || length % writeGranularity != 0 { return .failure(.ioError) }
        // Resources are checked last, before any data moves (item 62).
        if state.condition == .empty || state.condition == .closed {
            if let errno = acquireOpenSlot(for: index) { return .failure(errno) }
            zoneStates[index].condition = .implicitOpen  // items 12, 14
        }
        if failInjected {
            // A media error after the zone was opened: no data, write pointer unchanged.
            return .failure(.ioError)
        }
        zoneStates[index].data += bytes
        zoneStates[index].writePointer += length
        if zoneStates[index].writePointer == zoneStart + zoneCapacity {
            zoneStates[index].condition = .full  // item 17: releases its slots
        }
        return .success(target)
    }

    // MARK: - Resources (items 54-62)

    /// The resource check before zone `index` (EMPTY or CLOSED) becomes open or FULL:
    /// EMPTY needs an active slot (else EOVERFLOW, no eviction) and an open slot; CLOSED only
    /// an open slot. A missing open slot is made by closing an implicitly open zone, but only
    /// while the active limit is not reached (item 60); else ETOOMANYREFS.
    private mutating func acquireOpenSlot(for index: Int) -> Errno? {
        let usage = self.usage
        let activeAvailable = maxActive == 0 || usage.active < maxActive
        if zoneStates[index].condition == .empty, !activeAvailable { return .overflow }
        if maxOpen == 0 || usage.open < maxOpen { return nil }
        if usage.implicitOpen > 0, activeAvailable {
            evictImplicitlyOpenZone()
            return nil
        }
        return .tooManyReferences
    }

    private mutating func evictImplicitlyOpenZone() {
        let sequential = conventionalZones..<zoneCount
        var candidate = sequential.contains(evictionCursor) ? evictionCursor : conventionalZones
        for _ in sequential {
            let index = candidate
            candidate = candidate + 1 == zoneCount ? conventionalZones : candidate + 1
            if zoneStates[index].condition == .implicitOpen {
                closeOpenZone(index)
                evictionCursor = candidate
                return
            }
        }
        preconditionFailure("eviction without an implicitly open zone")
    }

    /// Items 36, 37: an open zone becomes CLOSED, or EMPTY when nothing was written.
    private mutating func closeOpenZone(_ index: Int) {
        zoneStates[index].condition = zoneStates[index].writePointer == start(index) ? .empty : .closed
    }

    // MARK: - Zone management

    /// A zone operation over the zones a libzbd-style byte range covers (items 49, 50, 77).
    /// Every zone is tried; returns nil or the errno of the last zone that refused it (item 50:
    /// one bio per zone, each the child of the next).
    package mutating func manage(_ operation: ZoneOperation, offset: UInt64, length: UInt64) -> Errno? {
        guard let range = zoneRange(offset: offset, length: length) else { return nil }
        if operation == .reset, range == 0..<zoneCount {
            resetAll()
            return nil
        }
        var last: Errno?
        for index in range {
            if let errno = manage(operation, zone: index) { last = errno }
        }
        return last
    }

    /// A zone operation on one zone (items 31-48).
    package mutating func manage(_ operation: ZoneOperation, zone index: Int) -> Errno? {
        if isConventional(index) { return .ioError }  // item 47
        let condition = zoneStates[index].condition
        if condition == .readOnly || condition == .offline { return .ioError }  // item 48
        switch operation {
        case .reset:
            reset(index)  // items 45, 46
        case .open:
            switch condition {
            case .explicitOpen: return nil  // item 33
            case .implicitOpen: break  // item 32: no resource check
            case .empty, .closed:  // items 31, 34
                if let errno = acquireOpenSlot(for: index) { return errno }
            default: return .ioError  // item 35
            }
            zoneStates[index].condition = .explicitOpen
        case .close:
            switch condition {
            case .closed: return nil  // item 38
            case .implicitOpen, .explicitOpen: closeOpenZone(index)  // items 36, 37
            default: return .ioError  // items 39, 40
            }
        case .finish:
            switch condition {
            case .full: break  // item 44
            case .empty, .closed:  // items 42, 43
                if let errno = acquireOpenSlot(for: index) { return errno }
                fallthrough
            default:  // item 41
                zoneStates[index].condition = .full
                zoneStates[index].writePointer = start(index) + zoneSize  // item 74
            }
            zoneStates[index].needsWritePointerUpdate = false
        }
        return nil
    }

    private mutating func reset(_ index: Int) {
        zoneStates[index] = ZoneState(
            condition: .empty,
            writePointer: start(index),
            data: [],
            needsWritePointerUpdate: false
        )
    }

    /// RESET ALL (item 49): every sequential zone not EMPTY, READONLY or OFFLINE is reset; every
    /// sequential zone's write pointer is known again (item 25).
    package mutating func resetAll() {
        for index in conventionalZones..<zoneCount {
            switch zoneStates[index].condition {
            case .empty, .readOnly, .offline: zoneStates[index].needsWritePointerUpdate = false
            default: reset(index)
            }
        }
    }

    // MARK: - Reads (items 63-68, 70, 71)

    /// The bytes a read of `count` bytes at `offset` returns, or the errno.
    package func read(count: Int, at offset: UInt64) -> Result<[UInt8], Errno> {
        if let errno = checkAlignment(offset: offset, count: count) { return .failure(errno) }
        // Array-to-array copies only: generic byte-by-byte appends are slow in debug builds.
        var bytes = [UInt8](repeating: 0xFF, count: count)
        var position = offset
        let end = offset + UInt64(count)
        while position < end {
            let index = Int(position / zoneSize)
            let state = zoneStates[index]
            if state.condition == .offline { return .failure(.ioError) }
            let zoneStart = start(index)
            let pieceEnd = min(end, zoneStart + zoneSize)
            // Below the data end: the data; then zeros up to the write pointer; then 0xFF.
            let dataEnd = zoneStart + UInt64(state.data.count)
            let validEnd = max(dataEnd, min(state.writePointer, pieceEnd))
            let dataTop = min(pieceEnd, dataEnd)
            if position < dataTop {
                let target = Int(position - offset)
                let n = Int(dataTop - position)
                let from = Int(position - zoneStart)
                bytes.replaceSubrange(target..<(target + n), with: state.data[from..<(from + n)])
                position = dataTop
            }
            let zeroTop = min(pieceEnd, validEnd)
            if position < zeroTop {
                let target = Int(position - offset)
                let n = Int(zeroTop - position)
                bytes.replaceSubrange(target..<(target + n), with: [UInt8](repeating: 0, count: n))
            }
            position = pieceEnd
        }
        return .success(bytes)
    }

    // MARK: - Faulty zones and restarts

    /// null_blk's configfs `zone_readonly` / `zone_offline` (item 69): the zone is finished
    /// (releasing its slots) and then READONLY / OFFLINE; `.empty` brings a READONLY or OFFLINE
    /// zone back EMPTY with its data discarded.
    package mutating func setCondition(_ index: Int, to condition: ZoneCondition) {
        precondition(!isConventional(index), "conventional zones cannot be faulty")
        switch condition {
        case .readOnly, .offline:
            zoneStates[index].condition = condition
            zoneStates[index].writePointer = Zone.invalidWritePointer
            zoneStates[index].needsWritePointerUpdate = false
        case .empty:
            let current = zoneStates[index].condition
            precondition(current == .readOnly || current == .offline || current == .empty)
            if current != .empty { reset(index) }
        default:
            preconditionFailure("setCondition supports READONLY, OFFLINE and EMPTY")
        }
    }

    /// A device restart (power loss, reopened image): the driver forgets its eviction position
    /// and every sticky error.
    package mutating func restart() {
        evictionCursor = conventionalZones
        for index in zoneStates.indices { zoneStates[index].needsWritePointerUpdate = false }
    }
}
