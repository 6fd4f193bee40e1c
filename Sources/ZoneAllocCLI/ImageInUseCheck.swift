import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// Refuses to replace an emulated image that another process has open.
///
/// ``EmulatedDevice/create(at:geometry:options:overwrite:)`` with `overwrite: true` truncates the
/// file before it takes the image's lock, so it would wipe an image another process is driving
/// and only then report it as in use. `device create --force` checks the lock first: the emulator
/// holds an exclusive `flock(2)` on open images, which conflicts with the probe taken here.
enum ImageInUseCheck {
    /// Throws when `path` exists and another process holds its lock.
    ///
    /// - Parameter path: the file `device create --force` is about to replace.
    /// - Throws: ``CommandFailure`` naming the path when the image is in use.
    static func ensureNotInUse(_ path: String) throws(CommandFailure) {
        guard let fd = try? FileDescriptor.open(FilePath(path), .readOnly) else { return }
        defer { try? fd.close() }
        #if canImport(Glibc)
        if flock(fd.rawValue, LOCK_EX | LOCK_NB) != 0 {
            let errno = Errno(rawValue: Glibc.errno)
            if errno == .wouldBlock {
                throw CommandFailure(
                    "\(path) is in use by another process; --force does not replace an image while it is open"
                )
            }
            return
        }
        _ = flock(fd.rawValue, LOCK_UN)
        #endif
    }
}
