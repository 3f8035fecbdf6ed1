/// Where a session's events go when a push transport (a WebSocket) owns it. HTTP sessions have no
/// sink: their events wait in the session's queue for a long poll.
public final class EventSink: Sendable, Hashable {
    public let id: UInt64
    private let send: @Sendable (JSON) -> Void

    /// `send` must not block: transports hand it a queue (an AsyncStream) drained by the socket writer.
    public init(id: UInt64, send: @escaping @Sendable (JSON) -> Void) {
        self.id = id
        self.send = send
    }

    public func deliver(_ event: JSON) { send(event) }

    public static func == (lhs: EventSink, rhs: EventSink) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
