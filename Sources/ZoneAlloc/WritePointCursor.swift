// The allocation fast path is `@inlinable` (with the cursor and table it touches
// `@usableFromInline`): inlined into the caller, a reserve + commit pair needs no call, no
// indirect result and no outlined copies of the reservation — about half the instructions of the
// same code behind a call (tools/bench-alloc-callgrind.sh measures it). Everything else stays
// internal and behind `@inline(never)` slow paths.
public import Synchronization

/// The fast-path state of one write point: its open bucket's write pointer and what it handed out
/// since the allocator state last saw it (bcachefs's open bucket fields a write point bumps).
///
/// A cursor is *attached* while its write point owns an open bucket and the allocator state has
/// handed that bucket's bump state to it; then an allocation that fits is a bump of ``allocated``
/// under the write point's own lock, without the allocator state's lock. Everything the slow paths
/// need to decide on — and every accounting query — first *detaches* the cursors involved: the
/// allocator state (under its lock) folds their counts back in (``AllocatorState/detach(_:from:)``)
/// and hands fresh ones out afterwards (``AllocatorState/attach(_:)``). A detached cursor has no
/// room (``capacity`` 0), so its write point's allocations take the slow path.
///
/// While attached, the cursor owns the bucket's write pointer and in-flight count; the state's
/// copies are stale until the next detach. Dirty sectors are handed out only against ``credit``,
/// capacity the state set aside for this write point, so the fast path never lets live data
/// exceed the usable capacity (see ``AllocatorState/outstandingCredit``).
@usableFromInline
struct WritePointCursor: Sendable {
    /// ``bucket`` of a detached cursor (no bucket has this number: see ``BucketAllocator/init``).
    static let detachedBucket = UInt32.max

    /// The open bucket (``detachedBucket`` when detached).
    @usableFromInline var bucket = Self.detachedBucket
    /// Its generation.
    @usableFromInline var generation = BucketGeneration(rawValue: 0)
    /// Its write pointer in sectors.
    @usableFromInline var allocated: UInt32 = 0
    /// Its capacity in sectors (0 when detached).
    @usableFromInline var capacity: UInt32 = 0
    /// The device byte offset of its zone.
    @usableFromInline var zoneStart: UInt64 = 0
    /// Reservations in it not yet committed or abandoned.
    @usableFromInline var inFlight = 0
    /// Dirty sectors this write point may still hand out without asking the allocator state.
    @usableFromInline var credit: UInt32 = 0
    /// Dirty sectors handed out since it was attached.
    @usableFromInline var pendingDirty: UInt32 = 0
    /// Cached sectors handed out since it was attached.
    @usableFromInline var pendingCached: UInt32 = 0
    /// Allocations made through this write point, ever (for least-recently-used takeover).
    @usableFromInline var uses: UInt64 = 0

    init(
        bucket: UInt32 = Self.detachedBucket,
        generation: BucketGeneration = BucketGeneration(rawValue: 0),
        allocated: UInt32 = 0,
        capacity: UInt32 = 0,
        zoneStart: UInt64 = 0,
        inFlight: Int = 0,
        credit: UInt32 = 0,
        uses: UInt64 = 0
    ) {
        self.bucket = bucket
        self.generation = generation
        self.allocated = allocated
        self.capacity = capacity
        self.zoneStart = zoneStart
        self.inFlight = inFlight
        self.credit = credit
        self.uses = uses
    }

    var isAttached: Bool { capacity != 0 }

    /// The fast path: reserves `sectors` at the write pointer if they fit (and, for dirty data,
    /// the credit covers them), writing the piece to `piece`. Returns false when the slow path
    /// must decide.
    @inlinable @inline(__always)
    mutating func bump(
        _ sectors: UInt32,
        cached: Bool,
        writePoint: Int32,
        into piece: inout Reservation.Piece
    ) -> Bool {
        // `allocated <= capacity` always, so the subtraction cannot wrap.
        guard capacity &- allocated >= sectors else { return false }
        if cached {
            pendingCached &+= sectors
        } else {
            guard credit >= sectors else { return false }
            credit &-= sectors
            pendingDirty &+= sectors
        }
        let offset = allocated
        allocated = offset &+ sectors
        inFlight &+= 1
        uses &+= 1
        piece = Reservation.Piece(
            pointer: DataPointer(
                bucket: BucketIndex(rawValue: bucket),
                offset: offset,
                sectors: sectors,
                generation: generation,
                isCached: cached
            ),
            deviceOffset: zoneStart &+ UInt64(offset) &* UInt64(DataPointer.sectorSize),
            writePoint: writePoint
        )
        return true
    }

    /// What committing a piece through the cursor did.
    @usableFromInline
    enum CommitOutcome {
        /// Counted.
        case done
        /// Counted, and the bucket is now full with nothing in flight: it leaves the open set
        /// (the slow path does that).
        case full
        /// The piece's bucket is not this cursor's (it left the write point, or the cursor is
        /// detached): the allocator state counts it.
        case elsewhere
    }

    /// Commits `piece` if its bucket is this cursor's.
    @inlinable @inline(__always)
    mutating func commit(_ piece: Reservation.Piece) -> CommitOutcome {
        guard bucket == piece.pointer.bucket.rawValue, generation == piece.pointer.generation else {
            return .elsewhere
        }
        precondition(inFlight > 0, "commit of a reservation whose bucket has none in flight")
        inFlight &-= 1
        return inFlight == 0 && allocated == capacity ? .full : .done
    }

    /// Detaches the cursor, keeping only its use count. Returns what it held.
    mutating func detach() -> WritePointCursor {
        let held = self
        self = WritePointCursor(uses: uses)
        return held
    }

    /// Attaches `fresh`, keeping the use count.
    mutating func attach(_ fresh: WritePointCursor) {
        let uses = self.uses
        self = fresh
        self.uses = uses
    }
}

/// Every write point's locks, by write point number: its cursor (the fast path), and the lock
/// ``BucketAllocator/write(_:through:watermark:cached:split:)`` holds while writing, so a write
/// point's data is written in allocation order.
///
/// The entries live in one manually managed block, each on its own 128 bytes (two cache lines),
/// so the fast path reaches a cursor without reference counting, and threads allocating through
/// different write points never write to the same cache line.
@usableFromInline
struct WritePointTable: @unchecked Sendable {  // The entries are Mutexes; the block is immutable.
    /// One write point's locks, padded to 128 bytes.
    @usableFromInline
    struct Entry: ~Copyable {
        @usableFromInline let cursor = Mutex(WritePointCursor())
        let writeLock = Mutex(())
        private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)
    }

    @usableFromInline let entries: UnsafeMutablePointer<Entry>
    /// The number of write points.
    @usableFromInline let count: Int

    /// Allocates `count` entries; ``deallocate()`` frees them.
    init(count: Int) {
        precondition(MemoryLayout<Entry>.stride == 128, "write point table entries must be 128 bytes apart")
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 128, alignment: 128)
        entries = raw.bindMemory(to: Entry.self, capacity: count)
        for index in 0..<count { (entries + index).initialize(to: Entry()) }
        self.count = count
    }

    /// Frees the entries (when the allocator goes away).
    func deallocate() {
        entries.deinitialize(count: count)
        entries.deallocate()
    }

    /// Runs `body` on write point `index`'s cursor, under its lock.
    @inlinable @inline(__always)
    func cursor<Result>(_ index: Int, _ body: (inout WritePointCursor) -> Result) -> Result {
        precondition(index >= 0 && index < count, "write point number out of range")
        return entries[index].cursor.withLock { body(&$0) }
    }

    /// Runs `body` holding write point `index`'s write lock.
    func whileWriting<Result, Failure: Error>(
        _ index: Int,
        _ body: () throws(Failure) -> Result
    ) throws(Failure) -> Result {
        precondition(index >= 0 && index < count, "write point \(index) out of range")
        return try entries[index].writeLock.withLock { _ throws(Failure) -> Result in try body() }
    }
}
