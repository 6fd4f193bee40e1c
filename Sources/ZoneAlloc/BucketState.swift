/// The state of a bucket, derived from its accounting as bcachefs's `alloc_data_type()` derives
/// it, never stored on its own.
public enum BucketState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Empty zone, generation allocatable: ready to be opened.
    case free
    /// Being written through a write point (or partially written and kept active).
    case open
    /// Holds dirty data (possibly also cached data).
    case dirty
    /// Holds only cached data: can be invalidated (generation increment + reset) without moving
    /// anything.
    case cached
    /// Written, nothing live left: the zone needs a reset before reuse (bcachefs's
    /// `need_discard`).
    case needsReset
    /// Empty, but its generation is too far ahead of the oldest live pointer to reuse it
    /// (bcachefs's `need_gc_gens`).
    case needsGCGens
    /// A reset is in progress.
    case resetting
    /// Not a bucket: a conventional, read-only or offline zone.
    case unusable
}

extension BucketState {
    /// A dense number for each state, to index counts by state.
    var ordinal: Int {
        switch self {
        case .free: 0
        case .open: 1
        case .dirty: 2
        case .cached: 3
        case .needsReset: 4
        case .needsGCGens: 5
        case .resetting: 6
        case .unusable: 7
        }
    }
}
