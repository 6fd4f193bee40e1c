extension DifferentialRun {
    /// How a differential run is set up.
    public struct Options: Sendable, Hashable {
        /// The seed of the operation sequence: the same seed on the same device state gives the
        /// same operations.
        public var seed: UInt64
        /// How many operations to run (at least 1).
        public var operations: Int
        /// The variant whose emulator profile the reference uses; nil detects it from the device
        /// (``DeviceVariant/detect(for:)``).
        public var variant: DeviceVariant?
        /// At most this many sequential zones are used; nil takes enough to reach the device's
        /// open and active limits (at least 8), as far as the device has them.
        public var maximumWorkingZones: Int?
        /// The generator resets zones rather than write more when the data held in the working
        /// zones (which the memory-backed reference keeps in memory) would pass this many bytes.
        public var dataBudget: UInt64
        /// Once the run has written this many bytes, the generator finishes zones instead of
        /// filling them (FINISH makes a zone FULL without writing), so that runs on devices with
        /// large zones stay short.
        public var writeBudget: UInt64
        /// Keep every operation in ``DifferentialReport/operations``.
        public var recordOperations: Bool
        /// Whether the reference refuses writes after a failed write until the zone is reported
        /// (Linux 6.13+, checklist item 25). It makes no difference to the comparison: the run
        /// reports the working zones of both devices after every operation, which clears the
        /// condition on both.
        public var stickyWriteErrors: Bool

        /// Creates options.
        public init(
            seed: UInt64,
            operations: Int = 2000,
            variant: DeviceVariant? = nil,
            maximumWorkingZones: Int? = nil,
            dataBudget: UInt64 = 256 << 20,
            writeBudget: UInt64 = 1 << 30,
            recordOperations: Bool = false,
            stickyWriteErrors: Bool = false
        ) {
            self.seed = seed
            self.operations = operations
            self.variant = variant
            self.maximumWorkingZones = maximumWorkingZones
            self.dataBudget = dataBudget
            self.writeBudget = writeBudget
            self.recordOperations = recordOperations
            self.stickyWriteErrors = stickyWriteErrors
        }
    }
}
