import ZoneAlloc

/// Copygc's mutable state, kept under one lock by ``Copygc``: the backpointers, the owners, the
/// clocks and pacing state, the lifetime classifier, and old copies waiting for release. No I/O
/// and no owner call happens while it is locked.
struct CopygcState: Sendable {
    var index: BackpointerIndex
    var owners: [any ExtentOwner] = []
    var statistics = CopygcStatistics()
    var classifier: LifetimeClassifier
    /// The write clock: user sectors recorded so far.
    var writeClock: UInt64 = 0
    /// Sectors recorded as written or dead: what can change copygc's prospects.
    var activity: UInt64 = 0
    /// After a pass that found nothing: no background pass or kick until ``activity`` reaches it.
    var backoffUntil: UInt64?
    /// The write clock at which writers next evaluate the background trigger.
    var nextCheck: UInt64 = 0
    /// Between the start and the stop threshold while collecting (hysteresis).
    var active = false
    var passInProgress = false
    /// Old copies of accepted moves, released (marked dead) once the new copies are flushed and
    /// their owners committed.
    var pendingRelease: [DataPointer] = []
    /// Owners that must commit before ``pendingRelease`` is released.
    var pendingOwners: Set<UInt16> = []
    /// The last error of a pass run by a kick or the background worker (nobody to throw to).
    var lastError: GCError?

    init(index: BackpointerIndex, classifier: LifetimeClassifier) {
        self.index = index
        self.classifier = classifier
    }

    func owner(_ id: UInt16) -> (any ExtentOwner)? {
        Int(id) < owners.count ? owners[Int(id)] : nil
    }
}
