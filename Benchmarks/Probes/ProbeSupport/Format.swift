/// Number formatting for probe output (no Foundation needed).
public enum Format {
    /// `value` with `digits` decimals, e.g. `fixed(0.934, digits: 2)` → `"0.93"`.
    public static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let sign = value < 0 && scaled > 0 ? "-" : ""
        let whole = Int(scaled / scale)
        guard digits > 0 else { return sign + "\(whole)" }
        let fraction = String(Int(scaled - Double(whole) * scale))
        return sign + "\(whole)." + String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
    }

    /// `text` right-aligned in `width` columns.
    public static func right(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    /// `text` left-aligned in `width` columns.
    public static func left(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// `bytes / seconds` in MiB/s with one decimal, e.g. `"1021.3 MiB/s"`.
    public static func rate(bytes: Int, seconds: Double) -> String {
        fixed(Double(bytes) / Double(1 << 20) / seconds, digits: 1) + " MiB/s"
    }

    /// A size in KiB or MiB: `"4KiB"`, `"1MiB"`.
    public static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20)MiB" : "\(bytes >> 10)KiB"
    }
}
