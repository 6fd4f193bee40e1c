import Dispatch
import Synchronization
import SystemPackage

/// The backing store under the write cache: memory chunks held in the zone's stripe, or the
/// image file. Called with the zone's stripe lock held.
extension EmulatedDevice {
    func backingRead(_ data: inout StripeData, offset: UInt64, count: Int) throws(ZonedStorageError) -> [UInt8] {
        switch backing {
        case .none:
            return [UInt8](repeating: 0, count: count)
        case .memory(let chunkSize):
            var result = [UInt8](repeating: 0, count: count)
            var position = offset
            let end = offset + UInt64(count)
            while position < end {
                let chunk = position / chunkSize
                let inChunk = Int(position % chunkSize)
                let n = Int(min(end - position, chunkSize - UInt64(inChunk)))
                if let bytes = data.chunks[chunk] {
                    let target = Int(position - offset)
                    result.replaceSubrange(target..<(target + n), with: bytes[inChunk..<(inChunk + n)])
                }
                position += UInt64(n)
            }
            return result
        case .file(let fd, let dataOffset):
            var result = [UInt8](repeating: 0, count: count)
            do {
                // A short read is a hole past the end of a sparse file: zeros, already there.
                _ = try systemCall {
                    try unsafe result.withUnsafeMutableBytes { raw in
                        try unsafe fd.read(fromAbsoluteOffset: Int64(dataOffset + offset), into: raw)
                    }
                }
            } catch {
                throw ZonedStorageError(
                    code: .systemCall,
                    message: "reading the image \(path) at device offset \(offset) failed: \(error)",
                    errno: error,
                    offset: offset
                )
            }
            return result
        }
    }

    func backingWrite(_ data: inout StripeData, offset: UInt64, bytes: ArraySlice<UInt8>) throws(ZonedStorageError) {
        let result: Result<Void, ZonedStorageError> = unsafe bytes.withUnsafeBytes { raw in
            do throws(ZonedStorageError) {
                try unsafe backingWrite(&data, offset: offset, raw: raw)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Stores `raw` at device offset `offset`: into the memory chunks (changed in place), or
    /// with one `pwrite` into the image, straight from the caller's buffer.
    func backingWrite(_ data: inout StripeData, offset: UInt64, raw: UnsafeRawBufferPointer) throws(ZonedStorageError) {
        switch backing {
        case .none:
            return
        case .memory(let chunkSize):
            var position = offset
            var source = 0
            let end = offset + UInt64(raw.count)
            while position < end {
                let chunk = position / chunkSize
                let inChunk = Int(position % chunkSize)
                let n = Int(min(end - position, chunkSize - UInt64(inChunk)))
                // Mutated in place: copying the chunk out and back would copy all of it per write.
                unsafe data.chunks[chunk, default: [UInt8](repeating: 0, count: Int(chunkSize))]
                    .withUnsafeMutableBytes { target in
                        unsafe UnsafeMutableRawBufferPointer(rebasing: target[inChunk..<(inChunk + n)])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[source..<(source + n)]))
                    }
                position += UInt64(n)
                source += n
            }
        case .file(let fd, let dataOffset):
            if !data.discardPending.isEmpty {
                // The data of a write lies in one zone (writes are cut per zone before they get here).
                punchIfPending(&data, zone: Int(offset / geometry.zoneSize))
            }
            do {
                _ = try systemCall {
                    try unsafe fd.writeAll(toAbsoluteOffset: Int64(dataOffset + offset), raw)
                }
            } catch {
                throw ZonedStorageError(
                    code: .systemCall,
                    message: "writing the image \(path) at device offset \(offset) failed: \(error); "
                        + "check the free space of the file system holding the image",
                    errno: error,
                    offset: offset
                )
            }
        }
    }

    /// Drops the stored data of a zone (after a reset): memory chunks are freed at once; the
    /// zone's file blocks are punched out of the image in the background, so the image stays
    /// sparse without the reset waiting for it (punching a 128 MiB zone out of an ext4 file takes
    /// about 30 ms, most of it freeing the page cache). Reads never look at discarded ranges
    /// (they are at or above the data end), so a discard that is late, or lost in a crash, or a
    /// file system without hole punching, costs space, not safety. A write to the zone punches
    /// it first, under the same stripe lock, so new data is never punched out.
    func backingDiscard(_ data: inout StripeData, zone index: Int) {
        let start = zoneStart(index)
        switch backing {
        case .none:
            return
        case .memory(let chunkSize):
            var chunk = start / chunkSize
            while chunk * chunkSize < start + geometry.zoneSize {
                data.chunks[chunk] = nil
                chunk += 1
            }
        case .file:
            guard data.discardPending.insert(index).inserted else { return }
            discarder.async { [weak self] in
                guard let self else { return }
                self.stripe(for: index).data.withLock { data in
                    // Checked under the stripe lock, which close() takes after setting the flag to
                    // punch what is left: a closed descriptor (or its number, reused) is never used.
                    guard !self.state.withLock({ $0.closed }) else { return }
                    self.punchIfPending(&data, zone: index)
                }
            }
        }
    }

    /// Punches zone `index`'s blocks out of the image if a reset left that to do. Called with
    /// the zone's stripe lock held.
    func punchIfPending(_ data: inout StripeData, zone index: Int) {
        guard data.discardPending.remove(index) != nil, case .file(let fd, let dataOffset) = backing else { return }
        _ = punchHole(fd, offset: dataOffset + zoneStart(index), length: geometry.zoneSize)
    }

    /// Punches every zone a reset left to punch, now: ``close()`` calls it after marking the
    /// device closed and before closing the image.
    func punchAllPending() {
        for stripe in stripes {
            stripe.data.withLock { data in
                for index in data.discardPending.sorted() { punchIfPending(&data, zone: index) }
            }
        }
    }

    func backingSync() throws(ZonedStorageError) {
        guard case .file(let fd, _) = backing else { return }
        if let errno = fileSync(fd) {
            throw ZonedStorageError(
                code: .systemCall,
                message: "fsync of the image \(path) failed: \(errno); the last writes may not be durable",
                errno: errno
            )
        }
    }
}
