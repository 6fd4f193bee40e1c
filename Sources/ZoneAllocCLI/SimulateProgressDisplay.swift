import Foundation
import ZoneSim

/// The one-line progress display of `zonealloc simulate` on a terminal (standard error),
/// redrawn at most five times a second.
final class SimulateProgressDisplay {
    private let enabled: Bool
    private var lastDrawn = ContinuousClock.now
    private var drawn = false

    /// - Parameter enabled: draw anything at all (standard error is a terminal, not `--quiet`).
    init(enabled: Bool) { self.enabled = enabled }

    /// Redraws the line for `progress` unless it was drawn less than 0.2 s ago.
    func show(_ progress: SimulationProgress) {
        guard enabled else { return }
        let now = ContinuousClock.now
        guard !drawn || lastDrawn.duration(to: now) >= .milliseconds(200) else { return }
        lastDrawn = now
        drawn = true
        let percent = Int(progress.fractionDone * 100)
        let rate = progress.blockWritesPerSecond / 1e6
        let line = String(
            format: "\r%@ %3d%%  WA %.3f  %.2fM block writes/s  %ds ",
            progress.phase.padding(toLength: 7, withPad: " ", startingAt: 0),
            percent,
            progress.writeAmplification,
            rate,
            Int(progress.elapsedSeconds)
        )
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Clears the line.
    func finish() {
        guard enabled, drawn else { return }
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 72) + "\r").utf8))
    }
}
