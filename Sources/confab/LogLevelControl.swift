import Logging
import Settings
import Synchronization

/// The process-wide log level, changeable at run time (the Admin API's `set_log_level`).
final class LogLevelControl: Sendable {
    static let shared = LogLevelControl()
    private let level = Atomic<Int>(Logger.Level.info.index)

    func bootstrap(_ initial: Settings.LogLevel) {
        set(Logger.Level(initial))
        LoggingSystem.bootstrap { label in DynamicLevelHandler(inner: StreamLogHandler.standardError(label: label), control: self) }
    }

    func set(_ newLevel: Logger.Level) { level.store(newLevel.index, ordering: .relaxed) }
    var current: Logger.Level { Logger.Level.allCases[level.load(ordering: .relaxed)] }

    /// Janus levels: 0 none … 4 info, 5 verbose, 7 debug.
    func set(janusLevel: Int) {
        let mapped: Logger.Level = switch janusLevel {
        case ...1: .critical
        case 2: .error
        case 3: .warning
        case 4: .info
        case 5: .debug
        default: .trace
        }
        set(mapped)
    }

    static func janusLevel(_ level: Settings.LogLevel) -> Int {
        switch level {
        case .critical: return 1
        case .error: return 2
        case .warning: return 3
        case .notice, .info: return 4
        case .debug: return 5
        case .trace: return 7
        }
    }
}

private extension Logger.Level {
    init(_ level: Settings.LogLevel) { self = Logger.Level(rawValue: level.rawValue) ?? .info }
    var index: Int { Logger.Level.allCases.firstIndex(of: self) ?? 2 }
}

/// Wraps swift-log's stream handler, taking its level from `LogLevelControl`.
struct DynamicLevelHandler: LogHandler {
    var inner: StreamLogHandler
    let control: LogLevelControl

    var logLevel: Logger.Level {
        get { control.current }
        set { control.set(newValue) }
    }
    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }
    func log(event: LogEvent) { inner.log(event: event) }
}
