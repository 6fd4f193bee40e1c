import Synchronization
import ZoneAlloc
import ZoneGC

/// An extent owner for the tests: key → pointer and the tag of the bytes written, with hooks to
/// race copygc (an overwrite inside ``relocate(_:)``) and to fail commits.
final class TestOwner: ExtentOwner {
    struct Entry: Sendable, Hashable {
        var pointer: DataPointer
        var tag: UInt64
    }

    let entries = Mutex<[UInt64: Entry]>([:])
    /// Runs at the start of ``relocate(_:)``, outside the owner's lock (a racing writer).
    let relocateHook = Mutex<(@Sendable ([ExtentMove]) -> Void)?>(nil)
    /// Commits to fail before succeeding again.
    let failingCommits = Mutex(0)
    let commits = Mutex(0)
    let relocations = Mutex<[ExtentMove]>([])
    let dropped = Mutex<[Backpointer]>([])

    /// Points `key` at `pointer`; returns the pointer it replaced.
    func swap(_ key: UInt64, to pointer: DataPointer, tag: UInt64) -> DataPointer? {
        entries.withLock { $0.updateValue(Entry(pointer: pointer, tag: tag), forKey: key)?.pointer }
    }

    /// Forgets `key`; returns its pointer.
    func remove(_ key: UInt64) -> DataPointer? {
        entries.withLock { $0.removeValue(forKey: key)?.pointer }
    }

    var snapshot: [UInt64: Entry] { entries.withLock { $0 } }

    func relocate(_ moves: [ExtentMove]) -> [Bool] {
        relocateHook.withLock { $0 }?(moves)
        relocations.withLock { $0 += moves }
        return entries.withLock { entries in
            moves.map { move in
                guard let entry = entries[move.key], move.matches(entry.pointer) else { return false }
                entries[move.key]!.pointer = move.relocated(entry.pointer)
                return true
            }
        }
    }

    struct CommitFailure: Error, CustomStringConvertible {
        var description: String { "injected commit failure" }
    }

    func commitRelocations() throws {
        let fail = failingCommits.withLock { count -> Bool in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
        if fail { throw CommitFailure() }
        commits.withLock { $0 += 1 }
    }

    func droppedCachedExtents(_ extents: [Backpointer]) {
        dropped.withLock { $0 += extents }
    }
}
