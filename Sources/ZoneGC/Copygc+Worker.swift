import Synchronization
import ZoneAlloc

extension Copygc {
    /// Starts the background copygc thread (bcachefs's `bch2_copygc_thread`): it evaluates the
    /// trigger (``collectIfNeeded(force:)``) when writers have recorded enough, when the
    /// allocator kicks, and every ``CopygcConfiguration/pollInterval`` seconds. Errors are kept
    /// in ``lastError``. Call ``stop()`` before releasing copygc.
    ///
    /// - Returns: false if the thread was already running.
    @discardableResult
    public func start() -> Bool {
        worker.start { [self] in
            while true {
                let (stop, kicked) = worker.waitForWork(timeout: configuration.pollInterval)
                if stop { break }
                do throws(GCError) {
                    if kicked {
                        let skip = state.withLock { state in
                            state.backoffUntil.map { state.activity < $0 } ?? false
                        }
                        if !skip {
                            let free = allocator.availableBuckets(for: .normal)
                            _ = try pass(trigger: .kick, targetBuckets: max(1, configuration.stopAtFreeBuckets - free))
                        }
                    }
                    try collectIfNeeded(force: true)
                } catch {
                    state.withLock { $0.lastError = error }
                }
            }
            worker.didExit()
        }
    }

    /// Stops the background thread and waits for its current pass to end.
    public func stop() {
        worker.stop()
    }

    /// Whether the background thread is running.
    public var isRunning: Bool { worker.isRunning }
}
