public import ZoneAlloc
public import ZonedStorage

/// The one error type of the `ZoneGC` module.
///
/// ``message`` says what went wrong, why, and what to do instead; ``description`` is the line a
/// command-line tool prints.
public struct GCError: Error, Sendable, CustomStringConvertible {
    /// A broad classification. Compare with the static members (`error.code == .noSpace`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case invalidConfiguration, allocation, device, owner, notRegistered
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A configuration value is out of range (thresholds, write points, owners).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The allocator refused copygc space or a reset; ``GCError/allocationError`` says why.
        public static let allocation = Code(.allocation)
        /// Reading, writing or flushing the device failed; ``GCError/deviceError`` says why.
        public static let device = Code(.device)
        /// An owner could not make its relocations durable; ``GCError/cause`` has its error. The
        /// old copies stay live (nothing is reset) and are released by a later pass.
        public static let owner = Code(.owner)
        /// An extent named an owner that was never registered.
        public static let notRegistered = Code(.notRegistered)

        public var description: String { "\(value)" }
    }

    /// Broad classification.
    public var code: Code
    /// What went wrong, why, and what to do instead.
    public var message: String
    /// The allocator error behind an `.allocation` error.
    public var allocationError: AllocationError?
    /// The device error behind a `.device` error.
    public var deviceError: ZonedStorageError?
    /// Another underlying error (an owner's).
    public var cause: (any Error & Sendable)?
    /// Where the error was raised.
    public var location: String

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        allocationError: AllocationError? = nil,
        deviceError: ZonedStorageError? = nil,
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.allocationError = allocationError
        self.deviceError = deviceError
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    public var description: String {
        if let allocationError { return "\(message): \(allocationError)" }
        if let deviceError { return "\(message): \(deviceError)" }
        if let cause { return "\(message): \(cause)" }
        return message
    }
}
