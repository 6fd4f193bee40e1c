import Synchronization
public import ZonedStorage

/// bcachefs's bucket allocator on a zoned device: every sequential zone is a bucket, written only
/// at its write pointer through write points, reused by a generation increment and a zone reset.
///
/// The fast path (``reserve(sectors:through:watermark:cached:split:)`` when the write point's
/// open bucket has room) is a bump of the bucket's write pointer under the write point's own short
/// lock: no I/O, no system call, no shared lock, so write points allocate in parallel. Slow paths
/// take the allocator state's lock, decide, and act outside it: finishing a zone, making a new
/// generation durable and resetting a zone, or waiting (bounded) for copygc or a zone slot.
/// Resolve a ``WritePoint`` once (``writePoint(for:)``) for hot paths; the hint-taking methods
/// look the hint up on every call.
///
/// ``write(_:through:watermark:cached:split:)`` reserves and writes piece by piece; writes
/// through one write point are serialised, so each bucket is written strictly in allocation order.
///
/// Zone slots: open buckets never hold more zones open or active on the device than the zone
/// budget allows (see ``AllocatorConfiguration``); a write point that gives up a partly written
/// bucket finishes its zone, choosing the bucket whose finish wastes least.
public final class BucketAllocator: Sendable {
    /// The device whose zones are the buckets.
    public let device: any ZonedDevice
    /// The configuration the allocator was created with.
    public let configuration: AllocatorConfiguration
    let generationStore: any BucketGenerationStore
    /// Everything but the write points' fast-path cursors; its lock is the slow path's.
    let state: Mutex<AllocatorState>
    let copygcTrigger: Mutex<(any CopygcTrigger)?>
    let waiter = FreeBucketWaiter()
    /// Each write point's cursor (its fast path) and write lock, by write point number. Lock
    /// order: the state's lock, then any one cursor; the fast path holds a cursor's lock alone.
    @usableFromInline let writePointTable: WritePointTable
    /// Hint → write point, under its own lock.
    let directory: Mutex<WritePointDirectory>
    /// Sectors per bucket (the zone capacity in 512-byte sectors).
    public let bucketSectors: Int
    /// The device's logical block size in bytes; every allocation is a multiple of it.
    public let blockSize: Int
    /// Sectors per logical block − 1: a size in sectors is whole blocks when `size & mask == 0`.
    @usableFromInline let blockSectorMask: Int

    /// Creates an allocator over `device`, taking over the zones as they are.
    ///
    /// Empty zones become free buckets; full zones hold nothing live until the owner marks its
    /// extents live (``markLive(_:)``) — do that before allocating, or they may be reset as
    /// empty; partially written zones are kept open and continued by the next user write point
    /// that needs a bucket (those beyond the user zone budget are finished, the ones with the
    /// least capacity left first, so the least is wasted).
    ///
    /// - Parameters:
    ///   - device: the zoned device.
    ///   - configuration: copygc reserve, zone slots for metadata and copygc, limits.
    ///   - generationStore: where bucket generations are kept durably.
    ///   - copygcTrigger: called when allocations wait for copygc.
    /// - Throws: ``AllocationError``: `.unsupportedDevice` when the device has no usable
    ///   sequential zone, zones of different capacities, or too few zone slots for the reserved
    ///   write points; `.invalidRequest` for a configuration out of range; `.device` when the
    ///   zone report fails.
    public init(
        device: any ZonedDevice,
        configuration: AllocatorConfiguration = AllocatorConfiguration(),
        generationStore: any BucketGenerationStore = InMemoryGenerationStore(),
        copygcTrigger: (any CopygcTrigger)? = nil
    ) throws(AllocationError) {
        guard AllocatorConfiguration.copygcReserveRange.contains(configuration.copygcReserve) else {
            throw AllocationError(
                code: .invalidRequest,
                message: "copygc reserve \(configuration.copygcReserve * 100)% is outside the allowed 5–21 %"
            )
        }
        guard configuration.metadataZoneSlots >= 0, configuration.copygcZoneSlots >= 0 else {
            throw AllocationError(code: .invalidRequest, message: "zone slots for metadata and copygc must be ≥ 0")
        }
        let info = device.info
        let zones: [Zone]
        do {
            zones = try device.reportZones()
        } catch {
            throw AllocationError(
                code: .device,
                message: "cannot report the zones of \(device.path)",
                deviceError: error
            )
        }
        guard info.logicalBlockSize >= DataPointer.sectorSize, info.logicalBlockSize.nonzeroBitCount == 1 else {
            throw AllocationError(
                code: .unsupportedDevice,
                message: "\(device.path) has a logical block size of \(info.logicalBlockSize) bytes; buckets need a "
                    + "power of two of at least \(DataPointer.sectorSize)"
            )
        }
        guard zones.count < Int(WritePointCursor.detachedBucket) else {
            throw AllocationError(
                code: .unsupportedDevice,
                message:
                    "\(device.path) has \(zones.count) zones; at most \(WritePointCursor.detachedBucket - 1) are supported"
            )
        }
        let sequential = zones.filter { $0.isSequential }
        guard let capacity = sequential.first?.capacity else {
            throw AllocationError(
                code: .unsupportedDevice,
                message: "\(device.path) has no sequential zones to use as buckets"
            )
        }
        guard sequential.allSatisfy({ $0.capacity == capacity }) else {
            throw AllocationError(
                code: .unsupportedDevice,
                message: "\(device.path) has sequential zones of different capacities; buckets must be equal"
            )
        }
        let limits = [info.maxOpenZones.value, info.maxActiveZones.value].compactMap { $0 }
        let deviceLimit = min(limits.min() ?? configuration.defaultZoneLimit, sequential.count)
        let reserved = configuration.metadataZoneSlots + configuration.copygcZoneSlots
        guard deviceLimit > reserved else {
            throw AllocationError(
                code: .unsupportedDevice,
                message: "\(device.path) allows \(deviceLimit) open zones, but \(reserved) are reserved for metadata "
                    + "and copygc; at least one more is needed for user data (lower the reserved slots)"
            )
        }
        let generations: [BucketGeneration]?
        do {
            generations = try generationStore.loadGenerations(bucketCount: zones.count)
        } catch {
            throw AllocationError(code: .generationStore, message: "cannot load bucket generations", cause: error)
        }
        let bucketSectors = UInt32(capacity / UInt64(DataPointer.sectorSize))
        var records: [BucketRecord] = []
        records.reserveCapacity(zones.count)
        var partial: [(BucketIndex, UInt32)] = []
        for zone in zones {
            var record = BucketRecord()
            if let generations { record.generation = generations[zone.index] }
            record.oldestGeneration = record.generation
            switch zone.condition {
            case .notWritePointer, .readOnly, .offline:
                record.unusable = true
            case .empty:
                break
            case .full:
                record.allocatedSectors = bucketSectors
            case .implicitOpen, .explicitOpen, .closed:
                record.allocatedSectors = UInt32(zone.writtenBytes / UInt64(DataPointer.sectorSize))
                partial.append((BucketIndex(zone.index), record.allocatedSectors))
            }
            if !zone.isSequential { record.unusable = true }
            records.append(record)
        }
        var state = AllocatorState(
            buckets: records,
            bucketSectors: bucketSectors,
            sectorsPerBlock: UInt32(info.logicalBlockSize / DataPointer.sectorSize),
            zoneSize: info.zoneSize,
            zoneBudget: deviceLimit,
            configuration: configuration
        )
        // Keep the partially written zones that fit the user budget; finish the others, those
        // with the least capacity left first, so finishing wastes the least.
        partial.sort { ($0.1, $1.0) > ($1.1, $0.0) }
        let finishCount = max(0, partial.count - max(0, state.userZoneBudget))
        let finishList = Array(partial.prefix(finishCount))
        for (bucket, _) in partial.dropFirst(finishCount) { state.adoptPartial(bucket) }
        self.device = device
        self.configuration = configuration
        self.generationStore = generationStore
        self.copygcTrigger = Mutex(copygcTrigger)
        self.bucketSectors = Int(bucketSectors)
        self.blockSize = info.logicalBlockSize
        self.blockSectorMask = info.logicalBlockSize / DataPointer.sectorSize - 1
        self.writePointTable = WritePointTable(count: state.writePoints.count)
        self.directory = Mutex(WritePointDirectory(count: state.writePoints.count))
        self.state = Mutex(state)
        for (bucket, _) in finishList {
            try finishZone(bucket, reclaimIfEmpty: false)
        }
    }

    deinit {
        writePointTable.deallocate()
    }

    /// Installs (or removes) the copygc hook.
    public func setCopygcTrigger(_ trigger: (any CopygcTrigger)?) {
        copygcTrigger.withLock { $0 = trigger }
    }

    // MARK: - Write points

    /// The write point for `hint`: its own while user write points last; beyond that, hints
    /// share write points, a new hint taking over the least recently used one (bcachefs's
    /// `writepoint_find`). `.metadata` and `.copygc` always get their dedicated write points.
    ///
    /// Resolve once and keep the ``WritePoint`` for hot paths: allocating through it skips the
    /// hint lookup (a hash and a shared lock) that the hint-taking methods make on every call.
    public func writePoint(for hint: WriteHint) -> WritePoint {
        let table = writePointTable
        let index = directory.withLock { directory in
            directory.resolve(hint) { table.cursor($0) { $0.uses } }
        }
        let kind: WritePoint.Kind =
            switch index {
            case WritePointDirectory.metadataWritePoint: .metadata
            case WritePointDirectory.copygcWritePoint: .copygc
            default: .user
            }
        return WritePoint(kind: kind, index: index, allocator: ObjectIdentifier(self))
    }

    /// Traps unless `writePoint` is one of this allocator's.
    @inlinable @inline(__always)
    func checkOwnership(of writePoint: WritePoint) {
        precondition(writePoint.allocator == ObjectIdentifier(self), "the write point belongs to another allocator")
    }

    // MARK: - Reserve, commit, abandon

    /// Reserves `sectors` for a write through the write point of `hint`: the same as
    /// ``reserve(sectors:through:watermark:cached:split:)`` with `writePoint(for: hint)`.
    ///
    /// - Throws: ``AllocationError`` as ``reserve(sectors:through:watermark:cached:split:)``.
    @inlinable
    public func reserve(
        sectors: Int,
        for hint: WriteHint,
        watermark: Watermark = .normal,
        cached: Bool = false,
        split: Bool = true
    ) throws(AllocationError) -> Reservation {
        try reserve(
            sectors: sectors,
            through: writePoint(for: hint),
            watermark: watermark,
            cached: cached,
            split: split
        )
    }

    /// Reserves `sectors` for a write through `writePoint` (the fast path, when they fit in its
    /// open bucket: a bump of the bucket's write pointer under the write point's lock).
    ///
    /// Write the pieces in order, and reservations of one write point in reservation order,
    /// then ``commit(_:)`` (or ``abandon(_:)`` if a write failed). Because of that order, the
    /// buckets a write point's reservations fill share one zone slot until committed: a full
    /// bucket's zone is FULL before the next one is written. When hints outnumber the user write
    /// points they share write points, so callers reserving from several threads must serialise
    /// their writes per write point themselves (or use ``write(_:through:watermark:cached:split:)``,
    /// which does); never mix the two on one write point concurrently.
    ///
    /// - Parameters:
    ///   - sectors: 512-byte sectors, a multiple of the logical block size.
    ///   - writePoint: the write point, from ``writePoint(for:)`` of this allocator.
    ///   - watermark: how deep into the free buckets this may reach.
    ///   - cached: reserve cached (droppable) rather than dirty space.
    ///   - split: allow the space to span buckets (one piece per bucket); without it the request
    ///     must fit one bucket, and a bucket too full for it is finished (the rest is wasted).
    /// - Returns: where to write.
    /// - Throws: ``AllocationError``: `.invalidRequest` for a malformed size (or a request whose
    ///   buckets cannot share a zone slot and need more than its class has), `.noSpace` at once
    ///   when the usable capacity is
    ///   exhausted or no bucket can be had and copygc has nothing to reclaim, `.timedOut` when
    ///   copygc (or writes in flight) did not free a bucket or zone slot within
    ///   ``AllocatorConfiguration/allocationWaitLimit``, `.device` / `.generationStore` when a
    ///   finish or reset failed.
    @inlinable
    public func reserve(
        sectors: Int,
        through writePoint: WritePoint,
        watermark: Watermark = .normal,
        cached: Bool = false,
        split: Bool = true
    ) throws(AllocationError) -> Reservation {
        checkOwnership(of: writePoint)
        // The fast path: whole blocks that fit the open bucket (the cursor checks the room).
        if sectors > 0, sectors <= bucketSectors, sectors & blockSectorMask == 0 {
            var piece = Reservation.Piece.placeholder
            let bumped = writePointTable.cursor(writePoint.index) {
                $0.bump(
                    UInt32(truncatingIfNeeded: sectors),
                    cached: cached,
                    writePoint: Int32(truncatingIfNeeded: writePoint.index),
                    into: &piece
                )
            }
            if bumped { return Reservation(piece) }
        }
        return try reserveSlowly(
            sectors: sectors,
            writePoint: writePoint.index,
            watermark: watermark,
            cached: cached,
            split: split
        )
    }

    /// Everything ``reserve(sectors:through:watermark:cached:split:)``'s fast path does not do:
    /// validation, a new bucket, splitting across buckets, waiting.
    @usableFromInline @inline(never)
    func reserveSlowly(
        sectors: Int,
        writePoint wp: Int,
        watermark: Watermark,
        cached: Bool,
        split: Bool
    ) throws(AllocationError) -> Reservation {
        try validate(sectors: sectors, split: split)
        var pieces: [Reservation.Piece] = []
        var remaining = UInt32(sectors)
        var waitedSince: ContinuousClock.Instant?
        while remaining > 0 {
            let piece: Reservation.Piece
            do {
                piece = try nextPiece(
                    sectors: remaining,
                    writePoint: wp,
                    watermark: watermark,
                    cached: cached,
                    split: split,
                    holding: pieces.isEmpty ? [] : Set(pieces.map(\.pointer.bucket)),
                    waitedSince: &waitedSince
                )
            } catch {
                giveBack(pieces)
                throw error
            }
            pieces.append(piece)
            remaining -= piece.pointer.sectors
        }
        return Reservation(pieces: pieces)
    }

    func validate(sectors: Int, split: Bool) throws(AllocationError) {
        let sectorsPerBlock = blockSectorMask + 1
        guard sectors > 0, sectors & blockSectorMask == 0, sectors <= Int(UInt32.max) else {
            throw AllocationError(
                code: .invalidRequest,
                message: "cannot allocate \(sectors) sectors: allocations are positive multiples of the "
                    + "\(blockSize)-byte logical block (\(sectorsPerBlock) sectors)"
            )
        }
        guard split || sectors <= bucketSectors else {
            throw AllocationError(
                code: .invalidRequest,
                message: "\(sectors) sectors do not fit one bucket of \(bucketSectors) sectors; allow splitting"
            )
        }
    }

    /// Reserves the next piece of a request on the slow path: the state decides under its lock
    /// (with the write point's cursor detached, and every cursor when the decision needs their
    /// exact state), this performs the finishes, resets and bounded waits it asks for, until a
    /// piece is handed out.
    func nextPiece(
        sectors: UInt32,
        writePoint wp: Int,
        watermark: Watermark,
        cached: Bool,
        split: Bool,
        holding: Set<BucketIndex>,
        waitedSince: inout ContinuousClock.Instant?
    ) throws(AllocationError) -> Reservation.Piece {
        while true {
            // Read before deciding, so a bucket released right after the decision wakes the wait.
            let epoch = waiter.current
            let step = try withState(detaching: .writePoint(wp)) {
                (state) throws(AllocationError) -> AllocatorState.Step in
                var step = try state.tryReserve(
                    sectors: sectors,
                    writePoint: wp,
                    watermark: watermark,
                    cached: cached,
                    split: split,
                    holding: holding
                )
                if case .foldWritePoints = step {
                    detachAll(&state)
                    step = try state.tryReserve(
                        sectors: sectors,
                        writePoint: wp,
                        watermark: watermark,
                        cached: cached,
                        split: split,
                        holding: holding
                    )
                }
                if case .reserved = step { writePointTable.cursor(wp) { $0.uses &+= 1 } }
                return step
            }
            switch step {
            case .reserved(let piece):
                return piece
            case .foldWritePoints:
                // Not after every cursor was detached; ask again.
                continue
            case .finish(let bucket):
                try finishZone(bucket)
            case .reset(let bucket, let generation):
                try reset(bucket, to: generation)
            case .wait(let reason, let kickCopygc):
                if kickCopygc { copygcTrigger.withLock { $0 }?.kickCopygc(reason: reason) }
                let started = waitedSince ?? .now
                waitedSince = started
                let left = configuration.allocationWaitLimit - secondsSince(started)
                if left <= 0 || !waiter.wait(after: epoch, timeout: left) {
                    throw AllocationError(
                        code: .timedOut,
                        message: "no space: \(reason); nothing was freed within \(configuration.allocationWaitLimit) s"
                            + (kickCopygc ? " (copygc was asked to reclaim space)" : "")
                    )
                }
            }
        }
    }

    /// Performs what a commit, abandon or rollback left to do. Returns the first finish error.
    @discardableResult
    private func handle(_ aftermath: AllocatorState.Aftermath) -> AllocationError? {
        var firstError: AllocationError?
        for bucket in aftermath.toFinish {
            do { try finishZone(bucket) } catch { firstError = firstError ?? error }
        }
        if !aftermath.toReclaim.isEmpty { reclaim(aftermath.toReclaim) }
        if aftermath.released { waiter.signal() }
        return firstError
    }

    private func giveBack(_ pieces: [Reservation.Piece]) {
        guard !pieces.isEmpty else { return }
        handle(withState(detaching: .owners(of: Reservation(pieces: pieces))) { $0.unreserve(pieces) })
    }

    /// Records that a reservation's data was written. Buckets it filled leave the open set; a
    /// filled bucket whose data is already dead is reset.
    ///
    /// A one-piece reservation in its write point's open bucket is counted under that write
    /// point's lock alone (the fast path).
    @inlinable
    public func commit(_ reservation: Reservation) {
        if case .one(let piece) = reservation.storage {
            switch writePointTable.cursor(Int(piece.writePoint), { $0.commit(piece) }) {
            case .done:
                return
            case .full:
                settleCommitted(piece.pointer.bucket)
                return
            case .elsewhere:
                break
            }
        }
        commitSlowly(reservation)
    }

    /// Commits through the allocator state: reservations of several pieces, or in buckets that
    /// left their write point.
    @usableFromInline @inline(never)
    func commitSlowly(_ reservation: Reservation) {
        handle(withState(detaching: .owners(of: reservation)) { $0.commit(reservation.pieces) })
    }

    /// A fast commit left its write point's open bucket full and idle: it leaves the open set.
    @usableFromInline @inline(never)
    func settleCommitted(_ bucket: BucketIndex) {
        handle(
            withState(detaching: .owner(of: bucket)) { state in
                var aftermath = AllocatorState.Aftermath()
                state.settleCommitted(bucket, into: &aftermath)
                return aftermath
            }
        )
    }

    /// Records that writing a reservation failed: its space is not live, and its buckets are
    /// finished once nothing else is in flight in them (they can no longer be written at the
    /// allocator's write pointer).
    ///
    /// - Throws: ``AllocationError`` `.device` if a bucket's zone could not be finished (the
    ///   bucket is then retired).
    public func abandon(_ reservation: Reservation) throws(AllocationError) {
        if let error = handle(withState(detaching: .owners(of: reservation)) { $0.abandon(reservation.pieces) }) {
            throw error
        }
    }

    // MARK: - Write

    /// Writes `bytes` through the write point of `hint`: the same as
    /// ``write(_:through:watermark:cached:split:)`` with `writePoint(for: hint)`.
    ///
    /// - Throws: ``AllocationError`` as ``write(_:through:watermark:cached:split:)``.
    public func write(
        _ bytes: [UInt8],
        hint: WriteHint,
        watermark: Watermark = .normal,
        cached: Bool = false,
        split: Bool = true
    ) throws(AllocationError) -> [DataPointer] {
        try write(bytes, through: writePoint(for: hint), watermark: watermark, cached: cached, split: split)
    }

    /// Writes `bytes` through `writePoint`: reserves a piece, writes it at its zone's write
    /// pointer, commits it, and goes on with the rest in the next bucket. Writes through one
    /// write point are serialised, so every write lands at its zone's write pointer and each
    /// bucket leaves its zone slot as soon as it is full.
    ///
    /// - Parameters:
    ///   - bytes: the data, a multiple of the logical block size.
    ///   - writePoint: the write point, from ``writePoint(for:)`` of this allocator; unrelated
    ///     streams should use different ones.
    ///   - watermark: how deep into the free buckets this may reach.
    ///   - cached: store as cached data (the allocator may drop it).
    ///   - split: allow the data to span buckets.
    /// - Returns: one pointer per bucket the data landed in, in order.
    /// - Throws: ``AllocationError`` as ``reserve(sectors:through:watermark:cached:split:)``; a
    ///   device write error is `.device` (its bucket is finished). On any error nothing this call
    ///   wrote stays live: pieces already written are marked dead. A request beyond the usable
    ///   capacity is refused before anything is written.
    public func write(
        _ bytes: [UInt8],
        through writePoint: WritePoint,
        watermark: Watermark = .normal,
        cached: Bool = false,
        split: Bool = true
    ) throws(AllocationError) -> [DataPointer] {
        guard bytes.count % DataPointer.sectorSize == 0 else {
            throw AllocationError(
                code: .invalidRequest,
                message: "cannot write \(bytes.count) bytes: data is written in whole \(blockSize)-byte blocks"
            )
        }
        let sectors = bytes.count / DataPointer.sectorSize
        try validate(sectors: sectors, split: split)
        checkOwnership(of: writePoint)
        let wp = writePoint.index
        return try writePointTable.whileWriting(wp) { () throws(AllocationError) -> [DataPointer] in
            var pointers: [DataPointer] = []
            var written = 0
            var waitedSince: ContinuousClock.Instant?
            while written < bytes.count {
                let remaining = UInt32((bytes.count - written) / DataPointer.sectorSize)
                var piece = Reservation.Piece.placeholder
                let bumped = writePointTable.cursor(wp) {
                    $0.bump(remaining, cached: cached, writePoint: Int32(truncatingIfNeeded: wp), into: &piece)
                }
                if !bumped {
                    do throws(AllocationError) {
                        piece = try nextPiece(
                            sectors: remaining,
                            writePoint: wp,
                            watermark: watermark,
                            cached: cached,
                            split: split,
                            holding: pointers.isEmpty ? [] : Set(pointers.map(\.bucket)),
                            waitedSince: &waitedSince
                        )
                    } catch {
                        for pointer in pointers { markDead(pointer) }
                        throw error
                    }
                }
                let count = piece.pointer.byteCount
                do throws(ZonedStorageError) {
                    #if ZONEALLOC_INTERNAL_CHECKS
                    try assertAtWritePointer(piece)
                    #endif
                    try bytes.withUnsafeBytes { raw in
                        Result { () throws(ZonedStorageError) in
                            try device.write(
                                UnsafeRawBufferPointer(rebasing: raw[written..<(written + count)]),
                                at: piece.deviceOffset
                            )
                        }
                    }.get()
                } catch {
                    try? abandon(Reservation(piece))
                    for pointer in pointers { markDead(pointer) }
                    throw AllocationError(
                        code: .device,
                        message: "writing \(count) bytes for \(piece.pointer) failed; the write was abandoned",
                        deviceError: error
                    )
                }
                commit(Reservation(piece))
                pointers.append(piece.pointer)
                written += count
            }
            return pointers
        }
    }

    #if ZONEALLOC_INTERNAL_CHECKS
    /// Debug builds check every write lands exactly at the device's write pointer (invariant 2).
    private func assertAtWritePointer(_ piece: Reservation.Piece) throws(ZonedStorageError) {
        let zone = try device.zone(piece.pointer.bucket.zone)
        // A zone that went read-only or offline refuses the write itself (a device fault, which
        // the write path handles), not a write the allocator misplaced.
        if zone.condition == .readOnly || zone.condition == .offline { return }
        precondition(
            zone.condition.hasValidWritePointer && zone.writePointer == piece.deviceOffset,
            "allocator write at \(piece.deviceOffset) for \(piece.pointer) but zone \(zone.index) is "
                + "\(zone.condition.kernelName) with write pointer \(zone.writePointer)"
        )
    }
    #endif

    // MARK: - Finish and reset

    /// Finishes the zone of `bucket` (claimed for it by the state). A finished bucket that holds
    /// nothing live is reset at once unless `reclaimIfEmpty` is false (at start-up, before the
    /// owner has marked what is live).
    func finishZone(_ bucket: BucketIndex, reclaimIfEmpty: Bool = true) throws(AllocationError) {
        let empty: Bool
        do {
            try device.finishZone(bucket.zone)
            empty = withState(detaching: .owner(of: bucket)) { $0.didFinish(bucket) }
        } catch {
            withState(detaching: .owner(of: bucket)) { $0.retire(bucket) }
            waiter.signal()
            throw AllocationError(
                code: .device,
                message: "finishing the zone of \(bucket) failed; the bucket is retired",
                deviceError: error
            )
        }
        waiter.signal()
        if empty, reclaimIfEmpty { reclaim(bucket) }
    }

    /// Makes `generation` durable, then resets the zone (invariant 3: the generation first).
    func reset(_ bucket: BucketIndex, to generation: BucketGeneration) throws(AllocationError) {
        do {
            try generationStore.persist(generation, of: bucket)
        } catch {
            state.withLock { $0.resetFailed(bucket) }
            waiter.signal()
            throw AllocationError(
                code: .generationStore,
                message: "persisting \(generation) of \(bucket) failed; the zone was not reset",
                cause: error
            )
        }
        try resetZone(bucket, to: generation)
    }

    /// Resets the zone of `bucket`, whose new `generation` is already durable, and hands the
    /// bucket back as free (or retires it when the zone turned read-only or offline).
    private func resetZone(_ bucket: BucketIndex, to generation: BucketGeneration) throws(AllocationError) {
        do {
            try device.resetZone(bucket.zone)
        } catch {
            let zone = try? device.zone(bucket.zone)
            withState(detaching: .owner(of: bucket)) { state in
                if let zone, zone.condition == .readOnly || zone.condition == .offline {
                    state.retire(bucket)
                } else {
                    state.resetFailed(bucket)
                }
            }
            waiter.signal()
            throw AllocationError(code: .device, message: "resetting the zone of \(bucket) failed", deviceError: error)
        }
        state.withLock { $0.didReset(bucket, to: generation) }
        waiter.signal()
    }

    /// Resets an emptied bucket now, best effort, as the batch form below does.
    func reclaim(_ bucket: BucketIndex) {
        reclaim([bucket])
    }

    /// Resets emptied buckets now, best effort: their new generations are made durable together
    /// (one ``BucketGenerationStore/persist(_:)`` call, one journal commit in the store) before
    /// any of their zones is reset. If that fails, or a reset fails, the bucket stays
    /// `needsReset` and the allocation path tries again.
    func reclaim(_ buckets: [BucketIndex]) {
        let claimed = state.withLock { state in
            buckets.compactMap { bucket in state.claimForReset(bucket).map { (bucket: bucket, generation: $0) } }
        }
        guard !claimed.isEmpty else { return }
        do {
            try generationStore.persist(claimed)
        } catch {
            state.withLock { state in for (bucket, _) in claimed { state.resetFailed(bucket) } }
            waiter.signal()
            return
        }
        for (bucket, generation) in claimed { try? resetZone(bucket, to: generation) }
    }

    // MARK: - Accounting

    /// Whether `pointer` is stale: its bucket was reset (its generation moved on) since the data
    /// was written. A stale pointer must never be read as live data.
    public func isStale(_ pointer: DataPointer) -> Bool {
        state.withLock { $0.isStale(pointer) }
    }

    /// The current generation of `bucket`.
    public func generation(of bucket: BucketIndex) -> BucketGeneration {
        state.withLock { $0.buckets[bucket.zone].generation }
    }

    /// The derived state of `bucket`.
    public func state(of bucket: BucketIndex) -> BucketState {
        state.withLock { $0.state(of: bucket) }
    }

    /// Marks an extent dead (overwritten or deleted). A bucket that is no longer open and holds
    /// nothing live is reset and freed at once, without copying.
    ///
    /// A stale cached pointer is ignored. Marking a stale *dirty* pointer dead is a programmer
    /// error (a double free) and traps.
    public func markDead(_ pointer: DataPointer) {
        let emptied = withState(detaching: .owner(of: pointer.bucket)) { $0.markDead(pointer) }
        if emptied { reclaim(pointer.bucket) }
    }

    /// Marks an extent live, to rebuild accounting after a restart. Returns false (and changes
    /// nothing) for a stale pointer or one beyond its bucket's written data.
    @discardableResult
    public func markLive(_ pointer: DataPointer) -> Bool {
        // Cursors' credit is taken back first: live data rebuilt here may leave none.
        withState(detaching: .all) { $0.markLive(pointer) }
    }

    /// Invalidates a bucket holding only cached data: generation increment (durable first), zone
    /// reset, back to free. Every cached pointer into it becomes stale; nothing is moved. An
    /// emptied bucket that still needs its reset is reset the same way.
    ///
    /// - Returns: false (nothing done) unless the bucket is cached-only or emptied: it holds
    ///   dirty data, is open, free, or already being reset.
    /// - Throws: ``AllocationError`` `.generationStore` when the new generation could not be made
    ///   durable (the zone is not reset and the cached data stays live), `.device` when the reset
    ///   failed.
    @discardableResult
    public func invalidate(_ bucket: BucketIndex) throws(AllocationError) -> Bool {
        guard let generation = state.withLock({ $0.claimForReset(bucket) }) else { return false }
        try reset(bucket, to: generation)
        return true
    }

    /// Resets every bucket that is empty but not yet reset (for example after a failed reset).
    public func reclaimEmptyBuckets() throws(AllocationError) {
        let empty = state.withLock { state in
            state.buckets.indices.filter { state.buckets[$0].state(bucketSectors: state.bucketSectors) == .needsReset }
        }
        for zone in empty {
            guard let generation = state.withLock({ $0.claimForReset(BucketIndex(zone)) }) else { continue }
            try reset(BucketIndex(zone), to: generation)
        }
    }

    /// Lowers each bucket's oldest live generation to the oldest among `pointers`, every pointer
    /// its owners still hold (bcachefs's `gc_gens`). Buckets whose generation ran 96 ahead of
    /// their oldest pointer become allocatable again once those pointers are gone. Drop stale
    /// pointers first, as `gc_gens` does: a stale pointer passed here keeps its bucket blocked.
    public func updateOldestGenerations(_ pointers: [DataPointer]) {
        state.withLock { $0.updateOldestGenerations(pointers) }
    }

    /// Buckets holding dirty data that are not open, emptiest first: copygc's victims.
    public func fragmentedBuckets(limit: Int) -> [BucketIndex] {
        state.withLock { $0.victims(limit: limit) }
    }

    /// Live (dirty, cached) sectors of `bucket`.
    public func liveSectors(of bucket: BucketIndex) -> (dirty: Int, cached: Int) {
        withState(detaching: .owner(of: bucket)) { state in
            (Int(state.buckets[bucket.zone].dirtySectors), Int(state.buckets[bucket.zone].cachedSectors))
        }
    }

    /// A snapshot of the accounting.
    ///
    /// It visits every bucket (O(buckets)); for the running totals of zone operations alone,
    /// ``zoneOperationCounts()`` is O(1).
    public func statistics() -> AllocatorStatistics {
        withState(detaching: .all) { $0.statistics() }
    }

    /// The zone resets and finishes performed so far (``AllocatorStatistics/resets`` and
    /// ``AllocatorStatistics/finishes``), read in O(1): cheap enough to take before and after
    /// every copygc pass on devices of any size.
    public func zoneOperationCounts() -> (resets: Int, finishes: Int) {
        state.withLock { ($0.resets, $0.finishes) }
    }
}

/// Seconds elapsed since `start` on the monotonic clock.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = start.duration(to: .now)
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}
