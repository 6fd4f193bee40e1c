/// The sizes a simulation derived from its configuration, as data.
public struct SimulationLayout: Hashable, Sendable, Codable {
    /// Buckets (zones).
    public var buckets: Int
    /// Blocks per bucket (zone capacity / block size).
    public var blocksPerBucket: Int
    /// T: blocks in all buckets.
    public var totalBlocks: Int
    /// U: logical blocks.
    public var logicalBlocks: Int
    /// ρ = (T − U) / U, as simulated.
    public var overProvisioning: Double
    /// The allocator's copygc reserve (fraction of T).
    public var copygcReserve: Double
    /// Blocks users may keep live (the allocator's usable capacity).
    public var usableBlocks: Int
    /// User write points (or lifetime classes) and copygc write points.
    public var userWritePoints: Int
    /// Copygc write points.
    public var copygcWritePoints: Int
    /// The zone budget (open buckets) the allocator uses.
    public var zoneBudget: Int
    /// Buckets normal writes leave for copygc (the allocator's watermark).
    public var heldBackBuckets: Int
    /// Copygc's start and stop thresholds (free buckets at the normal watermark).
    public var startBelowFreeBuckets: Int
    /// Copygc's stop threshold.
    public var stopAtFreeBuckets: Int
}
