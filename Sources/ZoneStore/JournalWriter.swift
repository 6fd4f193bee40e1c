import Glibc
import Synchronization
import ZoneAlloc
import ZonedStorage

/// The journal: records are appended in memory (``append(_:startsGroup:)``, under the store's
/// lock, so the journal's order is the index's order) and written by group commit
/// (``commit(through:)``): one thread at a time writes every pending record as one group at the
/// write pointer of the journal bucket and flushes the device; every thread waiting for a
/// record in that group returns after the one flush.
///
/// Journal buckets are whole buckets reserved through the allocator's metadata write point.
/// The next one is reserved before the current one fills (never while a commit is writing, as
/// the reservation may reset a bucket and so persist a generation, which is itself a commit);
/// its last block is kept for a continuation group naming the next bucket, so replay can
/// follow the chain. A full bucket's zone is finished, so at most one journal zone is open.
final class JournalWriter: Sendable {
    /// A journal bucket: the reservation covering the whole bucket, and how far it is written.
    struct LogBucket: Sendable {
        var reservation: Reservation
        var written: UInt64 = 0

        var pointer: DataPointer { reservation.pieces[0].pointer }
        var start: UInt64 { reservation.pieces[0].deviceOffset }
    }

    /// Where a group was written.
    struct Location: Sendable, Hashable {
        var bucket: UInt32
        var generation: UInt8
        var offset: UInt32
    }

    /// A bucket holding journal groups that are still needed (not yet covered by a checkpoint).
    struct RetainedBucket: Sendable {
        var pointer: DataPointer
    }

    struct State: Sendable {
        var pending: [[UInt8]] = []
        /// Bytes of `pending`.
        var pendingBytes = 0
        /// Sequence number of `pending[0]`.
        var pendingFirst: UInt64
        /// The next sequence number to hand out.
        var nextSequence: UInt64
        /// Every record up to this one is durable.
        var durableThrough: UInt64
        var committing = false
        var preparing = false
        /// The thread reserving the next bucket (see ``currentThreadID()``).
        var preparer: UInt = 0
        var current: LogBucket?
        var next: LogBucket?
        var failure: StoreError?
        /// Sequence numbers that must start a group (checkpoint begin records).
        var boundaries: Set<UInt64> = []
        /// Where the groups starting at a boundary landed.
        var boundaryLocations: [UInt64: Location] = [:]
        /// Buckets with groups still needed, oldest first (the current one last).
        var retained: [RetainedBucket] = []
        /// Journal bytes written since ``resetGrowth()``.
        var growth: UInt64 = 0
        var groupsWritten = 0
        var flushes = 0
        /// Group writes that failed and were written again in place.
        var retries = 0
    }

    let device: any ZonedDevice
    let allocator: BucketAllocator
    let uuid: [UInt8]
    let blockSize: Int
    let bucketBytes: UInt64
    let bucketSectors: Int
    /// Blocks of a bucket that only commits made while the next bucket is being reserved may
    /// use (those commits persist the generations that reservation needs).
    let headroomBlocks: Int
    let state: Mutex<State>
    let progress = ProgressSignal()

    /// Creates a writer whose first record will be `firstSequence`. Call ``start()`` before
    /// committing.
    init(device: any ZonedDevice, allocator: BucketAllocator, uuid: [UInt8], firstSequence: UInt64) {
        self.device = device
        self.allocator = allocator
        self.uuid = uuid
        self.blockSize = device.info.logicalBlockSize
        self.bucketSectors = allocator.bucketSectors
        self.bucketBytes = UInt64(allocator.bucketSectors * DataPointer.sectorSize)
        let blocks = Int(bucketBytes) / blockSize
        self.headroomBlocks = max(1, min(4, (blocks - 2) / 4))
        self.state = Mutex(
            State(pendingFirst: firstSequence, nextSequence: firstSequence, durableThrough: firstSequence - 1)
        )
    }

    // MARK: - Appending

    /// Appends `record` and returns its sequence number. Call with the store's lock held, so
    /// the journal's order is the order of the index changes. No I/O.
    ///
    /// - Parameters:
    ///   - record: the record.
    ///   - startsGroup: write it at the start of a group (a checkpoint's begin record, whose
    ///     location the superblock will name).
    /// - Returns: the record's sequence number.
    @discardableResult
    func append(_ record: JournalRecord, startsGroup: Bool = false) -> UInt64 {
        var writer = ByteWriter(capacity: 64)
        record.encode(into: &writer)
        let bytes = writer.bytes
        return state.withLock { state in
            let sequence = state.nextSequence
            state.nextSequence += 1
            state.pending.append(bytes)
            state.pendingBytes += bytes.count
            if startsGroup { state.boundaries.insert(sequence) }
            return sequence
        }
    }

    /// Bytes of records appended but not yet written.
    var pendingBytes: Int { state.withLock { $0.pendingBytes } }

    /// The last sequence number handed out.
    var lastSequence: UInt64 { state.withLock { $0.nextSequence - 1 } }

    /// Every record up to this sequence number is durable.
    var durableThrough: UInt64 { state.withLock { $0.durableThrough } }

    /// The sticky failure, if a journal write failed.
    var failure: StoreError? { state.withLock { $0.failure } }

    // MARK: - Starting

    /// Reserves the first journal bucket (and the one after it) and returns where the journal
    /// starts, for the superblock.
    ///
    /// - Throws: ``StoreError`` when no bucket can be reserved.
    func start() throws(StoreError) -> Location {
        let first = try reserveBucket()
        let location = state.withLock { state in
            state.current = LogBucket(reservation: first)
            state.retained.append(RetainedBucket(pointer: first.pieces[0].pointer))
            return Location(
                bucket: first.pieces[0].pointer.bucket.rawValue,
                generation: first.pieces[0].pointer.generation.rawValue,
                offset: 0
            )
        }
        prepareNextIfNeeded()
        return location
    }

    /// Buckets of earlier journal chains that are still needed until the next checkpoint.
    func retain(_ pointers: [DataPointer]) {
        state.withLock { state in
            state.retained.insert(contentsOf: pointers.map { RetainedBucket(pointer: $0) }, at: 0)
        }
    }

    private func reserveBucket() throws(StoreError) -> Reservation {
        do {
            return try allocator.reserve(
                sectors: bucketSectors,
                for: .metadata,
                watermark: .metadata,
                cached: false,
                split: false
            )
        } catch {
            throw StoreError.allocation(error, "cannot reserve a journal bucket")
        }
    }

    /// Reserves the next journal bucket unless it is reserved or being reserved. Never called
    /// while this thread commits. Returns the error of a reservation this call attempted.
    @discardableResult
    func prepareNextIfNeeded() -> StoreError? {
        let go = state.withLock { state -> Bool in
            guard state.next == nil, !state.preparing, state.failure == nil, state.current != nil else { return false }
            state.preparing = true
            state.preparer = currentThreadID()
            return true
        }
        guard go else { return nil }
        let result: Result<Reservation, StoreError>
        do { result = .success(try reserveBucket()) } catch { result = .failure(error) }
        state.withLock { state in
            state.preparing = false
            state.preparer = 0
            if case .success(let reservation) = result { state.next = LogBucket(reservation: reservation) }
        }
        progress.signal()
        if case .failure(let error) = result { return error }
        return nil
    }

    // MARK: - Committing

    private enum Step {
        case done
        case wait
        case prepare
        case write(Batch)
    }

    private struct Batch {
        var first: UInt64
        var records: [[UInt8]]
        /// Switch to the next bucket first (the current one cannot take the batch).
        var switchBucket: Bool
        var isBoundary: Bool
        var last: UInt64 { first + UInt64(records.count) - 1 }
    }

    /// Makes every record up to `sequence` durable: waits for a commit in progress, or writes
    /// the pending records itself.
    ///
    /// - Throws: ``StoreError`` `.failed` after a journal write failed (sticky), `.device` for
    ///   the write that failed, or an allocation error when no journal bucket could be reserved.
    func commit(through sequence: UInt64) throws(StoreError) {
        while true {
            let epoch = progress.current
            let step = try state.withLock { (state) throws(StoreError) -> Step in
                if let failure = state.failure { throw failure }
                if state.durableThrough >= sequence { return .done }
                if state.committing { return .wait }
                guard !state.pending.isEmpty else { return .done }
                guard let current = state.current else {
                    throw StoreError(code: .closed, message: "the journal is not started; open the store first")
                }
                let reserve = UInt64(blockSize) * UInt64(1 + (state.preparing ? 0 : headroomBlocks))
                let room = bucketBytes > current.written + reserve ? bucketBytes - current.written - reserve : 0
                var batch = takeBatch(&state, room: room)
                if batch == nil {
                    // Nothing fits: continue in the next bucket, once there is one.
                    guard state.next != nil else {
                        guard state.preparing else { return .prepare }
                        if state.preparer == currentThreadID() {
                            // A commit made while this thread reserves the next bucket (it
                            // persists a generation) found the headroom used up.
                            throw StoreError(
                                code: .noSpace,
                                message: "the journal bucket is full while the next one is being reserved; "
                                    + "the generation needed to reuse a bucket cannot be committed"
                            )
                        }
                        return .wait
                    }
                    batch = takeBatch(&state, room: bucketBytes - UInt64(blockSize) * UInt64(1 + headroomBlocks))
                    guard var switching = batch else {
                        throw StoreError(
                            code: .failed,
                            message: "a journal record does not fit in an empty journal bucket of \(bucketBytes) bytes"
                        )
                    }
                    switching.switchBucket = true
                    batch = switching
                }
                state.committing = true
                return .write(batch!)
            }
            switch step {
            case .done:
                return
            case .wait:
                progress.wait(after: epoch)
            case .prepare:
                if let error = prepareNextIfNeeded() { throw error }
            case .write(let batch):
                let switched: Bool
                do {
                    switched = try write(batch)
                } catch {
                    state.withLock { state in
                        state.failure = StoreError(
                            code: .failed,
                            message: "a journal write failed; the store refuses changes until it is reopened",
                            cause: error
                        )
                        state.committing = false
                    }
                    progress.signal()
                    throw error
                }
                progress.signal()
                if switched { prepareNextIfNeeded() }
            }
        }
    }

    /// Takes the pending records that fit in `room` bytes as one group (never past a boundary
    /// that is not the first record). Nil when not even the first record fits.
    private func takeBatch(_ state: inout State, room: UInt64) -> Batch? {
        var size = LogGroup.headerSize
        var count = 0
        for (index, record) in state.pending.enumerated() {
            let sequence = state.pendingFirst + UInt64(index)
            if index > 0, state.boundaries.contains(sequence) { break }
            let padded = (size + record.count + blockSize - 1) / blockSize * blockSize
            if UInt64(padded) > room { break }
            size += record.count
            count += 1
        }
        guard count > 0 else { return nil }
        let first = state.pendingFirst
        let records = Array(state.pending.prefix(count))
        state.pending.removeFirst(count)
        state.pendingBytes -= records.reduce(0) { $0 + $1.count }
        state.pendingFirst += UInt64(count)
        let boundary = state.boundaries.remove(first) != nil
        return Batch(first: first, records: records, switchBucket: false, isBoundary: boundary)
    }

    /// Writes `batch` (switching buckets first if it says so) and flushes. Returns whether the
    /// bucket was switched.
    private func write(_ batch: Batch) throws(StoreError) -> Bool {
        var (current, next) = state.withLock { ($0.current!, $0.next) }
        if batch.switchBucket, let upcoming = next {
            let continuation = LogGroup.encode(
                uuid: uuid,
                bucket: current.pointer.bucket.rawValue,
                generation: current.pointer.generation.rawValue,
                kind: .continuation,
                firstSequence: batch.first,
                recordCount: 0,
                payload: [],
                blockSize: blockSize,
                nextBucket: upcoming.pointer.bucket.rawValue,
                nextGeneration: upcoming.pointer.generation.rawValue
            )
            do {
                try writeRetrying(continuation, at: current.start + current.written, zone: current.pointer.bucket.zone)
                try device.finishZone(current.pointer.bucket.zone)
            } catch {
                throw StoreError.device(
                    error,
                    "writing the journal continuation failed",
                    bucket: current.pointer.bucket
                )
            }
            allocator.commit(current.reservation)
            current = upcoming
            next = nil
            state.withLock { state in
                state.current = current
                state.next = nil
                state.retained.append(RetainedBucket(pointer: current.pointer))
            }
        }
        var payload: [UInt8] = []
        payload.reserveCapacity(batch.records.reduce(0) { $0 + $1.count })
        for record in batch.records { payload.append(contentsOf: record) }
        let group = LogGroup.encode(
            uuid: uuid,
            bucket: current.pointer.bucket.rawValue,
            generation: current.pointer.generation.rawValue,
            kind: .records,
            firstSequence: batch.first,
            recordCount: batch.records.count,
            payload: payload[...],
            blockSize: blockSize
        )
        let offset = current.written
        do {
            try writeRetrying(group, at: current.start + offset, zone: current.pointer.bucket.zone)
            try device.flush()
        } catch {
            throw StoreError.device(error, "writing a journal group failed", bucket: current.pointer.bucket)
        }
        state.withLock { state in
            state.current?.written = offset + UInt64(group.count)
            state.durableThrough = batch.last
            state.growth += UInt64(group.count)
            state.groupsWritten += 1
            state.flushes += 1
            state.committing = false
            if batch.isBoundary {
                state.boundaryLocations[batch.first] = Location(
                    bucket: current.pointer.bucket.rawValue,
                    generation: current.pointer.generation.rawValue,
                    offset: UInt32(offset)
                )
            }
        }
        return batch.switchBucket
    }

    /// Writes `bytes` at `offset` of journal zone `zone`; when the write fails, writes it once
    /// more if the zone still takes writes and its write pointer shows that nothing was written
    /// (a transient medium error: null_blk's bad blocks, a retried command). The zone report that
    /// checks the write pointer also clears a sticky write error (Linux 6.13+). A zone that went
    /// read-only or offline, or a write that left part of the data, fails as it did.
    private func writeRetrying(_ bytes: [UInt8], at offset: UInt64, zone: Int) throws(ZonedStorageError) {
        do {
            try device.write(bytes, at: offset)
        } catch {
            guard let report = try? device.zone(zone), report.condition.hasValidWritePointer,
                report.writePointer == offset
            else { throw error }
            state.withLock { $0.retries += 1 }
            try device.write(bytes, at: offset)
        }
    }

    // MARK: - Checkpoint support

    /// Where the group starting with record `sequence` (appended with `startsGroup`) landed,
    /// once it is written.
    func location(ofGroupStartingAt sequence: UInt64) -> Location? {
        state.withLock { $0.boundaryLocations[sequence] }
    }

    /// Forgets every retained bucket before the one holding `location` and returns them: a
    /// checkpoint starting there made them unnecessary. The caller marks them dead once the
    /// superblock naming the checkpoint is durable.
    func release(before location: Location) -> [DataPointer] {
        state.withLock { state in
            state.boundaryLocations = state.boundaryLocations.filter { $0.value != location }
            guard let index = state.retained.firstIndex(where: { $0.pointer.bucket.rawValue == location.bucket }) else {
                return []
            }
            let released = state.retained.prefix(index).map(\.pointer)
            state.retained.removeFirst(index)
            return released
        }
    }

    /// Journal bytes written since the last call of ``resetGrowth()``.
    var growth: UInt64 { state.withLock { $0.growth } }

    /// Starts counting ``growth`` again.
    func resetGrowth() { state.withLock { $0.growth = 0 } }

    /// Buckets holding journal groups still needed, oldest first.
    var retainedBuckets: [DataPointer] { state.withLock { $0.retained.map(\.pointer) } }

    /// The bucket reserved for the journal to continue in, if any.
    var reservedNext: DataPointer? { state.withLock { $0.next?.pointer } }

    /// Groups written and flushes issued so far.
    var counters: (groups: Int, flushes: Int, retries: Int) {
        state.withLock { ($0.groupsWritten, $0.flushes, $0.retries) }
    }

    /// Stops the writer after a final commit: further commits fail with `.closed`.
    func shutDown() {
        state.withLock { state in
            if state.failure == nil {
                state.failure = StoreError(code: .closed, message: "the store is closed; open it again")
            }
        }
        progress.signal()
    }
}

/// The calling thread's identity (`pthread_self`), to tell a commit nested in this thread's own
/// bucket reservation from a commit of another thread.
func currentThreadID() -> UInt { UInt(pthread_self()) }
