import CZonedShims
public import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// fsync(2) on a descriptor; nil on success.
func fileSync(_ fd: FileDescriptor) -> Errno? {
    fsync(fd.rawValue) == 0 ? nil : Errno(rawValue: czoned_errno())
}

/// fallocate(PUNCH_HOLE | KEEP_SIZE); nil on success.
func punchHole(_ fd: FileDescriptor, offset: UInt64, length: UInt64) -> Errno? {
    czoned_punch_hole(fd.rawValue, Int64(offset), Int64(length)) == 0 ? nil : Errno(rawValue: czoned_errno())
}

/// ftruncate(2); nil on success.
func fileTruncate(_ fd: FileDescriptor, size: UInt64) -> Errno? {
    ftruncate(fd.rawValue, off_t(size)) == 0 ? nil : Errno(rawValue: czoned_errno())
}

/// flock(LOCK_EX | LOCK_NB); nil on success.
///
/// A lock that stays busy for about 100 ms is reported (EWOULDBLOCK). The short retry covers a
/// race that is not a real conflict: a `fork` elsewhere in this process copies every open
/// descriptor, and with it a share of the lock of one that is being closed, until the child's
/// `exec` closes it (close-on-exec) a moment later.
func lockExclusively(_ fd: FileDescriptor) -> Errno? {
    var attempts = 0
    while true {
        if flock(fd.rawValue, LOCK_EX | LOCK_NB) == 0 { return nil }
        let errno = Errno(rawValue: czoned_errno())
        attempts += 1
        guard errno == .wouldBlock, attempts < 50 else { return errno }
        usleep(2_000)
    }
}

/// The kind of file at `path` from stat(2), or the errno.
enum FileKind: Equatable {
    case regular(size: UInt64)
    case blockDevice
    case characterDevice
    case directory
    case other
}

func fileKind(atPath path: String) -> Result<FileKind, Errno> {
    var info = stat()
    guard unsafe stat(path, &info) == 0 else { return .failure(Errno(rawValue: czoned_errno())) }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return .success(.regular(size: UInt64(info.st_size)))
    case S_IFBLK: return .success(.blockDevice)
    case S_IFCHR: return .success(.characterDevice)
    case S_IFDIR: return .success(.directory)
    default: return .success(.other)
    }
}

extension Errno {
    /// EREMOTEIO (121 on Linux): SCSI devices report zone rule violations with it.
    public static var remoteIOError: Errno { Errno(rawValue: 121) }
}

/// Runs a swift-system call, whose errors are `Errno` thrown untyped, with a typed error.
func systemCall<T>(_ body: () throws -> T) throws(Errno) -> T {
    do {
        return try body()
    } catch let errno as Errno {
        throw errno
    } catch {
        preconditionFailure("swift-system threw a non-Errno error: \(error)")
    }
}
