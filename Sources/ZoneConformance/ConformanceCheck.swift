/// One check of the zone conformance suite: a checklist item made runnable on any
/// ``ZonedStorage/ZonedDevice``.
///
/// The body drives the device through a ``ConformanceContext``, whose helpers compare each step
/// with the checklist's expectation for the device's ``DeviceVariant`` and throw
/// ``ConformanceStop`` at the first mismatch. Bodies are destructive: the runner resets the zones
/// before and after each one.
public struct ConformanceCheck: Sendable, Identifiable {
    /// The item number in `zone-model-checklist.md` (1–80).
    public let number: Int
    /// The item's title in the checklist.
    public let title: String
    /// The device variants the item concerns; the runner skips the check on the others.
    public let variants: Set<DeviceVariant>
    /// Where the item's expected result differs by variant, in words (for `--list`).
    public let variantNotes: [DeviceVariant: String]
    /// What the check does when it cannot exercise the item fully, or nil (for `--list`).
    public let limitation: String?
    /// The check itself.
    public let body: @Sendable (ConformanceContext) throws(ConformanceStop) -> ConformanceOutcome

    /// Creates a check.
    ///
    /// - Parameters:
    ///   - number: The checklist item number.
    ///   - title: The checklist item title.
    ///   - variants: The variants the item concerns (default: all).
    ///   - variantNotes: How the expected result differs per variant.
    ///   - limitation: What the check cannot observe through the `ZonedDevice` API.
    ///   - body: The check; returns ``ConformanceOutcome/pass`` or throws ``ConformanceStop``.
    public init(
        number: Int,
        title: String,
        variants: Set<DeviceVariant> = Set(DeviceVariant.allCases),
        variantNotes: [DeviceVariant: String] = [:],
        limitation: String? = nil,
        body: @escaping @Sendable (ConformanceContext) throws(ConformanceStop) -> ConformanceOutcome
    ) {
        self.number = number
        self.title = title
        self.variants = variants
        self.variantNotes = variantNotes
        self.limitation = limitation
        self.body = body
    }

    /// The checklist number.
    public var id: Int { number }

    /// The checklist section the item belongs to.
    public var section: ConformanceSection { ConformanceSection(item: number) }

    /// Whether the check runs on devices of `variant`.
    public func concerns(_ variant: DeviceVariant) -> Bool { variants.contains(variant) }
}
