/// Device faults the store absorbed since it was opened: operations that failed on the device
/// once and succeeded when tried again (``ZoneStore/statistics()``).
public struct FaultCounters: Sendable, Hashable {
    /// Extent reads that failed and were read again.
    public var readRetries: Int
    /// Value writes that failed on the device (the bucket was given up) and were written again
    /// in another bucket.
    public var writeRetries: Int
    /// Journal group writes that failed and were written again at the same place after the
    /// zone's write pointer was checked.
    public var journalRetries: Int
}
