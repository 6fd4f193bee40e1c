import Synchronization
import ZoneAlloc
import ZonedStorage

extension Copygc {
    /// A victim with its live extents, each assigned a copygc write point.
    struct VictimPlan: Sendable {
        var bucket: BucketIndex
        var generation: BucketGeneration
        /// Lifetime class of the bucket (nil: unclassified) and when it was opened.
        var lifetimeClass: Int?
        var openedAt: UInt64
        /// Dirty extents to move, in offset order.
        var moves: [PlannedMove]
    }

    /// One extent to move (a backpointer, 32 bytes) and the copygc write point it goes to.
    struct PlannedMove: Sendable {
        var key: UInt64
        var writtenAt: UInt64
        var bucket: UInt32
        var offset: UInt32
        var sectors: UInt32
        var owner: UInt16
        var generation: BucketGeneration
        var classIndex: UInt8

        /// The extent's current pointer.
        var pointer: DataPointer {
            DataPointer(bucket: BucketIndex(rawValue: bucket), offset: offset, sectors: sectors, generation: generation)
        }
    }

    /// One move as it is made: what the owner is asked, and what copygc records for the copy.
    struct Moved: Sendable {
        var move: ExtentMove
        var writtenAt: UInt64
        var owner: UInt16
        var lifetimeClass: UInt8
    }

    /// Loads a candidate's live dirty extents and picks a write point for each.
    func plan(_ candidate: Candidate) -> VictimPlan {
        let lifetime = configuration.policy.placement == .lifetime
        return state.withLock { state in
            let record = state.index.buckets[candidate.bucket.zone]
            let bucketClass = record.lifetimeClass == BackpointerIndex.unclassified ? nil : Int(record.lifetimeClass)
            var moves: [PlannedMove] = []
            moves.reserveCapacity(record.extents)
            let now = state.writeClock
            let classifier = state.classifier
            state.index.forEach(in: candidate.bucket, generation: candidate.generation) { backpointer in
                guard !backpointer.pointer.isCached else { return }
                var classIndex = 0
                if lifetime {
                    let age = now - min(now, backpointer.writtenAt)
                    classIndex =
                        classifier.copygcClass(victimClass: bucketClass, age: age) - LifetimeClassifier.userClasses
                }
                moves.append(
                    PlannedMove(
                        key: backpointer.key,
                        writtenAt: backpointer.writtenAt,
                        bucket: backpointer.pointer.bucket.rawValue,
                        offset: backpointer.pointer.offset,
                        sectors: backpointer.pointer.sectors,
                        owner: backpointer.owner.rawValue,
                        generation: backpointer.pointer.generation,
                        classIndex: UInt8(classIndex)
                    )
                )
            }
            return VictimPlan(
                bucket: candidate.bucket,
                generation: candidate.generation,
                lifetimeClass: bucketClass,
                openedAt: record.openedAt,
                moves: moves
            )
        }
    }

    // MARK: - Evacuation

    /// Evacuates a group of victims: moves every live dirty extent, swaps the owners' pointers,
    /// releases the old copies once the new ones are durable, and drops cached data.
    func evacuate(_ group: [VictimPlan], report: inout PassReport) throws(GCError) {
        report.victims += group.map(\.bucket)
        let hints = configuration.copygcHints
        let total = group.reduce(0) { $0 + $1.moves.count }
        var buffers = self.buffers.withLock { buffers in
            var taken = EvacuationBuffers()
            swap(&taken, &buffers)
            return taken
        }
        defer {
            buffers.clear()
            self.buffers.withLock { $0 = buffers }
        }
        // The extents of each copygc write point, in victim and offset order.
        if buffers.perClass.count != hints.count { buffers.perClass = Array(repeating: [], count: hints.count) }
        if hints.count == 1 {
            buffers.perClass[0].reserveCapacity(total)
            for plan in group { buffers.perClass[0] += plan.moves }
        } else {
            for plan in group {
                for move in plan.moves { buffers.perClass[Int(move.classIndex)].append(move) }
            }
        }
        buffers.batch.reserveCapacity(total)
        var stop: GCError?
        classes: for classIndex in hints.indices {
            let lifetimeClass = hintClasses[hints[classIndex]] ?? BackpointerIndex.unclassified
            let count = buffers.perClass[classIndex].count
            var start = 0
            while start < count {
                // A run: single-block extents up to a bucket, split across buckets as the write
                // point fills them; a larger extent alone, in one bucket.
                let (end, sectors, single) = buffers.perClass[classIndex].withUnsafeBufferPointer { extents in
                    var end = start + 1
                    var sectors = Int(extents[start].sectors)
                    let single = sectors == blockSectors
                    if single {
                        while end < extents.count, Int(extents[end].sectors) == blockSectors,
                            sectors + blockSectors <= bucketSectors
                        {
                            sectors += blockSectors
                            end += 1
                        }
                    }
                    return (end, sectors, single)
                }
                do throws(GCError) {
                    try rewrite(
                        buffers.perClass[classIndex][start..<end],
                        sectors: sectors,
                        hint: hints[classIndex],
                        split: single,
                        lifetimeClass: lifetimeClass,
                        into: &buffers.batch
                    )
                } catch {
                    stop = error
                    break classes
                }
                start = end
            }
        }
        swapOwners(&buffers, report: &report)
        var failure: GCError?
        do throws(GCError) {
            try releasePending()
        } catch {
            failure = error
        }
        finishVictims(group, report: &report, failure: &failure)
        if let stop { throw stop }
        if let failure { throw failure }
    }

    /// Reads `extents` (one run), writes them through `hint` at the copygc watermark, commits,
    /// and appends each extent's move to `batch`.
    private func rewrite(
        _ extents: ArraySlice<PlannedMove>,
        sectors: Int,
        hint: WriteHint,
        split: Bool,
        lifetimeClass: UInt8,
        into batch: inout [Moved]
    ) throws(GCError) {
        var data: [UInt8] = []
        if configuration.moveData {
            data = [UInt8](repeating: 0, count: sectors * DataPointer.sectorSize)
            var at = 0
            for extent in extents {
                let pointer = extent.pointer
                let count = pointer.byteCount
                let offset = deviceOffset(of: pointer)
                let result = data.withUnsafeMutableBytes { raw in
                    Result { () throws(ZonedStorageError) in
                        try device.read(
                            into: UnsafeMutableRawBufferPointer(rebasing: raw[at..<(at + count)]),
                            at: offset
                        )
                    }
                }
                if case .failure(let error) = result {
                    throw GCError(
                        code: .device,
                        message: "copygc could not read \(pointer) to move it; the extent stays where it is",
                        deviceError: error
                    )
                }
                at += count
            }
        }
        let reservation: Reservation
        do {
            reservation = try allocator.reserve(sectors: sectors, for: hint, watermark: .copygc, split: split)
        } catch {
            throw GCError(
                code: .allocation,
                message: "copygc could not reserve \(sectors) sectors through \(hint) at the copygc watermark; the "
                    + "rest of the victims stays where it is",
                allocationError: error
            )
        }
        let pieces = reservation.pieces
        var written = 0
        for piece in pieces {
            let count = piece.pointer.byteCount
            let result: Result<Void, ZonedStorageError>
            if let zeros {
                result = Result { () throws(ZonedStorageError) in
                    try device.write(zeros.prefix(count), at: piece.deviceOffset)
                }
            } else {
                result = data.withUnsafeBytes { raw in
                    Result { () throws(ZonedStorageError) in
                        try device.write(
                            UnsafeRawBufferPointer(rebasing: raw[written..<(written + count)]),
                            at: piece.deviceOffset
                        )
                    }
                }
            }
            if case .failure(let error) = result {
                try? allocator.abandon(reservation)
                throw GCError(
                    code: .device,
                    message:
                        "copygc could not write \(piece.pointer) (moving \(extents.count) extents); they stay where "
                        + "they are and the bucket written to is finished",
                    deviceError: error
                )
            }
            written += count
        }
        allocator.commit(reservation)
        // Carve the pieces into one pointer per extent (a run never splits an extent).
        var pieceIndex = 0
        var used: UInt32 = 0
        for extent in extents {
            if used == pieces[pieceIndex].pointer.sectors {
                pieceIndex += 1
                used = 0
            }
            let piece = pieces[pieceIndex].pointer
            precondition(used + extent.sectors <= piece.sectors, "copygc run split an extent")
            let new = DataPointer(
                bucket: piece.bucket,
                offset: piece.offset + used,
                sectors: extent.sectors,
                generation: piece.generation
            )
            batch.append(
                Moved(
                    move: ExtentMove(key: extent.key, from: extent.pointer, to: new),
                    writtenAt: extent.writtenAt,
                    owner: extent.owner,
                    lifetimeClass: lifetimeClass
                )
            )
            used += extent.sectors
        }
    }

    /// Records the new copies' backpointers, then asks each owner to swap its pointers. Refused
    /// moves (the key was overwritten meanwhile) lose: their copies die now. Accepted moves'
    /// old copies wait in the release list. Works on `buffers.batch`.
    private func swapOwners(_ buffers: inout EvacuationBuffers, report: inout PassReport) {
        let count = buffers.batch.count
        guard count > 0 else { return }
        // New backpointers first, so an owner that overwrites a key right after accepting its
        // move finds the backpointer of the copy it marks dead.
        let (overlap, owners) = buffers.batch.withUnsafeBufferPointer { batch in
            state.withLock { state in
                let overlap = state.index.insert(count: count, now: state.writeClock) { index in
                    BackpointerIndex.Insertion(
                        pointer: batch[index].move.to,
                        key: batch[index].move.key,
                        owner: batch[index].owner,
                        writtenAt: batch[index].writtenAt,
                        lifetimeClass: batch[index].lifetimeClass
                    )
                }
                return (overlap, state.owners)
            }
        }
        if let overlap {
            preconditionFailure(
                "copygc: \(buffers.batch[overlap].move.to) overlaps an extent already recorded in its bucket"
            )
        }
        buffers.accepted.reserveCapacity(count)
        var committing: Set<UInt16> = []
        // Group the moves by owner (usually there is one) and ask each owner for its group.
        let first = buffers.batch[0].owner
        let single = buffers.batch.allSatisfy { $0.owner == first }
        var groups = Array(repeating: [Int](), count: single ? 0 : owners.count)
        if !single {
            for (index, moved) in buffers.batch.enumerated() {
                if Int(moved.owner) < owners.count {
                    groups[Int(moved.owner)].append(index)
                } else {
                    buffers.rejected.append(moved.move.to)  // nobody can take it
                }
            }
        }
        for id in single ? [Int(first)] : Array(owners.indices) where id < owners.count {
            buffers.moves.removeAll(keepingCapacity: true)
            if single {
                buffers.moves.reserveCapacity(count)
                for moved in buffers.batch { buffers.moves.append(moved.move) }
            } else {
                for index in groups[id] { buffers.moves.append(buffers.batch[index].move) }
            }
            guard !buffers.moves.isEmpty else { continue }
            let flags = owners[id].relocate(buffers.moves)
            precondition(
                flags.count == buffers.moves.count,
                "owner \(id) answered \(flags.count) of \(buffers.moves.count) moves"
            )
            for (position, ok) in flags.enumerated() {
                let move = buffers.moves[position]
                if ok { buffers.accepted.append(move.from) } else { buffers.rejected.append(move.to) }
            }
            if flags.contains(true) { committing.insert(UInt16(id)) }
        }
        if single, Int(first) >= owners.count { buffers.rejected += buffers.batch.map(\.move.to) }
        let acceptedSectors = buffers.accepted.reduce(0) { $0 + Int($1.sectors) }
        let rejectedSectors = buffers.rejected.reduce(0) { $0 + Int($1.sectors) }
        let rejectedCount = buffers.rejected.count
        report.sectorsMoved += acceptedSectors
        report.racesLost += rejectedCount
        state.withLock { state in
            state.statistics.copygcSectorsMoved += acceptedSectors
            state.statistics.copygcSectorsDiscarded += rejectedSectors
            state.statistics.racesLost += rejectedCount
            state.pendingRelease += buffers.accepted
            state.pendingOwners.formUnion(committing)
        }
        markDead(buffers.rejected)
    }

    /// Flushes the moved data, has the owners commit, then marks the old copies dead (the
    /// allocator resets buckets that are left empty). On failure the old copies stay live and
    /// pending, for the next pass.
    func releasePending() throws(GCError) {
        let (olds, owners) = state.withLock { state -> ([DataPointer], [(UInt16, any ExtentOwner)]) in
            let olds = state.pendingRelease
            let owners = state.pendingOwners.sorted().compactMap { id in state.owner(id).map { (id, $0) } }
            state.pendingRelease = []
            state.pendingOwners = []
            return (olds, owners)
        }
        guard !olds.isEmpty else { return }
        func putBack() {
            state.withLock { state in
                state.pendingRelease = olds + state.pendingRelease
                state.pendingOwners.formUnion(owners.map(\.0))
            }
        }
        do {
            try device.flush()
        } catch {
            putBack()
            throw GCError(
                code: .device,
                message: "flushing data moved by copygc failed; the \(olds.count) old copies stay live until a later "
                    + "pass flushes successfully",
                deviceError: error
            )
        }
        for (id, owner) in owners {
            do {
                try owner.commitRelocations()
            } catch {
                putBack()
                throw GCError(
                    code: .owner,
                    message: "\(OwnerID(rawValue: id)) could not commit its relocations; the \(olds.count) old copies "
                        + "stay live (no zone is reset) and are released by a later pass",
                    cause: error
                )
            }
        }
        markDead(olds)
        // Hand the (now empty) array back, so its capacity serves the next group's releases.
        var emptied = olds
        emptied.removeAll(keepingCapacity: true)
        state.withLock { state in
            if state.pendingRelease.isEmpty { state.pendingRelease = emptied }
        }
    }

    /// After a group's release: drops cached data left in victims (invalidation: generation
    /// increment, reset), counts victims freed, and feeds reclaimed lifespans to the classifier.
    private func finishVictims(_ group: [VictimPlan], report: inout PassReport, failure: inout GCError?) {
        for plan in group {
            var generation = allocator.generation(of: plan.bucket)
            if generation == plan.generation, allocator.state(of: plan.bucket) == .cached {
                let cached = state.withLock { state in
                    state.index.backpointers(of: plan.bucket, generation: generation).filter(\.pointer.isCached)
                }
                do {
                    if try allocator.invalidate(plan.bucket) {
                        let sectors = cached.reduce(0) { $0 + Int($1.pointer.sectors) }
                        report.cachedSectorsDropped += sectors
                        let owners = state.withLock { state in
                            state.index.clear(plan.bucket)
                            state.statistics.cachedSectorsDropped += sectors
                            return Dictionary(grouping: cached, by: \.owner).compactMap { id, extents in
                                state.owner(id.rawValue).map { ($0, extents) }
                            }
                        }
                        for (owner, extents) in owners { owner.droppedCachedExtents(extents) }
                    }
                } catch {
                    failure =
                        failure
                        ?? GCError(
                            code: .allocation,
                            message: "dropping the cached data of \(plan.bucket) failed; it stays cached",
                            allocationError: error
                        )
                }
                generation = allocator.generation(of: plan.bucket)
            }
            guard generation != plan.generation else { continue }
            report.bucketsFreed += 1
            state.withLock { state in
                state.statistics.bucketsFreed += 1
                let lifespan = state.writeClock - min(state.writeClock, plan.openedAt)
                state.classifier.noteReclaimed(bucketClass: plan.lifetimeClass, lifespan: lifespan)
            }
        }
    }

    /// The absolute device byte offset of `pointer`.
    func deviceOffset(of pointer: DataPointer) -> UInt64 {
        UInt64(pointer.bucket.zone) * zoneSize + UInt64(pointer.offset) * UInt64(DataPointer.sectorSize)
    }
}
