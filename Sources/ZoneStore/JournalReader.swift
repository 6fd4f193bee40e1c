import ZoneAlloc
import ZonedStorage

/// Reads journal chains from the raw device for recovery and fsck (FORMAT.md, "Replay").
struct JournalReader {
    /// A record with its sequence number.
    struct Entry: Sendable {
        var sequence: UInt64
        var record: JournalRecord
    }

    /// A bucket a chain ran through, and the sequence numbers of the records read from it.
    struct BucketSpan: Sendable, Hashable {
        var bucket: UInt32
        var generation: UInt8
        /// First and last sequence number read from this bucket (nil: no records).
        var firstSequence: UInt64?
        var lastSequence: UInt64?
        /// Bytes of valid groups read from it, from the chain's start offset in it.
        var end: UInt64
    }

    /// What reading one chain found.
    struct ChainRead: Sendable {
        var entries: [Entry] = []
        var buckets: [BucketSpan] = []
        /// Why reading stopped, in words (for an open chain this is the end of the journal).
        var stopReason = ""
        /// Whether the chain was read to its recorded last sequence number (closed chains).
        var complete = false
        /// Groups read.
        var groups = 0
        /// The position in ``entries`` of the first record of the last records group read. The
        /// writer flushes each group before it writes the next, so this group is the only one
        /// whose records (and the data they name) may not have been acknowledged.
        var lastGroupStart: Int?
        /// Set when the chain's head shows that its bucket was reset and written again after the
        /// superblock naming the chain was written: the superblock is older than the journal
        /// (FORMAT.md, "Replay": a stale superblock), in words.
        var staleHead: String?
    }

    let device: any ZonedDevice
    let uuid: [UInt8]
    let zones: [Zone]

    var blockSize: Int { device.info.logicalBlockSize }

    /// How far zone `index` can hold valid data: its write pointer, or its capacity when it is
    /// full or read-only.
    func readableEnd(of index: Int) -> UInt64 {
        guard index >= 0, index < zones.count else { return 0 }
        let zone = zones[index]
        switch zone.condition {
        case .full, .readOnly: return zone.capacity
        case .offline, .notWritePointer: return 0
        default: return zone.writtenBytes
        }
    }

    /// Reads `count` bytes at `offset`, trying twice.
    func readChecked(count: Int, at offset: UInt64) throws(StoreError) -> [UInt8] {
        do {
            return try device.read(count: count, at: offset)
        } catch {
            do {
                return try device.read(count: count, at: offset)
            } catch {
                throw StoreError.device(
                    error,
                    "the journal at offset \(offset) of \(device.path) cannot be read; the store is not opened, so that "
                        + "acknowledged changes after it are not lost"
                )
            }
        }
    }

    /// Reads `chain` until its last sequence number, or (open chain) the first torn, invalid or
    /// out-of-sequence group.
    ///
    /// - Throws: ``StoreError`` `.device` when the device cannot read the journal (a read error
    ///   is not the end of the journal: acknowledged records may follow).
    func read(_ chain: Superblock.Chain) throws(StoreError) -> ChainRead {
        var result = ChainRead()
        if let last = chain.lastSequence, last < chain.firstSequence {
            result.complete = true
            result.stopReason = "empty chain"
            return result
        }
        var bucket = chain.bucket
        var generation = chain.generation
        var offset = UInt64(chain.offset)
        var expected = chain.firstSequence
        var span = BucketSpan(bucket: bucket, generation: generation, end: offset)
        let block = UInt64(blockSize)
        func stop(_ reason: String, complete: Bool = false) -> ChainRead {
            var finished = result
            finished.buckets.append(span)
            finished.stopReason = reason
            finished.complete = complete
            return finished
        }
        while true {
            let index = Int(bucket)
            let end = readableEnd(of: index)
            guard index < zones.count, zones[index].isSequential else {
                return stop("bucket \(bucket) is not a sequential zone")
            }
            let atHead = result.groups == 0
            guard offset + block <= end else {
                // A checkpoint's chain starts at its begin group, flushed before the superblock
                // named it: no data there means the bucket was reset since.
                if atHead, offset > 0, zones[index].condition != .offline {
                    result.staleHead =
                        "bucket \(bucket) holds \(end) bytes, but the chain starts at +\(offset): the bucket was "
                        + "reset after the superblock was written"
                }
                return stop("end of written data in bucket \(bucket) at +\(offset)")
            }
            let start = zones[index].start
            guard let group = LogGroup.decodeHeader(try readChecked(count: blockSize, at: start + offset)) else {
                return stop("no journal group in bucket \(bucket) at +\(offset)")
            }
            let length = UInt64(group.groupLength)
            // The head bucket holds a group of this store written at another generation (or,
            // at the same one, with other sequence numbers): it was reset and reused by the
            // journal after the superblock naming the chain was written.
            if atHead, group.uuid == uuid, group.bucket == bucket,
                group.generation != generation || group.firstSequence != expected
            {
                result.staleHead =
                    "bucket \(bucket) holds journal generation \(group.generation) from record "
                    + "\(group.firstSequence) on, but the chain names generation \(generation) from record \(expected)"
            }
            guard group.uuid == uuid, group.bucket == bucket, group.generation == generation,
                group.firstSequence == expected, length >= block, length % block == 0, offset + length <= end
            else {
                return stop(
                    "the group in bucket \(bucket) at +\(offset) does not continue the journal (sequence "
                        + "\(group.firstSequence), expected \(expected))"
                )
            }
            let bytes = try readChecked(count: Int(length), at: start + offset)
            guard group.verify(bytes) else {
                return stop("torn or damaged journal group in bucket \(bucket) at +\(offset)")
            }
            result.groups += 1
            if group.kind == .continuation {
                result.buckets.append(span)
                bucket = group.nextBucket
                generation = group.nextGeneration
                offset = 0
                span = BucketSpan(bucket: bucket, generation: generation, end: 0)
                continue
            }
            guard let records = group.records(bytes) else {
                return stop("malformed records in the group in bucket \(bucket) at +\(offset)")
            }
            result.lastGroupStart = result.entries.count
            for (position, record) in records.enumerated() {
                let sequence = group.firstSequence + UInt64(position)
                if let last = chain.lastSequence, sequence > last { break }
                result.entries.append(Entry(sequence: sequence, record: record))
                span.firstSequence = span.firstSequence ?? sequence
                span.lastSequence = sequence
            }
            offset += length
            span.end = offset
            expected = group.endSequence
            if let last = chain.lastSequence, expected > last {
                return stop("chain end at sequence \(last)", complete: true)
            }
        }
    }
}
