import Synchronization

/// Where bucket generations are kept durably. The allocator calls ``persist(_:of:)`` with a
/// bucket's new generation and waits for it to return before it resets the zone (bcachefs's
/// journal gate: the new generation, and whatever emptied the bucket, are durable before the
/// zone is rewritten). The store implements this with its journal.
public protocol BucketGenerationStore: Sendable {
    /// The generations saved for `bucketCount` buckets, or nil for a fresh device (all 0).
    func loadGenerations(bucketCount: Int) throws -> [BucketGeneration]?

    /// Makes `generation` the durable generation of `bucket`; must not return before it is.
    func persist(_ generation: BucketGeneration, of bucket: BucketIndex) throws

    /// Makes every one of `generations` durable; must not return before all are. The allocator
    /// calls this when several buckets empty at once (a copygc pass's victims), so a store can
    /// make them durable with one commit. The default persists them one by one.
    func persist(_ generations: [(bucket: BucketIndex, generation: BucketGeneration)]) throws
}

extension BucketGenerationStore {
    /// Persists each generation in turn with ``persist(_:of:)``.
    public func persist(_ generations: [(bucket: BucketIndex, generation: BucketGeneration)]) throws {
        for (bucket, generation) in generations { try persist(generation, of: bucket) }
    }
}

/// A ``BucketGenerationStore`` in memory: for tests, simulations and devices without a store.
public final class InMemoryGenerationStore: BucketGenerationStore {
    private let generations = Mutex<[BucketIndex: BucketGeneration]>([:])
    private let persistCount = Atomic<Int>(0)

    /// Creates an empty store (every bucket at generation 0).
    public init() {}

    public func loadGenerations(bucketCount: Int) throws -> [BucketGeneration]? {
        generations.withLock { saved in
            guard !saved.isEmpty else { return nil }
            return (0..<bucketCount).map { saved[BucketIndex($0)] ?? BucketGeneration(rawValue: 0) }
        }
    }

    public func persist(_ generation: BucketGeneration, of bucket: BucketIndex) throws {
        generations.withLock { $0[bucket] = generation }
        persistCount.add(1, ordering: .relaxed)
    }

    /// The generation last persisted for `bucket`, if any.
    public func generation(of bucket: BucketIndex) -> BucketGeneration? {
        generations.withLock { $0[bucket] }
    }

    /// How many times a generation was persisted.
    public var persisted: Int { persistCount.load(ordering: .relaxed) }
}
