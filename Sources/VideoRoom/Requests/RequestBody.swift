import JanusAPI

/// A request's fields, checked the way Janus's JANUS_VALIDATE_JSON_OBJECT checks them: parameters
/// in table order, the first problem wins.
struct RequestBody {
    let fields: [String: JSON]

    init(_ fields: [String: JSON]) { self.fields = fields }

    /// An element of a request's array (`streams`, `descriptions`). Janus validates whatever the
    /// element is as if it were an object, so a non-object simply has no members.
    init(element: JSON) { self.fields = element.objectValue ?? [:] }

    subscript(key: String) -> JSON? { fields[key] }

    func validate(_ parameters: [Parameter]) throws(VideoRoomError) {
        for parameter in parameters {
            guard let value = fields[parameter.name] else {
                if parameter.required { throw .missing(parameter.name) }
                continue
            }
            guard parameter.kind.accepts(value) else {
                throw .invalidType(parameter.name, parameter.kind.expectation)
            }
        }
    }

    // Typed reads, for fields already validated (nil when absent).
    func string(_ key: String) -> String? { fields[key]?.stringValue }
    func bool(_ key: String) -> Bool? { fields[key]?.boolValue }
    func integer(_ key: String) -> UInt64? { fields[key]?.uint64Value }

    /// Janus's json_integer_value(): the member as an unsigned id when it is an integer, else 0.
    /// Requests that look a room up without having validated `room` (kick, moderate,
    /// enable_recording) end up with "No such room (0)" for a missing or mistyped one.
    func janusInteger(_ key: String) -> UInt64 {
        switch fields[key] {
        case .int(let value)?: return UInt64(bitPattern: value)
        case let value?: return value.uint64Value ?? 0
        case nil: return 0
        }
    }

    /// The mandatory `room` (a positive integer).
    func room() throws(VideoRoomError) -> UInt64 {
        try validate([.positiveInteger("room", required: true)])
        return integer("room") ?? 0
    }
}

/// One entry of a Janus parameter table.
struct Parameter {
    enum Kind {
        case string, boolean, array
        /// JSON_INTEGER with JANUS_JSON_PARAM_POSITIVE: zero or more.
        case positiveInteger
        /// JSON_INTEGER without flags: any whole number.
        case integer

        func accepts(_ value: JSON) -> Bool {
            switch self {
            case .string: return value.stringValue != nil
            case .boolean: return value.boolValue != nil
            case .array: return value.arrayValue != nil
            case .positiveInteger: return value.uint64Value != nil
            case .integer: return value.intValue != nil
            }
        }

        /// How Janus's janus_get_json_type_name() words it.
        var expectation: String {
            switch self {
            case .string: return "a string"
            case .boolean: return "a boolean"
            case .array: return "an array"
            case .positiveInteger: return "a positive integer"
            case .integer: return "an integer"
            }
        }
    }

    let name: String
    let kind: Kind
    let required: Bool

    static func string(_ name: String, required: Bool = false) -> Parameter { Parameter(name: name, kind: .string, required: required) }
    static func boolean(_ name: String, required: Bool = false) -> Parameter { Parameter(name: name, kind: .boolean, required: required) }
    static func array(_ name: String, required: Bool = false) -> Parameter { Parameter(name: name, kind: .array, required: required) }
    static func positiveInteger(_ name: String, required: Bool = false) -> Parameter {
        Parameter(name: name, kind: .positiveInteger, required: required)
    }
    static func integer(_ name: String, required: Bool = false) -> Parameter { Parameter(name: name, kind: .integer, required: required) }
}
