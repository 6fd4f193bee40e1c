import Synchronization
public import ZoneAlloc
public import ZoneGC

/// The simulator's extent owner: a flat map from logical block to the data pointer of its
/// current version (the index a storage service keeps), packed into 8 bytes per block so a
/// 64 GiB logical space of 4 KiB blocks takes 128 MiB.
///
/// Every extent is one block. Packing: bit 63 set = present; bits 55–62 the generation; bits
/// 32–54 the offset in the bucket in sectors; bits 0–31 the bucket.
public final class LogicalSpace: ExtentOwner {
    /// Logical blocks.
    public let blocks: Int
    /// Sectors per block (the length of every extent).
    public let blockSectors: UInt32
    private let map: Mutex<[UInt64]>

    private static let present: UInt64 = 1 << 63
    /// Buckets must hold fewer sectors than this (23 bits of offset in the packed pointer):
    /// zone capacities below 4 GiB.
    public static let maxBucketSectors = 1 << 23

    /// Creates an empty space of `blocks` blocks of `blockSectors` sectors.
    public init(blocks: Int, blockSectors: Int) {
        self.blocks = blocks
        self.blockSectors = UInt32(blockSectors)
        self.map = Mutex(HugePageArray.make(repeating: UInt64(0), count: blocks))
    }

    @inline(__always)
    private func pack(_ pointer: DataPointer) -> UInt64 {
        Self.present | UInt64(pointer.generation.rawValue) << 55 | UInt64(pointer.offset) << 32
            | UInt64(pointer.bucket.rawValue)
    }

    @inline(__always)
    private func unpack(_ word: UInt64) -> DataPointer? {
        guard word & Self.present != 0 else { return nil }
        return DataPointer(
            bucket: BucketIndex(rawValue: UInt32(truncatingIfNeeded: word)),
            offset: UInt32(truncatingIfNeeded: word >> 32) & 0x7F_FFFF,
            sectors: blockSectors,
            generation: BucketGeneration(rawValue: UInt8(truncatingIfNeeded: word >> 55))
        )
    }

    /// The pointer of `block`'s current version, if it has one.
    public func pointer(of block: UInt64) -> DataPointer? {
        map.withLock { unpack($0[Int(block)]) }
    }

    /// The current pointers of `blocks`.
    public func pointers(of blocks: [UInt64]) -> [DataPointer?] {
        map.withLock { map in blocks.map { unpack(map[Int($0)]) } }
    }

    /// Points each of `blocks` at the pointer at the same position in `pointers` (later entries
    /// win for repeated blocks) and appends the pointers they replaced to `replaced` (to be
    /// marked dead).
    public func replace(_ blocks: [UInt64], with pointers: [DataPointer], replaced: inout [DataPointer]) {
        precondition(blocks.count == pointers.count, "replace: \(blocks.count) blocks for \(pointers.count) pointers")
        map.withLock { map in
            map.withUnsafeMutableBufferPointer { map in
                blocks.withUnsafeBufferPointer { blocks in
                    // Gather first (see `gather`); the count sizes `replaced`.
                    let present = Self.gather(map, count: blocks.count) { Int(blocks[$0]) }
                    replaced.reserveCapacity(replaced.count + present)
                    for (block, pointer) in zip(blocks, pointers) {
                        precondition(
                            pointer.sectors == blockSectors,
                            "LogicalSpace holds one-block extents, not \(pointer)"
                        )
                        precondition(pointer.offset <= 0x7F_FFFF, "\(pointer): offset too large to pack")
                        let old = map[Int(block)]
                        map[Int(block)] = pack(pointer)
                        if let previous = unpack(old) { replaced.append(previous) }
                    }
                }
            }
        }
    }

    /// Loads `map[index(i)]` for every i in 0..<count in a tight loop and returns how many are
    /// present. The simulator's keys are random, so each load misses the cache; with nothing
    /// but independent loads in the loop the misses overlap (memory-level parallelism), and the
    /// update loop that follows finds the words cached instead of waiting out one miss per
    /// entry behind that entry's bookkeeping.
    @inline(__always)
    private static func gather(_ map: UnsafeMutableBufferPointer<UInt64>, count: Int, _ index: (Int) -> Int) -> Int {
        var present = 0
        for i in 0..<count { present &+= Int(truncatingIfNeeded: map[index(i)] >> 63) }
        return present
    }

    /// Forgets `block` (deleted); returns the pointer it had.
    public func remove(_ block: UInt64) -> DataPointer? {
        map.withLock { map in
            let old = map[Int(block)]
            map[Int(block)] = 0
            return unpack(old)
        }
    }

    /// Calls `body` with every present block and its pointer (for checks; holds the lock).
    public func forEachPointer(_ body: (UInt64, DataPointer) -> Void) {
        map.withLock { map in
            for (block, word) in map.enumerated() {
                if let pointer = unpack(word) { body(UInt64(block), pointer) }
            }
        }
    }

    /// Compare-and-swap: each move is accepted only if the block still points at `move.from`.
    public func relocate(_ moves: [ExtentMove]) -> [Bool] {
        map.withLock { map in
            map.withUnsafeMutableBufferPointer { map in
                moves.withUnsafeBufferPointer { moves in
                    let count = map.count
                    // Gather first (see `gather`); a move whose key has no version is refused.
                    let present = Self.gather(map, count: moves.count) { min(Int(moves[$0].key), count - 1) }
                    var accepted: [Bool] = []
                    accepted.reserveCapacity(moves.count)
                    for move in moves {
                        let index = Int(move.key)
                        guard present > 0, index < count, let current = unpack(map[index]), move.matches(current)
                        else {
                            accepted.append(false)
                            continue
                        }
                        map[index] = pack(move.to)
                        accepted.append(true)
                    }
                    return accepted
                }
            }
        }
    }
}
