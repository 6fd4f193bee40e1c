/// When a change is acknowledged.
public enum Durability: String, Hashable, Sendable, Codable, CaseIterable {
    /// After the data and the journal entry that records it are durable (device flushed),
    /// together with every change made before it. A crash after the call returns never loses
    /// them. Concurrent durable changes share one flush (group commit).
    case durable
    /// After the data is written and the journal entry is queued: the change is visible at
    /// once and becomes durable with the next durable change, ``ZoneStore/sync()`` or
    /// ``ZoneStore/close()``. A crash before then may lose it (never half of it).
    case buffered
}
