#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Typed readers: each returns the value or a failure worded "<key> must be ..., got ...".
/// Environment overrides arrive as text, so readers of numbers and names also parse `.string` from there.
extension Input {
    func typeMismatch(_ expected: String) -> Failure {
        failure("must be \(expected), got \(value.kindName)")
    }

    func bool() throws(Failure) -> Bool {
        guard case .bool(let flag) = value else { throw typeMismatch("true or false") }
        return flag
    }

    func integer(_ range: ClosedRange<Int>) throws(Failure) -> Int {
        let requirement = range.upperBound == Int.max
            ? (range.lowerBound == 1 ? "must be > 0" : "must be >= \(range.lowerBound)")
            : "must be \(range.lowerBound)..\(range.upperBound)"
        switch value {
        case .integer(let number):
            guard let result = Int(exactly: number), range.contains(result) else {
                throw failure("\(requirement), got \(number)")
            }
            return result
        case .string(let text) where fromEnvironment:
            guard let result = Int(text), range.contains(result) else { throw failure("\(requirement), got \(text)") }
            return result
        default:
            throw typeMismatch("an integer")
        }
    }

    /// `check` returns what is wrong with the text, or nil when it is fine.
    func string(_ check: (String) -> String? = { _ in nil }) throws(Failure) -> String {
        guard case .string(let text) = value else { throw typeMismatch("a string") }
        if let problem = check(text) { throw failure("\(problem), got \(text.debugDescription)") }
        return text
    }

    /// A name, or Janus's numeric `debug_level` so old configs keep working.
    func logLevel() throws(Failure) -> Settings.LogLevel {
        let names = Settings.LogLevel.allCases.map(\.rawValue).joined(separator: ", ")
        let requirement = "must be one of \(names) or 0..7"
        switch value {
        case .integer(let number):
            guard let level = Settings.LogLevel(janusLevel: number) else { throw failure("\(requirement), got \(number)") }
            return level
        case .string(let text):
            guard let level = Settings.LogLevel(rawValue: text.lowercased()) ?? Int64(text).flatMap({ Settings.LogLevel(janusLevel: $0) })
            else { throw failure("\(requirement), got \(text.debugDescription)") }
            return level
        default:
            throw typeMismatch("a string")
        }
    }

    func iceMode() throws(Failure) -> Settings.ICEMode {
        let text = try string()
        guard let mode = Settings.ICEMode(rawValue: text) else {
            throw failure("must be \"mux\" or \"full\", got \(text.debugDescription)")
        }
        return mode
    }

    /// `"20000-40000"`, both ends in 1..65535, lower <= upper.
    func portRange() throws(Failure) -> Settings.PortRange {
        let text = try string()
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
            .map { Int($0.trimmingWhitespace) }
        guard ends.count == 2, let lower = ends[0], let upper = ends[1] else {
            throw failure("must look like \"20000-40000\", got \(text.debugDescription)")
        }
        guard (1...65535).contains(lower), (1...65535).contains(upper) else {
            throw failure("ports must be 1..65535, got \(text.debugDescription)")
        }
        guard lower <= upper else { throw failure("must not start above its end, got \(text.debugDescription)") }
        return Settings.PortRange(lower: lower, upper: upper)
    }

    /// A list or array of strings; with `splitCommas` also one comma-separated string (handy in env-style configs).
    func strings(splitCommas: Bool, each check: (String) -> String? = { _ in nil }) throws(Failure) -> [String] {
        let elements: [Input]
        switch value {
        case .string(let text) where splitCommas:
            elements = text.split(separator: ",")
                .map { $0.trimmingWhitespace }
                .filter { !$0.isEmpty }
                .enumerated()
                .map { Input(key: "\(key)[\($0.offset)]", value: .string($0.element), origin: origin) }
        case .list(let nodes), .array(let nodes):
            // libconfig dates a scalar element by the token after it, so the last element of a multi-line
            // list gets the line of the closing bracket; the list's own line is always right.
            elements = nodes.enumerated().map { Input(key: "\(key)[\($0.offset)]", value: $0.element.value, origin: origin) }
        default:
            throw typeMismatch(splitCommas ? "a string or a list of strings" : "a list of strings")
        }
        var result: [String] = []
        for element in elements {
            result.append(try element.string(check))
        }
        return result
    }

    /// A comma-separated codec list, each one of `known`; stored normalized ("opus,g722").
    func codecs(_ known: [String]) throws(Failure) -> String {
        let text = try string()
        let names = text.split(separator: ",").map { $0.trimmingWhitespace.lowercased() }
        guard !names.isEmpty, names.allSatisfy(known.contains) else {
            throw failure("must be a comma-separated list of \(known.joined(separator: ", ")), got \(text.debugDescription)")
        }
        return names.joined(separator: ",")
    }
}

extension Settings.LogLevel {
    /// Janus's `debug_level`: 0 none, 1 fatal, 2 err, 3 warn, 4 info, 5 verb, 6 huge, 7 dbg.
    init?(janusLevel: Int64) {
        switch janusLevel {
        case 0, 1: self = .critical
        case 2: self = .error
        case 3: self = .warning
        case 4: self = .info
        case 5, 6: self = .debug
        case 7: self = .trace
        default: return nil
        }
    }
}
