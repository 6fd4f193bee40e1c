import ZoneAlloc

/// The allocator's copygc hook, holding copygc weakly (the allocator must not keep it alive).
final class CopygcKick: CopygcTrigger {
    weak let copygc: Copygc?

    init(_ copygc: Copygc) { self.copygc = copygc }

    func kickCopygc(reason: String) {
        copygc?.kickCopygc(reason: reason)
    }
}
