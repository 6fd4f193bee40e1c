/// One figure of the benchmark table, printed as a machine-readable line that
/// tools/bench-probes.sh collects into its summary:
///
///   RESULT put-64KiB ratio=0.93 target=>=0.9 met store=1021.3MiB/s pwrite=1098.0MiB/s
///
/// The first `name=value` pair is the figure, `target=` the target (`>=` larger is better,
/// `<=` smaller is better), then `met` or `MISSED`, then context.
public struct ProbeResult: Sendable {
    /// Whether larger or smaller values are better.
    public enum Direction: String, Sendable {
        case atLeast = ">="
        case atMost = "<="
    }

    /// The figure's name, e.g. `put-64KiB`.
    public var name: String
    /// What the value measures, e.g. `ratio` or `bytes-per-bucket`.
    public var quantity: String
    /// The measured value.
    public var value: Double
    /// The target, if the figure has one.
    public var target: (Direction, Double)?
    /// Further `name=value` context.
    public var context: [(String, String)]

    /// Creates a result.
    public init(
        _ name: String,
        _ quantity: String,
        _ value: Double,
        target: (Direction, Double)? = nil,
        context: [(String, String)] = []
    ) {
        self.name = name
        self.quantity = quantity
        self.value = value
        self.target = target
        self.context = context
    }

    /// Whether the value meets the target (true when there is none).
    public var isMet: Bool {
        guard let (direction, bound) = target else { return true }
        switch direction {
        case .atLeast: return value >= bound
        case .atMost: return value <= bound
        }
    }

    /// The `RESULT …` line.
    public var line: String {
        var words = ["RESULT", name, "\(quantity)=\(Format.fixed(value, digits: value >= 100 ? 0 : 2))"]
        if let (direction, bound) = target {
            words.append("target=\(direction.rawValue)\(Format.fixed(bound, digits: bound >= 100 ? 0 : 2))")
            words.append(isMet ? "met" : "MISSED")
        }
        words += context.map { "\($0)=\($1)" }
        return words.joined(separator: " ")
    }

    /// Prints the `RESULT …` line.
    public func print() { Swift.print(line) }
}
