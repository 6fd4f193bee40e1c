public import Logging

/// Options of ``ZoneStore/open(_:options:)``.
public struct OpenOptions: Sendable {
    /// Where the store logs (recovery, checkpoints, copygc).
    public var logger: Logger
    /// How long, in seconds, a put waits for copygc to free a bucket before failing with
    /// ``StoreError/Code/timedOut``.
    public var allocationWaitLimit: Double
    /// Open-zone cap used when the device reports no limit.
    public var defaultZoneLimit: Int
    /// A checkpoint is written when the journal has grown by this many bytes since the last one
    /// (and by at least twice the last checkpoint's size); nil means 8 buckets.
    public var checkpointInterval: Int?
    /// Run copygc on a background thread when an allocation waits for space (the allocator's
    /// kick). With `false` only ``ZoneStore/collectGarbage(maxVictims:)`` and the copygc service
    /// run it.
    public var copygcOnDemand: Bool
    /// Free buckets below which copygc runs (kicks and the background service).
    public var copygcStartBelowFreeBuckets: Int
    /// Free buckets at which a background copygc run stops.
    public var copygcStopAtFreeBuckets: Int

    /// Creates options with defaults.
    public init(
        logger: Logger = Logger(label: "zonealloc.store"),
        allocationWaitLimit: Double = 10,
        defaultZoneLimit: Int = 16,
        checkpointInterval: Int? = nil,
        copygcOnDemand: Bool = true,
        copygcStartBelowFreeBuckets: Int = 4,
        copygcStopAtFreeBuckets: Int = 8
    ) {
        self.logger = logger
        self.allocationWaitLimit = allocationWaitLimit
        self.defaultZoneLimit = defaultZoneLimit
        self.checkpointInterval = checkpointInterval
        self.copygcOnDemand = copygcOnDemand
        self.copygcStartBelowFreeBuckets = copygcStartBelowFreeBuckets
        self.copygcStopAtFreeBuckets = copygcStopAtFreeBuckets
    }
}
