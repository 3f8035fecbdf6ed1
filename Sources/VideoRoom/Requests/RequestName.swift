/// Every request janus.plugin.videoroom knows, by its (case-insensitive) `request` value.
enum RequestName: String, CaseIterable {
    // Synchronous: answered in the reply, also reachable through the Admin API's message_plugin.
    case create, edit, destroy, exists, list, allowed, kick, moderate
    case listParticipants = "listparticipants"
    case listForwarders = "listforwarders"
    case rtpForward = "rtp_forward"
    case stopRTPForward = "stop_rtp_forward"
    case enableRecording = "enable_recording"
    // Asynchronous in Janus (ack, then an event): they act on the handle's participant.
    case join, joinAndConfigure = "joinandconfigure", configure, publish, unpublish
    case start, pause, switchFeeds = "switch", update, subscribe, unsubscribe, leave

    init?(request: String) { self.init(rawValue: request.lowercased()) }

    /// Whether the Admin API may send it (janus_videoroom_process_synchronous_request handles it).
    var isSynchronous: Bool {
        switch self {
        case .create, .edit, .destroy, .exists, .list, .allowed, .kick, .moderate, .listParticipants,
             .listForwarders, .rtpForward, .stopRTPForward, .enableRecording:
            return true
        default:
            return false
        }
    }

    /// The ones that make a handle a participant.
    var isJoin: Bool { self == .join || self == .joinAndConfigure }
}
