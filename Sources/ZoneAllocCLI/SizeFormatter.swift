/// Formats byte counts for people: `64 MiB`, `60 MiB`, `1.5 GiB`, `4 KiB`, `512 B`.
enum SizeFormatter {
    private static let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

    /// A short human-readable size with binary units.
    ///
    /// Exact multiples of a unit are printed without decimals (`60 MiB`); other values get up
    /// to two decimals of the largest unit they reach (`1.25 MiB`), so the text stays short.
    ///
    /// - Parameter bytes: the byte count.
    /// - Returns: the formatted size.
    static func string(_ bytes: UInt64) -> String {
        var unit = 0
        var divisor: UInt64 = 1
        while unit + 1 < units.count, bytes >= divisor << 10 {
            divisor <<= 10
            unit += 1
        }
        if bytes % divisor == 0 { return "\(bytes / divisor) \(units[unit])" }
        let hundredths = Int(Double(bytes % divisor) / Double(divisor) * 100)
        var text = "\(bytes / divisor)"
        if hundredths > 0 {
            text +=
                hundredths % 10 == 0 ? ".\(hundredths / 10)" : (hundredths < 10 ? ".0\(hundredths)" : ".\(hundredths)")
        }
        return "\(text) \(units[unit])"
    }
}
