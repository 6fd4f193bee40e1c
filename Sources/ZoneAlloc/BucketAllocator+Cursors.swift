import Synchronization

/// Access to the allocator state with write points' cursors detached (see ``WritePointCursor``).
extension BucketAllocator {
    /// Which cursors an operation on the allocator state needs detached first: those whose
    /// fast-path state it reads or changes.
    enum CursorsToDetach {
        /// The cursor holding `bucket`, if any.
        case owner(of: BucketIndex)
        /// The cursors holding the buckets of a reservation's pieces.
        case owners(of: Reservation)
        /// The cursor of one write point.
        case writePoint(Int)
        /// Every cursor.
        case all
    }

    /// Runs `body` on the allocator state under its lock, with the cursors `which` names
    /// detached (their fast-path state folded in). Afterwards every write point that owns an
    /// open bucket has its cursor attached again, so the fast path resumes.
    ///
    /// An operation that changes which bucket a write point owns must detach that write
    /// point's cursor first (``AllocatorState/tryReserve`` asks for the others it needs with
    /// ``AllocatorState/Step/foldWritePoints``).
    func withState<Result: Sendable, Failure: Error>(
        detaching which: CursorsToDetach,
        _ body: (inout AllocatorState) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try state.withLock { (state) throws(Failure) -> Result in
            switch which {
            case .owner(let bucket):
                if let owner = state.attachedOwner(of: bucket) { detach(owner, &state) }
            case .owners(let reservation):
                switch reservation.storage {
                case .one(let piece):
                    if let owner = state.attachedOwner(of: piece.pointer.bucket) { detach(owner, &state) }
                case .many(let pieces):
                    for piece in pieces {
                        if let owner = state.attachedOwner(of: piece.pointer.bucket) { detach(owner, &state) }
                    }
                }
            case .writePoint(let wp):
                if state.attached[wp] { detach(wp, &state) }
            case .all:
                detachAll(&state)
            }
            defer { attachOwners(&state) }
            return try body(&state)
        }
    }

    /// Detaches write point `wp`'s cursor and folds it into `state`.
    func detach(_ wp: Int, _ state: inout AllocatorState) {
        let held = writePointTable.cursor(wp) { $0.detach() }
        state.detach(wp, from: held)
    }

    /// Detaches every attached cursor.
    func detachAll(_ state: inout AllocatorState) {
        for wp in 0..<writePointTable.count where state.attached[wp] { detach(wp, &state) }
    }

    /// Attaches the cursor of every write point that owns an open bucket and is detached.
    func attachOwners(_ state: inout AllocatorState) {
        for wp in 0..<writePointTable.count where !state.attached[wp] && state.writePoints[wp].openBucket != nil {
            let fresh = state.attach(wp)
            writePointTable.cursor(wp) { $0.attach(fresh) }
        }
    }
}
