import SystemPackage
import ZonedStorage

/// The one-line text `zonealloc` prints for a device error.
enum ErrorText {
    /// Symbolic names of errno values that ``ZonedStorageError/symbolicName(_:)`` does not know
    /// (it prints `errno 17` for them) but that file and device operations commonly return.
    static let extraNames: [Errno: String] = [
        .fileExists: "EEXIST",
        .notDirectory: "ENOTDIR",
        .isDirectory: "EISDIR",
        .readOnlyFileSystem: "EROFS",
        .fileTooLarge: "EFBIG",
        .resourceTemporarilyUnavailable: "EAGAIN",
        .tooManyOpenFiles: "EMFILE",
    ]

    /// `error.description`, with the errno's symbolic name filled in where the library prints
    /// only its number.
    ///
    /// - Parameter error: a device error.
    /// - Returns: the one-line description.
    static func describe(_ error: ZonedStorageError) -> String {
        guard let errno = error.errno, ZonedStorageError.symbolicName(errno).hasPrefix("errno "),
            let name = extraNames[errno]
        else { return error.description }
        return "\(name) (\(errno.description)): \(error.message)"
    }
}
