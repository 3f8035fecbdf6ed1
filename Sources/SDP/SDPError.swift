/// Why a session description could not be read.
///
/// Errors carry the 1-based line number so a signalling log can point at the
/// offending line of a browser offer; `line` is 0 when the problem is the
/// description as a whole (empty input, a required line missing).
public struct SDPError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// 1-based line number, or 0 for problems that belong to no single line.
    public var line: Int
    /// What is wrong, quoting the line where that helps.
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    /// `line 7: bad m= line 'm=video x UDP'`, or just the message for line 0.
    public var description: String {
        line > 0 ? "line \(line): \(message)" : message
    }
}

/// Internal problem report from a field parser; the line parser adds the line
/// number and the quoted line, so field parsers only say what is wrong.
struct Invalid: Error {
    var reason: String?
    init(_ reason: String? = nil) { self.reason = reason }
}
