#if canImport(Glibc)
import Glibc
#endif

/// A plain file for the baselines: `pwrite`, `pread` and `fsync` with nothing in between.
public final class PlainFile {
    /// A failed system call.
    public struct Failure: Error, CustomStringConvertible {
        /// The call, e.g. `pwrite`.
        public var operation: String
        /// The file.
        public var path: String
        /// `errno` after the call.
        public var errno: Int32

        /// `pwrite /tmp/x: No space left on device`.
        public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
    }

    /// The file's path.
    public let path: String
    private let fd: Int32

    /// Creates (or truncates) `path` for reading and writing.
    ///
    /// - Throws: ``Failure`` when `open` fails.
    public init(creating path: String) throws(Failure) {
        let fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(operation: "open", path: path, errno: errno) }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes all of `bytes` at `offset` (`pwrite`, retried on a short write).
    ///
    /// - Throws: ``Failure`` when `pwrite` fails.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(Failure) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            guard n > 0 else {
                if n < 0, errno == EINTR { continue }
                throw Failure(operation: "pwrite", path: path, errno: n < 0 ? errno : EIO)
            }
            done += n
        }
    }

    /// Reads `buffer.count` bytes at `offset` (`pread`, retried on a short read).
    ///
    /// - Throws: ``Failure`` when `pread` fails or the file ends first.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(Failure) {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            guard n > 0 else {
                if n < 0, errno == EINTR { continue }
                throw Failure(operation: "pread", path: path, errno: n < 0 ? errno : EIO)
            }
            done += n
        }
    }

    /// `fsync`.
    ///
    /// - Throws: ``Failure`` when `fsync` fails.
    public func sync() throws(Failure) {
        guard fsync(fd) == 0 else { throw Failure(operation: "fsync", path: path, errno: errno) }
    }

    /// Deletes the file at `path` if it exists.
    public static func remove(_ path: String) {
        unlink(path)
    }
}
