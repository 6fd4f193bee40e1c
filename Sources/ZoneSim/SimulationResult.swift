public import ZoneAlloc
public import ZoneGC

/// What a simulation measured, as data.
public struct SimulationResult: Sendable {
    /// The configuration run.
    public var configuration: SimulationConfiguration
    /// The derived sizes.
    public var layout: SimulationLayout
    /// Copygc's counters over the measured phase only.
    public var measured: CopygcStatistics
    /// Copygc's counters over the whole run (fill and warm-up included).
    public var total: CopygcStatistics
    /// The allocator's accounting at the end.
    public var allocator: AllocatorStatistics
    /// The CSV series.
    public var samples: [SimulationSample]
    /// Seconds the whole run took.
    public var elapsedSeconds: Double
    /// Seconds the measured phase took.
    public var measuredSeconds: Double
    /// ℓ, the lifetime classifier's mean short-lived lifespan at the end, in blocks of write
    /// clock (infinite unless lifetime placement reclaimed enough short-lived buckets).
    public var averageLifespanBlocks: Double

    /// Write amplification over the measured phase: (user + copygc block writes) / user.
    public var writeAmplification: Double { measured.writeAmplification }

    /// The Lambert-W greedy value for the simulated ρ (the uniform-random anchor).
    public var analyticGreedy: Double {
        AnalyticWriteAmplification.greedy(overProvisioning: layout.overProvisioning)
    }

    /// Device block writes (user + copygc) per second over the whole run.
    public var blockWritesPerSecond: Double {
        let sectors = total.userSectorsWritten + total.copygcSectorsMoved + total.copygcSectorsDiscarded
        let blockSectors = configuration.blockSize / DataPointer.sectorSize
        return elapsedSeconds > 0 ? Double(sectors / blockSectors) / elapsedSeconds : 0
    }

    /// User block writes per second over the whole run.
    public var userBlockWritesPerSecond: Double {
        let blockSectors = configuration.blockSize / DataPointer.sectorSize
        return elapsedSeconds > 0 ? Double(total.userSectorsWritten / blockSectors) / elapsedSeconds : 0
    }
}
