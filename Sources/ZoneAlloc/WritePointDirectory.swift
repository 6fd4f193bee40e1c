/// Which write point serves which ``WriteHint`` (bcachefs's `writepoint_find`): every distinct
/// hint gets a user write point of its own while there are free ones; beyond that a new hint
/// takes over the least recently used one. `.metadata` and `.copygc` are bound to their
/// dedicated write points.
///
/// It has its own lock in ``BucketAllocator``, apart from the allocator state, so that looking a
/// hint up never waits for a slow allocation path.
struct WritePointDirectory: Sendable {
    static let metadataWritePoint = 0
    static let copygcWritePoint = 1
    /// A write point shared by more hints than this forgets its oldest ones (keeps the map small).
    static let maxHintsPerWritePoint = 64

    /// Hint → write point.
    private(set) var hintMap: [WriteHint: Int]
    /// The hints mapped to each write point, in the order they were mapped (the dedicated hints
    /// are not listed: they never move).
    private(set) var hints: [[WriteHint]]
    /// Logical time each write point was last used.
    private var lastUsed: [UInt64]
    /// Each write point's allocation count when it was last looked at (see ``resolve(_:uses:)``).
    private var seenUses: [UInt64]
    private var clock: UInt64 = 0
    /// A direct-mapped cache in front of ``hintMap``, slot by ``cacheSlot(of:)``: hashing a hint
    /// for the dictionary (SipHash) costs more than the allocation fast path itself.
    private(set) var cache: [(hint: WriteHint, index: Int)?] = Array(repeating: nil, count: Self.cacheSize)
    static let cacheSize = 64

    /// A directory for `count` write points: metadata's, copygc's, then the user ones.
    init(count: Int) {
        precondition(count > 2, "a directory needs the two dedicated write points and a user one")
        hintMap = [.metadata: Self.metadataWritePoint, .copygc: Self.copygcWritePoint]
        hints = Array(repeating: [], count: count)
        lastUsed = Array(repeating: 0, count: count)
        seenUses = Array(repeating: 0, count: count)
    }

    /// The write point for `hint`: its own while user write points last, else the least
    /// recently used one is taken over.
    ///
    /// Callers holding a ``WritePoint`` allocate without coming here, so recency is also read from
    /// each write point's allocation count: `uses(index)` returns it, and a write point whose
    /// count moved since the last look counts as used now.
    mutating func resolve(_ hint: WriteHint, uses: (Int) -> UInt64) -> Int {
        clock += 1
        let slot = Self.cacheSlot(of: hint)
        if let cached = cache[slot], cached.hint == hint {
            lastUsed[cached.index] = clock
            return cached.index
        }
        if let index = hintMap[hint] {
            cache[slot] = (hint, index)
            lastUsed[index] = clock
            return index
        }
        precondition(hint.isUser, "dedicated write points are bound at init")
        let users = 2..<hints.count
        let index: Int
        if let unused = users.first(where: { hints[$0].isEmpty }) {
            index = unused
        } else {
            for user in users {
                let count = uses(user)
                if count != seenUses[user] {
                    // Used since the last look: as recent as anything this directory knows.
                    seenUses[user] = count
                    lastUsed[user] = clock
                }
            }
            index = users.min { lastUsed[$0] < lastUsed[$1] }!
        }
        if hints[index].count > Self.maxHintsPerWritePoint {
            // Keep the hint map bounded: forget the oldest mappings of a heavily shared point.
            for old in hints[index].prefix(Self.maxHintsPerWritePoint / 2) {
                hintMap[old] = nil
                if cache[Self.cacheSlot(of: old)]?.hint == old { cache[Self.cacheSlot(of: old)] = nil }
            }
            hints[index].removeFirst(Self.maxHintsPerWritePoint / 2)
        }
        hintMap[hint] = index
        hints[index].append(hint)
        cache[slot] = (hint, index)
        lastUsed[index] = clock
        return index
    }

    /// The cache slot of `hint`: its value mixed by a multiplication (Fibonacci hashing).
    static func cacheSlot(of hint: WriteHint) -> Int {
        let key: UInt64 =
            switch hint {
            case .stream(let value): value
            case .owner(let value): value ^ 0x5555_5555_5555_5555
            case .temperature(.hot): 1 << 62
            case .temperature(.warm): 2 << 62
            case .temperature(.cold): 3 << 62
            case .copygc: 0xAAAA_AAAA_AAAA_AAAA
            case .metadata: 0xCCCC_CCCC_CCCC_CCCC
            }
        return Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 58)
    }

    /// Traps if the hint map and the per-write-point hint lists disagree.
    func checkInvariants() {
        var mapped = 0
        for (index, list) in hints.enumerated() {
            for hint in list {
                precondition(hintMap[hint] == index, "write point \(index): hint map broken for \(hint)")
            }
            precondition(Set(list).count == list.count, "write point \(index): a hint is listed twice")
            precondition(list.count <= Self.maxHintsPerWritePoint + 1, "write point \(index): \(list.count) hints")
            mapped += list.count
        }
        precondition(hintMap[.metadata] == Self.metadataWritePoint, "metadata hint not on its write point")
        precondition(hintMap[.copygc] == Self.copygcWritePoint, "copygc hint not on its write point")
        precondition(mapped + 2 == hintMap.count, "hint map has \(hintMap.count) entries, lists \(mapped) + 2")
        for (slot, entry) in cache.enumerated() {
            guard let entry else { continue }
            precondition(Self.cacheSlot(of: entry.hint) == slot, "hint cache: \(entry.hint) in the wrong slot")
            precondition(hintMap[entry.hint] == entry.index, "hint cache: \(entry.hint) → \(entry.index) is stale")
        }
    }
}
