import Synchronization
import ZoneAlloc
import ZoneGC

/// The store as copygc's ``ZoneGC/ExtentOwner``: relocations are compare-and-swaps on the index,
/// journaled as moves; committing them is a journal commit. Holds the store weakly (copygc,
/// which the store owns, keeps its owners).
final class StoreExtentOwner: ExtentOwner {
    private struct Target: Sendable {
        weak var store: ZoneStore?
    }

    private let target = Mutex(Target())

    /// Routes copygc's calls to `store`.
    func connect(_ store: ZoneStore) {
        target.withLock { $0.store = store }
    }

    private var store: ZoneStore? { target.withLock { $0.store } }

    func relocate(_ moves: [ExtentMove]) -> [Bool] {
        store?.relocate(moves) ?? Array(repeating: false, count: moves.count)
    }

    func commitRelocations() throws {
        guard let store else { throw StoreError(code: .closed, message: "the store is closed") }
        try store.sync()
    }
}
