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

    /// Drops the stored data of a zone (after a reset): memory chunks are freed, file blocks
    /// punched out so the image stays sparse. Reads never look at discarded ranges (they are at
    /// or above the data end), so a file system without hole punching costs space, not safety.
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
        case .file(let fd, let dataOffset):
            _ = punchHole(fd, offset: dataOffset + start, length: geometry.zoneSize)
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
