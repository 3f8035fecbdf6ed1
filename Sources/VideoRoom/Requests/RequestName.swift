/// Every request janus.plugin.videoroom knows, by its (case-insensitive) `request` value.
enum RequestName: String, CaseIterable {
    // Synchronous: answered in the reply, also reachable through the Admin API's message_plugin.
    case create, edit, destroy, exists, list, allowed, kick, moderate
    case listParticipants = "listparticipants"
    case listForwarders = "listforwarders"
    case rtpForward = "rtp_forward"
    case stopRTPForward = "stop_rtp_forward"
    case enableRecording = "enable_recording"
    // Asynchronous in Janus (ack, then an event): they all need a participant.
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

    /// Requests that act on participants or media, answered with 499 until the media half lands.
    var needsMedia: Bool {
        switch self {
        case .create, .edit, .destroy, .exists, .list, .allowed, .listParticipants, .listForwarders:
            return false
        default:
            return true
        }
    }
}
