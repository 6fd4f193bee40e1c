public import ZoneGC

/// Parameters of a write-amplification simulation.
///
/// The device has ``zones`` sequential zones of ``zoneSize`` bytes with ``zoneCapacity`` usable
/// bytes each (every zone is a bucket); T is the capacity of all buckets. The logical space U
/// follows from the over-provisioning ρ = (T − U) / U, and the copygc reserve is then set so the
/// logical space fills the usable capacity (less one batch of headroom for writes in flight).
/// Alternatively give the copygc reserve: U is then the usable capacity.
public struct SimulationConfiguration: Hashable, Sendable {
    /// Sequential zones (buckets).
    public var zones: Int
    /// Zone size in bytes (a power of two).
    public var zoneSize: UInt64
    /// Usable bytes of a zone; nil means the zone size.
    public var zoneCapacity: UInt64?
    /// Block size in bytes, a power of two from 512 to ``maxBlockSize``; every simulated write is
    /// one block. 512 and 4096 are the device's logical block; a larger block is a placement
    /// unit of several 4 KiB device blocks (written, moved and tracked whole), which is how a
    /// multi-terabyte device fits in memory: the simulator keeps about 32 bytes per block.
    public var blockSize: Int
    /// Over-provisioning ρ = (T − U) / U; ignored when ``copygcReserve`` is set.
    public var overProvisioning: Double
    /// The copygc reserve (fraction of T, 0.05–0.21); when set, U is the usable capacity.
    public var copygcReserve: Double?
    /// The workload.
    public var workload: Workload
    /// Victim selection and placement.
    public var policy: CopygcPolicy
    /// User write points (streams) under single placement: block b goes to stream b mod n.
    /// Lifetime placement uses its two user classes instead.
    public var writePoints: Int
    /// Seed of the workload's random numbers.
    public var seed: UInt64
    /// Warm-up volume after the initial fill, in multiples of the logical size.
    public var warmup: Double
    /// Measured volume, in multiples of the logical size.
    public var measured: Double
    /// Blocks gathered into one device write (one reservation); does not change placement.
    public var batchBlocks: Int
    /// Distance between two samples of the CSV series, in multiples of the logical size.
    public var sampleInterval: Double
    /// Copygc starts below this many free buckets (normal watermark); nil: user write points + 1.
    public var startBelowFreeBuckets: Int?
    /// ... and stops at this many; nil: the start threshold + 2.
    public var stopAtFreeBuckets: Int?
    /// The device's max open zones (0: no limit), as an NVMe ZNS drive reports it.
    public var maxOpenZones: Int
    /// The device's max active zones (0: no limit). With either limit set the allocator's
    /// zone budget is the smaller one, and it must cover the simulation's write points.
    public var maxActiveZones: Int

    /// The largest ``blockSize``: 64 MiB.
    public static let maxBlockSize = 64 << 20

    /// Creates a configuration; the defaults are the acceptance geometry (64 GiB: 4096 zones of
    /// 16 MiB, 4 KiB blocks), uniform random overwrite, greedy, ρ = 0.12, 4× warm-up and 4×
    /// measured.
    public init(
        zones: Int = 4096,
        zoneSize: UInt64 = 16 << 20,
        zoneCapacity: UInt64? = nil,
        blockSize: Int = 4096,
        overProvisioning: Double = 0.12,
        copygcReserve: Double? = nil,
        workload: Workload = .uniform,
        policy: CopygcPolicy = .greedy,
        writePoints: Int = 1,
        seed: UInt64 = 1,
        warmup: Double = 4,
        measured: Double = 4,
        batchBlocks: Int = 64,
        sampleInterval: Double = 0.25,
        startBelowFreeBuckets: Int? = nil,
        stopAtFreeBuckets: Int? = nil,
        maxOpenZones: Int = 0,
        maxActiveZones: Int = 0
    ) {
        self.zones = zones
        self.zoneSize = zoneSize
        self.zoneCapacity = zoneCapacity
        self.blockSize = blockSize
        self.overProvisioning = overProvisioning
        self.copygcReserve = copygcReserve
        self.workload = workload
        self.policy = policy
        self.writePoints = writePoints
        self.seed = seed
        self.warmup = warmup
        self.measured = measured
        self.batchBlocks = batchBlocks
        self.sampleInterval = sampleInterval
        self.startBelowFreeBuckets = startBelowFreeBuckets
        self.stopAtFreeBuckets = stopAtFreeBuckets
        self.maxOpenZones = maxOpenZones
        self.maxActiveZones = maxActiveZones
    }
}
