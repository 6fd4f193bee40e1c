import Foundation
public import ZoneAlloc
public import ZoneGC
public import ZonedStorage

/// Runs a write-amplification study with the real allocator and copygc: a metadata-only
/// ``ZonedStorage/EmulatedDevice``, a ``ZoneAlloc/BucketAllocator`` on it, ``ZoneGC/Copygc``
/// evacuating it, and a ``LogicalSpace`` as the one extent owner. There is no model of the
/// allocator: every user write is reserved, written to the emulated zone, committed, recorded
/// and its previous version marked dead, exactly as a storage service would.
///
/// A run fills the logical space once in order, writes ``SimulationConfiguration/warmup`` times
/// the logical size as warm-up, then measures ``SimulationConfiguration/measured`` times it.
/// Writes are gathered into batches of ``SimulationConfiguration/batchBlocks`` blocks, one device
/// write (one reservation) per batch and class, which does not change where any block lands.
public final class Simulator {
    /// The configuration.
    public let configuration: SimulationConfiguration
    /// The derived sizes.
    public let layout: SimulationLayout
    /// The emulated device (metadata only).
    public let device: EmulatedDevice
    /// The allocator under test.
    public let allocator: BucketAllocator
    /// Copygc under test.
    public let copygc: Copygc
    /// The logical space (the extent owner).
    public let space: LogicalSpace
    private let owner: OwnerID
    private var generator: WorkloadGenerator
    private let blockSectors: Int
    private let userHints: [WriteHint]
    private let zeros: UnsafeMutableRawBufferPointer

    /// Builds the device, allocator, copygc and logical space for `configuration`.
    ///
    /// - Throws: ``SimulationError`` `.invalidParameter` for an impossible geometry or ρ,
    ///   `.invalidTrace` for a bad trace, `.device` / `.allocation` / `.copygc` when a layer
    ///   refuses the setup.
    public init(configuration: SimulationConfiguration) throws(SimulationError) {
        self.configuration = configuration
        let c = configuration
        func fail(_ message: String) -> SimulationError { SimulationError(code: .invalidParameter, message: message) }
        guard c.blockSize >= 512, c.blockSize <= SimulationConfiguration.maxBlockSize,
            c.blockSize & (c.blockSize - 1) == 0
        else {
            throw fail(
                "block size \(c.blockSize) is not supported; use a power of two from 512 bytes to "
                    + "\(SimulationConfiguration.maxBlockSize >> 20) MiB (above 4096 a block is a placement unit of "
                    + "several 4 KiB device blocks)"
            )
        }
        // Above 4 KiB a simulated block is a placement unit: the device keeps 4 KiB logical
        // blocks, every write is whole units, and copygc keeps one backpointer per unit.
        let deviceBlockSize = min(c.blockSize, 4096)
        let capacity = c.zoneCapacity ?? c.zoneSize
        guard c.zones >= 8, capacity > 0, capacity <= c.zoneSize, capacity % UInt64(c.blockSize) == 0,
            capacity / UInt64(c.blockSize) >= 4,
            capacity / UInt64(DataPointer.sectorSize) < LogicalSpace.maxBucketSectors
        else {
            throw fail(
                "geometry of \(c.zones) zones of \(c.zoneSize) bytes with \(capacity) bytes of capacity cannot be "
                    + "simulated: use at least 8 zones and a capacity of at least 4 blocks, a multiple of the block "
                    + "size, no larger than the zone and below \(LogicalSpace.maxBucketSectors >> 11) MiB"
            )
        }
        guard c.writePoints >= 1, c.writePoints <= 64, c.batchBlocks >= 1, c.warmup >= 0, c.measured > 0,
            c.sampleInterval > 0, c.maxOpenZones >= 0, c.maxActiveZones >= 0
        else {
            throw fail(
                "write points must be 1–64, the batch ≥ 1 block, warm-up ≥ 0, measured volume and sample "
                    + "interval > 0, zone limits ≥ 0"
            )
        }
        let blockSectors = c.blockSize / DataPointer.sectorSize
        self.blockSectors = blockSectors
        let blocksPerBucket = Int(capacity) / c.blockSize
        let totalBlocks = blocksPerBucket * c.zones
        let lifetime = c.policy.placement == .lifetime
        let userWritePoints = lifetime ? LifetimeClassifier.userClasses : c.writePoints
        let extraCopygcWritePoints = lifetime ? LifetimeClassifier.copygcClasses - 1 : 0
        let copygcSlots = lifetime ? LifetimeClassifier.copygcClasses : 1
        let zoneBudget = copygcSlots + userWritePoints + extraCopygcWritePoints
        // A device with open/active zone limits (ZNS): the allocator's budget is the smaller
        // limit, which must cover every write point the simulation keeps open.
        let deviceLimit = [c.maxOpenZones, c.maxActiveZones].filter { $0 > 0 }.min()
        if let deviceLimit, deviceLimit < zoneBudget {
            throw fail(
                "the device allows \(deviceLimit) open/active zones, but the simulation needs a zone budget of "
                    + "\(zoneBudget) (\(userWritePoints) user write points, \(copygcSlots) zone slots held for copygc, "
                    + "\(extraCopygcWritePoints) more copygc write points); raise the limit or use fewer write points"
            )
        }
        // Logical size and reserve. Writes in flight need headroom: a batch's new blocks are
        // live before the versions they replace are marked dead.
        let headroom = c.batchBlocks
        let logicalBlocks: Int
        let reserve: Double
        if let given = c.copygcReserve {
            guard (0.05...0.21).contains(given) else {
                throw fail("copygc reserve \(given) is outside 0.05–0.21; give one in range, or ρ instead")
            }
            reserve = given
            let reserved = max(
                Int((Double(totalBlocks * blockSectors) * given).rounded(.up)),
                copygcSlots * blocksPerBucket * blockSectors
            )
            logicalBlocks = (totalBlocks * blockSectors - reserved) / blockSectors - headroom
        } else {
            let rho = c.overProvisioning
            guard rho > 0, rho.isFinite else { throw fail("over-provisioning ρ must be > 0, not \(rho)") }
            logicalBlocks = Int(Double(totalBlocks) / (1 + rho))
            let spare = totalBlocks - logicalBlocks - headroom
            guard spare > 0 else { throw fail("ρ = \(rho) leaves no spare blocks beside the writes in flight") }
            // Slightly under (T − U − headroom) / T, so the rounded-up reserve still leaves U.
            reserve = min(0.21, Double(spare) / Double(totalBlocks) * (1 - 1e-9))
            guard reserve >= 0.05 else {
                throw fail(
                    "ρ = \(rho) needs a copygc reserve of \(Double(Int(reserve * 10_000)) / 100) % of the device, below "
                        + "the allocator's minimum of 5 % (ρ ≥ 0.053); use a larger ρ"
                )
            }
            guard spare >= copygcSlots * blocksPerBucket else {
                throw fail("ρ = \(rho) leaves fewer spare blocks than the \(copygcSlots) buckets held for copygc")
            }
        }
        guard logicalBlocks >= blocksPerBucket else {
            throw fail("the logical space (\(logicalBlocks) blocks) is smaller than one bucket; use more zones")
        }
        let start = c.startBelowFreeBuckets ?? (userWritePoints + 1)
        let stop = c.stopAtFreeBuckets ?? (start + 2)
        // Spare buckets must cover what is never garbage: the buckets held back for copygc, one
        // open bucket per write point, and the free buckets below which copygc starts.
        let spareBuckets = (totalBlocks - logicalBlocks) / blocksPerBucket
        let writePointCount = userWritePoints + (lifetime ? LifetimeClassifier.copygcClasses : 1)
        guard spareBuckets >= copygcSlots + writePointCount + start else {
            throw fail(
                "\(c.zones) zones at ρ = \(c.overProvisioning) leave \(spareBuckets) spare buckets, fewer than the "
                    + "\(copygcSlots) held back for copygc, \(writePointCount) open write points and \(start) kept free "
                    + "need; use more zones, a larger ρ, or fewer write points"
            )
        }
        // The device: metadata only, write-through (every completed write durable; nothing to
        // write back on flush), with the configured open/active limits (none by default), which
        // the allocator's zone budget follows and the device enforces.
        let geometry = EmulatedGeometry(
            zoneCount: c.zones,
            zoneSize: c.zoneSize,
            zoneCapacity: capacity,
            logicalBlockSize: deviceBlockSize,
            maxOpenZones: c.maxOpenZones,
            maxActiveZones: c.maxActiveZones
        )
        do {
            device = try EmulatedDevice(
                geometry: geometry,
                storage: .metadataOnly,
                options: .init(writeCache: .writeThrough)
            )
        } catch {
            throw SimulationError(code: .device, message: "cannot create the emulated device", deviceError: error)
        }
        do {
            allocator = try BucketAllocator(
                device: device,
                configuration: AllocatorConfiguration(
                    copygcReserve: reserve,
                    metadataZoneSlots: 0,
                    copygcZoneSlots: copygcSlots,
                    defaultZoneLimit: zoneBudget,
                    allocationWaitLimit: 5
                )
            )
        } catch {
            throw SimulationError(code: .allocation, message: "cannot create the allocator", allocationError: error)
        }
        let gcConfiguration = CopygcConfiguration(
            policy: c.policy,
            startBelowFreeBuckets: start,
            stopAtFreeBuckets: stop,
            moveData: false,
            blockSectors: blockSectors
        )
        do {
            copygc = try Copygc(allocator: allocator, configuration: gcConfiguration)
        } catch {
            throw SimulationError(code: .copygc, message: "cannot create copygc", gcError: error)
        }
        space = LogicalSpace(blocks: logicalBlocks, blockSectors: blockSectors)
        do {
            owner = try copygc.register(space)
        } catch {
            throw SimulationError(code: .copygc, message: "cannot register the logical space", gcError: error)
        }
        var trace: TraceFile?
        if case .trace(let path) = c.workload { trace = try TraceFile.load(path: path) }
        generator = try WorkloadGenerator(
            workload: c.workload,
            trace: trace,
            blocks: logicalBlocks,
            blockSize: c.blockSize,
            seed: c.seed
        )
        userHints =
            lifetime
            ? gcConfiguration.userClassHints
            : (0..<c.writePoints).map { .stream(UInt64($0)) }
        zeros = UnsafeMutableRawBufferPointer.allocate(byteCount: c.batchBlocks * c.blockSize, alignment: 4096)
        zeros.initializeMemory(as: UInt8.self, repeating: 0)
        let usable = allocator.statistics().usableSectors / blockSectors
        layout = SimulationLayout(
            buckets: c.zones,
            blocksPerBucket: blocksPerBucket,
            totalBlocks: totalBlocks,
            logicalBlocks: logicalBlocks,
            overProvisioning: Double(totalBlocks - logicalBlocks) / Double(logicalBlocks),
            copygcReserve: reserve,
            usableBlocks: usable,
            userWritePoints: userWritePoints,
            copygcWritePoints: lifetime ? LifetimeClassifier.copygcClasses : 1,
            zoneBudget: min(deviceLimit ?? zoneBudget, c.zones),
            heldBackBuckets: copygcSlots,
            startBelowFreeBuckets: start,
            stopAtFreeBuckets: stop
        )
        guard usable >= logicalBlocks + headroom else {
            throw fail(
                "the allocator's usable capacity (\(usable) blocks) cannot hold the logical space of \(logicalBlocks) "
                    + "blocks and a batch in flight; lower the copygc reserve or raise ρ"
            )
        }
    }

    deinit {
        zeros.deallocate()
        try? device.close()
    }

    // MARK: - Running

    /// Runs the fill, the warm-up and the measured phase.
    ///
    /// - Parameter progress: called now and then (about every 1/256 of the run) with the state
    ///   of the run.
    /// - Returns: the measurements.
    /// - Throws: ``SimulationError`` when the allocator, the device or copygc fails.
    public func run(progress: (SimulationProgress) -> Void = { _ in }) throws(SimulationError) -> SimulationResult {
        let c = configuration
        let logical = layout.logicalBlocks
        let warmupBlocks = Int(c.warmup * Double(logical))
        let measuredBlocks = Int(c.measured * Double(logical))
        let totalBlocks = logical + warmupBlocks + measuredBlocks
        let sampleEvery = max(1, Int(c.sampleInterval * Double(logical)))
        let progressEvery = max(c.batchBlocks, totalBlocks / 256)
        let clock = ContinuousClock()
        let started = clock.now
        var samples: [SimulationSample] = []
        var userBlocks = 0
        var phaseStart = copygc.statistics()
        var lastSample = phaseStart
        var measureStart = phaseStart
        var measureStarted = started
        var nextSample = sampleEvery
        var nextProgress = 0
        // Unwritten space (free buckets and the unwritten rest of open ones) is over-provisioning
        // copygc cannot use. It is sampled during the measured phase at random user-write
        // instants (gaps uniform in 1…4 buckets of user writes per 4096 zones, from a generator
        // of their own so the workload's draws do not change), which cannot alias with copygc's
        // periodic passes.
        var probe = SplitMix64(seed: c.seed ^ 0x5EED_F4EE_0B5E_4E5D)
        // Each probe scans every bucket: on large devices probe less often (gaps up to 4 buckets
        // per 4096 zones), so the probes stay a small part of the run.
        let probeSpan = UInt64(4 * max(1, c.zones / 4096) * layout.blocksPerBucket)
        var nextProbe = 0
        var unwrittenSum = 0.0
        var unwrittenSamples = 0
        // The hot loop's state lives in locals (class properties pay for dynamic exclusivity
        // checks on every access).
        var generator = self.generator
        defer { self.generator = generator }
        var keys: [UInt64] = []
        keys.reserveCapacity(c.batchBlocks)
        var buffers = Buffers()
        func seconds() -> Double {
            let elapsed = started.duration(to: clock.now)
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        let phases: [(name: String, blocks: Int)] = [
            ("fill", logical), ("warmup", warmupBlocks), ("measure", measuredBlocks),
        ]
        for (name, blocks) in phases where blocks > 0 {
            phaseStart = copygc.statistics()
            if name == "measure" {
                measureStart = phaseStart
                measureStarted = clock.now
                nextProbe = userBlocks + 1 + Int(probe.next() % probeSpan)
            }
            var done = 0
            var sequential: UInt64 = 0
            while done < blocks {
                let count = min(c.batchBlocks, blocks - done)
                keys.removeAll(keepingCapacity: true)
                if name == "fill" {
                    for _ in 0..<count {
                        keys.append(sequential)
                        sequential += 1
                    }
                } else {
                    while keys.count < count {
                        switch generator.next() {
                        case .write(let block):
                            keys.append(block)
                        case .delete(let block):
                            try writeBatch(keys, &buffers)
                            keys.removeAll(keepingCapacity: true)
                            if let old = space.remove(block) { copygc.markDead([old]) }
                        }
                    }
                }
                try writeBatch(keys, &buffers)
                done += count
                userBlocks += count
                do {
                    try copygc.collectIfNeeded()
                } catch {
                    throw SimulationError(
                        code: .copygc,
                        message: "copygc failed during the \(name) phase",
                        gcError: error
                    )
                }
                if name == "measure", userBlocks >= nextProbe {
                    unwrittenSum += Double(allocator.unwrittenSectors() / blockSectors)
                    unwrittenSamples += 1
                    nextProbe = userBlocks + 1 + Int(probe.next() % probeSpan)
                }
                if userBlocks >= nextSample || (done == blocks && name == "measure") {
                    let now = copygc.statistics()
                    samples.append(
                        SimulationSample(
                            phase: name,
                            userBlocks: userBlocks,
                            copygcBlocks: (now.copygcSectorsMoved + now.copygcSectorsDiscarded) / blockSectors,
                            phaseWriteAmplification: now.since(phaseStart).writeAmplification,
                            intervalWriteAmplification: now.since(lastSample).writeAmplification,
                            freeBuckets: allocator.availableBuckets(for: .normal),
                            passes: now.passes,
                            passesWithNothingToDo: now.passesWithNothingToDo,
                            elapsedSeconds: seconds()
                        )
                    )
                    lastSample = now
                    nextSample += sampleEvery
                }
                if userBlocks >= nextProgress {
                    let now = copygc.statistics()
                    let elapsed = seconds()
                    let writes =
                        (now.userSectorsWritten + now.copygcSectorsMoved + now.copygcSectorsDiscarded) / blockSectors
                    progress(
                        SimulationProgress(
                            phase: name,
                            fractionDone: Double(userBlocks) / Double(totalBlocks),
                            writeAmplification: now.since(phaseStart).writeAmplification,
                            blockWritesPerSecond: elapsed > 0 ? Double(writes) / elapsed : 0,
                            elapsedSeconds: elapsed
                        )
                    )
                    nextProgress += progressEvery
                }
            }
        }
        let end = copygc.statistics()
        let measuredElapsed = measureStarted.duration(to: clock.now)
        return SimulationResult(
            configuration: c,
            layout: layout,
            measured: end.since(measureStart),
            total: end,
            allocator: allocator.statistics(),
            samples: samples,
            elapsedSeconds: seconds(),
            measuredSeconds: Double(measuredElapsed.components.seconds)
                + Double(measuredElapsed.components.attoseconds) / 1e18,
            averageLifespanBlocks: copygc.averageLifespan / Double(blockSectors),
            meanUnwrittenBlocks: unwrittenSamples > 0 ? unwrittenSum / Double(unwrittenSamples) : 0
        )
    }

    /// Scratch arrays of the write path, reused from batch to batch.
    private struct Buffers {
        var pointers: [DataPointer] = []
        var replaced: [DataPointer] = []
    }

    /// Writes the blocks in `keys` (one batch): classes, one reservation and device write per
    /// class, then the index swap, backpointers, and the replaced versions marked dead.
    private func writeBatch(_ keys: [UInt64], _ buffers: inout Buffers) throws(SimulationError) {
        guard !keys.isEmpty else { return }
        if configuration.policy.placement == .lifetime {
            let classes = copygc.userClasses(overwriting: space.pointers(of: keys))
            for lifetimeClass in 0..<userHints.count {
                let group = zip(keys, classes).filter { $0.1 == lifetimeClass }.map(\.0)
                if !group.isEmpty { try write(group, hint: userHints[lifetimeClass], &buffers) }
            }
        } else if userHints.count == 1 {
            try write(keys, hint: userHints[0], &buffers)
        } else {
            let streams = UInt64(userHints.count)
            for stream in 0..<userHints.count {
                let group = keys.filter { Int($0 % streams) == stream }
                if !group.isEmpty { try write(group, hint: userHints[stream], &buffers) }
            }
        }
    }

    private func write(_ blocks: [UInt64], hint: WriteHint, _ buffers: inout Buffers) throws(SimulationError) {
        let sectors = blocks.count * blockSectors
        let reservation: Reservation
        do {
            reservation = try allocator.reserve(sectors: sectors, for: hint, split: true)
        } catch {
            throw SimulationError(
                code: .allocation,
                message: "the allocator refused a user write of \(blocks.count) blocks through \(hint)",
                allocationError: error
            )
        }
        buffers.pointers.removeAll(keepingCapacity: true)
        for piece in reservation.pieces {
            do {
                try device.write(
                    UnsafeRawBufferPointer(rebasing: zeros[0..<piece.pointer.byteCount]),
                    at: piece.deviceOffset
                )
            } catch {
                throw SimulationError(
                    code: .device,
                    message: "the emulated device refused a user write",
                    deviceError: error
                )
            }
            var offset = piece.pointer.offset
            let end = piece.pointer.offset + piece.pointer.sectors
            while offset < end {
                buffers.pointers.append(
                    DataPointer(
                        bucket: piece.pointer.bucket,
                        offset: offset,
                        sectors: UInt32(blockSectors),
                        generation: piece.pointer.generation
                    )
                )
                offset += UInt32(blockSectors)
            }
        }
        allocator.commit(reservation)
        buffers.replaced.removeAll(keepingCapacity: true)
        space.replace(blocks, with: buffers.pointers, replaced: &buffers.replaced)
        copygc.recordWrites(owner: owner, keys: blocks, pointers: buffers.pointers, hint: hint)
        copygc.markDead(buffers.replaced)
    }
}
