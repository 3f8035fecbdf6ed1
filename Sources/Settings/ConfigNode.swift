/// One libconfig setting copied out of the C tree, so everything past `LibConfigDocument` is plain Swift.
struct ConfigNode: Sendable {
    enum Value: Sendable {
        case integer(Int64)
        case float(Double)
        case string(String)
        case bool(Bool)
        case group([ConfigNode])
        case array([ConfigNode])
        case list([ConfigNode])

        /// The kind as it reads in "must be X, got Y" messages.
        var kindName: String {
            switch self {
            case .integer: "an integer"
            case .float: "a float"
            case .string: "a string"
            case .bool: "a boolean"
            case .group: "a group"
            case .array: "an array"
            case .list: "a list"
            }
        }
    }

    /// nil for list and array elements.
    var name: String?
    var value: Value
    var line: Int
    /// The @include file the setting came from; nil for the text handed to the parser.
    var file: String?
}
