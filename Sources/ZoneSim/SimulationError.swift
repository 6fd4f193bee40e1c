public import ZoneAlloc
public import ZoneGC
public import ZonedStorage

/// The one error type of the `ZoneSim` module.
///
/// ``message`` says what went wrong, why, and what to do instead.
public struct SimulationError: Error, Sendable, CustomStringConvertible {
    /// A broad classification. Compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case invalidParameter, invalidTrace, device, allocation, copygc
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A parameter is out of range or inconsistent (geometry, ρ, reserve, workload).
        public static let invalidParameter = Code(.invalidParameter)
        /// A trace file cannot be read or has a malformed line.
        public static let invalidTrace = Code(.invalidTrace)
        /// The emulated device refused something; ``SimulationError/deviceError`` says what.
        public static let device = Code(.device)
        /// The allocator refused a write; ``SimulationError/allocationError`` says why.
        public static let allocation = Code(.allocation)
        /// Copygc failed; ``SimulationError/gcError`` says why.
        public static let copygc = Code(.copygc)

        public var description: String { "\(value)" }
    }

    /// Broad classification.
    public var code: Code
    /// What went wrong, why, and what to do instead.
    public var message: String
    /// The device error behind a `.device` error.
    public var deviceError: ZonedStorageError?
    /// The allocator error behind an `.allocation` error.
    public var allocationError: AllocationError?
    /// The copygc error behind a `.copygc` error.
    public var gcError: GCError?

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        deviceError: ZonedStorageError? = nil,
        allocationError: AllocationError? = nil,
        gcError: GCError? = nil
    ) {
        self.code = code
        self.message = message
        self.deviceError = deviceError
        self.allocationError = allocationError
        self.gcError = gcError
    }

    public var description: String {
        if let deviceError { return "\(message): \(deviceError)" }
        if let allocationError { return "\(message): \(allocationError)" }
        if let gcError { return "\(message): \(gcError)" }
        return message
    }
}
