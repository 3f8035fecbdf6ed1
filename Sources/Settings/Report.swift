/// Collects every problem (not just the first) and remembers where each key was set.
struct Report {
    /// Names problems that no single setting can be blamed for.
    let fileName: String
    private(set) var problems: [SettingsError.Problem] = []
    /// Keys set by the file or the environment; keys left at their default are absent.
    var origins: [String: Origin] = [:]
    /// Keys whose value was rejected; cross-field rules skip them rather than pile on.
    private(set) var failedKeys: Set<String> = []

    mutating func add(_ failure: Failure) {
        failedKeys.insert(failure.key)
        add(failure.message, key: failure.key, at: failure.origin)
    }

    /// A problem with `key`, placed where it was set.
    mutating func add(_ message: String, blaming key: String) {
        add(message, key: key, at: origins[key])
    }

    /// A rule between two keys: blames whichever was set last, since that is most likely the edit that broke it.
    mutating func conflict(_ first: String, _ second: String, message: (_ blamed: String, _ other: String) -> String) {
        guard !failedKeys.contains(first), !failedKeys.contains(second) else { return }
        let secondIsLater = (origins[second]?.precedence ?? -1) >= (origins[first]?.precedence ?? -1)
        let (blamed, other) = secondIsLater ? (second, first) : (first, second)
        add(message(blamed, other), blaming: blamed)
    }

    private mutating func add(_ message: String, key: String, at origin: Origin?) {
        let line: Int? = if case .file(_, let line) = origin { line } else { nil }
        problems.append(.init(file: origin?.name ?? fileName, line: line, key: key, message: message))
    }
}
