/// Copygc's counters, as data. Take two snapshots and ``since(_:)`` to measure an interval.
public struct CopygcStatistics: Sendable, Hashable, Codable {
    /// Sectors users wrote (recorded through ``Copygc/recordWrites(owner:keys:pointers:hint:)``).
    public var userSectorsWritten = 0
    /// Sectors copygc rewrote and whose owners accepted the move.
    public var copygcSectorsMoved = 0
    /// Sectors copygc rewrote whose owners refused the move (overwritten meanwhile); the copies
    /// were marked dead. They cost device writes too.
    public var copygcSectorsDiscarded = 0
    /// Cached sectors dropped (not moved) from evacuated buckets.
    public var cachedSectorsDropped = 0
    /// Victim buckets emptied and reset by copygc.
    public var bucketsFreed = 0
    /// Zone resets the allocator performed during copygc passes (victims and emptied buckets).
    public var zonesReset = 0
    /// Zone finishes the allocator performed during copygc passes.
    public var zonesFinished = 0
    /// Passes run (including those that found nothing to do).
    public var passes = 0
    /// Passes that could free nothing and backed off.
    public var passesWithNothingToDo = 0
    /// Moves refused by owners because the extent was overwritten meanwhile.
    public var racesLost = 0
    /// Foreground kicks received from the allocator.
    public var kicks = 0
    /// Trigger evaluations and kicks skipped because copygc was backing off.
    public var backoffs = 0
    /// Wall-clock time spent in passes.
    public var timeSpent = Duration.zero

    /// Creates zeroed statistics.
    public init() {}

    /// (user + copygc writes) / user writes: device sectors written per user sector. 1 when
    /// nothing was written.
    public var writeAmplification: Double {
        guard userSectorsWritten > 0 else { return 1 }
        return Double(userSectorsWritten + copygcSectorsMoved + copygcSectorsDiscarded) / Double(userSectorsWritten)
    }

    /// The counters accumulated since `earlier` (a previous snapshot).
    public func since(_ earlier: CopygcStatistics) -> CopygcStatistics {
        var delta = CopygcStatistics()
        delta.userSectorsWritten = userSectorsWritten - earlier.userSectorsWritten
        delta.copygcSectorsMoved = copygcSectorsMoved - earlier.copygcSectorsMoved
        delta.copygcSectorsDiscarded = copygcSectorsDiscarded - earlier.copygcSectorsDiscarded
        delta.cachedSectorsDropped = cachedSectorsDropped - earlier.cachedSectorsDropped
        delta.bucketsFreed = bucketsFreed - earlier.bucketsFreed
        delta.zonesReset = zonesReset - earlier.zonesReset
        delta.zonesFinished = zonesFinished - earlier.zonesFinished
        delta.passes = passes - earlier.passes
        delta.passesWithNothingToDo = passesWithNothingToDo - earlier.passesWithNothingToDo
        delta.racesLost = racesLost - earlier.racesLost
        delta.kicks = kicks - earlier.kicks
        delta.backoffs = backoffs - earlier.backoffs
        delta.timeSpent = timeSpent - earlier.timeSpent
        return delta
    }
}
