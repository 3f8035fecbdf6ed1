import JanusAPI

/// `join` and `joinandconfigure`: the checks both kinds of participant share, in Janus's order
/// (room, join parameters, room lookup, pin, then `ptype`).
extension VideoRoomPlugin {
    /// janus_videoroom.c's join_parameters. `bitrate`, `record` and `filename` only matter to
    /// joinandconfigure; audio/video/data are deprecated and only type-checked.
    static let joinParameters: [Parameter] = [
        .string("ptype", required: true), .boolean("audio"), .boolean("video"), .boolean("data"),
        .positiveInteger("bitrate"), .boolean("record"), .string("filename"), .string("token"),
    ]

    func join(_ request: RequestBody, name: RequestName, message: PluginMessage) throws(VideoRoomError) -> AsyncReply? {
        _ = try request.room()
        try request.validate(Self.joinParameters)
        let room = try room(for: request)
        let pin = try room.withState { (state: inout Room.State) -> String? in state.options.pin }
        try checkSecret(pin, in: request, member: "pin")
        switch request.string("ptype")?.lowercased() {
        case "publisher":
            return try joinAsPublisher(request, name: name, room: room, message: message)
        case "subscriber":
            return try joinAsSubscriber(request, room: room, message: message)
        default:
            throw .invalidPtype
        }
    }
}
