public import ZonedStorage

/// Everything a conformance run found, ready for a table, JSON or JUnit XML.
public struct ConformanceReport: Sendable, Hashable, Codable {
    /// The device's path (`/dev/nvme0n1`, an image path, `<memory>`).
    public var path: String
    /// What the device said about itself.
    public var device: DeviceInfo
    /// The variant whose expectations were applied.
    public var variant: DeviceVariant
    /// How the variant was chosen: detected (and why) or given explicitly.
    public var variantSource: String
    /// One result per selected check, in checklist order.
    public var results: [ConformanceResult]
    /// Counts of passes, failures and skips.
    public var summary: ConformanceSummary
    /// Wall-clock time of the whole run in seconds.
    public var duration: Double
    /// Remarks about the run as a whole (working zones used, limits the device does not enforce,
    /// zones that could not be reset).
    public var notes: [String]

    /// Creates a report; ``summary`` is computed from `results`.
    public init(
        path: String,
        device: DeviceInfo,
        variant: DeviceVariant,
        variantSource: String,
        results: [ConformanceResult],
        duration: Double,
        notes: [String] = []
    ) {
        self.path = path
        self.device = device
        self.variant = variant
        self.variantSource = variantSource
        self.results = results
        self.summary = ConformanceSummary(results)
        self.duration = duration
        self.notes = notes
    }

    /// Whether no check failed.
    public var isSuccess: Bool { summary.failed == 0 }

    /// The results that failed.
    public var failures: [ConformanceResult] { results.filter { $0.outcome.isFailure } }

    /// The result of checklist item `number`, if it was run.
    public func result(_ number: Int) -> ConformanceResult? {
        results.first { $0.number == number }
    }
}
