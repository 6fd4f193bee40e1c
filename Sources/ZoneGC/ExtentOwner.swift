public import ZoneAlloc

/// Something that holds data pointers and can have them moved: a storage service's index, the
/// simulator's logical space. Copygc finds an owner's extents through backpointers and hands it
/// each new location with a compare-and-swap (bcachefs's move path updating the extent key only
/// if it still points where the data was read from).
///
/// Lock order: copygc never calls an owner while it holds its own lock, so an owner may call
/// ``Copygc`` (``Copygc/markDead(_:)``, ``Copygc/recordWrites(owner:keys:pointers:hint:)``)
/// while holding its own lock.
public protocol ExtentOwner: AnyObject, Sendable {
    /// Compare-and-swap for each move: point `move.key` at `move.to` only if it still points at
    /// `move.from` (same bucket, offset, length and generation; see ``ExtentMove/matches(_:)``).
    /// A key that was overwritten or deleted since copygc read it must refuse: the newer data
    /// wins, and copygc marks the moved copy dead.
    ///
    /// Each accepted move must be visible to the owner's readers before this returns. It need
    /// not be durable yet; ``commitRelocations()`` makes it so before any old copy is released.
    ///
    /// - Parameter moves: the moves, in the order the data was written.
    /// - Returns: one flag per move, true when the owner now points at `move.to`.
    func relocate(_ moves: [ExtentMove]) -> [Bool]

    /// Makes every accepted relocation durable (for a store: a journal commit). Copygc calls it
    /// after the moved data is flushed and before the old copies are marked dead, so a zone is
    /// never reset while a durable index still points into it (invariant 7).
    ///
    /// - Throws: any error; copygc then keeps the old copies live and retries on its next pass.
    func commitRelocations() throws

    /// Cached (droppable) extents of an evacuated bucket were dropped instead of moved: the
    /// pointers are stale once the bucket is reset. The default does nothing (a stale cached
    /// pointer is harmless: the allocator reports it stale).
    ///
    /// - Parameter extents: the dropped extents (this owner's backpointers into the bucket).
    func droppedCachedExtents(_ extents: [Backpointer])
}

extension ExtentOwner {
    /// Nothing to make durable: the owner keeps its index in memory only.
    public func commitRelocations() throws {}

    /// Ignores dropped cached extents.
    public func droppedCachedExtents(_ extents: [Backpointer]) {}
}

/// A registered ``ExtentOwner``'s number, stored in each backpointer.
public struct OwnerID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The number (registration order).
    public var rawValue: UInt16

    /// Creates an owner number.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public var description: String { "owner \(rawValue)" }
}

/// One relocation handed to an ``ExtentOwner``: the key's data was copied from ``from`` to ``to``.
public struct ExtentMove: Hashable, Sendable {
    /// The owner's key of the extent.
    public var key: UInt64
    /// Where the data was (the pointer the owner must still hold). Its checksum is 0: copygc's
    /// backpointers do not keep checksums; compare locations with ``matches(_:)``.
    public var from: DataPointer
    /// Where the data is now: same bytes, same length, the copygc bucket's generation.
    public var to: DataPointer

    /// Creates a move.
    public init(key: UInt64, from: DataPointer, to: DataPointer) {
        self.key = key
        self.from = from
        self.to = to
    }

    /// Whether `current` (the owner's pointer for ``key``) is still the moved-from extent: same
    /// bucket, offset, length, generation and cached flag. Checksums are not compared.
    public func matches(_ current: DataPointer) -> Bool {
        current.bucket == from.bucket && current.offset == from.offset && current.sectors == from.sectors
            && current.generation == from.generation && current.isCached == from.isCached
    }

    /// The new pointer to store in place of `current`: ``to`` carrying `current`'s checksum
    /// (the bytes did not change).
    public func relocated(_ current: DataPointer) -> DataPointer {
        var pointer = to
        pointer.checksum = current.checksum
        return pointer
    }
}
