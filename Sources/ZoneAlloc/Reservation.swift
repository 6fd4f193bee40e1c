/// Space handed out by ``BucketAllocator/reserve(sectors:through:watermark:cached:split:)``: one
/// pointer per bucket the request spans, with the device byte offset to write each at.
///
/// Write the data at ``Piece/deviceOffset`` in the order of ``pieces`` and in reservation order
/// for one write point, then ``BucketAllocator/commit(_:)`` it (or
/// ``BucketAllocator/abandon(_:)`` it if a write failed). ``BucketAllocator/write(_:through:watermark:cached:split:)``
/// does all of that for you.
///
/// The common one-piece reservation is stored inline (no array is allocated for it); ``pieces``
/// builds an array when asked.
public struct Reservation: Sendable, Hashable {
    /// One contiguous piece in one bucket.
    public struct Piece: Sendable, Hashable {
        /// Where the data goes, with the bucket's generation.
        public var pointer: DataPointer
        /// The absolute byte offset on the device.
        public var deviceOffset: UInt64
        /// The write point that reserved it: commit finds the piece's in-flight count there.
        @usableFromInline let writePoint: Int32

        @usableFromInline
        init(pointer: DataPointer, deviceOffset: UInt64, writePoint: Int32) {
            self.pointer = pointer
            self.deviceOffset = deviceOffset
            self.writePoint = writePoint
        }

        /// A placeholder for the fast path to overwrite.
        @inlinable
        static var placeholder: Piece {
            Piece(
                pointer: DataPointer(
                    bucket: BucketIndex(rawValue: 0),
                    offset: 0,
                    sectors: 0,
                    generation: .init(rawValue: 0)
                ),
                deviceOffset: 0,
                writePoint: 0
            )
        }
    }

    /// One piece inline, or any other number in an array.
    @usableFromInline
    enum Storage: Sendable, Hashable {
        case one(Piece)
        case many([Piece])
    }

    @usableFromInline var storage: Storage

    /// A reservation of one piece.
    @inlinable
    init(_ piece: Piece) {
        storage = .one(piece)
    }

    /// A reservation of `pieces`.
    init(pieces: [Piece]) {
        storage = pieces.count == 1 ? .one(pieces[0]) : .many(pieces)
    }

    /// The pieces, in write order.
    public var pieces: [Piece] {
        get {
            switch storage {
            case .one(let piece): [piece]
            case .many(let pieces): pieces
            }
        }
        set {
            storage = newValue.count == 1 ? .one(newValue[0]) : .many(newValue)
        }
    }

    /// The number of pieces (buckets the reservation spans).
    public var pieceCount: Int {
        switch storage {
        case .one: 1
        case .many(let pieces): pieces.count
        }
    }

    /// The first piece (the only one unless the reservation spans buckets), if any.
    public var firstPiece: Piece? {
        switch storage {
        case .one(let piece): piece
        case .many(let pieces): pieces.first
        }
    }

    /// The pointers, in write order.
    public var pointers: [DataPointer] { pieces.map(\.pointer) }

    /// Total sectors reserved.
    public var sectors: Int {
        switch storage {
        case .one(let piece): Int(piece.pointer.sectors)
        case .many(let pieces): pieces.reduce(0) { $0 + Int($1.pointer.sectors) }
        }
    }
}
