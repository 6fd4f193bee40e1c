public import Logging

/// A logger that prints only errors: the store's `info` lines (open, close) would otherwise be
/// interleaved with the probes' tables.
public func quietLogger(_ label: String = "zonealloc.probe") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .error
    return logger
}
