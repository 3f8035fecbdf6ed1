/// Everything wrong with a configuration, one `file:line: message` line per problem.
public struct SettingsError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The file name as the caller gave it, or the environment variable for an override.
        public var file: String
        /// 1-based line in `file`; nil for environment variables and unreadable files.
        public var line: Int?
        /// The dotted key, e.g. `http.port` or `videoroom.rooms[0].id`; nil for syntax and I/O errors.
        public var key: String?
        /// The text after `file:line: `, e.g. `http.port must be 1..65535, got 70000`.
        public var message: String

        public init(file: String, line: Int?, key: String?, message: String) {
            self.file = file
            self.line = line
            self.key = key
            self.message = message
        }

        public var description: String {
            line.map { "\(file):\($0): \(message)" } ?? "\(file): \(message)"
        }
    }

    /// Every problem found, in the order found; never empty.
    public private(set) var problems: [Problem]

    public init(_ first: Problem, _ more: [Problem] = []) {
        problems = [first] + more
    }

    // The first problem's fields, for callers that only show one.
    public var file: String { problems[0].file }
    public var line: Int? { problems[0].line }
    public var key: String? { problems[0].key }
    public var message: String { problems[0].message }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
