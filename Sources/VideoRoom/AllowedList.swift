import JanusAPI

/// A room's access list (`allowed`): tokens that may join, and whether the check is on. Janus keeps
/// the tokens when the check is disabled, so `enable` brings the same list back.
struct AllowedList: Sendable, Equatable {
    var enabled: Bool
    var tokens: Set<String>

    init(_ tokens: Set<String>?) {
        enabled = tokens != nil
        self.tokens = tokens ?? []
    }

    /// What `RoomOptions.allowed` shows: the tokens while the check is on, nil otherwise.
    var asOption: Set<String>? { enabled ? tokens : nil }

    /// Whether a joining participant with this token gets in (used by `join` later).
    func admits(_ token: String?) -> Bool {
        guard enabled else { return true }
        guard let token else { return false }
        return tokens.contains(token)
    }

    /// The reply's `allowed` array, sorted so it is stable (Janus's order is a hash table's).
    var json: JSON { .array(tokens.sorted().map { .string($0) }) }
}
