import SystemPackage

/// Reading `--input` and writing `--output` files, where `-` is standard input or output.
enum FileIO {
    /// Reads the whole of `path` (`-`: standard input), or its first `limit` bytes.
    ///
    /// - Parameters:
    ///   - path: a file path, or `-` for standard input.
    ///   - limit: stop after this many bytes; `nil` reads to the end.
    /// - Returns: the bytes read.
    /// - Throws: ``CommandFailure`` naming the file and the system error.
    static func read(_ path: String, limit: Int? = nil) throws(CommandFailure) -> [UInt8] {
        let name = path == "-" ? "standard input" : path
        let fd: FileDescriptor
        if path == "-" {
            fd = .standardInput
        } else {
            do {
                fd = try FileDescriptor.open(FilePath(path), .readOnly)
            } catch {
                throw CommandFailure("cannot open the input file \(path): \(error)")
            }
        }
        defer { if path != "-" { try? fd.close() } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while limit.map({ bytes.count < $0 }) ?? true {
            let wanted = min(chunk.count, (limit ?? Int.max) - bytes.count)
            let got: Int
            do {
                got = try chunk.withUnsafeMutableBytes { raw in
                    try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted]), retryOnInterrupt: true)
                }
            } catch {
                throw CommandFailure("cannot read \(name): \(error)")
            }
            if got == 0 { break }
            bytes += chunk[0..<got]
        }
        return bytes
    }

    /// Opens `path` for writing, created or truncated (`-`: standard output).
    ///
    /// - Parameter path: a file path, or `-`.
    /// - Returns: the descriptor; close it with ``close(_:path:)``.
    /// - Throws: ``CommandFailure`` naming the file and the system error.
    static func openOutput(_ path: String) throws(CommandFailure) -> FileDescriptor {
        if path == "-" { return .standardOutput }
        do {
            return try FileDescriptor.open(
                FilePath(path),
                .writeOnly,
                options: [.create, .truncate],
                permissions: [.ownerReadWrite, .groupRead, .otherRead]
            )
        } catch {
            throw CommandFailure("cannot create the output file \(path): \(error)")
        }
    }

    /// Writes all of `bytes` to `fd`.
    ///
    /// - Throws: ``CommandFailure`` naming `path` and the system error.
    static func write(_ bytes: [UInt8], to fd: FileDescriptor, path: String) throws(CommandFailure) {
        do {
            _ = try bytes.withUnsafeBytes { raw in try fd.writeAll(raw) }
        } catch {
            throw CommandFailure("cannot write \(path == "-" ? "standard output" : path): \(error)")
        }
    }

    /// Closes an output opened with ``openOutput(_:)`` (standard output stays open).
    ///
    /// - Throws: ``CommandFailure`` when the close reports an error (data may be lost).
    static func close(_ fd: FileDescriptor, path: String) throws(CommandFailure) {
        guard path != "-" else { return }
        do {
            try fd.close()
        } catch {
            throw CommandFailure("cannot close \(path): \(error)")
        }
    }
}
