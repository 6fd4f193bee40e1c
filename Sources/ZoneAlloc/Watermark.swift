/// How deep into the free buckets an allocation may reach, as bcachefs's `BCH_WATERMARK_*`.
///
/// Normal writes cannot take the last few free buckets: they are held for copygc (so it can
/// always evacuate a victim) and for metadata (so a journal commit always finds room). How many
/// are held is sized from the zone slots reserved for copygc and metadata, see
/// ``AllocatorConfiguration``.
public enum Watermark: Int, Sendable, Hashable, CaseIterable, Comparable, Codable {
    /// User writes (`BCH_WATERMARK_normal`).
    case normal = 0
    /// Copygc rewrites (`BCH_WATERMARK_copygc`): may take the buckets held for copygc.
    case copygc = 1
    /// Metadata (journal, superblock; `BCH_WATERMARK_btree`): may take every free bucket.
    case metadata = 2

    public static func < (lhs: Watermark, rhs: Watermark) -> Bool { lhs.rawValue < rhs.rawValue }
}
