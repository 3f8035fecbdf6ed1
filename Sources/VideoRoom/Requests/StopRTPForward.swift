import JanusAPI

/// `stop_rtp_forward`: removes an RTP forwarder.
extension VideoRoomPlugin {
    func stopRTPForward(_ request: RequestBody) throws(VideoRoomError) -> JSON {
        let roomID = try request.room()
        try request.validate([.positiveInteger("publisher_id", required: true)])
        try request.validate([.positiveInteger("stream_id", required: true)])
        guard let room = rooms.room(roomID) else { throw .noSuchRoom(roomID) }
        let publisherID = request.integer("publisher_id") ?? 0
        // Janus keeps forwarder ids in 32 bits.
        let streamID = UInt32(truncatingIfNeeded: request.integer("stream_id") ?? 0)
        let feed = try room.withState { (state: inout Room.State) throws(VideoRoomError) -> PublisherFeed? in
            try checkSecret(state.options.secret, in: request, member: "secret")
            guard let publisher = state.participants[publisherID] else { throw .noSuchFeed(publisherID) }
            return publisher.feed
        }
        guard let feed, feed.removeForwarder(streamID) else { throw .noSuchForwarder(streamID) }
        return ["videoroom": "stop_rtp_forward", "room": JSON(room.id), "publisher_id": JSON(publisherID),
                "stream_id": JSON(UInt64(streamID))]
    }
}
