/// A write point of one ``BucketAllocator`` (bcachefs's `write_point`): a stream of writes with
/// at most one open bucket at a time. Unrelated streams use different write points, so their
/// data lands in different buckets.
///
/// Resolve a write point once with ``BucketAllocator/writePoint(for:)`` and pass it to
/// ``BucketAllocator/reserve(sectors:through:watermark:cached:split:)`` or
/// ``BucketAllocator/write(_:through:watermark:cached:split:)``: the allocation then goes straight
/// to the write point's open bucket (the fast path) without looking the hint up each time. The
/// hint-taking methods do that lookup for you on every call.
///
/// A write point belongs to the allocator that resolved it (passing it to another allocator
/// traps) and stays valid for that allocator's lifetime. When hints outnumber the user write
/// points, a later hint may take over the least recently used write point: holders of its handle
/// then share it with that hint, exactly as two hints sharing a write point do.
public struct WritePoint: Hashable, Sendable, CustomStringConvertible {
    /// What a write point serves, and so whose zone slots its open bucket uses.
    public enum Kind: Hashable, Sendable, CustomStringConvertible {
        /// User data (``WriteHint/stream(_:)``, ``WriteHint/owner(_:)``, ``WriteHint/temperature(_:)``).
        case user
        /// Copygc's rewrites (``WriteHint/copygc``).
        case copygc
        /// Metadata (``WriteHint/metadata``).
        case metadata

        public var description: String {
            switch self {
            case .user: "user"
            case .copygc: "copygc"
            case .metadata: "metadata"
            }
        }
    }

    /// What the write point serves.
    public let kind: Kind
    /// The write point's number in its allocator (0 is metadata's, 1 copygc's, then the user ones).
    public let index: Int
    /// The allocator it belongs to.
    @usableFromInline let allocator: ObjectIdentifier

    init(kind: Kind, index: Int, allocator: ObjectIdentifier) {
        self.kind = kind
        self.index = index
        self.allocator = allocator
    }

    public var description: String { "\(kind) write point \(index)" }
}
