import JanusAPI

/// A VideoRoom failure as the plugin reports it, inside `plugindata.data`:
/// `{"videoroom":"event","error_code":N,"error":"..."}`. Codes and texts follow janus_videoroom.c.
public struct VideoRoomError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Int, Sendable, CaseIterable {
        case unknown = 499
        case noMessage = 421
        case invalidJSON = 422
        case invalidRequest = 423
        case joinFirst = 424
        case alreadyJoined = 425
        case noSuchRoom = 426
        case roomExists = 427
        case noSuchFeed = 428
        case missingElement = 429
        case invalidElement = 430
        case invalidSDPType = 431
        case publishersFull = 432
        case unauthorized = 433
        case alreadyPublished = 434
        case notPublished = 435
        case idExists = 436
        case invalidSDP = 437
    }

    public var code: Code
    public var reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue) \(reason)" }

    /// The `data` of the plugin's reply.
    public var json: JSON {
        ["videoroom": "event", "error_code": .int(Int64(code.rawValue)), "error": .string(reason)]
    }
}

extension VideoRoomError {
    static func missing(_ element: String) -> VideoRoomError {
        VideoRoomError(.missingElement, "Missing mandatory element (\(element))")
    }

    static func invalidType(_ element: String, _ expectation: String) -> VideoRoomError {
        VideoRoomError(.invalidElement, "Invalid element type (\(element) should be \(expectation))")
    }

    static func noSuchRoom(_ id: UInt64) -> VideoRoomError {
        VideoRoomError(.noSuchRoom, "No such room (\(id))")
    }

    static func roomExists(_ id: UInt64) -> VideoRoomError {
        VideoRoomError(.roomExists, "Room \(id) already exists")
    }

    /// `member` is the field that did not match: `secret`, `pin` or `admin_key`.
    static func wrong(_ member: String) -> VideoRoomError {
        VideoRoomError(.unauthorized, "Unauthorized (wrong \(member))")
    }

    static func unknownRequest(_ request: String) -> VideoRoomError {
        VideoRoomError(.invalidRequest, "Unknown request '\(request)'")
    }

    static let allowedNotStrings = VideoRoomError(.invalidElement, "Invalid element in the allowed array (not a string)")

    /// Janus answers this when `permanent` is true but it has no configuration file to save into,
    /// which is Confab's situation: rooms are not persisted (yet).
    static func noConfigurationFile(_ action: String) -> VideoRoomError {
        VideoRoomError(.unknown, "No configuration file, can't \(action)")
    }

    /// Requests that need participants with PeerConnections, until the media half exists.
    static func notImplemented(_ request: String) -> VideoRoomError {
        VideoRoomError(.unknown, "Request '\(request)' is not implemented yet")
    }
}
