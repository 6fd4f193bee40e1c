/// The allocator's hook into the garbage collector: called when a normal allocation finds no
/// free bucket while fragmented space could be reclaimed. The copygc issue implements it; until
/// then a caller may install its own.
public protocol CopygcTrigger: Sendable {
    /// Asks copygc to free buckets soon. Must not block for long.
    func kickCopygc(reason: String)
}
