/// The type of a zone, as `enum blk_zone_type` in `linux/blkzoned.h` and `enum zbd_zone_type` in
/// `libzbd/zbd.h`.
public enum ZoneType: UInt8, Sendable, Hashable, CaseIterable, Codable {
    /// A conventional zone: random writes, no write pointer (`BLK_ZONE_TYPE_CONVENTIONAL`).
    case conventional = 1
    /// A sequential-write-required zone: writes only at the write pointer (`BLK_ZONE_TYPE_SEQWRITE_REQ`).
    case sequentialWriteRequired = 2
    /// A sequential-write-preferred (host-aware) zone (`BLK_ZONE_TYPE_SEQWRITE_PREF`). Current
    /// kernels refuse to expose these as zoned; zonealloc never creates them.
    case sequentialWritePreferred = 3

    /// The short name `zbd report` prints: `cnv`, `swr`, `swp`.
    public var shortName: String {
        switch self {
        case .conventional: "cnv"
        case .sequentialWriteRequired: "swr"
        case .sequentialWritePreferred: "swp"
        }
    }

    /// The kernel's name: `CONVENTIONAL`, `SEQ_WRITE_REQUIRED`, `SEQ_WRITE_PREFERRED`.
    public var kernelName: String {
        switch self {
        case .conventional: "CONVENTIONAL"
        case .sequentialWriteRequired: "SEQ_WRITE_REQUIRED"
        case .sequentialWritePreferred: "SEQ_WRITE_PREFERRED"
        }
    }

    /// Whether zones of this type have a write pointer.
    public var isSequential: Bool { self != .conventional }
}
