public import ZonedStorage

/// A way to turn zones READONLY or OFFLINE and back, which the `ZonedDevice` API does not offer
/// (null_blk does it through configfs `zone_readonly` / `zone_offline`, checklist item 69).
///
/// Given to ``ConformanceRunner``, it lets items 48, 49 and 69–71 run. Without it those checks
/// use zones that are already read-only or offline, or are skipped.
public struct ZoneConditionInjector: Sendable {
    /// Sets sequential zone `zone` to `.readOnly`, `.offline`, or back to `.empty`.
    public var setCondition: @Sendable (_ zone: Int, _ condition: ZoneCondition) throws(ZonedStorageError) -> Void

    /// Creates an injector from a function that sets a zone's condition.
    public init(
        setCondition: @escaping @Sendable (_ zone: Int, _ condition: ZoneCondition) throws(ZonedStorageError) -> Void
    ) {
        self.setCondition = setCondition
    }

    /// The injector of an emulated device (``ZonedStorage/EmulatedDevice/setZoneCondition(_:to:)``).
    public static func emulated(_ device: EmulatedDevice) -> ZoneConditionInjector {
        ZoneConditionInjector { (zone, condition) throws(ZonedStorageError) in
            try device.setZoneCondition(zone, to: condition)
        }
    }
}
