import Foundation
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZonedStorage

/// Seeded model-based tests: thousands of random allocator operations on a tight emulated device,
/// compared after every step with a dumb model of the live extents (invariants 1–6).
@Suite("BucketAllocator against a reference model")
struct AllocatorModelTests {
    /// Steps per seed; `ZONEALLOC_MODEL_STEPS` raises it for longer soak runs.
    static let steps = ProcessInfo.processInfo.environment["ZONEALLOC_MODEL_STEPS"].flatMap(Int.init) ?? 1000
    /// Seeds run; `ZONEALLOC_MODEL_SEEDS` raises the count (seeds 0..<n) for soak runs.
    static let seeds = 0..<(ProcessInfo.processInfo.environment["ZONEALLOC_MODEL_SEEDS"].flatMap(Int.init) ?? 6)

    @Test("random operations keep the allocator, the device and the model in agreement", arguments: seeds)
    func randomOperations(seed: Int) throws {
        let run = try ModelRun(seed: UInt64(seed))
        try run.run(steps: Self.steps)
        #expect(run.failures == 0, "seed \(seed): \(run.failures) failed checks (see the issues above)")
        // The run must actually exercise the slow paths, not just the bump.
        let stats = run.allocator.statistics()
        print(
            "model seed \(seed): \(Self.steps) steps, resets \(stats.resets), finishes \(stats.finishes) "
                + "(waste \(stats.finishWasteSectors) sectors), invalidations \(stats.invalidations), copygc kicks "
                + "\(run.copygc.kicks), slowest error \(Int(run.maxErrorSeconds * 1000)) ms, ops \(run.opCounts.sorted { $0.key < $1.key })"
        )
        #expect(stats.resets > 20, "seed \(seed): only \(stats.resets) resets in \(Self.steps) steps")
        #expect(stats.finishes > 0, "seed \(seed): no zone was ever finished")
        #expect(run.opCounts["invalidate", default: 0] > 0, "seed \(seed): no cached bucket was invalidated")
        #expect(
            run.maxErrorSeconds < 0.5,
            "seed \(seed): a noSpace/timedOut error took \(run.maxErrorSeconds) s; they must be quick"
        )
    }
}

/// One model-based run: the allocator under test, the device, and the model of what is live.
final class ModelRun {
    /// One piece of an extent: a pointer, its bytes, and the reset count of its zone when it
    /// was handed out (pointers from before a later reset must be stale).
    struct Piece {
        var pointer: DataPointer
        var bytes: [UInt8]
        var epoch: Int
    }

    /// An extent the test owns: dirty extents stay live until marked dead; cached extents may be
    /// invalidated by the allocator, and are then held (stale) until the next gc_gens step.
    struct Extent {
        var pieces: [Piece]
        var cached: Bool
    }

    let seed: UInt64
    var rng: SplitMix64
    let device: EmulatedDevice
    let recorder: AllocatorFixtures.RecordingDevice
    let allocator: BucketAllocator
    let copygc = AllocatorFixtures.NoopCopygc()
    var extents: [Extent] = []
    /// Pointers marked dead (or abandoned) whose bucket has not been reset since.
    var dead: [Piece] = []
    var step = 0
    var lastOp = ""
    var tag: UInt64 = 0
    var failures = 0
    var opCounts: [String: Int] = [:]
    var maxErrorSeconds = 0.0
    let hints: [WriteHint] = [.stream(0), .stream(1), .stream(2), .owner(7), .temperature(.hot), .temperature(.cold)]
    /// Write points resolved earlier, by hint. They may be stale — a later hint can have taken
    /// the write point over — which is allowed: the two then share it.
    var resolved: [WriteHint: WritePoint] = [:]

    /// `ZONEALLOC_MODEL_TRACE=<seed>` prints every step of that seed.
    static let trace = ProcessInfo.processInfo.environment["ZONEALLOC_MODEL_TRACE"].flatMap(UInt64.init)

    init(seed: UInt64) throws {
        self.seed = seed
        self.rng = SplitMix64(seed: seed)
        self.device = try AllocatorFixtures.device(AllocatorFixtures.tightGeometry)
        self.recorder = AllocatorFixtures.RecordingDevice(device)
        self.allocator = try BucketAllocator(
            device: recorder,
            configuration: AllocatorConfiguration(allocationWaitLimit: 0.005),
            copygcTrigger: copygc
        )
    }

    var context: String { "seed \(seed), step \(step), op \(lastOp)" }

    func check(
        _ condition: Bool,
        _ message: @autoclosure () -> String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard !condition else { return }
        failures += 1
        Issue.record("\(context): \(message())", sourceLocation: sourceLocation)
    }

    func random(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    func chance(_ percent: Int) -> Bool { random(0...99) < percent }

    // MARK: - Driver

    func run(steps: Int) throws {
        verify()
        for index in 0..<steps where failures == 0 {
            step = index
            // Keep live data well below the usable capacity: without copygc, random deletes are
            // what frees buckets.
            while dirtySectors > allocator.statistics().usableSectors / 2 { deleteRandomExtent() }
            let roll = random(0...99)
            switch roll {
            case 0..<30: write(cached: false)
            case 30..<40: write(cached: true)
            case 40..<45: write(cached: false, hint: .copygc, watermark: .copygc)
            case 45..<48: write(cached: false, hint: .metadata, watermark: .metadata)
            case 48..<55: reserveAndCommit()
            case 55..<58: reserveAndAbandon()
            case 58..<61: reservePair(abandonFirst: false)
            case 61..<63: reservePair(abandonFirst: true)
            case 63..<81:
                count("delete")
                deleteRandomExtent()
            case 81..<89: overwrite()
            case 89..<95: invalidateCachedBucket()
            default: gcGens()
            }
            if Self.trace == seed {
                print(
                    "step \(step) \(lastOp): \(recorder.log.all.suffix(6)) open \(allocator.statistics().openBuckets) errors \(opCounts.filter { $0.key.hasPrefix("error") })"
                )
            }
            recorder.log.clear()
            verify()
        }
        step = steps
        lastOp = "final read-back"
        for extent in extents { readBack(extent) }
    }

    var dirtySectors: Int {
        extents.filter { !$0.cached }.reduce(0) { $0 + $1.pieces.reduce(0) { $0 + Int($1.pointer.sectors) } }
    }

    func nextTag() -> UInt64 {
        tag += 1
        return seed << 32 | tag
    }

    func count(_ op: String) {
        lastOp = op
        opCounts[op, default: 0] += 1
    }

    /// Runs an allocation; on noSpace / timedOut (quick, or the test fails) deletes data and
    /// returns nil. Any other error fails the run.
    func allocating<T>(_ body: () throws(AllocationError) -> T) -> T? {
        let start = ContinuousClock.now
        do {
            return try body()
        } catch {
            let seconds = AllocatorFixtures.seconds(since: start)
            maxErrorSeconds = max(maxErrorSeconds, seconds)
            guard error.code == .noSpace || error.code == .timedOut else {
                check(false, "unexpected allocation error: \(error)")
                return nil
            }
            opCounts["error.\(error.code)", default: 0] += 1
            if Self.trace == seed { print("  error \(error)") }
            if extents.isEmpty {
                // Nothing live: only held-back buckets or generation lag can explain it.
                gcGens()
                let stats = allocator.statistics()
                check(
                    stats.bucketsByState[.free, default: 0] + stats.bucketsByState[.needsReset, default: 0] > 0,
                    "\(error.code) with nothing live and no free bucket: \(stats)"
                )
            }
            for _ in 0..<random(1...3) { deleteRandomExtent() }
            return nil
        }
    }

    func pieces(for pointers: [DataPointer], bytes: [UInt8]) -> [Piece] {
        var offset = 0
        return pointers.map { pointer in
            defer { offset += pointer.byteCount }
            return Piece(
                pointer: pointer,
                bytes: Array(bytes[offset..<(offset + pointer.byteCount)]),
                epoch: recorder.resets(of: pointer.bucket.zone)
            )
        }
    }

    func randomBlocks() -> Int { chance(15) ? random(9...20) : random(1...6) }

    /// How a step addresses the write point of `hint`: nil for the hint-taking API, else a
    /// ``WritePoint`` resolved now or one resolved earlier (the fast-path API).
    func writePoint(for hint: WriteHint) -> WritePoint? {
        switch random(0...2) {
        case 0:
            return nil
        case 1:
            let writePoint = allocator.writePoint(for: hint)
            resolved[hint] = writePoint
            return writePoint
        default:
            if let writePoint = resolved[hint] { return writePoint }
            let writePoint = allocator.writePoint(for: hint)
            resolved[hint] = writePoint
            return writePoint
        }
    }

    func reserve(
        sectors: Int,
        for hint: WriteHint,
        through writePoint: WritePoint?,
        cached: Bool = false,
        split: Bool
    ) throws(AllocationError) -> Reservation {
        if let writePoint {
            try allocator.reserve(sectors: sectors, through: writePoint, cached: cached, split: split)
        } else {
            try allocator.reserve(sectors: sectors, for: hint, cached: cached, split: split)
        }
    }

    // MARK: - Operations

    func write(cached: Bool, hint: WriteHint? = nil, watermark: Watermark = .normal, blocks: Int? = nil) {
        let hint = hint ?? hints[random(0...hints.count - 1)]
        count(cached ? "write.cached" : "write.\(watermark)")
        let blocks = blocks ?? (watermark == .normal ? randomBlocks() : random(1...6))
        let split = blocks > 12 || chance(75)
        let bytes = AllocatorFixtures.payload(tag: nextTag(), blocks: blocks)
        let writePoint = writePoint(for: hint)
        guard
            let pointers = allocating({ () throws(AllocationError) in
                if let writePoint {
                    try allocator.write(bytes, through: writePoint, watermark: watermark, cached: cached, split: split)
                } else {
                    try allocator.write(bytes, hint: hint, watermark: watermark, cached: cached, split: split)
                }
            })
        else { return }
        check(pointers.reduce(0) { $0 + $1.byteCount } == bytes.count, "write returned pointers for the wrong length")
        check(split || pointers.count == 1, "a no-split write came back in \(pointers.count) pieces")
        check(pointers.allSatisfy { $0.isCached == cached }, "pointer cached flag wrong: \(pointers)")
        extents.append(Extent(pieces: pieces(for: pointers, bytes: bytes), cached: cached))
        if Self.trace == seed { print("  wrote \(pointers) hint \(hint) split \(split)") }
    }

    func reserveAndCommit() {
        count("reserve+commit")
        let hint = hints[random(0...hints.count - 1)]
        let blocks = randomBlocks()
        let split = blocks > 12 || chance(75)
        let cached = chance(20)
        let writePoint = writePoint(for: hint)
        guard
            let reservation = allocating({ () throws(AllocationError) in
                try reserve(sectors: blocks * 8, for: hint, through: writePoint, cached: cached, split: split)
            })
        else { return }
        check(reservation.sectors == blocks * 8, "reservation of \(reservation.sectors) sectors for \(blocks * 8)")
        let bytes = AllocatorFixtures.payload(tag: nextTag(), blocks: blocks)
        var offset = 0
        for piece in reservation.pieces {
            let count = piece.pointer.byteCount
            do {
                try recorder.write(Array(bytes[offset..<(offset + count)]), at: piece.deviceOffset)
            } catch {
                check(false, "writing reserved piece \(piece.pointer) at \(piece.deviceOffset) failed: \(error)")
                return
            }
            offset += count
        }
        allocator.commit(reservation)
        extents.append(Extent(pieces: pieces(for: reservation.pointers, bytes: bytes), cached: cached))
    }

    func reserveAndAbandon() {
        count("reserve+abandon")
        let hint = hints[random(0...hints.count - 1)]
        let blocks = randomBlocks()
        let writePoint = writePoint(for: hint)
        guard
            let reservation = allocating({ () throws(AllocationError) in
                try reserve(sectors: blocks * 8, for: hint, through: writePoint, split: true)
            })
        else { return }
        let abandoned = reservation.pointers.map {
            Piece(pointer: $0, bytes: [], epoch: recorder.resets(of: $0.bucket.zone))
        }
        do {
            try allocator.abandon(reservation)
        } catch {
            check(false, "abandon failed: \(error)")
        }
        dead += abandoned
    }

    /// Two reservations outstanding on one write point at once: written in reservation order,
    /// committed in random order; or the first abandoned, so that writes of the second into the
    /// same bucket fail (the device write pointer stays behind) and it is abandoned too.
    func reservePair(abandonFirst: Bool) {
        count(abandonFirst ? "pair+abandon" : "pair")
        let hint = hints[random(0...hints.count - 1)]
        let writePoint = writePoint(for: hint)
        func reserve() -> Reservation? {
            let blocks = random(1...10)
            let split = chance(60)
            return allocating({ () throws(AllocationError) in
                try self.reserve(sectors: blocks * 8, for: hint, through: writePoint, split: split)
            })
        }
        guard let first = reserve() else { return }
        let second = reserve()
        let reservations = [first] + (second.map { [$0] } ?? [])
        var payloads: [[UInt8]] = []
        for reservation in reservations {
            payloads.append(AllocatorFixtures.payload(tag: nextTag(), blocks: reservation.sectors / 8))
        }
        func writeAll(_ index: Int) -> Bool {
            var offset = 0
            for piece in reservations[index].pieces {
                let count = piece.pointer.byteCount
                do {
                    try recorder.write(Array(payloads[index][offset..<(offset + count)]), at: piece.deviceOffset)
                } catch {
                    return false
                }
                offset += count
            }
            return true
        }
        func kill(_ index: Int) {
            let epochs = reservations[index].pointers.map {
                Piece(pointer: $0, bytes: [], epoch: recorder.resets(of: $0.bucket.zone))
            }
            do { try allocator.abandon(reservations[index]) } catch { check(false, "abandon failed: \(error)") }
            dead += epochs
        }
        var committed: [Int] = []
        if abandonFirst {
            kill(0)
            if reservations.count == 2 {
                let sameBucket = reservations[1].pointers[0].bucket == first.pointers.last!.bucket
                let ok = writeAll(1)
                check(!(ok && sameBucket), "a write after an abandoned reservation in the same bucket succeeded")
                if ok { committed.append(1) } else { kill(1) }
            }
        } else {
            for index in reservations.indices {
                check(writeAll(index), "writing reservation \(index) of a pair failed")
                committed.append(index)
            }
        }
        if chance(50) { committed.reverse() }
        for index in committed {
            allocator.commit(reservations[index])
            extents.append(
                Extent(pieces: pieces(for: reservations[index].pointers, bytes: payloads[index]), cached: false)
            )
        }
    }

    func deleteRandomExtent() {
        guard !extents.isEmpty else { return }
        let index = random(0...extents.count - 1)
        let extent = extents.remove(at: index)
        for piece in extent.pieces {
            allocator.markDead(piece.pointer)
            dead.append(piece)
        }
    }

    func overwrite() {
        count("overwrite")
        guard !extents.isEmpty else { return write(cached: false) }
        let index = random(0...extents.count - 1)
        let blocks = extents[index].pieces.reduce(0) { $0 + Int($1.pointer.sectors) } / 8
        let cached = extents[index].cached
        deleteRandomExtent()
        write(cached: cached, blocks: blocks)
    }

    func invalidateCachedBucket() {
        count("invalidate")
        let cachedBuckets = (0..<device.info.zoneCount).map(BucketIndex.init).filter {
            allocator.state(of: $0) == .cached
        }
        guard !cachedBuckets.isEmpty else { return }
        let bucket = cachedBuckets[random(0...cachedBuckets.count - 1)]
        let generation = allocator.generation(of: bucket)
        let resets = recorder.resets(of: bucket.zone)
        do {
            let done = try allocator.invalidate(bucket)
            check(done, "invalidate(\(bucket)) of a cached-only bucket did nothing")
        } catch {
            check(false, "invalidate(\(bucket)) failed: \(error)")
            return
        }
        check(recorder.resets(of: bucket.zone) == resets + 1, "invalidate did not reset the zone once")
        check(allocator.generation(of: bucket) == generation.next, "invalidate did not increment the generation")
    }

    /// bcachefs's gc_gens from the owner's side: drop stale cached pointers (sometimes telling the
    /// allocator, which must ignore them), then report every pointer still held.
    func gcGens() {
        count("gcGens")
        for index in extents.indices.reversed() where extents[index].cached {
            let stale = extents[index].pieces.filter { recorder.resets(of: $0.pointer.bucket.zone) > $0.epoch }
            if stale.isEmpty { continue }
            if chance(50) { for piece in stale { allocator.markDead(piece.pointer) } }
            extents[index].pieces.removeAll { recorder.resets(of: $0.pointer.bucket.zone) > $0.epoch }
            if extents[index].pieces.isEmpty { extents.remove(at: index) }
        }
        allocator.updateOldestGenerations(extents.flatMap { $0.pieces.map(\.pointer) })
    }

    // MARK: - Checks

    func readBack(_ extent: Extent) {
        for piece in extent.pieces where recorder.resets(of: piece.pointer.bucket.zone) == piece.epoch {
            let offset = device.info.zoneStart(piece.pointer.bucket.zone) + UInt64(piece.pointer.offset) * 512
            do {
                let bytes = try device.read(count: piece.pointer.byteCount, at: offset)
                check(bytes == piece.bytes, "data at live pointer \(piece.pointer) differs from what was written")
            } catch {
                check(false, "reading live pointer \(piece.pointer) failed: \(error)")
            }
        }
    }

    func verify() {
        allocator.checkInvariants()
        do {
            let mismatches = try allocator.deviceMismatches()
            check(mismatches.isEmpty, "allocator and device disagree: \(mismatches)")
        } catch {
            check(false, "zone report failed: \(error)")
        }
        let usage = device.resourceUsage()
        check(usage.open <= 4 && usage.active <= 6, "device open \(usage.open) / active \(usage.active) beyond 4 / 6")
        check(recorder.resourceRefusals.isEmpty, "the device refused for zone resources: \(recorder.resourceRefusals)")
        let stats = allocator.statistics()
        check(stats.openBuckets <= stats.zoneBudget, "\(stats.openBuckets) open buckets, budget \(stats.zoneBudget)")
        check(
            usage.active <= stats.openBuckets,
            "device has \(usage.active) active zones, allocator \(stats.openBuckets) open buckets"
        )

        var dirty = 0
        var cached = 0
        for extent in extents {
            for piece in extent.pieces {
                let expectStale = recorder.resets(of: piece.pointer.bucket.zone) > piece.epoch
                check(!expectStale || extent.cached, "dirty pointer \(piece.pointer) lost its bucket to a reset")
                check(
                    allocator.isStale(piece.pointer) == expectStale,
                    "held pointer \(piece.pointer) (epoch \(piece.epoch), zone resets \(recorder.resets(of: piece.pointer.bucket.zone))) "
                        + "isStale \(allocator.isStale(piece.pointer)), expected \(expectStale)"
                )
                if expectStale { continue }
                if extent.cached { cached += Int(piece.pointer.sectors) } else { dirty += Int(piece.pointer.sectors) }
            }
        }
        check(stats.dirtySectors == dirty, "dirty sectors \(stats.dirtySectors), model \(dirty)")
        check(stats.cachedSectors == cached, "cached sectors \(stats.cachedSectors), model \(cached)")

        dead.removeAll { piece in
            guard recorder.resets(of: piece.pointer.bucket.zone) > piece.epoch else { return false }
            check(
                allocator.isStale(piece.pointer),
                "pointer \(piece.pointer) handed out before its bucket's reset is not stale"
            )
            return true
        }

        if !extents.isEmpty {
            for _ in 0..<2 { readBack(extents[random(0...extents.count - 1)]) }
        }
    }
}
