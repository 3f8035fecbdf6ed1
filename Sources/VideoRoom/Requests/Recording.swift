import JanusAPI

/// Recording publishers to .mjr files (see StreamRecorder): the room's `record` flag (create,
/// `enable_recording`) and each publisher's `record`/`filename` (publish, configure,
/// joinandconfigure). With `lock_record`, a publisher changes its recording only with the room secret.
extension VideoRoomPlugin {
    /// Takes `record` and `filename` from a publish/configure request. With `lock_record` and a
    /// room secret, a request without the right `secret` leaves the recording state as it was
    /// (Janus ignores the change rather than failing the request).
    func applyRecordingRequest(_ request: RequestBody, room: Room, participantID: UInt64) throws(VideoRoomError) {
        let record = request.bool("record")
        let filename = request.string("filename")
        guard record != nil || filename != nil else { return }
        try room.withParticipant(participantID) { (participant: inout Participant, state: Room.State) in
            if state.options.lockRecord, let secret = state.options.secret {
                guard let given = request.string("secret"), constantTimeEquals(given, secret) else {
                    logger.info("recording change refused: the room's recording is locked",
                                metadata: ["room": "\(room.id)", "id": "\(participantID)"])
                    return
                }
            }
            if let record { participant.record = record }
            if let filename, !filename.isEmpty { participant.recordingBase = filename }
        }
    }

    /// Starts or stops the participant's recording to match what it (or else the room) asks for.
    func refreshRecording(room: Room, participantID: UInt64) {
        let wish = try? room.withParticipant(participantID) {
            (participant: inout Participant, state: Room.State) -> RecordingWish in
            RecordingWish(feed: participant.feed, wanted: participant.record ?? state.options.record,
                          base: participant.recordingBase, options: state.options)
        }
        guard let wish, let feed = wish.feed, feed.isPublishing else { return }
        if wish.wanted, !feed.isRecording {
            let (directory, name) = Self.recordingLocation(base: wish.base, options: wish.options,
                                                           participantID: participantID)
            let (paths, errors) = feed.startRecording(directory: directory, baseName: name)
            // A recording must begin with a keyframe to be playable, as Janus asks for one too.
            for stream in feed.streams where stream.kind == .video {
                feed.requestKeyframe(position: stream.position, context: nil)
            }
            for error in errors {
                logger.error("cannot record", metadata: ["room": "\(room.id)", "id": "\(participantID)", "error": "\(error)"])
            }
            logger.info("recording started", metadata: [
                "room": "\(room.id)", "id": "\(participantID)", "files": "\(paths.joined(separator: ", "))",
            ])
        } else if !wish.wanted, feed.isRecording {
            stopRecording(feed, roomID: room.id)
        }
    }

    /// Waits, up to `timeout`, until every recording is written out and renamed (at shutdown,
    /// once the sessions are gone: the writer thread would otherwise die with the process).
    public static func finishRecordings(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while RecordingWriter.shared.openCount > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    struct RecordingWish: Sendable {
        let feed: PublisherFeed?
        let wanted: Bool
        let base: String?
        let options: RoomOptions
    }

    func stopRecording(_ feed: PublisherFeed, roomID: UInt64) {
        let stopped = feed.stopRecording()
        guard !stopped.isEmpty else { return }
        logger.info("recording stopped", metadata: [
            "room": "\(roomID)", "id": "\(feed.participantID)", "files": "\(stopped.map(\.path).joined(separator: ", "))",
        ])
    }

    /// The directory and the base name of a publisher's files: the room's `rec_dir` (the working
    /// directory when unset) and `filename` when given, else Janus's
    /// `videoroom-<room>-user-<id>-<microseconds>`; `-<audio|video>-<mindex>.mjr` follows.
    /// A client's `filename` is only a name: its directories are dropped, so no publisher can
    /// write outside the folder the room's creator (or the operator) chose — Janus 1.1.2 would
    /// follow an absolute path or `..`.
    static func recordingLocation(base: String?, options: RoomOptions, participantID: UInt64) -> (String, String) {
        let roomDirectory = options.recDir ?? ""
        let name = base.flatMap { $0.split(separator: "/").last.map(String.init) }
        guard let name, name != ".", name != ".." else {
            let now = WallClock.microseconds()
            return (roomDirectory, "videoroom-\(options.id)-user-\(participantID)-\(now)")
        }
        return (roomDirectory, name)
    }
}
