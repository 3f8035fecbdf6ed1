import JanusAPI

/// `listforwarders`: RTP forwarders per publisher. None exist until rtp_forward is implemented.
extension VideoRoomPlugin {
    func listForwarders(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        let room = try room(for: request)
        try room.withState { (state: inout Room.State) throws(VideoRoomError) in
            try checkSecret(state.options.secret, in: request, member: "secret")
        }
        return ["videoroom": "forwarders", "room": JSON(room.id), "publishers": []]
    }
}
