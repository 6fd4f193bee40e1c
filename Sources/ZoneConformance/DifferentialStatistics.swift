/// What a differential run exercised: how deep it got, for judging a run that found nothing.
public struct DifferentialStatistics: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Operations run, by kind (``DifferentialOperation/kind``).
    public var operations: [String: Int] = [:]
    /// Operation results, by status name (`success`, `EIO`, `ETOOMANYREFS`, …).
    public var statuses: [String: Int] = [:]
    /// Operations that failed (on both devices: they agreed).
    public var refused = 0
    /// The most zones open at once.
    public var peakOpen = 0
    /// The most zones active at once.
    public var peakActive = 0
    /// Operations after which the open limit was reached.
    public var atOpenLimit = 0
    /// Operations after which the active limit was reached.
    public var atActiveLimit = 0
    /// Zones that became FULL by being written to their capacity.
    public var zonesFilled = 0
    /// Zones that became FULL by a FINISH.
    public var zonesFinished = 0
    /// Bytes written successfully (writes, fills and appends).
    public var bytesWritten: UInt64 = 0
    /// Bytes read and compared with the reference.
    public var bytesCompared: UInt64 = 0
    /// Writes (each write of a fill counted on its own) that the block layer cuts into more than
    /// one request: at a zone boundary or at the device's largest transfer (`max_sectors`).
    public var splitWrites = 0
    /// Writes that cross a zone boundary (checklist item 20).
    public var zoneCrossingWrites = 0
    /// Refused writes that still left part of their data written: a request before the refused
    /// one landed (past the capacity, or a zone the limits refuse), or one after it landed in the
    /// next zone.
    public var partlyWrittenRefusals = 0
    /// Zone management operations over a range of several zones (RESET ALL not counted).
    public var rangeOperations = 0
    /// Range operations that were refused although some of their zones changed condition (the
    /// kernel tries every zone and reports the last failure).
    public var partlyAppliedRangeRefusals = 0

    /// Creates empty statistics.
    public init() {}

    /// `2000 operations, 412 refused (EIO 250, ETOOMANYREFS 90, …), peak open 8, …`.
    public var description: String {
        let total = operations.values.reduce(0, +)
        let failures = statuses.filter { $0.key != "success" }.sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "\(total) operations, \(refused) refused" + (failures.isEmpty ? "" : " (\(failures))")
            + ", peak open \(peakOpen), peak active \(peakActive), at the open limit after \(atOpenLimit), "
            + "at the active limit after \(atActiveLimit), \(zonesFilled) zones filled, \(zonesFinished) finished, "
            + "\(bytesWritten) bytes written, \(bytesCompared) bytes compared, "
            + "\(splitWrites) split writes (\(zoneCrossingWrites) crossing a zone boundary), "
            + "\(partlyWrittenRefusals) refused writes partly written, \(rangeOperations) range operations "
            + "(\(partlyAppliedRangeRefusals) refused after changing some zones)"
    }
}
