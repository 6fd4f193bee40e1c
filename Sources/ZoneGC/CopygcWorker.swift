import Foundation

/// The background copygc thread's handshake (bcachefs's `bch2_copygc_thread`): sleeps until
/// kicked, poked by writers, or the poll interval passes.
// NSCondition is thread-safe; every other field is only touched with `condition` locked.
final class CopygcWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var running = false
    private var stopping = false
    private var kicked = false
    private var poked = false

    /// Whether a worker thread is running.
    var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    /// Starts `body` on a new thread unless one runs already. Returns false if one does.
    func start(_ body: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !running else { return false }
        running = true
        stopping = false
        let thread = Thread { body() }
        thread.name = "copygc"
        thread.start()
        return true
    }

    /// Sleeps until there is work or `timeout` seconds pass. Returns whether to stop and
    /// whether an allocation kicked.
    func waitForWork(timeout: Double) -> (stop: Bool, kicked: Bool) {
        condition.lock()
        defer { condition.unlock() }
        if !kicked, !poked, !stopping { _ = condition.wait(until: Date(timeIntervalSinceNow: timeout)) }
        let result = (stopping, kicked)
        kicked = false
        poked = false
        return result
    }

    /// An allocation is waiting for a bucket.
    func kick() {
        condition.lock()
        kicked = true
        condition.broadcast()
        condition.unlock()
    }

    /// Writers recorded enough to re-evaluate the trigger.
    func poke() {
        condition.lock()
        poked = true
        condition.broadcast()
        condition.unlock()
    }

    /// The worker loop returned.
    func didExit() {
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
    }

    /// Asks the worker to stop and waits until it has.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        guard running else { return }
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        stopping = false
    }
}
