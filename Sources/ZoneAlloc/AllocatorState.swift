/// The allocator's state and its decisions, with no I/O: ``BucketAllocator`` keeps it under one
/// short lock, performs the I/O a decision asks for (finish, generation persist + reset) outside
/// the lock, and reports the outcome back.
struct AllocatorState: Sendable {
    /// What ``tryReserve`` decided.
    enum Step: Sendable {
        /// Sectors handed out (possibly fewer than asked when splitting).
        case reserved(Reservation.Piece)
        /// Finish this bucket's zone, then ask again.
        case finish(BucketIndex)
        /// Persist this generation and reset the zone, then ask again.
        case reset(BucketIndex, BucketGeneration)
        /// Nothing can be done now: a bucket is being reset, copygc can reclaim space (kick it
        /// when `kickCopygc`), or the zone slots are taken by writes in flight. Wait (bounded)
        /// for a bucket or slot to be released, then ask again.
        case wait(reason: String, kickCopygc: Bool)
        /// The decision needs the exact state of open buckets whose write points hold it in their
        /// cursors (or the capacity their credit sets aside): detach every cursor, then ask again.
        case foldWritePoints
    }

    let bucketSectors: UInt32
    let sectorsPerBlock: UInt32
    let zoneSize: UInt64
    let zoneBudget: Int
    let userZoneBudget: Int
    let metadataZoneSlots: Int
    let copygcZoneSlots: Int
    let usableSectors: Int
    let usableBucketCount: Int

    /// Every bucket's record. Changed only through ``update(_:_:)``, which keeps
    /// ``stateCounts`` and ``fragmentationIndex`` in step.
    private(set) var buckets: [BucketRecord]
    /// How many buckets are in each state (indexed by ``BucketState/ordinal``), so the
    /// allocation path counts reusable buckets without scanning.
    private(set) var stateCounts: [Int] = Array(repeating: 0, count: BucketState.allCases.count)
    private(set) var openBuckets: [BucketIndex: OpenBucket] = [:]
    private(set) var writePoints: [WritePointRecord]
    private var freeCursor = 0

    /// Whether each write point's cursor is attached (see ``WritePointCursor``). Outside the
    /// allocator's lock, exactly the write points that own an open bucket are attached.
    private(set) var attached: [Bool]
    /// Dirty-sector credit handed to each attached cursor when it was attached.
    private(set) var granted: [UInt32]
    /// The sum of ``granted``: capacity set aside for the cursors. While it is not 0,
    /// `dirtyTotal + outstandingCredit <= usableSectors`, so a dirty allocation a cursor covers
    /// from its credit never takes live data beyond the usable capacity.
    private(set) var outstandingCredit = 0

    private(set) var dirtyTotal = 0
    private(set) var cachedTotal = 0
    private(set) var resets = 0
    private(set) var finishes = 0
    private(set) var finishWaste = 0
    private(set) var invalidations = 0

    /// Non-open buckets holding dirty data, by live fraction in 1/256 steps (bcachefs's
    /// fragmentation LRU, quantised): index 0 holds the emptiest buckets, copygc's victims.
    private(set) var fragmentationIndex: [Set<BucketIndex>] = Array(repeating: [], count: 257)

    init(
        buckets: [BucketRecord],
        bucketSectors: UInt32,
        sectorsPerBlock: UInt32,
        zoneSize: UInt64,
        zoneBudget: Int,
        configuration: AllocatorConfiguration
    ) {
        self.buckets = buckets
        for record in buckets { stateCounts[record.state(bucketSectors: bucketSectors).ordinal] += 1 }
        self.bucketSectors = bucketSectors
        self.sectorsPerBlock = sectorsPerBlock
        self.zoneSize = zoneSize
        self.zoneBudget = zoneBudget
        self.metadataZoneSlots = configuration.metadataZoneSlots
        self.copygcZoneSlots = configuration.copygcZoneSlots
        self.userZoneBudget = zoneBudget - configuration.metadataZoneSlots - configuration.copygcZoneSlots
        let usable = buckets.filter { !$0.unusable }.count
        self.usableBucketCount = usable
        // The copygc reserve, as bcachefs's `bch2_recalc_capacity` (reserved = max(gc_reserve,
        // what the allocator itself holds back)): at least the buckets normal writes may not
        // take, so the capacity reported to users is capacity they can actually fill.
        let total = usable * Int(bucketSectors)
        let reserve = max(
            Int((Double(total) * configuration.copygcReserve).rounded(.up)),
            (configuration.metadataZoneSlots + configuration.copygcZoneSlots) * Int(bucketSectors)
        )
        self.usableSectors = max(0, total - reserve) / Int(sectorsPerBlock) * Int(sectorsPerBlock)
        var points = [WritePointRecord(kind: .metadata), WritePointRecord(kind: .copygc)]
        points += Array(repeating: WritePointRecord(kind: .user), count: max(userZoneBudget, 0))
        self.writePoints = points
        self.attached = Array(repeating: false, count: points.count)
        self.granted = Array(repeating: 0, count: points.count)
    }

    // MARK: - Queries

    func state(of bucket: BucketIndex) -> BucketState {
        buckets[bucket.zone].state(bucketSectors: bucketSectors)
    }

    func isStale(_ pointer: DataPointer) -> Bool {
        guard pointer.bucket.zone < buckets.count else { return true }
        return buckets[pointer.bucket.zone].generation != pointer.generation
    }

    /// Buckets held back from an allocation at `watermark` (see ``Watermark``): normal writes
    /// leave one bucket per copygc and metadata zone slot, copygc leaves the metadata slots.
    func heldBack(_ watermark: Watermark) -> Int {
        switch watermark {
        case .normal: copygcZoneSlots + metadataZoneSlots
        case .copygc: metadataZoneSlots
        case .metadata: 0
        }
    }

    /// Written sectors holding nothing live, in buckets that are not open.
    var fragmentedSectors: Int {
        var total = 0
        for record in buckets where !record.unusable && !record.isOpen && !record.resetting {
            total += Int(record.allocatedSectors) - Int(record.liveSectors)
        }
        return total
    }

    /// Dead sectors in buckets that still hold dirty data: what copygc can reclaim by moving the
    /// live rest (empty and cached-only buckets are reusable without copygc).
    var copygcReclaimableSectors: Int {
        var total = 0
        for record in buckets where !record.unusable && !record.isOpen && !record.resetting && record.dirtySectors > 0 {
            total += Int(record.allocatedSectors) - Int(record.liveSectors)
        }
        return total
    }

    // MARK: - Reservation

    /// The budget class whose zone slots a write point of `kind` uses: its own, or the user
    /// class when the configuration reserves no slot for it.
    func budgetClass(_ kind: WritePoint.Kind) -> WritePoint.Kind {
        switch kind {
        case .user: .user
        case .copygc: copygcZoneSlots > 0 ? .copygc : .user
        case .metadata: metadataZoneSlots > 0 ? .metadata : .user
        }
    }

    /// Zone slots (open buckets) of a budget class.
    func zoneSlots(_ kind: WritePoint.Kind) -> Int {
        switch kind {
        case .user: userZoneBudget
        case .copygc: copygcZoneSlots
        case .metadata: metadataZoneSlots
        }
    }

    /// Decides the next step of reserving `sectors` through write point `wp`. With `split`,
    /// fewer sectors may be reserved (what is left in the current bucket); the caller asks again
    /// for the rest. `holding` are the buckets of pieces the caller already reserved for this
    /// request (they hold zone slots the request cannot wait for, and their cached data is not
    /// invalidated to make room for the rest of the request).
    mutating func tryReserve(
        sectors: UInt32,
        writePoint wp: Int,
        watermark: Watermark,
        cached: Bool,
        split: Bool,
        holding: Set<BucketIndex> = []
    ) throws(AllocationError) -> Step {
        precondition(!attached[wp], "write point \(wp): deciding with its cursor attached")
        if !cached, outstandingCredit > 0, dirtyTotal + outstandingCredit + Int(sectors) > usableSectors {
            // Cursors' credit may be what stands in the way: take it back, then decide exactly.
            return .foldWritePoints
        }
        if !cached, watermark == .normal, dirtyTotal + Int(sectors) > usableSectors {
            throw AllocationError(
                code: .noSpace,
                message: "no space: \(sectors) more dirty sectors would exceed the usable capacity of "
                    + "\(usableSectors) sectors (\(dirtyTotal) live; the copygc reserve keeps the rest free for "
                    + "copygc); delete data first"
            )
        }
        if let bucket = writePoints[wp].openBucket {
            let free = bucketSectors - buckets[bucket.zone].allocatedSectors
            if free >= sectors || (split && free > 0) {
                return .reserved(bump(bucket, sectors: min(free, sectors), cached: cached, writePoint: wp))
            }
            if free == 0 {
                // Full: it leaves the write point now, the open set once its writes are committed.
                leaveWritePoint(bucket, finishWhenIdle: false)
                var ignored = Aftermath()
                settle(bucket, into: &ignored)
            } else if openBuckets[bucket]!.inFlight == 0 {
                // Too full for this no-split request: finish it (the rest is wasted), move on.
                markFinishing(bucket)
                return .finish(bucket)
            } else {
                // Same, but reservations in it are still being written: finish it after them.
                leaveWritePoint(bucket, finishWhenIdle: true)
            }
        }
        let kind = budgetClass(writePoints[wp].kind)
        // A partially written bucket of this class (bcachefs's partial list) wastes nothing. Not
        // while full buckets of this write point are in flight: its zone is open already, so it
        // could not share their slot.
        if let partial = adoptablePartial(of: kind, sectors: sectors, split: split),
            !openBuckets.values.contains(where: { $0.retiring && $0.chain == wp && !$0.finishWhenIdle })
        {
            openBuckets[partial]!.writePoint = wp
            openBuckets[partial]!.chain = wp
            writePoints[wp].openBucket = partial
            let free = bucketSectors - buckets[partial.zone].allocatedSectors
            return .reserved(bump(partial, sectors: min(free, sectors), cached: cached, writePoint: wp))
        }
        // Find a bucket before giving up a zone slot for it: finishing a zone for nothing wastes it.
        let (reusable, resetting) = reusableBuckets(sparing: holding)
        guard reusable > heldBack(watermark) else {
            return try noBucket(watermark: watermark, reusable: reusable, resetting: resetting)
        }
        let usage = slotUsage(kind)
        // With full buckets of its own still in flight, a fresh bucket joins their chain and
        // needs no slot of its own.
        if !usage.chains.contains(wp), usage.used >= zoneSlots(kind) {
            // Choosing a bucket to finish needs the exact write pointers and in-flight counts of
            // the class's open buckets, which attached cursors hold.
            if openBuckets.values.contains(where: { $0.kind == kind && $0.writePoint.map { attached[$0] } == true }) {
                return .foldWritePoints
            }
            // The open bucket that wastes least when finished: the one with the least room left.
            // (An owned bucket whose write point still has full buckets in flight frees no slot.)
            let inClass = openBuckets.values.filter { $0.kind == kind }
            let idle = inClass.filter { ob in
                ob.inFlight == 0 && !ob.retiring
                    && (ob.writePoint == nil || !usage.retiringChains.contains(ob.writePoint!))
            }
            let victim = idle.max { a, b in
                let (x, y) = (buckets[a.bucket.zone].allocatedSectors, buckets[b.bucket.zone].allocatedSectors)
                return x != y ? x < y : a.bucket > b.bucket
            }
            if let victim {
                markFinishing(victim.bucket)
                return .finish(victim.bucket)
            }
            if inClass.contains(where: { $0.finishing || !holding.contains($0.bucket) }) {
                return .wait(
                    reason: "all \(zoneSlots(kind)) zone slots of \(kind) write points are taken by buckets with "
                        + "writes in flight",
                    kickCopygc: false
                )
            }
            throw AllocationError(
                code: .invalidRequest,
                message: "a reservation spanning \(holding.count + 1) buckets needs more than the \(zoneSlots(kind)) "
                    + "zone slots of \(kind) write points (a bucket it leaves partly written stays open until it is "
                    + "committed); reserve less at a time, or use write(_:hint:), which writes piece by piece"
            )
        }
        return openNewBucket(for: wp, kind: kind, sectors: sectors, cached: cached, sparing: holding)
    }

    /// What to do when no bucket is available at `watermark`: wait for resets in progress, wait
    /// for copygc when it can reclaim space, else fail at once.
    private func noBucket(watermark: Watermark, reusable: Int, resetting: Int) throws(AllocationError) -> Step {
        let situation =
            "no free bucket for a \(watermark) allocation (\(reusable) reusable, \(heldBack(watermark)) held back "
            + "for copygc and metadata)"
        if resetting > 0 {
            return .wait(reason: "\(situation), \(resetting) being reset", kickCopygc: false)
        }
        let fragmented = copygcReclaimableSectors
        if watermark != .copygc, fragmented >= Int(bucketSectors) {
            return .wait(reason: "\(situation), \(fragmented) fragmented sectors to reclaim", kickCopygc: true)
        }
        let lagging = buckets.reduce(0) { $0 + ($1.state(bucketSectors: bucketSectors) == .needsGCGens ? 1 : 0) }
        throw AllocationError(
            code: .noSpace,
            message: "no space: \(situation) and \(fragmented) fragmented sectors, too few for copygc to reclaim "
                + "a bucket"
                + (lagging > 0
                    ? "; \(lagging) empty buckets wait for their oldest generations to be updated "
                        + "(updateOldestGenerations)" : "")
                + "; delete data to make room"
        )
    }

    /// Zone slots of class `kind` in use (see ``OpenBucket``): one per write-point chain, one per
    /// other open bucket. `chains` are the write points with a chain, `retiringChains` those
    /// with full buckets still in flight.
    func slotUsage(_ kind: WritePoint.Kind) -> (used: Int, chains: Set<Int>, retiringChains: Set<Int>) {
        var others = 0
        var chains: Set<Int> = []
        var retiringChains: Set<Int> = []
        for ob in openBuckets.values where ob.kind == kind {
            if let chain = ob.chain, ob.writePoint != nil || (ob.retiring && !ob.finishWhenIdle) {
                chains.insert(chain)
                if ob.retiring { retiringChains.insert(chain) }
            } else {
                others += 1
            }
        }
        return (others + chains.count, chains, retiringChains)
    }

    /// The unowned partially written bucket of class `kind` that can take the request and has
    /// the most room left.
    private func adoptablePartial(of kind: WritePoint.Kind, sectors: UInt32, split: Bool) -> BucketIndex? {
        var best: BucketIndex?
        var bestFree: UInt32 = 0
        for ob in openBuckets.values where ob.writePoint == nil && !ob.retiring && ob.kind == kind {
            let free = bucketSectors - buckets[ob.bucket.zone].allocatedSectors
            guard free > 0, split || free >= sectors else { continue }
            if free > bestFree || (free == bestFree && ob.bucket < best!) {
                best = ob.bucket
                bestFree = free
            }
        }
        return best
    }

    /// Buckets immediately reusable without moving data (free, empty-needing-reset, cached-only),
    /// and buckets being reset now. `sparing` are buckets the request already wrote (its cached
    /// data must not be invalidated under it). Counted, not scanned.
    private func reusableBuckets(sparing: Set<BucketIndex>) -> (reusable: Int, resetting: Int) {
        var reusable = count(.free) + count(.needsReset) + count(.cached)
        var resetting = count(.resetting)
        for bucket in sparing {
            switch state(of: bucket) {
            case .free, .needsReset, .cached: reusable -= 1
            case .resetting: resetting -= 1
            default: break
            }
        }
        return (reusable, resetting)
    }

    /// The number of buckets in `state`.
    func count(_ state: BucketState) -> Int { stateCounts[state.ordinal] }

    /// Opens a free bucket for `wp` and reserves in it, or asks for a reset of an empty or
    /// cached-only bucket first. Next-fit from a rotating cursor (bcachefs's alloc_cursor): free
    /// buckets first, then empty ones that need a reset, then cached-only ones (invalidated by a
    /// generation bump, their cached pointers become stale).
    private mutating func openNewBucket(
        for wp: Int,
        kind: WritePoint.Kind,
        sectors: UInt32,
        cached: Bool,
        sparing: Set<BucketIndex>
    ) -> Step {
        let total = buckets.count
        for wanted in [BucketState.free, .needsReset, .cached] where count(wanted) > 0 {
            for step in 0..<total {
                let zone = (freeCursor + step) % total
                guard buckets[zone].state(bucketSectors: bucketSectors) == wanted else { continue }
                let bucket = BucketIndex(zone)
                if !sparing.isEmpty, sparing.contains(bucket) { continue }
                if wanted == .free {
                    freeCursor = (zone + 1) % total
                    update(zone) { $0.isOpen = true }
                    openBuckets[bucket] = OpenBucket(bucket: bucket, kind: kind, writePoint: wp, chain: wp)
                    writePoints[wp].openBucket = bucket
                    return .reserved(bump(bucket, sectors: min(bucketSectors, sectors), cached: cached, writePoint: wp))
                }
                update(zone) { $0.resetting = true }
                return .reset(bucket, buckets[zone].generation.next)
            }
        }
        preconditionFailure("a reusable bucket was counted but none was found")
    }

    /// Bumps the open bucket's write pointer under the allocator's lock (the slow path's bump;
    /// the fast one is ``WritePointCursor/bump(_:cached:writePoint:)``).
    private mutating func bump(
        _ bucket: BucketIndex,
        sectors: UInt32,
        cached: Bool,
        writePoint wp: Int
    ) -> Reservation.Piece {
        let zone = bucket.zone
        let before = buckets[zone]
        let offset = before.allocatedSectors
        update(zone) { record in
            record.allocatedSectors += sectors
            if cached { record.cachedSectors += sectors } else { record.dirtySectors += sectors }
        }
        if cached { cachedTotal += Int(sectors) } else { dirtyTotal += Int(sectors) }
        openBuckets[bucket]!.inFlight += 1
        return Reservation.Piece(
            pointer: DataPointer(
                bucket: bucket,
                offset: offset,
                sectors: sectors,
                generation: before.generation,
                isCached: cached
            ),
            deviceOffset: UInt64(zone) * zoneSize + UInt64(offset) * UInt64(DataPointer.sectorSize),
            writePoint: Int32(wp)
        )
    }

    // MARK: - Open-bucket life cycle

    /// What the allocator must do after a commit, an abandon or a rollback, outside the lock.
    struct Aftermath: Sendable {
        /// Zones to finish (``didFinish(_:)`` when done).
        var toFinish: [BucketIndex] = []
        /// Buckets that hold nothing live any more: reset them.
        var toReclaim: [BucketIndex] = []
        /// A zone slot was released or a partial bucket became adoptable: wake waiters.
        var released = false
    }

    /// Takes `bucket` away from its write point; it stays in the open set (and holds its zone
    /// slot) until ``settle(_:into:)`` sees it idle.
    private mutating func leaveWritePoint(_ bucket: BucketIndex, finishWhenIdle: Bool) {
        guard let ob = openBuckets[bucket] else { return }
        if let owner = ob.writePoint, writePoints[owner].openBucket == bucket {
            writePoints[owner].openBucket = nil
        }
        openBuckets[bucket]!.writePoint = nil
        openBuckets[bucket]!.retiring = true
        if finishWhenIdle { openBuckets[bucket]!.finishWhenIdle = true }
    }

    /// Takes an idle open bucket from its write point to be finished by the caller.
    private mutating func markFinishing(_ bucket: BucketIndex) {
        precondition(openBuckets[bucket]?.inFlight == 0, "finishing \(bucket) while writes to it are in flight")
        leaveWritePoint(bucket, finishWhenIdle: true)
        openBuckets[bucket]!.finishing = true
    }

    /// Settles a retiring bucket once nothing is in flight in it: finished (if it must be),
    /// dropped from the open set (full), or kept as an unowned partial bucket for adoption.
    private mutating func settle(_ bucket: BucketIndex, into aftermath: inout Aftermath) {
        guard let ob = openBuckets[bucket], ob.retiring, ob.inFlight == 0, !ob.finishing else { return }
        let allocated = buckets[bucket.zone].allocatedSectors
        if ob.finishWhenIdle {
            openBuckets[bucket]!.finishing = true
            aftermath.toFinish.append(bucket)
        } else if allocated == bucketSectors || allocated == 0 {
            // Full on the device (its last write landed), or never written (still EMPTY).
            removeOpen(bucket)
            aftermath.released = true
            if state(of: bucket) == .needsReset { aftermath.toReclaim.append(bucket) }
        } else {
            // Partly written (a reservation after its last write was rolled back): keep it for
            // adoption by the next write point of its class.
            openBuckets[bucket]!.retiring = false
            openBuckets[bucket]!.chain = nil
            aftermath.released = true
        }
    }

    /// Drops `bucket` from the open set.
    private mutating func removeOpen(_ bucket: BucketIndex) {
        guard let ob = openBuckets[bucket] else { return }
        if let owner = ob.writePoint, writePoints[owner].openBucket == bucket {
            writePoints[owner].openBucket = nil
        }
        openBuckets[bucket] = nil
        update(bucket.zone) { $0.isOpen = false }
    }

    /// Takes a partially written zone found at start-up into the open set, unowned: the next
    /// user write point that needs a bucket adopts it before opening a fresh one.
    mutating func adoptPartial(_ bucket: BucketIndex) {
        update(bucket.zone) { $0.isOpen = true }
        openBuckets[bucket] = OpenBucket(bucket: bucket, kind: .user, writePoint: nil, chain: nil)
    }

    /// Gives back reservations that were never written, when a split request failed half way:
    /// pieces at the end of their bucket are rolled back, others are abandoned (see ``abandon``).
    mutating func unreserve(_ pieces: [Reservation.Piece]) -> Aftermath {
        var aftermath = Aftermath()
        var rest: [Reservation.Piece] = []
        for piece in pieces.reversed() where piece.pointer.sectors > 0 {
            let bucket = piece.pointer.bucket
            let zone = bucket.zone
            let end = piece.pointer.offset + piece.pointer.sectors
            guard buckets[zone].allocatedSectors == end, let ob = openBuckets[bucket], !ob.finishing,
                !ob.finishWhenIdle
            else {
                rest.append(piece)
                continue
            }
            update(zone) { $0.allocatedSectors = piece.pointer.offset }
            unaccount(piece.pointer)
            openBuckets[bucket]!.inFlight -= 1
            settle(bucket, into: &aftermath)
        }
        let abandoned = abandon(rest)
        aftermath.toFinish += abandoned.toFinish
        aftermath.toReclaim += abandoned.toReclaim
        aftermath.released = aftermath.released || abandoned.released
        return aftermath
    }

    // MARK: - Outcomes of I/O

    /// A reservation's data was written.
    mutating func commit(_ pieces: [Reservation.Piece]) -> Aftermath {
        var aftermath = Aftermath()
        for piece in pieces where piece.pointer.sectors > 0 {
            let bucket = piece.pointer.bucket
            guard let ob = openBuckets[bucket], ob.inFlight > 0,
                buckets[bucket.zone].generation == piece.pointer.generation
            else {
                preconditionFailure("commit of \(piece.pointer), whose bucket has no reservation in flight")
            }
            openBuckets[bucket]!.inFlight -= 1
            settleCommitted(bucket, into: &aftermath)
        }
        return aftermath
    }

    /// After a commit left `bucket` with nothing in flight: a retiring bucket is settled, a full
    /// one leaves the open set (its zone is FULL on the device now), releasing its zone slot.
    mutating func settleCommitted(_ bucket: BucketIndex, into aftermath: inout Aftermath) {
        guard let ob = openBuckets[bucket], ob.inFlight == 0 else { return }
        if ob.retiring {
            settle(bucket, into: &aftermath)
        } else if buckets[bucket.zone].allocatedSectors == bucketSectors {
            removeOpen(bucket)
            aftermath.released = true
            if state(of: bucket) == .needsReset { aftermath.toReclaim.append(bucket) }
        }
    }

    /// A reservation's write failed: its sectors are not live, and its bucket can no longer be
    /// written at the allocator's write pointer, so it is finished once nothing else is in
    /// flight in it.
    mutating func abandon(_ pieces: [Reservation.Piece]) -> Aftermath {
        var aftermath = Aftermath()
        for piece in pieces where piece.pointer.sectors > 0 {
            let bucket = piece.pointer.bucket
            guard openBuckets[bucket] != nil else {
                preconditionFailure("abandon of \(piece.pointer), whose bucket is not open")
            }
            unaccount(piece.pointer)
            openBuckets[bucket]!.inFlight -= 1
            leaveWritePoint(bucket, finishWhenIdle: true)
            settle(bucket, into: &aftermath)
        }
        return aftermath
    }

    /// The zone of `bucket` was finished: the rest of its capacity is wasted. Returns true when
    /// the bucket holds nothing live (reset it).
    mutating func didFinish(_ bucket: BucketIndex) -> Bool {
        let zone = bucket.zone
        finishes += 1
        finishWaste += Int(bucketSectors - buckets[zone].allocatedSectors)
        let capacity = bucketSectors
        update(zone) { $0.allocatedSectors = capacity }
        if let ob = openBuckets[bucket] {
            precondition(ob.inFlight == 0, "\(bucket) finished with \(ob.inFlight) reservations in flight")
            removeOpen(bucket)
        }
        return state(of: bucket) == .needsReset
    }

    /// A zone could not be finished or reset because the device refuses it (read-only,
    /// offline): the bucket is never used again. Its live data stays accounted (pointers into it
    /// are still live; a read-only zone can still be read, copygc may move it).
    mutating func retire(_ bucket: BucketIndex) {
        removeOpen(bucket)
        update(bucket.zone) { record in
            record.resetting = false
            record.unusable = true
        }
    }

    /// A reset could not be done (generation store or device error): back to needing one, with
    /// its cached data (still on the device, still at the old generation) accounted as before.
    mutating func resetFailed(_ bucket: BucketIndex) {
        update(bucket.zone) { $0.resetting = false }
    }

    /// The zone of `bucket` was reset after `generation` was made durable.
    mutating func didReset(_ bucket: BucketIndex, to generation: BucketGeneration) {
        let zone = bucket.zone
        let record = buckets[zone]
        precondition(record.resetting && record.dirtySectors == 0, "reset of \(bucket) that was not claimed for one")
        // Cached pointers into it may still be held: the oldest generation stays behind until
        // the holders report theirs (updateOldestGenerations, bcachefs's gc_gens).
        let pointersMayRemain = record.cachedSectors > 0 || record.generation != record.oldestGeneration
        if record.cachedSectors > 0 {
            invalidations += 1
            cachedTotal -= Int(record.cachedSectors)
        }
        resets += 1
        update(zone) { record in
            record.cachedSectors = 0
            record.generation = generation
            if !pointersMayRemain { record.oldestGeneration = generation }
            record.allocatedSectors = 0
            record.resetting = false
        }
    }

    /// Claims a cached-only or empty bucket for a reset outside the allocation path (explicit
    /// invalidation, reclaiming an emptied bucket). Returns the generation to persist, or nil if
    /// the bucket is not reusable now. Cached sectors stay accounted until the reset is done.
    mutating func claimForReset(_ bucket: BucketIndex) -> BucketGeneration? {
        switch state(of: bucket) {
        case .cached, .needsReset:
            update(bucket.zone) { $0.resetting = true }
            return buckets[bucket.zone].generation.next
        default:
            return nil
        }
    }

    // MARK: - Accounting

    /// Marks the extent `pointer` dead (overwritten or deleted). Returns true when the bucket
    /// became empty and should be reset.
    mutating func markDead(_ pointer: DataPointer) -> Bool {
        let zone = pointer.bucket.zone
        precondition(zone < buckets.count, "markDead: \(pointer.bucket) does not exist")
        let record = buckets[zone]
        if record.generation != pointer.generation {
            // > a cached pointer with a mismatched gen is silently ignored (bch2_bucket_ref_update)
            precondition(
                pointer.isCached,
                "markDead of a stale dirty pointer \(pointer) (bucket is at \(record.generation)): the extent was "
                    + "already dead, or accounting is corrupt"
            )
            return false
        }
        precondition(
            pointer.offset + pointer.sectors <= record.allocatedSectors,
            "markDead of \(pointer) beyond the bucket's allocated \(record.allocatedSectors) sectors"
        )
        if pointer.isCached {
            precondition(record.cachedSectors >= pointer.sectors, "markDead: cached sectors underflow for \(pointer)")
        } else {
            precondition(
                record.dirtySectors >= pointer.sectors,
                "markDead: dirty sectors underflow for \(pointer) (double free?)"
            )
        }
        unaccount(pointer)
        return buckets[zone].state(bucketSectors: bucketSectors) == .needsReset
    }

    /// Marks the extent `pointer` live again (rebuilding accounting after a restart). Returns
    /// false when the pointer is stale or out of range.
    mutating func markLive(_ pointer: DataPointer) -> Bool {
        let zone = pointer.bucket.zone
        guard zone < buckets.count, !buckets[zone].unusable, !buckets[zone].resetting,
            buckets[zone].generation == pointer.generation,
            pointer.offset + pointer.sectors <= buckets[zone].allocatedSectors
        else { return false }
        precondition(outstandingCredit == 0, "markLive with cursor credit outstanding")
        precondition(
            buckets[zone].liveSectors + pointer.sectors <= buckets[zone].allocatedSectors,
            "markLive: more live than written in \(pointer.bucket)"
        )
        update(zone) { record in
            if pointer.isCached {
                record.cachedSectors += pointer.sectors
            } else {
                record.dirtySectors += pointer.sectors
            }
        }
        if pointer.isCached { cachedTotal += Int(pointer.sectors) } else { dirtyTotal += Int(pointer.sectors) }
        return true
    }

    /// Lowers each bucket's oldest generation to the oldest of `pointers` (bcachefs's gc_gens);
    /// buckets no pointer refers to get their current generation. Buckets being reset are left
    /// alone: their reset decides (cached pointers into them may still be held).
    mutating func updateOldestGenerations(_ pointers: [DataPointer]) {
        var oldest: [Int: BucketGeneration] = [:]
        for pointer in pointers where pointer.bucket.zone < buckets.count {
            let zone = pointer.bucket.zone
            if let current = oldest[zone] {
                if current.isAfter(pointer.generation) { oldest[zone] = pointer.generation }
            } else {
                oldest[zone] = pointer.generation
            }
        }
        for zone in buckets.indices where !buckets[zone].resetting {
            let record = buckets[zone]
            var candidate = oldest[zone] ?? record.generation
            // Only between the recorded oldest and the current generation: a pointer newer than
            // the bucket is bogus, one older than the recorded oldest cannot be held.
            if candidate.isAfter(record.generation) { candidate = record.generation }
            if record.oldestGeneration.isAfter(candidate) { candidate = record.oldestGeneration }
            update(zone) { $0.oldestGeneration = candidate }
        }
    }

    // MARK: - Fragmentation index

    private func level(of record: BucketRecord) -> Int? {
        guard !record.unusable, !record.isOpen, record.dirtySectors > 0 else { return nil }
        return Int(UInt64(record.dirtySectors) * 256 / UInt64(bucketSectors))
    }

    /// Changes the record of bucket `zone` and keeps ``stateCounts`` and ``fragmentationIndex`` in
    /// step with it: every change to a bucket record goes through here.
    private mutating func update(_ zone: Int, _ change: (inout BucketRecord) -> Void) {
        let before = buckets[zone]
        change(&buckets[zone])
        let after = buckets[zone]
        let (oldState, newState) = (
            before.state(bucketSectors: bucketSectors), after.state(bucketSectors: bucketSectors)
        )
        if oldState != newState {
            stateCounts[oldState.ordinal] -= 1
            stateCounts[newState.ordinal] += 1
        }
        let (oldLevel, newLevel) = (level(of: before), level(of: after))
        if oldLevel != newLevel {
            if let oldLevel { fragmentationIndex[oldLevel].remove(BucketIndex(zone)) }
            if let newLevel { fragmentationIndex[newLevel].insert(BucketIndex(zone)) }
        }
    }

    /// Takes the sectors of `pointer` out of its bucket's and the total live accounting.
    private mutating func unaccount(_ pointer: DataPointer) {
        update(pointer.bucket.zone) { record in
            if pointer.isCached {
                record.cachedSectors -= pointer.sectors
            } else {
                record.dirtySectors -= pointer.sectors
            }
        }
        if pointer.isCached { cachedTotal -= Int(pointer.sectors) } else { dirtyTotal -= Int(pointer.sectors) }
    }

    /// Buckets with dirty data that are not open, emptiest first (copygc's victim order).
    func victims(limit: Int) -> [BucketIndex] {
        var result: [BucketIndex] = []
        for level in fragmentationIndex where !level.isEmpty {
            let sorted = level.sorted {
                buckets[$0.zone].dirtySectors < buckets[$1.zone].dirtySectors
                    || (buckets[$0.zone].dirtySectors == buckets[$1.zone].dirtySectors && $0 < $1)
            }
            for bucket in sorted {
                result.append(bucket)
                if result.count == limit { return result }
            }
        }
        return result
    }

    // MARK: - Statistics

    func statistics() -> AllocatorStatistics {
        var byState: [BucketState: Int] = [:]
        var histogram = Array(repeating: 0, count: 10)
        var freeSectors = 0
        for record in buckets {
            let state = record.state(bucketSectors: bucketSectors)
            byState[state, default: 0] += 1
            if state == .free { freeSectors += Int(bucketSectors) }
            if state == .open { freeSectors += Int(bucketSectors - record.allocatedSectors) }
            if !record.unusable, !record.isOpen, record.allocatedSectors > 0, record.liveSectors > 0 {
                histogram[min(9, Int(record.liveSectors) * 10 / Int(bucketSectors))] += 1
            }
        }
        return AllocatorStatistics(
            bucketsByState: byState,
            bucketCount: usableBucketCount,
            bucketSectors: Int(bucketSectors),
            openBuckets: slotUsage(.user).used + slotUsage(.copygc).used + slotUsage(.metadata).used,
            zoneBudget: zoneBudget,
            userZoneBudget: userZoneBudget,
            dirtySectors: dirtyTotal,
            cachedSectors: cachedTotal,
            freeSectors: freeSectors,
            fragmentedSectors: fragmentedSectors,
            usableSectors: usableSectors,
            fragmentationHistogram: histogram,
            resets: resets,
            finishes: finishes,
            finishWasteSectors: finishWaste,
            invalidations: invalidations
        )
    }
}

// MARK: - Cursors

/// Handing an open bucket's bump state to its write point's cursor and taking it back (see
/// ``WritePointCursor``). ``BucketAllocator`` does the cursor locking; these keep the books.
extension AllocatorState {
    /// Attaches write point `wp`'s cursor to its open bucket: the cursor now owns the bucket's
    /// write pointer and in-flight count, and gets dirty-sector credit: the bucket's room, but
    /// no more than an equal share (one per write point) of the usable capacity not yet live or
    /// set aside. The share keeps credit from covering all the room left on a nearly full device,
    /// where every allocation beyond a cursor's credit would take it all back.
    mutating func attach(_ wp: Int) -> WritePointCursor {
        precondition(!attached[wp], "write point \(wp) attached twice")
        guard let bucket = writePoints[wp].openBucket, let ob = openBuckets[bucket] else {
            preconditionFailure("write point \(wp) attached without an open bucket")
        }
        let record = buckets[bucket.zone]
        let share = (usableSectors - dirtyTotal - outstandingCredit) / writePoints.count
        let credit = max(0, min(Int(bucketSectors - record.allocatedSectors), share))
        granted[wp] = UInt32(credit)
        outstandingCredit += credit
        attached[wp] = true
        return WritePointCursor(
            bucket: bucket.rawValue,
            generation: record.generation,
            allocated: record.allocatedSectors,
            capacity: bucketSectors,
            zoneStart: UInt64(bucket.zone) * zoneSize,
            inFlight: ob.inFlight,
            credit: UInt32(credit)
        )
    }

    /// Folds what write point `wp`'s cursor did since it was attached back into the state
    /// (write pointer, accounting, in-flight count, unused credit), checking that the cursor is
    /// consistent with the bucket it was attached to.
    mutating func detach(_ wp: Int, from cursor: WritePointCursor) {
        precondition(attached[wp], "write point \(wp) detached but not attached")
        guard let bucket = writePoints[wp].openBucket, openBuckets[bucket] != nil else {
            preconditionFailure("write point \(wp): attached cursor but no open bucket")
        }
        let zone = bucket.zone
        let record = buckets[zone]
        precondition(
            cursor.bucket == bucket.rawValue && cursor.generation == record.generation
                && cursor.capacity == bucketSectors && cursor.zoneStart == UInt64(zone) * zoneSize,
            "write point \(wp): cursor (bucket \(cursor.bucket), \(cursor.generation)) is not on its open \(bucket) "
                + "at \(record.generation)"
        )
        let handedOut = UInt64(cursor.pendingDirty) + UInt64(cursor.pendingCached)
        precondition(
            UInt64(cursor.allocated) == UInt64(record.allocatedSectors) + handedOut
                && cursor.allocated <= bucketSectors,
            "write point \(wp): cursor write pointer \(cursor.allocated) is not \(record.allocatedSectors) + "
                + "\(handedOut) handed out in \(bucket)"
        )
        precondition(
            UInt64(cursor.credit) + UInt64(cursor.pendingDirty) == UInt64(granted[wp]),
            "write point \(wp): credit \(cursor.credit) + \(cursor.pendingDirty) dirty sectors is not the "
                + "\(granted[wp]) granted"
        )
        precondition(cursor.inFlight >= 0, "write point \(wp): negative in-flight count in \(bucket)")
        update(zone) { record in
            record.allocatedSectors = cursor.allocated
            record.dirtySectors += cursor.pendingDirty
            record.cachedSectors += cursor.pendingCached
        }
        dirtyTotal += Int(cursor.pendingDirty)
        cachedTotal += Int(cursor.pendingCached)
        openBuckets[bucket]!.inFlight = cursor.inFlight
        outstandingCredit -= Int(granted[wp])
        granted[wp] = 0
        attached[wp] = false
    }

    /// The write point whose attached cursor holds `bucket`, if any.
    func attachedOwner(of bucket: BucketIndex) -> Int? {
        guard bucket.zone < buckets.count, buckets[bucket.zone].isOpen, let owner = openBuckets[bucket]?.writePoint,
            attached[owner]
        else { return nil }
        return owner
    }

    /// Checks the cursor bookkeeping while cursors are attached (outside the allocator's lock,
    /// exactly the write points owning a bucket are attached; the credit sums up and fits).
    func checkCursorBookkeeping() {
        for wp in writePoints.indices {
            precondition(
                attached[wp] == (writePoints[wp].openBucket != nil),
                "write point \(wp): attached \(attached[wp]) but open bucket \(String(describing: writePoints[wp].openBucket))"
            )
            precondition(attached[wp] || granted[wp] == 0, "write point \(wp): credit granted while detached")
        }
        precondition(
            granted.reduce(0) { $0 + Int($1) } == outstandingCredit,
            "outstanding credit \(outstandingCredit) is not the sum of the granted credit"
        )
        precondition(
            outstandingCredit == 0 || dirtyTotal + outstandingCredit <= usableSectors,
            "cursor credit \(outstandingCredit) + \(dirtyTotal) dirty sectors exceed the usable \(usableSectors)"
        )
    }
}
