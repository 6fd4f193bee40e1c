/// The condition of a zone, as `enum blk_zone_cond` in `linux/blkzoned.h`. Raw values are the
/// kernel's.
public enum ZoneCondition: UInt8, Sendable, Hashable, CaseIterable, Codable {
    /// A conventional zone, which has no write pointer (`BLK_ZONE_COND_NOT_WP`).
    case notWritePointer = 0x0
    /// Write pointer at the zone start (`BLK_ZONE_COND_EMPTY`).
    case empty = 0x1
    /// Opened by a write (`BLK_ZONE_COND_IMP_OPEN`).
    case implicitOpen = 0x2
    /// Opened by an explicit open command (`BLK_ZONE_COND_EXP_OPEN`).
    case explicitOpen = 0x3
    /// Partly written and holding an active resource, but not open (`BLK_ZONE_COND_CLOSED`).
    case closed = 0x4
    /// Written to capacity or finished (`BLK_ZONE_COND_FULL`).
    case full = 0xE
    /// Readable but never writable again (`BLK_ZONE_COND_READONLY`).
    case readOnly = 0xD
    /// Neither readable nor writable (`BLK_ZONE_COND_OFFLINE`).
    case offline = 0xF

    /// The short name `zbd report` prints (`nw`, `em`, `oi`, `oe`, `cl`, `fu`, `ro`, `ol`).
    public var shortName: String {
        switch self {
        case .notWritePointer: "nw"
        case .empty: "em"
        case .implicitOpen: "oi"
        case .explicitOpen: "oe"
        case .closed: "cl"
        case .full: "fu"
        case .readOnly: "ro"
        case .offline: "ol"
        }
    }

    /// The kernel's name without the `BLK_ZONE_COND_` prefix: `NOT_WP`, `EMPTY`, `IMP_OPEN`, ….
    public var kernelName: String {
        switch self {
        case .notWritePointer: "NOT_WP"
        case .empty: "EMPTY"
        case .implicitOpen: "IMP_OPEN"
        case .explicitOpen: "EXP_OPEN"
        case .closed: "CLOSED"
        case .full: "FULL"
        case .readOnly: "READONLY"
        case .offline: "OFFLINE"
        }
    }

    /// Whether the zone holds an open resource: implicitly or explicitly open.
    public var isOpen: Bool { self == .implicitOpen || self == .explicitOpen }

    /// Whether the zone holds an active resource: open or closed.
    public var isActive: Bool { isOpen || self == .closed }

    /// Whether the zone's write pointer is meaningful (not for conventional, full, read-only
    /// or offline zones; checklist item 11).
    public var hasValidWritePointer: Bool {
        switch self {
        case .empty, .implicitOpen, .explicitOpen, .closed: true
        case .notWritePointer, .full, .readOnly, .offline: false
        }
    }

    /// Parses a kernel name (`EXP_OPEN`), a short name (`oe`) or a Swift case name (`explicitOpen`),
    /// case-insensitively.
    public init?(name: String) {
        let lowered = String(name.lowercased().map { $0 == "-" ? "_" : $0 })
        for condition in ZoneCondition.allCases
        where lowered == condition.kernelName.lowercased() || lowered == condition.shortName
            || lowered == "\(condition)".lowercased()
        {
            self = condition
            return
        }
        return nil
    }
}
