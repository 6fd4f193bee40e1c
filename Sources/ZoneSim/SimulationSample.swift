/// One row of the simulation's CSV series.
public struct SimulationSample: Hashable, Sendable, Codable {
    /// `fill`, `warmup` or `measure`.
    public var phase: String
    /// User blocks written since the start (fill included).
    public var userBlocks: Int
    /// Blocks copygc wrote since the start (moved, and discarded after a lost race).
    public var copygcBlocks: Int
    /// Write amplification since the start of the current phase.
    public var phaseWriteAmplification: Double
    /// Write amplification since the previous sample.
    public var intervalWriteAmplification: Double
    /// Free buckets at the normal watermark.
    public var freeBuckets: Int
    /// Copygc passes so far, and those that found nothing to do.
    public var passes: Int
    /// Passes that found nothing to do.
    public var passesWithNothingToDo: Int
    /// Seconds since the start of the run.
    public var elapsedSeconds: Double

    /// The CSV header.
    public static let csvHeader =
        "phase,user_blocks,copygc_blocks,phase_wa,interval_wa,free_buckets,passes,passes_nothing_to_do,elapsed_s"

    /// The CSV line.
    public var csvLine: String {
        [
            phase, String(userBlocks), String(copygcBlocks), format(phaseWriteAmplification),
            format(intervalWriteAmplification), String(freeBuckets), String(passes), String(passesWithNothingToDo),
            format(elapsedSeconds),
        ].joined(separator: ",")
    }

    private func format(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        return String(Double((value * 10_000).rounded()) / 10_000)
    }
}
