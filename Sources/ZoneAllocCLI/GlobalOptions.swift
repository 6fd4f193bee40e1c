import ArgumentParser

/// Options every `zonealloc` command takes.
struct GlobalOptions: ParsableArguments {
    /// Print the full error description (cause, source location) for device errors.
    @Flag(name: .shortAndLong, help: "On a device error, also print its cause and where it was raised.")
    var verbose = false
}
