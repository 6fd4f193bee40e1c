public import ZoneAlloc
import ZonedStorage

/// The one error type of the `ZoneStore` module.
///
/// ``message`` says what went wrong, why, and what to do instead; ``key``, ``bucket`` and
/// ``offset`` name the value and the place on the device when the error concerns one (a checksum
/// mismatch always names all three). Compare ``code`` with the static members
/// (`error.code == .notFound`).
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// A broad classification. Compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case notFound, evicted, checksumMismatch, invalidArgument, noSpace, device, allocator
            case notAStore, corrupt, alreadyFormatted, unsupportedDevice, closed, failed, timedOut, dataLost
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// No value is stored under the key.
        public static let notFound = Code(.notFound)
        /// The value was stored as cached and the store dropped it to reuse its space.
        public static let evicted = Code(.evicted)
        /// Data read back does not match its checksum: the device returned bad data.
        public static let checksumMismatch = Code(.checksumMismatch)
        /// A key, value or option is out of range (too long, too large, empty).
        public static let invalidArgument = Code(.invalidArgument)
        /// The store is full: delete values first.
        public static let noSpace = Code(.noSpace)
        /// The device refused an operation; ``StoreError/cause`` has the device error.
        public static let device = Code(.device)
        /// The allocator refused an operation; ``StoreError/cause`` has the allocator error.
        public static let allocator = Code(.allocator)
        /// The device holds no zonealloc store (no valid superblock).
        public static let notAStore = Code(.notAStore)
        /// The store's metadata is damaged in a way recovery cannot repair.
        public static let corrupt = Code(.corrupt)
        /// `format` found a store or other data on the device and was not forced.
        public static let alreadyFormatted = Code(.alreadyFormatted)
        /// The device cannot hold a store (too few zones, zones of different capacities).
        public static let unsupportedDevice = Code(.unsupportedDevice)
        /// The store was closed.
        public static let closed = Code(.closed)
        /// An earlier metadata write failed; the store refuses further changes until reopened.
        public static let failed = Code(.failed)
        /// Waiting for space (copygc) took longer than the allocator's wait limit.
        public static let timedOut = Code(.timedOut)
        /// The device lost the data: the zone holding the value went offline (a device failure,
        /// not a store failure). The value cannot be read; delete it or store it again.
        public static let dataLost = Code(.dataLost)

        public var description: String { "\(value)" }
    }

    /// Broad classification.
    public var code: Code
    /// What went wrong, why, and what to do instead.
    public var message: String
    /// The key concerned, if any.
    public var key: StoreKey?
    /// The bucket (zone) concerned, if any.
    public var bucket: BucketIndex?
    /// The absolute byte offset on the device concerned, if any.
    public var offset: UInt64?
    /// The error that caused this one: a ``ZonedStorageError``, an ``AllocationError``, ….
    public var cause: (any Error & Sendable)?
    /// Where the error was thrown (`file:line`).
    public var location: String

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        key: StoreKey? = nil,
        bucket: BucketIndex? = nil,
        offset: UInt64? = nil,
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.key = key
        self.bucket = bucket
        self.offset = offset
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    /// The message, followed by the cause's description.
    public var description: String {
        if let cause { return "\(message): \(cause)" }
        return message
    }

    /// A multi-line description with the cause and the source location, for `--verbose`.
    public func detailedDescription() -> String {
        var lines = ["StoreError: \(code)", "├─ \(message)"]
        if let key { lines.append("├─ key: \(key)") }
        if let bucket { lines.append("├─ \(bucket)") }
        if let offset { lines.append("├─ offset: \(offset)") }
        if let cause { lines.append("├─ cause: \(cause)") }
        lines.append("└─ thrown at \(location)")
        return lines.joined(separator: "\n")
    }

    /// Wraps a device error.
    static func device(
        _ error: ZonedStorageError,
        _ what: String,
        key: StoreKey? = nil,
        bucket: BucketIndex? = nil,
        file: String = #fileID,
        line: Int = #line
    ) -> StoreError {
        StoreError(
            code: .device,
            message: what,
            key: key,
            bucket: bucket,
            offset: error.offset,
            cause: error,
            file: file,
            line: line
        )
    }

    /// Wraps an allocator error, keeping its meaning: `.noSpace` and `.timedOut` stay what they
    /// are, device errors become `.device`.
    static func allocation(
        _ error: AllocationError,
        _ what: String,
        key: StoreKey? = nil,
        file: String = #fileID,
        line: Int = #line
    ) -> StoreError {
        let code: Code =
            switch error.code {
            case .noSpace: .noSpace
            case .timedOut: .timedOut
            case .device: .device
            case .invalidRequest: .invalidArgument
            default: .allocator
            }
        let cause: any Error & Sendable = error.deviceError ?? AllocationErrorBox(error)
        return StoreError(code: code, message: what, key: key, cause: cause, file: file, line: line)
    }
}

/// An ``AllocationError`` as a `Sendable` cause (its own `cause` is not `Sendable`).
struct AllocationErrorBox: Error, Sendable, CustomStringConvertible {
    let description: String
    init(_ error: AllocationError) { description = error.description }
}
