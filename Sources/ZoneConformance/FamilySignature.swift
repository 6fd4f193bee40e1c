/// How a device answers the zone operations where device families differ (checklist item 79).
struct FamilySignature: Hashable, CustomStringConvertible {
    /// OPEN of a FULL zone succeeds.
    var opensFull: Bool
    /// CLOSE of an EMPTY zone succeeds.
    var closesEmpty: Bool
    /// CLOSE of a FULL zone succeeds.
    var closesFull: Bool
    /// CLOSE of an unwritten explicitly open zone leaves it CLOSED (not EMPTY).
    var unwrittenCloseLeavesClosed: Bool

    init(opensFull: Bool, closesEmpty: Bool, closesFull: Bool, unwrittenCloseLeavesClosed: Bool) {
        self.opensFull = opensFull
        self.closesEmpty = closesEmpty
        self.closesFull = closesFull
        self.unwrittenCloseLeavesClosed = unwrittenCloseLeavesClosed
    }

    /// The signature the checklist gives for `variant`.
    init(_ variant: DeviceVariant) {
        self.init(
            opensFull: variant.opensFullZones,
            closesEmpty: variant.closesEmptyZones,
            closesFull: variant.closesFullZones,
            unwrittenCloseLeavesClosed: variant.closingUnwrittenZoneLeavesItClosed
        )
    }

    var description: String {
        func result(_ ok: Bool) -> String { ok ? "succeeds" : "EIO" }
        return "OPEN FULL \(result(opensFull)), CLOSE EMPTY \(result(closesEmpty)), CLOSE FULL \(result(closesFull)), "
            + "an unwritten open zone closes to \(unwrittenCloseLeavesClosed ? "CLOSED" : "EMPTY")"
    }
}
