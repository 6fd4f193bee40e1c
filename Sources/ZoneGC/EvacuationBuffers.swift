import ZoneAlloc

/// Scratch arrays of one evacuation, kept by ``Copygc`` from pass to pass. A pass on large
/// buckets moves hundreds of thousands of extents; allocating those arrays afresh each time
/// made the kernel fault in and zero tens of megabytes per pass (an eighth of the simulator's
/// time). Passes run one at a time, so one set suffices; its size is bounded by the largest
/// pass (``CopygcConfiguration/maxVictimsPerPass`` buckets of extents).
struct EvacuationBuffers: Sendable {
    /// Extents to move, per copygc write point.
    var perClass: [[Copygc.PlannedMove]] = []
    /// Moves made, in write order.
    var batch: [Copygc.Moved] = []
    /// The moves handed to one owner.
    var moves: [ExtentMove] = []
    /// Old copies of accepted moves.
    var accepted: [DataPointer] = []
    /// New copies of refused moves.
    var rejected: [DataPointer] = []

    /// Empties every array, keeping its capacity.
    mutating func clear() {
        for index in perClass.indices { perClass[index].removeAll(keepingCapacity: true) }
        batch.removeAll(keepingCapacity: true)
        moves.removeAll(keepingCapacity: true)
        accepted.removeAll(keepingCapacity: true)
        rejected.removeAll(keepingCapacity: true)
    }
}
