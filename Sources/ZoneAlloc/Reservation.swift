/// Space handed out by ``BucketAllocator/reserve(sectors:for:watermark:cached:split:)``: one
/// pointer per bucket the request spans, with the device byte offset to write each at.
///
/// Write the data at ``Piece/deviceOffset`` in the order of ``pieces`` and in reservation order
/// for one write point, then ``BucketAllocator/commit(_:)`` it (or
/// ``BucketAllocator/abandon(_:)`` it if a write failed). ``BucketAllocator/write(_:hint:watermark:cached:split:)``
/// does all of that for you.
public struct Reservation: Sendable, Hashable {
    /// One contiguous piece in one bucket.
    public struct Piece: Sendable, Hashable {
        /// Where the data goes, with the bucket's generation.
        public var pointer: DataPointer
        /// The absolute byte offset on the device.
        public var deviceOffset: UInt64
    }

    /// The pieces, in write order.
    public var pieces: [Piece]

    /// The pointers, in write order.
    public var pointers: [DataPointer] { pieces.map(\.pointer) }

    /// Total sectors reserved.
    public var sectors: Int { pieces.reduce(0) { $0 + Int($1.pointer.sectors) } }
}
