/// Which zones a report returns, as `enum zbd_report_option` in `libzbd/zbd.h`. Filtering matches
/// libzbd's user-space filter (checklist item 8).
public enum ZoneReportFilter: UInt8, Sendable, Hashable, CaseIterable, Codable {
    /// Every zone (`ZBD_RO_ALL`).
    case all = 0x00
    /// Empty zones (`ZBD_RO_EMPTY`).
    case empty = 0x01
    /// Implicitly open zones (`ZBD_RO_IMP_OPEN`).
    case implicitOpen = 0x02
    /// Explicitly open zones (`ZBD_RO_EXP_OPEN`).
    case explicitOpen = 0x03
    /// Closed zones (`ZBD_RO_CLOSED`).
    case closed = 0x04
    /// Full zones (`ZBD_RO_FULL`).
    case full = 0x05
    /// Read-only zones (`ZBD_RO_RDONLY`).
    case readOnly = 0x06
    /// Offline zones (`ZBD_RO_OFFLINE`).
    case offline = 0x07
    /// Zones with the reset-recommended flag (`ZBD_RO_RWP_RECOMMENDED`).
    case resetRecommended = 0x10
    /// Zones with the non-sequential-resources flag (`ZBD_RO_NON_SEQ`).
    case nonSequential = 0x11
    /// Conventional zones, whose condition is NOT_WP (`ZBD_RO_NOT_WP`).
    case notWritePointer = 0x3F

    /// Whether `zone` passes this filter.
    public func matches(_ zone: Zone) -> Bool {
        switch self {
        case .all: true
        case .empty: zone.condition == .empty
        case .implicitOpen: zone.condition == .implicitOpen
        case .explicitOpen: zone.condition == .explicitOpen
        case .closed: zone.condition == .closed
        case .full: zone.condition == .full
        case .readOnly: zone.condition == .readOnly
        case .offline: zone.condition == .offline
        case .resetRecommended: zone.resetRecommended
        case .nonSequential: zone.nonSequentialResources
        case .notWritePointer: zone.condition == .notWritePointer
        }
    }

    /// Parses a filter name: `all`, a condition name (`EMPTY`, `em`, `explicitOpen`, …),
    /// `reset-recommended`/`rwp`, `non-seq`, `not-wp`/`conventional`.
    public init?(name: String) {
        let lowered = String(name.lowercased().map { $0 == "-" ? "_" : $0 })
        switch lowered {
        case "all": self = .all
        case "rwp", "reset_recommended", "resetrecommended", "rwp_recommended": self = .resetRecommended
        case "non_seq", "nonseq", "nonsequential": self = .nonSequential
        case "not_wp", "nw", "notwritepointer", "conventional", "cnv": self = .notWritePointer
        default:
            guard let condition = ZoneCondition(name: lowered) else { return nil }
            switch condition {
            case .notWritePointer: self = .notWritePointer
            case .empty: self = .empty
            case .implicitOpen: self = .implicitOpen
            case .explicitOpen: self = .explicitOpen
            case .closed: self = .closed
            case .full: self = .full
            case .readOnly: self = .readOnly
            case .offline: self = .offline
            }
        }
    }
}
