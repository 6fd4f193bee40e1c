/// The number of a bucket: the index of the zone it is (bucket = zone).
public struct BucketIndex: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The zone index.
    public var rawValue: UInt32

    /// Creates a bucket index from a zone index.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Creates a bucket index from a zone index.
    public init(_ zone: Int) {
        precondition(zone >= 0 && zone <= Int(UInt32.max), "zone index \(zone) out of range for a bucket")
        self.rawValue = UInt32(zone)
    }

    /// The zone index as an `Int`.
    public var zone: Int { Int(rawValue) }

    public static func < (lhs: BucketIndex, rhs: BucketIndex) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "bucket \(rawValue)" }
}
