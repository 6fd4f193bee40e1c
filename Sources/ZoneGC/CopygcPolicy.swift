/// How copygc picks victims and where it (and, with lifetime placement, user writes) writes.
public struct CopygcPolicy: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Victim selection.
    public enum Selection: String, Hashable, Sendable, Codable, CaseIterable {
        /// Fewest live sectors first: bcachefs's fragmentation LRU order
        /// (``ZoneAlloc/BucketAllocator/fragmentedBuckets(limit:)``).
        case greedy
        /// Sprite LFS's cost-benefit: the highest `(1 − u) · age / (1 + u)` first, where `u` is
        /// the live fraction and `age` the write-clock time since the bucket was opened (as
        /// SepBIT's prototype ages segments). Sprite's own age, the write time of the bucket's
        /// youngest data, is worse here: data copygc moves keeps its old write time, so buckets
        /// of moved cold data look old and are moved again and again (`hotcold:90/10`, ρ = 0.12,
        /// 512 zones: 3.49 against 3.22).
        case costBenefit = "cost-benefit"
    }

    /// Where data goes.
    public enum Placement: String, Hashable, Sendable, Codable, CaseIterable {
        /// User writes use their own hints; every copygc rewrite goes through the copygc write
        /// point (bcachefs's `copygc_write_point`).
        case single
        /// Lifetime classes inferred as SepBIT does (FAST '22): user writes whose previous
        /// version lived shorter than ℓ go to a short-lived class, others to a long-lived one;
        /// copygc rewrites of short-lived buckets go to one class, the rest to three classes by
        /// data age (< 4ℓ, < 16ℓ, older). ℓ is the mean lifespan of the last 16 reclaimed
        /// short-lived buckets. Six write points; see ``LifetimeClassifier``.
        case lifetime
    }

    /// Victim selection.
    public var selection: Selection
    /// Data placement.
    public var placement: Placement

    /// Creates a policy.
    public init(selection: Selection, placement: Placement) {
        self.selection = selection
        self.placement = placement
    }

    /// bcachefs's copygc: greedy victims, one copygc write point.
    public static let greedy = CopygcPolicy(selection: .greedy, placement: .single)
    /// Sprite LFS cost-benefit victims, one copygc write point.
    public static let costBenefit = CopygcPolicy(selection: .costBenefit, placement: .single)
    /// SepBIT-style lifetime classes with cost-benefit victims (SepBIT's default selection).
    public static let lifetime = CopygcPolicy(selection: .costBenefit, placement: .lifetime)
    /// Lifetime classes with greedy victims.
    public static let lifetimeGreedy = CopygcPolicy(selection: .greedy, placement: .lifetime)

    /// The named policies, as the command line spells them.
    public static let named: [(name: String, policy: CopygcPolicy)] = [
        ("greedy", .greedy), ("cost-benefit", .costBenefit), ("lifetime", .lifetime),
        ("lifetime-greedy", .lifetimeGreedy),
    ]

    /// The policy called `name` (see ``named``), or nil.
    public init?(named name: String) {
        guard let found = Self.named.first(where: { $0.name == name }) else { return nil }
        self = found.policy
    }

    /// The command-line name, or `selection+placement` for other combinations.
    public var description: String {
        Self.named.first { $0.policy == self }?.name ?? "\(selection.rawValue)+\(placement.rawValue)"
    }
}
