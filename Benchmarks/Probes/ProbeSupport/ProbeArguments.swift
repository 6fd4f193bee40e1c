/// A probe's command line: positional arguments, `name=value` options and bare flags.
///
///   StoreThroughputProbe /tmp/dir 512 3 size=64 verbose
///
/// gives positional `["/tmp/dir", "512", "3"]`, option `size` = `"64"` and flag `verbose`.
public struct ProbeArguments: Sendable {
    /// Arguments without `=` that are not flags, in order (the program name excluded).
    public let positional: [String]
    /// `name=value` arguments.
    public let options: [String: String]
    /// Arguments that are known flags.
    public let flags: Set<String>

    /// Splits `arguments` (the program name first, as in `CommandLine.arguments`).
    ///
    /// - Parameters:
    ///   - arguments: the command line.
    ///   - knownFlags: words that are flags rather than positional arguments.
    public init(_ arguments: [String] = CommandLine.arguments, knownFlags: Set<String> = []) {
        var positional: [String] = []
        var options: [String: String] = [:]
        var flags: Set<String> = []
        for argument in arguments.dropFirst() {
            if let equals = argument.firstIndex(of: "=") {
                options[String(argument[..<equals])] = String(argument[argument.index(after: equals)...])
            } else if knownFlags.contains(argument) {
                flags.insert(argument)
            } else {
                positional.append(argument)
            }
        }
        self.positional = positional
        self.options = options
        self.flags = flags
    }

    /// The positional argument at `index` as an integer, or `fallback`.
    public func integer(at index: Int, default fallback: Int) -> Int {
        index < positional.count ? Int(positional[index]) ?? fallback : fallback
    }

    /// The positional argument at `index`, or `fallback`.
    public func string(at index: Int, default fallback: String) -> String {
        index < positional.count ? positional[index] : fallback
    }

    /// The option `name` as an integer, or `fallback`.
    public func integer(_ name: String, default fallback: Int) -> Int {
        options[name].flatMap { Int($0) } ?? fallback
    }

    /// The option `name` as a list of integers (`1,2,4`), or `fallback`.
    public func integers(_ name: String, default fallback: [Int]) -> [Int] {
        guard let text = options[name] else { return fallback }
        let values = text.split(separator: ",").compactMap { Int($0) }
        return values.isEmpty ? fallback : values
    }

    /// Whether the flag `name` was given.
    public func has(_ name: String) -> Bool { flags.contains(name) }
}
