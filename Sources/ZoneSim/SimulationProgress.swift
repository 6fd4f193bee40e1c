/// Progress of a running simulation, for a progress display.
public struct SimulationProgress: Hashable, Sendable {
    /// `fill`, `warmup` or `measure`.
    public var phase: String
    /// Fraction of the whole run done, 0…1.
    public var fractionDone: Double
    /// Write amplification of the current phase so far.
    public var writeAmplification: Double
    /// Device block writes (user + copygc) per second so far.
    public var blockWritesPerSecond: Double
    /// Seconds since the start.
    public var elapsedSeconds: Double
}
