import JanusAPI

/// `unpublish`: stop sending media. Nobody publishes before the media engine exists, so the
/// answer is Janus's for a participant without a PeerConnection.
extension VideoRoomPlugin {
    func unpublish(room: Room, participantID: UInt64) throws(VideoRoomError) -> JSON {
        let publishing = try room.withParticipant(participantID) { (participant: inout Participant, _: Room.State) in
            participant.publishing
        }
        guard publishing else { throw .notPublished }
        // Hanging up a publisher's PeerConnection is the media issue's job.
        throw .notImplemented("unpublish")
    }
}
