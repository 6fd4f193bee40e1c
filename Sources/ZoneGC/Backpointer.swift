public import ZoneAlloc

/// A backpointer (bcachefs's `bch_backpointer`): which owner's key an extent in a bucket belongs
/// to. Copygc walks a victim bucket's backpointers to find the live extents it must move.
public struct Backpointer: Hashable, Sendable {
    /// The owner holding the pointer.
    public var owner: OwnerID
    /// The owner's key for the extent.
    public var key: UInt64
    /// The extent: bucket, offset, length, generation, cached flag (checksum 0: not kept).
    public var pointer: DataPointer
    /// The copygc write clock (user sectors written) when a user wrote this data; kept when
    /// copygc moves it, so the data's age survives moves (Sprite LFS's block age, SepBIT's
    /// block age for copygc placement).
    public var writtenAt: UInt64

    /// Creates a backpointer.
    public init(owner: OwnerID, key: UInt64, pointer: DataPointer, writtenAt: UInt64) {
        self.owner = owner
        self.key = key
        self.pointer = pointer
        self.writtenAt = writtenAt
    }
}
