import Foundation
import ZonedStorage

/// Draws ranks 1…n from a Zipf distribution with exponent `s` in O(1) per draw: Hörmann and
/// Derflinger's rejection-inversion ("Rejection-inversion to generate variates from monotone
/// discrete distributions", ACM TOMACS 1996), as Apache Commons' sampler implements it.
struct ZipfSampler: Sendable {
    let count: Double
    let exponent: Double
    private let hIntegralX1: Double
    private let hIntegralCount: Double
    private let sTerm: Double

    init(count: Int, exponent: Double) {
        self.count = Double(count)
        self.exponent = exponent
        hIntegralX1 = Self.hIntegral(1.5, exponent) - 1
        hIntegralCount = Self.hIntegral(Double(count) + 0.5, exponent)
        sTerm = 2 - Self.hIntegralInverse(Self.hIntegral(2.5, exponent) - Self.h(2, exponent), exponent)
    }

    /// A rank in 1…count, drawn with `random`.
    func sample(using random: inout SplitMix64) -> Int {
        while true {
            let uniform = Double(random.next() >> 11) * 0x1.0p-53
            let u = hIntegralCount + uniform * (hIntegralX1 - hIntegralCount)
            let x = Self.hIntegralInverse(u, exponent)
            let k = min(max((x + 0.5).rounded(.down), 1), count)
            if k - x <= sTerm || u >= Self.hIntegral(k + 0.5, exponent) - Self.h(k, exponent) {
                return Int(k)
            }
        }
    }

    private static func h(_ x: Double, _ s: Double) -> Double { exp(-s * log(x)) }

    private static func hIntegral(_ x: Double, _ s: Double) -> Double {
        let logX = log(x)
        return helper2((1 - s) * logX) * logX
    }

    private static func hIntegralInverse(_ x: Double, _ s: Double) -> Double {
        var t = x * (1 - s)
        if t < -1 { t = -1 }
        return exp(helper1(t) * x)
    }

    /// log(1 + x) / x, continuous at 0.
    private static func helper1(_ x: Double) -> Double {
        abs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x))
    }

    /// (exp(x) − 1) / x, continuous at 0.
    private static func helper2(_ x: Double) -> Double {
        abs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x))
    }
}
