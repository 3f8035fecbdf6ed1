import JanusAPI
import JanusMedia
import Media
import RTP
import SDP

/// Publishing: a participant's jsep offer (publish, configure, joinandconfigure) is answered
/// recvonly with the room's codecs; once the PeerConnection is up everyone else in the room
/// hears `publishers`; a PeerConnection that goes away unpublishes.
extension VideoRoomPlugin {
    /// Negotiates the participant's offer. Returns the `configured` event and the answer jsep.
    func publish(offer jsep: JSON, request: RequestBody, room: Room, participantID: UInt64,
                 handle: PluginHandle) throws(VideoRoomError) -> (JSON, JSON) {
        guard let engine else { throw .publishingUnsupported }
        let options = room.options
        let participant = try room.withParticipant(participantID) {
            (participant: inout Participant, state: Room.State) throws(VideoRoomError) in
            // Like Janus: others with a negotiated PeerConnection count, a renegotiation does not.
            let publishing = state.participants.values.filter { $0.id != participantID && $0.feed?.isPublishing == true }
            if participant.feed?.isPublishing != true, publishing.count >= state.options.publishers {
                throw .publishersFull(state.options.publishers)
            }
            return participant
        }
        let feed = media.feed(handle) {
            PublisherFeed(participantID: participantID, roomID: room.id, handle: handle, bitrate: participant.bitrate,
                          engine: engine, events: feedEvents())
        }
        let answer: JSON
        do {
            answer = try feed.webrtc.answer(offer: jsep, codecs: Self.codecs(options, request: request)) { offered in
                offered.effectiveDirection.sends ? .recvonly : .inactive
            }
        } catch {
            throw VideoRoomError(.invalidSDP, error.reason)
        }
        let positions = Dictionary(uniqueKeysWithValues: feed.webrtc.streams.enumerated().map { ($1.mid, $0) })
        let talkDetection = options.audiolevelEvent
            ? (threshold: Int(request.integer("audio_level_average") ?? UInt64(options.audioLevelAverage)),
               packets: Int(request.integer("audio_active_packets") ?? UInt64(options.audioActivePackets)))
            : nil
        feed.setPublished(feed.webrtc.negotiatedMedia, positions: positions, descriptions: Self.descriptions(request),
                          talkDetection: talkDetection)
        try room.withParticipant(participantID) { (participant: inout Participant, _: Room.State) in
            participant.feed = feed
        }
        try applyRecordingRequest(request, room: room, participantID: participantID)
        refreshRecording(room: room, participantID: participantID)
        // A new PeerConnection: its first hangup counts again (Janus clears the ALERT flag).
        handles.update(handle) { $0.hungUp = false }
        return (configuredEvent(room: room.id, feed: feed), answer)
    }

    /// `configured` after an offer: the codecs and streams as negotiated (Janus 1.1.2's shape).
    private func configuredEvent(room: UInt64, feed: PublisherFeed) -> JSON {
        let streams = feed.streams
        var event: [String: JSON] = [
            "videoroom": "event", "room": JSON(room), "configured": "ok", "streams": .array(streams.map(\.json)),
        ]
        if let audio = streams.first(where: { $0.kind == .audio }) { event["audio_codec"] = .string(audio.codecName) }
        if let video = streams.first(where: { $0.kind == .video }) { event["video_codec"] = .string(video.codecName) }
        return .object(event)
    }

    /// The room's codecs, a request's `audiocodec`/`videocodec` first when the room allows it.
    static func codecs(_ options: RoomOptions, request: RequestBody) -> CodecPreferences {
        var audio = options.audiocodec
        var video = options.videocodec
        if let forced = request.string("audiocodec")?.lowercased(), audio.contains(forced) {
            audio = [forced] + audio.filter { $0 != forced }
        }
        if let forced = request.string("videocodec")?.lowercased(), video.contains(forced) {
            video = [forced] + video.filter { $0 != forced }
        }
        return CodecPreferences(audio: audio, video: video)
    }

    /// `descriptions`: `[{mid, description}]` → description by mid.
    static func descriptions(_ request: RequestBody) -> [String: String] {
        var byMid: [String: String] = [:]
        for element in request["descriptions"]?.arrayValue ?? [] {
            if let mid = element["mid"]?.stringValue, let text = element["description"]?.stringValue { byMid[mid] = text }
        }
        return byMid
    }

    private func feedEvents() -> PublisherFeed.FeedEvents {
        PublisherFeed.FeedEvents(
            connected: { [weak self] feed in self?.feedConnected(feed) },
            hungUp: { [weak self] feed, _ in self?.feedHungUp(feed) },
            talking: { [weak self] feed, stream, event in self?.feedTalking(feed, stream: stream, event: event) })
    }

    /// `talking` / `stopped-talking` to everyone in the room, the speaker included (Janus 1.1.2).
    private func feedTalking(_ feed: PublisherFeed, stream: PublishedStream, event: AudioLevelAverager.Event) {
        let (talking, average): (Bool, Double) = switch event {
        case .startedTalking(let level): (true, level)
        case .stoppedTalking(let level): (false, level)
        }
        guard let room = rooms.room(feed.roomID) else { return }
        let everyone = try? room.withParticipant(feed.participantID) { (participant: inout Participant, state: Room.State) in
            participant.talking = talking
            return state.handles(except: nil)
        }
        notify(everyone ?? [], [
            "videoroom": .string(talking ? "talking" : "stopped-talking"), "room": JSON(room.id),
            "id": JSON(feed.participantID), "mindex": JSON(stream.media.mLineIndex), "mid": .string(stream.media.mid),
            "audio-level-dBov-avg": .double(average),
        ])
    }

    /// The publisher's PeerConnection is up: it now publishes, and everyone else hears it.
    private func feedConnected(_ feed: PublisherFeed) {
        guard let room = rooms.room(feed.roomID) else { return }
        let announcement = try? room.withParticipant(feed.participantID) {
            (participant: inout Participant, state: Room.State) -> (JSON, [PluginHandle])? in
            guard participant.feed === feed, !participant.publishing else { return nil }
            participant.publishing = true
            return (participant.publisherSummary, state.handles(except: participant.id))
        }
        guard let (summary, others) = announcement ?? nil else { return }
        notify(others, ["videoroom": "event", "room": JSON(room.id), "publishers": [summary]])
        logger.info("publisher up", metadata: ["room": "\(room.id)", "id": "\(feed.participantID)"])
    }

    /// The publisher's PeerConnection is gone (hangup, unpublish, ICE/DTLS failure): its
    /// subscribers stop receiving it and the room hears `unpublished`.
    func feedHungUp(_ feed: PublisherFeed) {
        for stream in feed.unpublish() { stream.active.store(false, ordering: .relaxed) }
        renegotiateSubscribers(without: feed)
        if let room = rooms.room(feed.roomID) {
            _ = try? room.withParticipant(feed.participantID) { (participant: inout Participant, _: Room.State) in
                if participant.feed === feed { participant.publishing = false }
            }
        }
        hangUp(feed.handle)
    }

    /// Subscribers of a feed that went away get `updated` with an offer where its m-lines are
    /// inactive (Janus 1.1.2 keeps the m-lines so the others' order holds).
    private func renegotiateSubscribers(without feed: PublisherFeed) {
        for subscription in media.allSubscriptions where subscription.feedRemoved(feed) {
            guard subscription.webrtc.connection != nil, let offer = try? subscription.reoffer() else { continue }
            subscription.handle.pushEvent(transaction: nil, data: [
                "videoroom": "updated", "room": JSON(subscription.roomID),
                "streams": .array(subscription.streams.map(\.json)),
            ], jsep: offer)
        }
    }

    /// Closes the handle's PeerConnection, if any (kick, destroyed room, hangup request).
    func closeMedia(_ handle: PluginHandle, reason: String) {
        media.feed(handle)?.webrtc.hangUp(reason: reason)
        media.subscription(handle)?.webrtc.hangUp(reason: reason)
    }

    /// The handle is going away: unhook its media without telling it anything.
    func dropMedia(_ handle: PluginHandle) {
        let (feed, subscription) = media.remove(handle)
        if let feed {
            for stream in feed.unpublish() { stream.active.store(false, ordering: .relaxed) }
            feed.webrtc.destroy()
            renegotiateSubscribers(without: feed)
        }
        if let subscription {
            subscription.detachFromFeeds()
            subscription.webrtc.destroy()
        }
    }
}
