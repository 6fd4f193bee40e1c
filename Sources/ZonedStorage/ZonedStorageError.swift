public import SystemPackage

/// The one error type of the `ZonedStorage` module.
///
/// Every rejected zone operation carries the errno the Linux kernel would return for it
/// (``errno``), the zone it concerned as it was when the operation was refused (``zone``) and
/// the offending byte offset (``offset``). ``message`` says what was wrong, why, and what to do
/// instead; ``description`` is the one line a command-line tool prints.
public struct ZonedStorageError: Error, Sendable, CustomStringConvertible {
    /// A broad classification. Compare with the static members (`error.code == .ioError`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case ioError, tooManyOpenZones, tooManyActiveZones, invalidArgument, notZonedDevice
            case noSuchDevice, invalidGeometry, corruptImage, deviceClosed, unsupported, systemCall
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The device refused the I/O or zone operation (EIO, or EREMOTEIO on SCSI).
        public static let ioError = Code(.ioError)
        /// No open-zone resource is available (ETOOMANYREFS, `BLK_STS_ZONE_OPEN_RESOURCE`).
        public static let tooManyOpenZones = Code(.tooManyOpenZones)
        /// No active-zone resource is available (EOVERFLOW, `BLK_STS_ZONE_ACTIVE_RESOURCE`).
        public static let tooManyActiveZones = Code(.tooManyActiveZones)
        /// An argument is malformed: misaligned, out of range, not a zone start (EINVAL).
        public static let invalidArgument = Code(.invalidArgument)
        /// The path exists but is not a zoned block device or emulated zoned image.
        public static let notZonedDevice = Code(.notZonedDevice)
        /// The path does not exist.
        public static let noSuchDevice = Code(.noSuchDevice)
        /// A requested device geometry violates the zone model (checklist item 5).
        public static let invalidGeometry = Code(.invalidGeometry)
        /// An emulated image's header or zone table is damaged.
        public static let corruptImage = Code(.corruptImage)
        /// The device was already closed.
        public static let deviceClosed = Code(.deviceClosed)
        /// The device cannot do this (for example zone append through libzbd).
        public static let unsupported = Code(.unsupported)
        /// A system call on the backing file or device failed; ``ZonedStorageError/errno`` says how.
        public static let systemCall = Code(.systemCall)

        public var description: String { "\(value)" }
    }

    /// Broad classification of the error.
    public var code: Code
    /// What went wrong, why, and what to do instead.
    public var message: String
    /// The errno the Linux kernel (or the failing system call) returns for this error.
    public var errno: Errno?
    /// The zone concerned, as it was when the operation was refused.
    public var zone: Zone?
    /// The byte offset the operation addressed.
    public var offset: UInt64?
    /// The error that caused this one, if any.
    public var cause: (any Error & Sendable)?
    /// Where the error was thrown.
    public var location: String

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        errno: Errno? = nil,
        zone: Zone? = nil,
        offset: UInt64? = nil,
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.errno = errno
        self.zone = zone
        self.offset = offset
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    /// One line: the errno's symbolic name and text, then the message.
    public var description: String {
        if let errno {
            return "\(Self.symbolicName(errno)) (\(errno.description)): \(message)"
        }
        return message
    }

    /// A multi-line description with the cause and the source location, for `--verbose`.
    public func detailedDescription() -> String {
        var lines = ["ZonedStorageError: \(code)", "├─ \(description)"]
        if let cause { lines.append("├─ cause: \(cause)") }
        lines.append("└─ thrown at \(location)")
        return lines.joined(separator: "\n")
    }

    /// The C name of an errno value (`EIO`, `ETOOMANYREFS`, …).
    public static func symbolicName(_ errno: Errno) -> String {
        switch errno {
        case .ioError: "EIO"
        case .tooManyReferences: "ETOOMANYREFS"
        case .overflow: "EOVERFLOW"
        case .invalidArgument: "EINVAL"
        case .noSuchFileOrDirectory: "ENOENT"
        case .notSupported: "EOPNOTSUPP"
        case .permissionDenied: "EACCES"
        case .notPermitted: "EPERM"
        case .badFileDescriptor: "EBADF"
        case .noSpace: "ENOSPC"
        case .noData: "ENODATA"
        case .operationNotSupportedByDevice: "ENODEV"
        case .inappropriateIOCTLForDevice: "ENOTTY"
        case .remoteIOError: "EREMOTEIO"
        case .resourceBusy: "EBUSY"
        case .fileExists: "EEXIST"
        case .resourceTemporarilyUnavailable: "EAGAIN"
        case .readOnlyFileSystem: "EROFS"
        case .fileTooLarge: "EFBIG"
        case .notDirectory: "ENOTDIR"
        case .isDirectory: "EISDIR"
        case .tooManyOpenFiles: "EMFILE"
        case .noMemory: "ENOMEM"
        case .interrupted: "EINTR"
        case .timedOut: "ETIMEDOUT"
        case .noSuchAddressOrDevice: "ENXIO"
        default: "errno \(errno.rawValue)"
        }
    }
}
