public import ZoneAlloc

/// What one copygc pass did.
public struct CopygcReport: Sendable, Hashable {
    /// How the pass ended.
    public enum Outcome: Sendable, Hashable {
        /// Victims were evacuated.
        case evacuated
        /// Nothing could be freed; the reason says why.
        case nothingToFree(String)
        /// Another pass is running, or copygc backs off after a pass that found nothing.
        case busy
    }

    /// How the pass ended.
    public var outcome: Outcome
    /// The buckets evacuated.
    public var victims: [BucketIndex] = []
    /// Victims emptied and reset.
    public var bucketsFreed = 0
    /// Bytes of live data moved.
    public var bytesMoved: UInt64 = 0
    /// Moves refused because the value changed meanwhile.
    public var racesLost = 0
    /// Cached bytes dropped.
    public var cachedBytesDropped: UInt64 = 0
    /// Why the pass stopped before its goal after moving some data, if it did: writers took the
    /// free buckets copygc was about to move data into. A later pass takes the rest.
    public var stoppedEarly: String?

    /// Creates a report.
    public init(outcome: Outcome) { self.outcome = outcome }
}
