/// What the index keeps for one key: the value's length, whether it is cached, its extents in
/// order, and the journal sequence number of the record that last wrote it (its version).
public struct IndexEntry: Hashable, Sendable {
    /// The value's length in bytes.
    public var length: Int
    /// Dirty (kept until deleted) or cached (may be dropped).
    public var kind: ValueKind
    /// The extents holding the value, in order; empty for an empty value or an evicted marker.
    public var extents: [StoredExtent]
    /// The journal sequence number of the put or move that produced this entry.
    public var version: UInt64
    /// A cached value whose data was dropped (kept so `get` can say so until it is deleted).
    public var isEvictedMarker: Bool
    /// The entry's number for copygc's backpointers (not stored on disk): unchanged by copygc
    /// moves, so an extent's backpointer key `id << 6 | extent index` stays valid. 0 until the
    /// store assigns one.
    var id: UInt64 = 0

    /// The backpointer key of extent `index` of the entry with number `id`.
    static func backpointerKey(id: UInt64, extent index: Int) -> UInt64 { id << 6 | UInt64(index) }

    /// Creates an entry.
    public init(length: Int, kind: ValueKind, extents: [StoredExtent], version: UInt64, isEvictedMarker: Bool = false) {
        self.length = length
        self.kind = kind
        self.extents = extents
        self.version = version
        self.isEvictedMarker = isEvictedMarker
    }
}
