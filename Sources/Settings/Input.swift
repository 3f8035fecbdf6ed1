/// Where a value came from: the prefix of its messages, and which key a cross-field problem blames.
enum Origin: Sendable {
    case file(String, line: Int)
    case environment(String)

    /// The file name, or the variable name for an override.
    var name: String {
        switch self {
        case .file(let name, _), .environment(let name): name
        }
    }

    /// Later wins when two keys clash: the environment beats the file, a later line beats an earlier one.
    var precedence: Int {
        switch self {
        case .file(_, let line): line
        case .environment: Int.max
        }
    }
}

/// One value being decoded, with the dotted key and origin that every message needs.
struct Input: Sendable {
    var key: String
    var value: ConfigNode.Value
    var origin: Origin

    var fromEnvironment: Bool {
        if case .environment = origin { true } else { false }
    }

    /// A member or element of this value; settings from an @include keep their own file name.
    func child(_ node: ConfigNode, key: String) -> Input {
        Input(key: key, value: node.value, origin: .file(node.file ?? origin.name, line: node.line))
    }

    /// `requirement` continues the key: "must be 1..65535, got 70000".
    func failure(_ requirement: String) -> Failure {
        Failure(key: key, origin: origin, message: "\(key) \(requirement)")
    }
}

/// One problem with one key.
struct Failure: Error {
    var key: String
    var origin: Origin
    var message: String
}
