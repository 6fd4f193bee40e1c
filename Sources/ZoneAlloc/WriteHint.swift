/// What a write belongs to, so that unrelated IO goes to different buckets (bcachefs's write
/// point specifier). Each distinct hint maps to a write point with its own open bucket while the
/// zone budget allows; beyond it, hints share write points, least recently used first.
public enum WriteHint: Hashable, Sendable, Codable {
    /// A caller-chosen stream (for example a file, a tenant, a RocksDB level).
    case stream(UInt64)
    /// An owner (process, client) whose writes belong together.
    case owner(UInt64)
    /// The expected lifetime of the data.
    case temperature(Temperature)
    /// Copygc's dedicated write point (uses the reserved copygc zone slot).
    case copygc
    /// Metadata's dedicated write point (uses the reserved metadata zone slot).
    case metadata

    /// Expected data lifetime classes.
    public enum Temperature: String, Hashable, Sendable, Codable, CaseIterable {
        /// Short-lived data.
        case hot
        /// Medium-lived data.
        case warm
        /// Long-lived data.
        case cold
    }

    /// Whether this hint is served from the user write points (not a dedicated one).
    public var isUser: Bool {
        switch self {
        case .copygc, .metadata: false
        default: true
        }
    }
}
