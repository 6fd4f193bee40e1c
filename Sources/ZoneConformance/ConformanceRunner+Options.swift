extension ConformanceRunner {
    /// How a run is set up.
    public struct Options: Sendable {
        /// The variant whose expectations apply; nil detects it from the device's vendor string
        /// (``DeviceVariant/detect(from:)``).
        public var variant: DeviceVariant?
        /// A way to make zones read-only or offline, for items 48, 49 and 69–71.
        public var injector: ZoneConditionInjector?
        /// At most this many sequential zones are used; nil lets the run take as many as the
        /// device's open and active limits require (at least 8).
        public var maximumWorkingZones: Int?

        /// Creates options.
        public init(
            variant: DeviceVariant? = nil,
            injector: ZoneConditionInjector? = nil,
            maximumWorkingZones: Int? = nil
        ) {
            self.variant = variant
            self.injector = injector
            self.maximumWorkingZones = maximumWorkingZones
        }
    }
}
