/// The store's documented limits (see FORMAT.md).
public enum StoreLimits {
    /// The longest key, in bytes.
    public static let maximumKeyLength = StoreKey.maximumLength
    /// The most extents one value may span; a value larger than what is left in its write
    /// point's bucket is split, one extent per bucket.
    public static let maximumExtentsPerValue = 64
    /// The largest value in bytes on any device (values are held in memory by put and get).
    public static let absoluteMaximumValueSize = 256 << 20

    /// The largest value on a device whose buckets hold `bucketBytes`: a value spans at most
    /// ``maximumExtentsPerValue`` buckets (the first may be nearly full), capped at
    /// ``absoluteMaximumValueSize``.
    public static func maximumValueSize(bucketBytes: Int) -> Int {
        min(absoluteMaximumValueSize, (maximumExtentsPerValue - 1) * bucketBytes)
    }
}
