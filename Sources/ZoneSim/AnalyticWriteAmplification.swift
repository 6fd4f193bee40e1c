import Foundation

/// Closed forms for write amplification under uniform random overwrite (anchors §4.1).
public enum AnalyticWriteAmplification {
    /// Greedy (equivalently FIFO) cleaning with large buckets: the Lambert-W form
    /// `A = (1 + ρ) / (1 + ρ + W₀(−(1 + ρ)·e^{−(1 + ρ)}))` (Xiang & Kurkoski 2011; the mean-field
    /// result). 6.93, 4.85, 3.19 at ρ = 0.08, 0.12, 0.20.
    ///
    /// - Parameter rho: over-provisioning ρ = (T − U) / U, > 0.
    public static func greedy(overProvisioning rho: Double) -> Double {
        let a = 1 + rho
        return a / (a + lambertW0(-a * exp(-a)))
    }

    /// Agarwal et al.'s approximation `(1 + ρ) / (2ρ)`.
    public static func agarwal(overProvisioning rho: Double) -> Double {
        (1 + rho) / (2 * rho)
    }

    /// The principal branch of the Lambert W function for x in [−1/e, ∞), by Halley's method.
    static func lambertW0(_ x: Double) -> Double {
        precondition(x >= -exp(-1.0) - 1e-12, "W₀ is undefined below −1/e")
        // Start near the branch point with its series, elsewhere with log1p.
        var w: Double
        if x < -0.3 {
            let p = (2 * (M_E * x + 1)).squareRoot()
            w = -1 + p - p * p / 3 + 11 * p * p * p / 72
        } else {
            w = log1p(x)
        }
        for _ in 0..<64 {
            let e = exp(w)
            let f = w * e - x
            let step = f / (e * (w + 1) - (w + 2) * f / (2 * w + 2))
            w -= step
            if abs(step) < 1e-15 * (1 + abs(w)) { break }
        }
        return w
    }
}
