import SystemPackage
public import ZonedStorage

/// How one device operation ended: success, or the errno of the ``ZonedStorageError`` it threw.
///
/// Encoded as `{"errno": 5, "name": "EIO"}` (`errno` 0 and name `success` for success).
public struct OperationStatus: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The errno value; 0 for success, -1 for an error that carried no errno.
    public var errno: Int32

    /// Creates a status from a raw errno value (0 = success).
    public init(errno: Int32) {
        self.errno = errno
    }

    /// The status of an operation that threw `error`.
    public init(_ error: ZonedStorageError) {
        self.errno = error.errno?.rawValue ?? -1
    }

    /// The operation succeeded.
    public static let success = OperationStatus(errno: 0)
    /// EIO: the device refused the I/O or zone operation.
    public static let ioError = OperationStatus(errno: Errno.ioError.rawValue)
    /// EREMOTEIO: what SCSI (ZBC) devices return where NVMe and null_blk return EIO.
    public static let remoteIOError = OperationStatus(errno: Errno.remoteIOError.rawValue)
    /// ETOOMANYREFS: no open-zone resource (`BLK_STS_ZONE_OPEN_RESOURCE`).
    public static let tooManyOpenZones = OperationStatus(errno: Errno.tooManyReferences.rawValue)
    /// EOVERFLOW: no active-zone resource (`BLK_STS_ZONE_ACTIVE_RESOURCE`).
    public static let tooManyActiveZones = OperationStatus(errno: Errno.overflow.rawValue)
    /// EINVAL: a misaligned or out-of-range request.
    public static let invalidArgument = OperationStatus(errno: Errno.invalidArgument.rawValue)

    /// Whether the operation succeeded.
    public var isSuccess: Bool { errno == 0 }

    /// `success`, or the C name of the errno (`EIO`, `ETOOMANYREFS`, …).
    public var name: String {
        switch errno {
        case 0: "success"
        case -1: "error without errno"
        default: ZonedStorageError.symbolicName(Errno(rawValue: errno))
        }
    }

    public var description: String { name }

    private enum CodingKeys: String, CodingKey {
        case errno, name
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.errno = try container.decode(Int32.self, forKey: .errno)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(errno, forKey: .errno)
        try container.encode(name, forKey: .name)
    }
}
