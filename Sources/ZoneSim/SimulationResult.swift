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
    /// Mean unwritten blocks during the measured phase: free buckets (those held back for
    /// copygc and those kept free by its thresholds) plus the unwritten rest of open buckets,
    /// sampled at random instants. Copygc cannot turn this space into dead space to reclaim,
    /// so it is over-provisioning lost (see ``effectiveOverProvisioning``).
    public var meanUnwrittenBlocks: Double

    /// Write amplification over the measured phase: (user + copygc block writes) / user.
    public var writeAmplification: Double { measured.writeAmplification }

    /// The Lambert-W greedy value for the simulated ρ (the uniform-random anchor).
    public var analyticGreedy: Double {
        AnalyticWriteAmplification.greedy(overProvisioning: layout.overProvisioning)
    }

    /// The over-provisioning copygc actually works with: ρ_eff = (T − U − F) / U, with F the
    /// ``meanUnwrittenBlocks``. On few zones F is several percent of T, and write amplification
    /// follows the analytic curve at ρ_eff rather than at ρ.
    public var effectiveOverProvisioning: Double {
        Double(layout.totalBlocks - layout.logicalBlocks) - meanUnwrittenBlocks > 0
            ? (Double(layout.totalBlocks - layout.logicalBlocks) - meanUnwrittenBlocks) / Double(layout.logicalBlocks)
            : 0
    }

    /// The Lambert-W greedy value at ``effectiveOverProvisioning`` (nan when it is 0).
    public var analyticGreedyAtEffectiveOverProvisioning: Double {
        let rho = effectiveOverProvisioning
        return rho > 0 ? AnalyticWriteAmplification.greedy(overProvisioning: rho) : .nan
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
