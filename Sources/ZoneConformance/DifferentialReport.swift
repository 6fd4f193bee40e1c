public import ZonedStorage

/// Everything a differential run (``DifferentialRun``) found, ready for text or JSON.
public struct DifferentialReport: Sendable, Hashable, Codable {
    /// The device's path.
    public var path: String
    /// What the device said about itself.
    public var device: DeviceInfo
    /// The variant whose emulator profile the reference used.
    public var variant: DeviceVariant
    /// How the variant was chosen: detected (and why) or given explicitly.
    public var variantSource: String
    /// The seed of the operation sequence.
    public var seed: UInt64
    /// The number of operations asked for.
    public var requestedOperations: Int
    /// The number of operations run (up to and including a divergent one).
    public var executedOperations: Int
    /// The sequential zones the operations used, and the conventional zone, if any.
    public var workingZones: [Int]
    /// The first disagreement, or nil when the devices agreed throughout.
    public var divergence: DifferentialDivergence?
    /// What the run exercised.
    public var statistics: DifferentialStatistics
    /// Remarks: appends not supported, limits the reference does not enforce, how null_blk's
    /// round-robin position was found.
    public var notes: [String]
    /// Wall-clock time in seconds.
    public var duration: Double
    /// Every operation run, in order, when ``DifferentialRun/Options/recordOperations`` was set.
    public var operations: [DifferentialOperation]?

    /// Creates a report.
    public init(
        path: String,
        device: DeviceInfo,
        variant: DeviceVariant,
        variantSource: String,
        seed: UInt64,
        requestedOperations: Int,
        executedOperations: Int,
        workingZones: [Int],
        divergence: DifferentialDivergence?,
        statistics: DifferentialStatistics,
        notes: [String],
        duration: Double,
        operations: [DifferentialOperation]?
    ) {
        self.path = path
        self.device = device
        self.variant = variant
        self.variantSource = variantSource
        self.seed = seed
        self.requestedOperations = requestedOperations
        self.executedOperations = executedOperations
        self.workingZones = workingZones
        self.divergence = divergence
        self.statistics = statistics
        self.notes = notes
        self.duration = duration
        self.operations = operations
    }

    /// Whether the devices agreed after every operation.
    public var isSuccess: Bool { divergence == nil }
}
