public import ZoneAlloc

/// How ``Copygc`` runs: policy, pacing thresholds, pass size, and the write points of the
/// lifetime classes.
///
/// **Pacing.** Free buckets are counted as ``ZoneAlloc/BucketAllocator/availableBuckets(for:)``
/// at the normal watermark (buckets held back for copygc and metadata are not counted).
/// Background copygc starts when they fall below ``startBelowFreeBuckets`` and keeps going until
/// ``stopAtFreeBuckets`` (hysteresis). Every bucket kept free this way is over-provisioning
/// copygc cannot use, so on few, large zones keep both low: each raises write amplification.
public struct CopygcConfiguration: Sendable, Hashable {
    /// Victim selection and placement.
    public var policy: CopygcPolicy
    /// Background copygc starts when free buckets (at the normal watermark) fall below this.
    public var startBelowFreeBuckets: Int
    /// ... and stops once they reach this (> ``startBelowFreeBuckets``).
    public var stopAtFreeBuckets: Int
    /// Most victims one pass evacuates (bounds a pass's duration; bcachefs gathers batches).
    public var maxVictimsPerPass: Int
    /// After a pass that could free nothing, background passes and kicks wait until this many
    /// more sectors were written or became dead (bcachefs sleeps on its write clock); nil means
    /// one bucket.
    public var backoffSectors: Int?
    /// How many user sectors may be recorded between two evaluations of the background trigger
    /// (each evaluation counts free buckets); nil means a quarter of a bucket.
    public var checkIntervalSectors: Int?
    /// Read the data of moved extents and write it at the new place. Off only for devices that
    /// keep no data (a metadata-only ``ZonedStorage/EmulatedDevice`` in a simulation): the
    /// writes are still issued, so zone state advances exactly as with data.
    public var moveData: Bool
    /// How often, in seconds, the background worker re-evaluates the trigger without being
    /// woken by writes or kicks.
    public var pollInterval: Double
    /// Extents start on multiples of this many sectors and copygc keeps one backpointer slot
    /// per such block; nil means the device's logical block. A writer whose extents are all
    /// whole larger units (a simulation with 1 MiB placement units) sets it to the unit, so the
    /// backpointer table takes 24 bytes per unit rather than per 4 KiB. A power of two, a
    /// multiple of the device's logical block, dividing the bucket.
    public var blockSectors: Int?
    /// Hints of the two user lifetime classes (short-lived, long-lived) under lifetime placement.
    public var userClassHints: [WriteHint]
    /// Hints of the four copygc lifetime classes under lifetime placement: rewrites of
    /// short-lived buckets, then data younger than 4ℓ, 16ℓ, older. The first is the copygc
    /// write point; the others are user write points written at the copygc watermark, so keep
    /// the allocator's user zone budget large enough for them and the user hints.
    public var copygcClassHints: [WriteHint]
    /// How many reclaimed short-lived buckets ℓ averages over (SepBIT: 16).
    public var lifespanWindow: Int
    /// A user write is short-lived when its previous version lived less than this × ℓ (SepBIT:
    /// 1; see ``LifetimeClassifier``).
    public var shortLifespanFactor: Double

    /// Creates a configuration.
    public init(
        policy: CopygcPolicy = .greedy,
        startBelowFreeBuckets: Int = 4,
        stopAtFreeBuckets: Int = 8,
        maxVictimsPerPass: Int = 64,
        backoffSectors: Int? = nil,
        checkIntervalSectors: Int? = nil,
        moveData: Bool = true,
        pollInterval: Double = 1,
        blockSectors: Int? = nil,
        userClassHints: [WriteHint] = [.temperature(.hot), .temperature(.cold)],
        copygcClassHints: [WriteHint] = [
            .copygc, .stream(0x6763_0000_0000_0003), .stream(0x6763_0000_0000_0004), .stream(0x6763_0000_0000_0005),
        ],
        lifespanWindow: Int = 16,
        shortLifespanFactor: Double = 8
    ) {
        self.policy = policy
        self.startBelowFreeBuckets = startBelowFreeBuckets
        self.stopAtFreeBuckets = stopAtFreeBuckets
        self.maxVictimsPerPass = maxVictimsPerPass
        self.backoffSectors = backoffSectors
        self.checkIntervalSectors = checkIntervalSectors
        self.moveData = moveData
        self.pollInterval = pollInterval
        self.blockSectors = blockSectors
        self.userClassHints = userClassHints
        self.copygcClassHints = copygcClassHints
        self.lifespanWindow = lifespanWindow
        self.shortLifespanFactor = shortLifespanFactor
    }

    /// Write points copygc itself writes through.
    var copygcHints: [WriteHint] { policy.placement == .lifetime ? copygcClassHints : [.copygc] }

    func validate() throws(GCError) {
        func fail(_ message: String) -> GCError { GCError(code: .invalidConfiguration, message: message) }
        guard startBelowFreeBuckets >= 1, stopAtFreeBuckets > startBelowFreeBuckets else {
            throw fail(
                "copygc thresholds start below \(startBelowFreeBuckets), stop at \(stopAtFreeBuckets) free buckets "
                    + "are invalid: start must be ≥ 1 and stop above it (hysteresis); use e.g. 4 and 8"
            )
        }
        guard maxVictimsPerPass >= 1 else {
            throw fail("maxVictimsPerPass \(maxVictimsPerPass) must be ≥ 1")
        }
        guard (backoffSectors ?? 1) >= 1, (checkIntervalSectors ?? 1) >= 1, pollInterval > 0 else {
            throw fail("backoffSectors and checkIntervalSectors must be ≥ 1 and pollInterval > 0")
        }
        guard userClassHints.count == 2, copygcClassHints.count == 4, lifespanWindow >= 1, shortLifespanFactor > 0
        else {
            throw fail(
                "lifetime placement needs 2 user class hints and 4 copygc class hints (got \(userClassHints.count) "
                    + "and \(copygcClassHints.count)), a lifespan window ≥ 1 and a short-lifespan factor > 0"
            )
        }
        let hints = userClassHints + copygcClassHints
        guard Set(hints).count == hints.count, !userClassHints.contains(.copygc), !hints.contains(.metadata) else {
            throw fail(
                "the lifetime class hints must be distinct, user classes may not use the copygc write point and "
                    + "no class may use the metadata write point"
            )
        }
    }
}
