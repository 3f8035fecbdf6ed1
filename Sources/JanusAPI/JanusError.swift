/// A failure reported on the wire as Janus does: `{"janus":"error","error":{"code":N,"reason":"..."}}`.
/// Codes and default reasons follow Janus 1.x's apierror.h so clients that switch on codes keep working.
public struct JanusError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var reason: String

    public init(_ code: Code, _ reason: String? = nil) {
        self.code = code.rawValue
        self.reason = reason ?? code.defaultReason
    }

    public var description: String { "\(code) \(reason)" }

    public enum Code: Int, Sendable, CaseIterable {
        case unauthorized = 403
        case unauthorizedPlugin = 405
        case transportSpecific = 450
        case missingRequest = 452
        case unknownRequest = 453
        case invalidJSON = 454
        case invalidJSONObject = 455
        case missingMandatoryElement = 456
        case invalidRequestPath = 457
        case sessionNotFound = 458
        case handleNotFound = 459
        case pluginNotFound = 460
        case pluginAttach = 461
        case pluginMessage = 462
        case pluginDetach = 463
        case jsepUnknownType = 464
        case jsepInvalidSDP = 465
        case trickleInvalidStream = 466
        case invalidElementType = 467
        case sessionConflict = 468
        case unexpectedAnswer = 469
        case tokenNotFound = 470
        case webRTCState = 471
        case notAcceptingSessions = 472
        case unknown = 490

        /// Janus's janus_get_api_error() strings.
        public var defaultReason: String {
            switch self {
            case .unauthorized: return "Unauthorized request (wrong or missing secret/token)"
            case .unauthorizedPlugin: return "Unauthorized access to plugin (token is not allowed to)"
            case .transportSpecific: return "Transport specific error"
            case .missingRequest: return "Missing request"
            case .unknownRequest: return "Unknown request"
            case .invalidJSON: return "Invalid JSON"
            case .invalidJSONObject: return "Invalid JSON Object"
            case .missingMandatoryElement: return "Missing mandatory element"
            case .invalidRequestPath: return "Invalid path for this request"
            case .sessionNotFound: return "Session not found"
            case .handleNotFound: return "Handle not found"
            case .pluginNotFound: return "Plugin not found"
            case .pluginAttach: return "Error attaching plugin"
            case .pluginMessage: return "Error sending message to plugin"
            case .pluginDetach: return "Error detaching from plugin"
            case .jsepUnknownType: return "Unsupported JSEP type"
            case .jsepInvalidSDP: return "Invalid SDP"
            case .trickleInvalidStream: return "Invalid stream"
            case .invalidElementType: return "Invalid element type"
            case .sessionConflict: return "Session ID already in use"
            case .unexpectedAnswer: return "Unexpected ANSWER (no OFFER)"
            case .tokenNotFound: return "Token not found"
            case .webRTCState: return "Wrong WebRTC state"
            case .notAcceptingSessions: return "Currently not accepting new sessions"
            case .unknown: return "Unknown error"
            }
        }
    }

    public static func missing(_ element: String) -> JanusError {
        JanusError(.missingMandatoryElement, "Missing mandatory element (\(element))")
    }

    public static func wrongType(_ element: String, _ expectation: String) -> JanusError {
        JanusError(.invalidElementType, "Invalid element type (\(element) should be \(expectation))")
    }

    /// The error reply Janus sends; `session_id` only when the request named one.
    public func reply(transaction: String?, sessionID: UInt64? = nil) -> JSON {
        var object: [String: JSON] = [
            "janus": "error",
            "error": ["code": .int(Int64(code)), "reason": .string(reason)],
        ]
        if let transaction { object["transaction"] = .string(transaction) }
        if let sessionID, sessionID != 0 { object["session_id"] = JSON(sessionID) }
        return .object(object)
    }
}
