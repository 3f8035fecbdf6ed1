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

    /// Requests that need PeerConnections, until the media half exists.
    static func notImplemented(_ request: String) -> VideoRoomError {
        VideoRoomError(.unknown, "Request '\(request)' is not implemented yet")
    }
}

// MARK: - Participants (janus_videoroom_handler's texts)

extension VideoRoomError {
    /// Anything but join/joinandconfigure on a handle that never joined.
    static let unconfigured = VideoRoomError(.joinFirst, "Invalid request on unconfigured participant")
    static let alreadyPublisher = VideoRoomError(.alreadyJoined, "Already in as a publisher on this handle")
    /// A join on a handle whose participant left, was kicked or lost its room: Janus never reuses it.
    static let notInARoom = VideoRoomError(.alreadyJoined, "Not in a room (create a new handle)")
    /// Any other request on such a handle; unlike `noSuchRoom(_:)` Janus names no number here.
    static let roomGone = VideoRoomError(.noSuchRoom, "No such room")
    static let invalidPtype = VideoRoomError(.invalidElement, "Invalid element (ptype)")
    static let notAllowed = VideoRoomError(.unauthorized, "Unauthorized (not in the allowed list)")
    static let privateIDRequired = VideoRoomError(.unauthorized, "Unauthorized (this room requires a valid private_id)")
    static let notPublished = VideoRoomError(.notPublished, "Can't unpublish, not published")
    static let alreadyPublished = VideoRoomError(.alreadyPublished, "Can't publish, already published")

    static func publishersFull(_ maximum: Int) -> VideoRoomError {
        VideoRoomError(.publishersFull, "Maximum number of publishers (\(maximum)) already reached")
    }
    static let alreadySubscriber = VideoRoomError(.alreadyJoined, "Already in as a subscriber on this handle")

    static func idTaken(_ id: UInt64) -> VideoRoomError {
        VideoRoomError(.idExists, "User ID \(id) already exists")
    }

    static func noSuchUser(_ id: UInt64, room: UInt64) -> VideoRoomError {
        VideoRoomError(.noSuchFeed, "No such user \(id) in room \(room)")
    }

    static func noSuchFeed(_ id: UInt64) -> VideoRoomError {
        VideoRoomError(.noSuchFeed, "No such feed (\(id))")
    }

    /// configure/publish naming a stream (`mid`) the participant does not send.
    static func noSuchPublishedMid(_ mid: String) -> VideoRoomError {
        VideoRoomError(.noSuchFeed, "No such mid '\(mid)' published")
    }

    /// A `streams` element without `mid` ("all streams") next to other elements.
    static let midlessStreamAmongOthers = VideoRoomError(.invalidElement, "Invalid value (mid can't be null in a streams array)")

    /// moderate naming a stream the participant does not send (Janus puts no parentheses here).
    static func noSuchStream(_ mid: String) -> VideoRoomError {
        VideoRoomError(.noSuchFeed, "No such stream \(mid)")
    }

    /// stop_rtp_forward naming a forwarder that does not exist.
    static func noSuchForwarder(_ id: UInt32) -> VideoRoomError {
        VideoRoomError(.noSuchFeed, "No such stream (\(id))")
    }

    /// A JSEP offer to publish (join/joinandconfigure/configure/publish): needs the media engine.
    static let publishingUnsupported = VideoRoomError(.unknown, "Publishing media is not supported yet")
    /// A subscription that passed every check: answering it needs an SDP offer from the media engine.
    static let subscribingUnsupported = VideoRoomError(.unknown, "Subscribing to media is not supported yet")
}
