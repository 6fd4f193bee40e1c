/// The sections of `zone-model-checklist.md`, which group its 80 items.
public enum ConformanceSection: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// A. Geometry and zone report (items 1–11).
    case geometry = "A"
    /// B. Regular writes (items 12–26).
    case writes = "B"
    /// C. Zone append (items 27–30).
    case append = "C"
    /// D. Explicit zone management (items 31–53).
    case zoneManagement = "D"
    /// E. Open / active resource accounting (items 54–62).
    case resources = "E"
    /// F. Reads (items 63–68).
    case reads = "F"
    /// G. READONLY and OFFLINE zones (items 69–71).
    case faultyZones = "G"
    /// H. Zone capacity smaller than zone size (items 72–74).
    case capacity = "H"
    /// I. libzbd / wrapper-specific behaviour (items 75–80).
    case wrapper = "I"

    /// The section holding checklist item `item`.
    public init(item: Int) {
        switch item {
        case ...11: self = .geometry
        case 12...26: self = .writes
        case 27...30: self = .append
        case 31...53: self = .zoneManagement
        case 54...62: self = .resources
        case 63...68: self = .reads
        case 69...71: self = .faultyZones
        case 72...74: self = .capacity
        default: self = .wrapper
        }
    }

    /// The section's heading in the checklist.
    public var title: String {
        switch self {
        case .geometry: "Geometry and zone report"
        case .writes: "Regular writes"
        case .append: "Zone append"
        case .zoneManagement: "Explicit zone management"
        case .resources: "Open / active resource accounting"
        case .reads: "Reads"
        case .faultyZones: "READONLY and OFFLINE zones"
        case .capacity: "Zone capacity smaller than zone size"
        case .wrapper: "libzbd / wrapper-specific behaviour"
        }
    }

    /// `A. Geometry and zone report`.
    public var description: String { "\(rawValue). \(title)" }
}
