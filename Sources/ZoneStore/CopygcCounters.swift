/// Copygc totals of a store since it was opened.
public struct CopygcCounters: Sendable, Hashable, Codable {
    /// Passes run.
    public var passes = 0
    /// Passes that found nothing to free.
    public var passesFreeingNothing = 0
    /// Buckets emptied and reset.
    public var bucketsFreed = 0
    /// Bytes of live data moved.
    public var bytesMoved: UInt64 = 0
    /// Moves refused because the value changed meanwhile.
    public var racesLost = 0
    /// Cached bytes dropped instead of moved.
    public var cachedBytesDropped: UInt64 = 0
    /// Times an allocation kicked copygc because it found no free bucket.
    public var kicks = 0
}
