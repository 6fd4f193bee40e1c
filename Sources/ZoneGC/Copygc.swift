import Synchronization
public import ZoneAlloc
import ZonedStorage

/// bcachefs's copying garbage collector for a ``ZoneAlloc/BucketAllocator`` on a zoned device:
/// it evacuates fragmented buckets (zones) so they can be reset and reused.
///
/// **Backpointers.** Writers record every extent they write with
/// ``recordWrites(owner:keys:pointers:hint:)`` and report dead ones with ``markDead(_:)``
/// (instead of the allocator's), so copygc knows, per bucket, which owner's key each extent
/// belongs to (bcachefs's backpointers).
///
/// **Evacuation.** A pass picks victims by the configured policy, reads their live dirty
/// extents, rewrites them through the copygc write point(s) at the copygc watermark, and hands
/// each owner its new pointer with a compare-and-swap (``ExtentOwner/relocate(_:)``): a key
/// overwritten meanwhile refuses, and the moved copy is marked dead. Then the device is flushed,
/// the owners commit (``ExtentOwner/commitRelocations()``), and only then are the old copies
/// marked dead, so a victim's zone is reset — new generation durable first, by the allocator —
/// only when it holds nothing live and no durable index points into it. Cached extents are
/// dropped, not moved. Copygc evacuates a group of victims only when it has free buckets for
/// everything the group moves, so it never runs itself out of space.
///
/// **Triggers.** ``collectIfNeeded(force:)`` is the background trigger (free buckets below
/// ``CopygcConfiguration/startBelowFreeBuckets`` until they reach
/// ``CopygcConfiguration/stopAtFreeBuckets``); ``start()`` runs it on a background thread. The
/// allocator's kick (``kickCopygc(reason:)``, installed at init) wakes that thread, or runs a
/// pass on the caller's thread when no thread was started. ``collect()`` runs a pass now. A pass
/// that can free nothing says so (``PassReport/Outcome/nothingToFree(reason:)``) and background
/// passes and kicks back off until more has been written or deleted.
///
/// Thread safety: the state sits behind one lock that is never held across I/O or owner calls;
/// one pass runs at a time.
public final class Copygc: Sendable {
    /// The allocator whose buckets are collected.
    public let allocator: BucketAllocator
    /// The configuration.
    public let configuration: CopygcConfiguration
    let device: any ZonedDevice
    let state: Mutex<CopygcState>
    let worker = CopygcWorker()
    /// Scratch arrays of evacuation, reused from pass to pass (see ``EvacuationBuffers``).
    let buffers = Mutex(EvacuationBuffers())
    let bucketSectors: Int
    let blockSectors: Int
    let zoneSize: UInt64
    /// Lifetime class of each hint that belongs to one (lifetime placement).
    let hintClasses: [WriteHint: UInt8]
    /// Zeros written in place of data when ``CopygcConfiguration/moveData`` is off.
    let zeros: ZeroBuffer?

    /// Creates copygc for `allocator` and installs it as the allocator's copygc trigger.
    ///
    /// - Parameters:
    ///   - allocator: the allocator (its device is the one evacuated).
    ///   - configuration: policy, thresholds, pass size.
    /// - Throws: ``GCError`` `.invalidConfiguration` for out-of-range values, or lifetime
    ///   placement on an allocator that holds back fewer than 3 buckets for copygc.
    public init(allocator: BucketAllocator, configuration: CopygcConfiguration = CopygcConfiguration())
        throws(GCError)
    {
        try configuration.validate()
        // One victim's data can go to three copygc classes at once (ages < 4ℓ, < 16ℓ, older);
        // normal writes must leave copygc a free bucket for each, or it could not evacuate.
        if configuration.policy.placement == .lifetime, allocator.configuration.copygcZoneSlots < 3 {
            throw GCError(
                code: .invalidConfiguration,
                message: "lifetime placement writes one victim's data through up to 3 copygc write points, but the "
                    + "allocator holds back only \(allocator.configuration.copygcZoneSlots) bucket(s) for copygc; "
                    + "create the allocator with copygcZoneSlots ≥ 3 (4 covers every copygc class)"
            )
        }
        let deviceBlockSectors = allocator.blockSize / DataPointer.sectorSize
        let blockSectors = configuration.blockSectors ?? deviceBlockSectors
        guard blockSectors > 0, blockSectors & (blockSectors - 1) == 0, blockSectors % deviceBlockSectors == 0,
            allocator.bucketSectors % blockSectors == 0
        else {
            throw GCError(
                code: .invalidConfiguration,
                message: "a copygc block of \(blockSectors) sectors must be a power of two, a multiple of the device's "
                    + "\(deviceBlockSectors)-sector logical block and divide the \(allocator.bucketSectors)-sector bucket"
            )
        }
        self.allocator = allocator
        self.configuration = configuration
        self.device = allocator.device
        self.bucketSectors = allocator.bucketSectors
        self.blockSectors = blockSectors
        self.zoneSize = allocator.device.info.zoneSize
        var classes: [WriteHint: UInt8] = [:]
        if configuration.policy.placement == .lifetime {
            for (index, hint) in configuration.userClassHints.enumerated() { classes[hint] = UInt8(index) }
            for (index, hint) in configuration.copygcClassHints.enumerated() {
                classes[hint] = UInt8(LifetimeClassifier.userClasses + index)
            }
        }
        self.hintClasses = classes
        self.zeros =
            configuration.moveData ? nil : ZeroBuffer(byteCount: allocator.bucketSectors * DataPointer.sectorSize)
        let index = BackpointerIndex(
            bucketCount: allocator.device.info.zoneCount,
            bucketSectors: allocator.bucketSectors,
            blockSectors: blockSectors
        )
        self.state = Mutex(
            CopygcState(
                index: index,
                classifier: LifetimeClassifier(
                    window: configuration.lifespanWindow,
                    shortLifespanFactor: configuration.shortLifespanFactor
                )
            )
        )
        allocator.setCopygcTrigger(CopygcKick(self))
    }

    // MARK: - Owners

    /// Registers an owner of extents; its ID goes into every backpointer it records.
    ///
    /// - Parameter owner: the owner (kept for the life of this copygc).
    /// - Returns: its ID.
    /// - Throws: ``GCError`` `.invalidConfiguration` beyond 65 536 owners.
    public func register(_ owner: any ExtentOwner) throws(GCError) -> OwnerID {
        try state.withLock { (state) throws(GCError) -> OwnerID in
            guard state.owners.count <= Int(UInt16.max) else {
                throw GCError(
                    code: .invalidConfiguration,
                    message: "cannot register more than 65536 extent owners; share an owner between indexes"
                )
            }
            state.owners.append(owner)
            return OwnerID(rawValue: UInt16(state.owners.count - 1))
        }
    }

    // MARK: - Recording writes and deaths

    /// Records extents a user wrote: one backpointer per extent, and the write clock advances.
    /// Call it for every committed (or reserved) user write, before the extent can die.
    ///
    /// - Parameters:
    ///   - owner: the owner holding the pointers.
    ///   - keys: the owner's key of each extent.
    ///   - pointers: the extents, as the allocator handed them out (block-aligned offsets).
    ///   - hint: the write hint used; under lifetime placement it tells the bucket's class.
    public func recordWrites(owner: OwnerID, keys: [UInt64], pointers: [DataPointer], hint: WriteHint) {
        precondition(keys.count == pointers.count, "recordWrites: \(keys.count) keys for \(pointers.count) pointers")
        let lifetimeClass = hintClasses[hint] ?? BackpointerIndex.unclassified
        let poke = state.withLock { state -> Bool in
            let start = state.writeClock
            var clock = start
            let overlap = keys.withUnsafeBufferPointer { keys in
                pointers.withUnsafeBufferPointer { pointers in
                    state.index.insert(count: pointers.count, now: start) { index in
                        let writtenAt = clock
                        clock += UInt64(pointers[index].sectors)
                        return BackpointerIndex.Insertion(
                            pointer: pointers[index],
                            key: keys[index],
                            owner: owner.rawValue,
                            writtenAt: writtenAt,
                            lifetimeClass: lifetimeClass
                        )
                    }
                }
            }
            if let overlap {
                preconditionFailure(
                    "recordWrites: \(pointers[overlap]) overlaps an extent already recorded in its bucket"
                )
            }
            let sectors = Int(clock - start)
            state.writeClock = clock
            state.statistics.userSectorsWritten += sectors
            state.activity += UInt64(sectors)
            return state.writeClock >= state.nextCheck
        }
        if poke { worker.poke() }
    }

    /// Records one extent a user wrote (see ``recordWrites(owner:keys:pointers:hint:)``).
    public func recordWrite(_ pointer: DataPointer, owner: OwnerID, key: UInt64, hint: WriteHint) {
        recordWrites(owner: owner, keys: [key], pointers: [pointer], hint: hint)
    }

    /// Records extents that were live before copygc was attached (after a restart, when the
    /// owner rebuilds accounting with ``ZoneAlloc/BucketAllocator/markLive(_:)``). Not counted
    /// as user writes. Returns false for an extent whose slot is taken.
    ///
    /// - Parameters:
    ///   - pointer: the live extent.
    ///   - owner: its owner.
    ///   - key: the owner's key.
    @discardableResult
    public func recordLive(_ pointer: DataPointer, owner: OwnerID, key: UInt64) -> Bool {
        state.withLock { state in
            let now = state.writeClock
            return state.index.insert(count: 1, now: now) { _ in
                BackpointerIndex.Insertion(
                    pointer: pointer,
                    key: key,
                    owner: owner.rawValue,
                    writtenAt: now,
                    lifetimeClass: BackpointerIndex.unclassified
                )
            } == nil
        }
    }

    /// Marks extents dead (overwritten or deleted): drops their backpointers and marks them dead
    /// in the allocator, which resets buckets that hold nothing live any more. When an owner
    /// overwrites a key it must mark dead the pointer it replaced, read under the same lock as
    /// the replacement (a move may have changed it).
    ///
    /// - Parameter pointers: the dead extents.
    public func markDead(_ pointers: [DataPointer]) {
        guard !pointers.isEmpty else { return }
        state.withLock { state in
            state.activity += UInt64(state.index.remove(pointers))
        }
        allocator.markDead(pointers)
    }

    /// Marks one extent dead (see ``markDead(_:)``).
    public func markDead(_ pointer: DataPointer) {
        markDead([pointer])
    }

    // MARK: - Lifetime placement

    /// The lifetime class (0: short-lived, 1: long-lived) of a user write that replaces
    /// `previous` (nil for a key written for the first time), inferred as SepBIT does from how
    /// long the previous version lived.
    ///
    /// - Parameter previous: the pointer being overwritten.
    /// - Returns: 0 or 1; the class's hint is ``userHint(forClass:)``.
    public func userClass(overwriting previous: DataPointer?) -> Int {
        userClasses(overwriting: [previous])[0]
    }

    /// ``userClass(overwriting:)`` for many writes under one lock.
    public func userClasses(overwriting previous: [DataPointer?]) -> [Int] {
        state.withLock { state in
            previous.map { pointer in
                guard let pointer, let slot = state.index.lookup(pointer) else {
                    return state.classifier.userClass(previousLifespan: nil)
                }
                return state.classifier.userClass(previousLifespan: state.writeClock - slot.writtenAt)
            }
        }
    }

    /// The write hint of user lifetime class `lifetimeClass` (0 or 1).
    public func userHint(forClass lifetimeClass: Int) -> WriteHint {
        configuration.userClassHints[lifetimeClass]
    }

    /// The write hint for a user write replacing `previous` under lifetime placement, nil under
    /// single placement (use your own hint then).
    public func userWriteHint(overwriting previous: DataPointer?) -> WriteHint? {
        guard configuration.policy.placement == .lifetime else { return nil }
        return userHint(forClass: userClass(overwriting: previous))
    }

    // MARK: - Inspection

    /// A snapshot of the counters.
    public func statistics() -> CopygcStatistics {
        state.withLock { $0.statistics }
    }

    /// The write clock: user sectors recorded so far.
    public var writeClock: UInt64 {
        state.withLock { $0.writeClock }
    }

    /// ℓ, the lifetime classifier's mean lifespan of short-lived buckets (infinite until enough
    /// were reclaimed).
    public var averageLifespan: Double {
        state.withLock { $0.classifier.averageLifespan }
    }

    /// The last error of a pass run by a kick or the background worker, if any.
    public var lastError: GCError? {
        state.withLock { $0.lastError }
    }

    /// The recorded backpointers of `bucket` at its current generation, in offset order.
    public func backpointers(in bucket: BucketIndex) -> [Backpointer] {
        let generation = allocator.generation(of: bucket)
        return state.withLock { $0.index.backpointers(of: bucket, generation: generation) }
    }

    /// Recorded live (dirty, cached) sectors of `bucket` at its current generation, from the
    /// backpointers (equal to the allocator's accounting while every write and death goes
    /// through copygc).
    public func recordedLiveSectors(of bucket: BucketIndex) -> (dirty: Int, cached: Int) {
        let generation = allocator.generation(of: bucket)
        return state.withLock { state in
            let record = state.index.buckets[bucket.zone]
            guard record.generation == generation else { return (0, 0) }
            return (Int(record.dirtySectors), Int(record.cachedSectors))
        }
    }

    /// Old copies of moved extents not released yet (their owners' commit failed, or the pass
    /// is in progress).
    public var pendingReleaseCount: Int {
        state.withLock { $0.pendingRelease.count }
    }
}
