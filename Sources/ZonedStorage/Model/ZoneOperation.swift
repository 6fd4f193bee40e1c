/// A zone management operation (`enum zbd_zone_op`; the `BLKRESETZONE`, `BLKOPENZONE`,
/// `BLKCLOSEZONE` and `BLKFINISHZONE` ioctls).
public enum ZoneOperation: String, Sendable, Hashable, CaseIterable, Codable {
    /// Move the write pointer back to the zone start and discard the data (→ EMPTY).
    case reset
    /// Open the zone explicitly (→ EXP_OPEN).
    case open
    /// Close an open zone (→ CLOSED, or EMPTY when nothing was written).
    case close
    /// Move the write pointer to the zone end (→ FULL).
    case finish
}
