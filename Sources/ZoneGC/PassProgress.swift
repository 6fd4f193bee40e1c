/// How far a copygc pass has come, reported after each group of victims is evacuated (for a
/// progress display, ``Copygc/collect(maxVictims:progress:)``).
public struct PassProgress: Sendable, Hashable {
    /// Victims evacuated so far.
    public var victimsEvacuated: Int
    /// The most victims this pass may take: the candidates it picked. The pass stops earlier
    /// once it has reclaimed what it aimed for or has no room to move more.
    public var candidates: Int
    /// Sectors moved so far and accepted by their owners.
    public var sectorsMoved: Int

    /// Creates a progress report.
    public init(victimsEvacuated: Int, candidates: Int, sectorsMoved: Int) {
        self.victimsEvacuated = victimsEvacuated
        self.candidates = candidates
        self.sectorsMoved = sectorsMoved
    }
}
