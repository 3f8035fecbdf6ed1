import JanusAPI

/// `stop_rtp_forward`: removes an RTP forwarder. None can exist until `rtp_forward` (media issue)
/// creates them, so a valid request ends at "No such stream".
extension VideoRoomPlugin {
    func stopRTPForward(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        let roomID = try request.room()
        try request.validate([.positiveInteger("publisher_id", required: true)])
        try request.validate([.positiveInteger("stream_id", required: true)])
        guard let room = rooms.room(roomID) else { throw .noSuchRoom(roomID) }
        let publisherID = request.integer("publisher_id") ?? 0
        // Janus keeps forwarder ids in 32 bits.
        let streamID = UInt32(truncatingIfNeeded: request.integer("stream_id") ?? 0)
        try room.withState { (state: inout Room.State) throws(VideoRoomError) in
            try checkSecret(state.options.secret, in: request, member: "secret")
            guard state.participants[publisherID] != nil else { throw .noSuchFeed(publisherID) }
            throw .noSuchForwarder(streamID)
        }
        return ["videoroom": "stop_rtp_forward"]
    }
}
