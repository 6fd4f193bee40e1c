import Metrics
import Synchronization
import ZoneAlloc

/// The store's counters and gauges through swift-metrics (a no-op until the application
/// bootstraps a metrics backend): bytes written by users, bytes copygc moved, write
/// amplification, free buckets, open zones.
final class StoreMetrics: Sendable {
    let userBytes: Counter
    let copygcBytes: Counter
    let writeAmplification: Gauge
    let freeBuckets: Gauge
    let openZones: Gauge
    /// Copygc bytes already counted (copygc's own totals are read at each update).
    let countedCopygcBytes = Atomic<UInt64>(0)

    init(label: String) {
        let dimensions = [("device", label)]
        userBytes = Counter(label: "zonealloc_store_user_bytes_written", dimensions: dimensions)
        copygcBytes = Counter(label: "zonealloc_store_copygc_bytes_moved", dimensions: dimensions)
        writeAmplification = Gauge(label: "zonealloc_store_write_amplification", dimensions: dimensions)
        freeBuckets = Gauge(label: "zonealloc_store_free_buckets", dimensions: dimensions)
        openZones = Gauge(label: "zonealloc_store_open_zones", dimensions: dimensions)
    }

    func recordPut(bytes: Int) {
        userBytes.increment(by: bytes)
    }

    /// Updates the gauges, and the copygc counter, from the store's statistics.
    func update(_ store: ZoneStore) {
        let statistics = store.statistics()
        let moved = statistics.copygc.bytesMoved
        let before = countedCopygcBytes.exchange(moved, ordering: .relaxed)
        if moved > before { copygcBytes.increment(by: Int(moved - before)) }
        writeAmplification.record(statistics.writeAmplification)
        freeBuckets.record(statistics.allocator.bucketsByState[.free] ?? 0)
        openZones.record(statistics.allocator.openBuckets)
    }
}
