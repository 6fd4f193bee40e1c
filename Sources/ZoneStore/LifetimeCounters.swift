/// Totals since the store was formatted, kept in the superblock (updated at every open,
/// checkpoint and close; a crash loses what happened since the last of those).
public struct LifetimeCounters: Sendable, Hashable, Codable {
    /// Bytes users stored.
    public var userBytesWritten: UInt64 = 0
    /// Bytes written to the device (data, copygc, journal).
    public var deviceBytesWritten: UInt64 = 0
    /// Copygc passes.
    public var copygcPasses: UInt64 = 0
    /// Bytes copygc moved.
    public var copygcBytesMoved: UInt64 = 0
    /// Buckets copygc emptied.
    public var copygcBucketsFreed: UInt64 = 0
    /// Zone resets.
    public var resets: UInt64 = 0

    /// Creates counters.
    public init() {}

    /// Device bytes per user byte (1 when nothing was written).
    public var writeAmplification: Double {
        userBytesWritten == 0 ? 1 : Double(deviceBytesWritten) / Double(userBytesWritten)
    }

    /// Offset of the counters in the superblock record.
    static let offset = 2048

    func encode(into writer: inout ByteWriter) {
        for value in [userBytesWritten, deviceBytesWritten, copygcPasses, copygcBytesMoved, copygcBucketsFreed, resets]
        {
            writer.u64(value)
        }
    }

    static func decode(_ reader: inout ByteReader) -> LifetimeCounters {
        var counters = LifetimeCounters()
        counters.userBytesWritten = reader.u64()
        counters.deviceBytesWritten = reader.u64()
        counters.copygcPasses = reader.u64()
        counters.copygcBytesMoved = reader.u64()
        counters.copygcBucketsFreed = reader.u64()
        counters.resets = reader.u64()
        return counters
    }

    /// These totals plus a session's.
    func adding(_ other: LifetimeCounters) -> LifetimeCounters {
        var sum = self
        sum.userBytesWritten += other.userBytesWritten
        sum.deviceBytesWritten += other.deviceBytesWritten
        sum.copygcPasses += other.copygcPasses
        sum.copygcBytesMoved += other.copygcBytesMoved
        sum.copygcBucketsFreed += other.copygcBucketsFreed
        sum.resets += other.resets
        return sum
    }
}
