public import ZonedStorage

/// The one error type of the `ZoneAlloc` module.
public struct AllocationError: Error, Sendable, CustomStringConvertible {
    /// A broad classification. Compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case noSpace, invalidRequest, device, generationStore, unsupportedDevice, timedOut
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// No room for the data: usable capacity exhausted, or no free bucket and nothing to reclaim.
        public static let noSpace = Code(.noSpace)
        /// The request is malformed (zero length, larger than allowed, bad pointer).
        public static let invalidRequest = Code(.invalidRequest)
        /// The device refused an operation; ``AllocationError/cause`` has the device error.
        public static let device = Code(.device)
        /// The generation store failed to persist a generation; the zone was not reset.
        public static let generationStore = Code(.generationStore)
        /// The device cannot host the allocator (too few zone slots, no sequential zones).
        public static let unsupportedDevice = Code(.unsupportedDevice)
        /// Waiting for copygc to free a bucket took longer than the configured limit.
        public static let timedOut = Code(.timedOut)

        public var description: String { "\(value)" }
    }

    /// Broad classification.
    public var code: Code
    /// What went wrong, why, and what to do instead.
    public var message: String
    /// The device error behind a `.device` error.
    public var deviceError: ZonedStorageError?
    /// Another underlying error (for example from the generation store).
    public var cause: (any Error)?

    /// Creates an error.
    public init(code: Code, message: String, deviceError: ZonedStorageError? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.deviceError = deviceError
        self.cause = cause
    }

    public var description: String {
        if let deviceError { return "\(message): \(deviceError)" }
        if let cause { return "\(message): \(cause)" }
        return message
    }
}
