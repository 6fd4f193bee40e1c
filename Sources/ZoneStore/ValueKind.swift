/// How a value is kept (bcachefs's dirty and cached data).
public enum ValueKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// Kept until deleted; copygc moves it.
    case dirty
    /// The store may drop it to reuse its space (its bucket is invalidated, not evacuated); a
    /// later `get` reports it evicted.
    case cached
}
