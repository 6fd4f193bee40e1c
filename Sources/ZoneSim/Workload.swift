/// A write workload over the logical space, as the command line spells it.
public enum Workload: Hashable, Sendable, CustomStringConvertible {
    /// Every write goes to a uniformly random logical block.
    case uniform
    /// `hotcold:W/S`: W % of the writes go to (uniformly random blocks of) S % of the space,
    /// the rest to the other blocks.
    case hotCold(writePercent: Double, spacePercent: Double)
    /// `zipf:θ`: block ranks drawn from a Zipf distribution with exponent θ (> 0).
    case zipf(exponent: Double)
    /// The logical space overwritten in order, again and again.
    case sequential
    /// `trace:FILE`: a CSV trace of writes and deletes, replayed in a loop (see ``TraceFile``).
    case trace(path: String)

    /// Parses `uniform`, `hotcold:90/10`, `zipf:0.99`, `sequential`, `trace:PATH`.
    ///
    /// - Throws: ``SimulationError`` `.invalidParameter` naming what is accepted.
    public init(parsing text: String) throws(SimulationError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let name = parts.first?.lowercased() ?? ""
        let argument = parts.count > 1 ? parts[1] : nil
        func fail(_ why: String) -> SimulationError {
            SimulationError(
                code: .invalidParameter,
                message: "workload '\(text)': \(why); use uniform, hotcold:W/S (e.g. hotcold:90/10), zipf:θ "
                    + "(e.g. zipf:0.99), sequential or trace:FILE"
            )
        }
        switch name {
        case "uniform" where argument == nil:
            self = .uniform
        case "sequential" where argument == nil:
            self = .sequential
        case "hotcold":
            let numbers = (argument ?? "").split(separator: "/").compactMap { Double($0) }
            guard numbers.count == 2, numbers[0] > 0, numbers[0] < 100, numbers[1] > 0, numbers[1] < 100 else {
                throw fail("hotcold needs two percentages between 0 and 100, writes/space")
            }
            self = .hotCold(writePercent: numbers[0], spacePercent: numbers[1])
        case "zipf":
            guard let exponent = argument.flatMap(Double.init), exponent > 0, exponent.isFinite else {
                throw fail("zipf needs an exponent θ > 0")
            }
            self = .zipf(exponent: exponent)
        case "trace":
            guard let argument, !argument.isEmpty else { throw fail("trace needs a file path") }
            self = .trace(path: argument)
        default:
            throw fail("unknown workload")
        }
    }

    public var description: String {
        switch self {
        case .uniform: "uniform"
        case .hotCold(let w, let s): "hotcold:\(Self.format(w))/\(Self.format(s))"
        case .zipf(let exponent): "zipf:\(Self.format(exponent))"
        case .sequential: "sequential"
        case .trace(let path): "trace:\(path)"
        }
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
