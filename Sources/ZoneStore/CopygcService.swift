import Dispatch
import Logging
public import ServiceLifecycle
import ZoneGC
import ZonedStorage

/// Background copygc for a store, as a swift-service-lifecycle `Service`: every `interval` it
/// updates the store's gauges and, once free buckets fall below
/// ``OpenOptions/copygcStartBelowFreeBuckets``, runs passes until they reach
/// ``OpenOptions/copygcStopAtFreeBuckets``, a pass frees nothing, or copygc backs off (until more
/// was written or deleted). It stops cleanly on graceful shutdown or cancellation: a pass in
/// progress finishes (its moves committed), no new one starts.
///
/// ```swift
/// let group = ServiceGroup(services: [CopygcService(store: store)], logger: logger)
/// try await group.run()
/// ```
public struct CopygcService: Service {
    /// The store collected.
    public let store: ZoneStore
    /// How often the trigger is evaluated.
    public var interval: Duration

    /// Creates the service.
    public init(store: ZoneStore, interval: Duration = .milliseconds(250)) {
        self.store = store
        self.interval = interval
    }

    /// Runs until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            store.logger.info("copygc service started on \(store.device.path)")
            while !Task.isCancelled {
                await tick()
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    break
                }
            }
            store.logger.info("copygc service stopped on \(store.device.path)")
        }
    }

    /// One evaluation of the trigger: copygc's background trigger with its thresholds and
    /// backoff (``ZoneGC/Copygc/collectIfNeeded(force:)``), run off the cooperative pool.
    func tick() async {
        store.metrics.update(store)
        let store = self.store
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                do {
                    try store.collectInBackground()
                } catch {
                    if store.isOpen { store.logger.warning("copygc service: \(error)") }
                }
                continuation.resume()
            }
        }
    }
}
