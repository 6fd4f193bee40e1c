/// How the Linux block layer cuts an `O_DIRECT` write into the requests a zoned device sees, and
/// which errno the system call returns when some of them fail. ``EmulatedDevice`` applies the
/// pieces one by one, in order, so that a write the kernel splits behaves as it does on a real
/// device: pieces before a refused one stay written, later pieces are still tried (and usually
/// refused, no longer being at the write pointer), and the errno is the kernel's, not the first.
///
/// What the kernel does (Linux 6.1, Debian 12's kernel, which the QEMU harness boots; 6.12 is the
/// same in these respects):
///
/// 1. `blkdev_direct_IO` (`block/fops.c`) puts a buffer of at most `BIO_MAX_VECS` (256) pages into
///    one bio (`__blkdev_direct_IO_simple`). A larger buffer becomes several bios of 256 pages
///    (`__blkdev_direct_IO`): with a page-aligned buffer, 1 MiB each. All are submitted; the
///    call returns the status of the first one that failed (`blkdev_bio_end_io`: `if
///    (bio->bi_status && !dio->bio.bi_status) dio->bio.bi_status = bio->bi_status`).
/// 2. `bio_split_to_limits` (`block/blk-merge.c`) splits each bio at `get_max_io_size`: the
///    queue's `max_sectors`, cut at the zone boundary (`chunk_sectors`), and ending on a
///    physical block boundary. The front piece is chained to the rest (`bio_chain(split, bio)`),
///    which is resubmitted and split again, so the original bio ends up as the last piece and
///    the parent of every other piece.
/// 3. When a piece completes with an error, `req_bio_endio` (`block/blk-mq.c`) sets its status
///    unconditionally; a completed child copies its status into the parent only if the parent
///    has none (`__bio_chain_endio` in `block/bio.c`). So a bio's status is the last piece's
///    error if the last piece failed, else the error of the first failed piece (pieces of one
///    zone complete in order: mq-deadline's zone write lock, or the device processing its queue
///    in order).
///
/// Zone management of a range (`blkdev_zone_mgmt` in `block/blk-zoned.c`) chains one bio per
/// zone with `blk_next_bio`: each bio is the child of the next, and the caller waits for the last.
/// By the same two rules, the ioctl returns the error of the *last* zone that failed
/// (``rangeErrorIndex(_:)``).
enum BlockLayerRequests {
    /// `BIO_MAX_VECS` pages of 4 KiB: the most one direct-I/O bio carries from a page-aligned
    /// buffer.
    static let directIOBioBytes: UInt64 = 256 * 4096

    /// One request of a split write.
    struct Piece: Equatable, Sendable {
        /// Absolute byte offset.
        var offset: UInt64
        /// Bytes.
        var length: UInt64
        /// Which direct-I/O bio of the write the piece belongs to (0, 1, …).
        var bio: Int
    }

    /// The pieces a write of `count` bytes at `offset` is split into, in submission order.
    ///
    /// - Parameters:
    ///   - maxTransfer: the queue's `max_sectors` in bytes (``EmulatedGeometry/maxTransferBytes``).
    ///   - zoneSize: the zone size (`chunk_sectors`).
    ///   - logicalBlock: the logical block size.
    ///   - physicalBlock: the physical block size.
    static func pieces(
        offset: UInt64,
        count: UInt64,
        maxTransfer: UInt64,
        zoneSize: UInt64,
        logicalBlock: UInt64,
        physicalBlock: UInt64
    ) -> [Piece] {
        var pieces: [Piece] = []
        var bioStart = offset
        var bio = 0
        let end = offset + count
        while bioStart < end {
            let bioEnd = min(end, bioStart + directIOBioBytes)
            var position = bioStart
            while position < bioEnd {
                // > get_max_io_size(): max_sectors = min(max_sectors,
                // >     blk_chunk_sectors_left(sector, chunk_sectors));
                // > start = sector & (pbs - 1); end = (start + max_sectors) & ~(pbs - 1);
                // > if (end > start) return end - start; return max_sectors & ~(lbs - 1);
                let zoneEnd = (position / zoneSize + 1) * zoneSize
                let limit = min(maxTransfer, zoneEnd - position)
                let start = position % physicalBlock
                let aligned = (start + limit) / physicalBlock * physicalBlock
                var length = aligned > start ? aligned - start : limit / logicalBlock * logicalBlock
                length = min(max(length, logicalBlock), bioEnd - position)
                pieces.append(Piece(offset: position, length: length, bio: bio))
                position += length
            }
            bioStart = bioEnd
            bio += 1
        }
        return pieces
    }

    /// The index of the piece whose error the system call returns, or nil when every piece
    /// succeeded. `failed[i]` says whether piece `i` failed.
    static func writeErrorIndex(_ pieces: [Piece], failed: [Bool]) -> Int? {
        precondition(pieces.count == failed.count, "one result per piece")
        var index = 0
        while index < pieces.count {
            let bio = pieces[index].bio
            var last = index
            while last + 1 < pieces.count, pieces[last + 1].bio == bio { last += 1 }
            // The bio's status: its last piece's error, else its first failed piece's.
            if failed[last] { return last }
            if let first = (index...last).first(where: { failed[$0] }) { return first }
            index = last + 1
        }
        return nil
    }

    /// The index (into `failed`) of the zone whose error a zone management ioctl over a range
    /// returns: the last one that failed (`blk_next_bio` chain).
    static func rangeErrorIndex(_ failed: [Bool]) -> Int? {
        failed.lastIndex(of: true)
    }
}
