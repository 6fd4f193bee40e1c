import Synchronization
import ZoneAlloc

/// The allocator's ``ZoneAlloc/BucketGenerationStore``, backed by the store's journal: a new
/// generation is a journal record, committed (durable, with every record before it — including
/// the delete or move that emptied the bucket) before ``persist(_:of:)`` returns and the
/// allocator resets the zone.
///
/// While the store opens, before the superblock names the new journal chain, a generation can
/// only be queued (the allocator may reset an emptied bucket to give the journal its first
/// bucket); such buckets hold nothing any recovered pointer refers to, and the queued record is
/// committed right after the superblock is written.
final class GenerationHook: BucketGenerationStore {
    /// Journals the generations and commits once, through the last of them.
    typealias Sink = @Sendable ([(bucket: BucketIndex, generation: BucketGeneration)]) throws(StoreError) -> Void

    private let initial: [BucketGeneration]?
    private let sink = Mutex<Sink?>(nil)

    init(initial: [UInt8]?) {
        self.initial = initial?.map { BucketGeneration(rawValue: $0) }
    }

    /// Routes persists to `sink` (the store).
    func connect(_ sink: @escaping Sink) {
        self.sink.withLock { $0 = sink }
    }

    func loadGenerations(bucketCount: Int) throws -> [BucketGeneration]? {
        guard let initial else { return nil }
        precondition(initial.count == bucketCount, "recovered \(initial.count) generations for \(bucketCount) buckets")
        return initial
    }

    func persist(_ generation: BucketGeneration, of bucket: BucketIndex) throws {
        try persist([(bucket: bucket, generation: generation)])
    }

    func persist(_ generations: [(bucket: BucketIndex, generation: BucketGeneration)]) throws {
        guard let sink = sink.withLock({ $0 }) else {
            throw StoreError(
                code: .failed,
                message: "generations of \(generations.map(\.bucket)) were to be persisted before the journal was ready"
            )
        }
        try sink(generations)
    }
}
