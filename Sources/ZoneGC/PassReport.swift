public import ZoneAlloc

/// What one copygc pass did, as data.
public struct PassReport: Sendable, Hashable {
    /// Why the pass ran.
    public enum Trigger: String, Sendable, Hashable, Codable {
        /// Free buckets fell below the start threshold (or are still below the stop threshold).
        case background
        /// An allocation is waiting for a bucket (the allocator's foreground kick).
        case kick
        /// A caller asked for a pass (``Copygc/collect()``).
        case requested
    }

    /// How the pass ended.
    public enum Outcome: Sendable, Hashable {
        /// Victims were evacuated (``PassReport/bucketsFreed`` may still be 0 when owners
        /// raced, or buckets wait for the release of a failed commit).
        case evacuated
        /// Nothing could be freed; copygc backs off until more is written or deleted. The
        /// reason says why (no fragmented bucket, too little dead space, no bucket to
        /// evacuate into).
        case nothingToFree(reason: String)
        /// Skipped: copygc is backing off after a pass that found nothing to do, and too little
        /// has been written or deleted since.
        case backingOff
        /// Skipped: another pass is running.
        case busy
    }

    /// Why the pass ran.
    public var trigger: Trigger
    /// How it ended.
    public var outcome: Outcome
    /// Buckets evacuated (in order).
    public var victims: [BucketIndex] = []
    /// Victims emptied and reset.
    public var bucketsFreed = 0
    /// Sectors moved and accepted by their owners.
    public var sectorsMoved = 0
    /// Moves refused because the extent was overwritten meanwhile.
    public var racesLost = 0
    /// Cached sectors dropped.
    public var cachedSectorsDropped = 0
    /// Free buckets (normal watermark) before and after the pass.
    public var freeBucketsBefore = 0
    /// Free buckets (normal watermark) after the pass.
    public var freeBucketsAfter = 0
    /// Wall-clock duration.
    public var duration = Duration.zero
    /// Why the pass stopped before its goal after moving some data, when it did: writers took
    /// the free buckets a group of victims was to be moved into. The victims not yet emptied
    /// stay where they are until a later pass.
    public var stoppedEarly: String?

    /// Creates a report.
    public init(trigger: Trigger, outcome: Outcome) {
        self.trigger = trigger
        self.outcome = outcome
    }

    /// Whether the pass found nothing it could free.
    public var foundNothing: Bool {
        if case .nothingToFree = outcome { return true }
        return false
    }
}
