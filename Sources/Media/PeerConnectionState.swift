// The mutable parts of a PeerConnection: the link (ICE, DTLS), behind a Mutex, and the media
// path (inbound and outbound SRTP, routes, counters), confined to the thread that owns the
// connection.

import DTLS
import ICE
import Net
import RTP
import SDP
import SRTP

/// ICE and DTLS: touched by connectivity checks, handshake datagrams, timers and the control
/// path, never by a media packet.
///
/// @unchecked Sendable: it holds non-thread-safe objects (OpenSSL's SSL) and lives only inside
/// `PeerConnection.link`'s Mutex, which serialises every access.
struct LinkState: @unchecked Sendable {
    var ice: ICELiteAgent
    /// Full ICE: the transport's state (the ICE-lite agent above is then unused); nil = ICE-lite.
    var transportState: ICEState?
    var dtls: DTLSEndpoint?
    /// Full ICE: the connection's own transport, made on first use.
    var transport: (any ICETransport)?
    /// ICE-lite: the selected address (the media path keeps its own copy).
    var destination: TransportAddress?
    let createdNanos = MonotonicClock.nanoseconds()

    /// Where handshake and farewell datagrams go (control path and timers).
    var outlet: Outlet? {
        if let transport { return .transport(transport) }
        return destination.map { .address($0) }
    }

    /// A handshake that has not finished 30 s after the connection was created has failed.
    static let dtlsTimeoutNanos: UInt64 = 30_000_000_000

    /// Timer work; returns what the PeerConnection must do outside the lock.
    mutating func tick(now: UInt64) -> TickStep {
        var step = TickStep()
        if let dtls {
            if let timeout = dtls.retransmissionTimeout, timeout <= .zero {
                dtls.handleTimeout()
                step.outbound = dtls.drainOutbound()
            }
            // DTLSError texts already say "DTLS ...".
            if case .failed(let error) = dtls.state { step.closeReason = "\(error)" }
            if !dtls.isConnected, elapsed(since: createdNanos, now) > Self.dtlsTimeoutNanos,
               (transportState ?? ice.state) == .connected {
                step.closeReason = "DTLS handshake timed out"
            }
        }
        if let transportState {
            // The transport reports failure and consent loss itself; this catches a peer that
            // never sent a usable candidate.
            if transportState != .connected, elapsed(since: createdNanos, now) > Self.dtlsTimeoutNanos * 2 {
                step.closeReason = "ICE failed: no working candidate pair"
            }
        } else {
            if ice.state != .new, ice.consentExpired(now: now) { step.closeReason = "ICE consent lost" }
            if ice.state == .new, elapsed(since: createdNanos, now) > Self.dtlsTimeoutNanos * 2 {
                step.closeReason = "ICE failed: no connectivity check arrived"
            }
        }
        return step
    }

    /// The link's part of the Admin API's statistics.
    func fill(_ stats: inout PeerConnectionStatistics) {
        stats.iceState = (transportState ?? ice.state).rawValue
        stats.localUfrag = ice.local.ufrag
        stats.remoteUfrag = ice.remoteUfrag
        stats.checksAnswered = ice.checksAnswered
        stats.checksRejected = ice.checksRejected
        stats.dtlsState = dtls.map { "\($0.state)" } ?? "none"
        stats.dtlsRole = dtls.map { $0.role == .client ? "client" : "server" }
        stats.selectedAddress = destination
        stats.selectedPair = transport?.selectedPair
        stats.localCandidates = transport?.localCandidates
    }
}

/// Receive side of the media path: inbound SRTP, how SSRCs map to streams, what arrives.
///
/// @unchecked Sendable: it holds non-thread-safe objects (libsrtp's context) and is only touched
/// on the thread of the shard that owns the connection (`PeerConnection.MediaPath`).
struct ReceiveState: @unchecked Sendable {
    var srtp: SRTPSession?
    /// SSRC → stream, learned from the SDP and from the first packets of unannounced SSRCs.
    var routes: [UInt32: InboundRoute] = [:]
    /// `routes` changed since the connection last published them for the control path.
    var routesChanged = false
    var streams: [InboundStreamState] = []
    /// Our sending SSRCs (media and RTX) → stream position, for attributing the browser's NACKs.
    var localSSRCPositions: [UInt32: Int] = [:]
    /// The SSRC our receiver reports come from: the first stream's local SSRC, which the browser
    /// knows from our SDP when we send; any SSRC is valid for a pure receiver (RFC 3550 §6.4.2).
    var reportSenderSSRC: UInt32 = 1
    /// RFC 3550 reception statistics per incoming media SSRC (RTX excluded), for our RRs.
    var reception: [UInt32: ReceiverStatistics] = [:]
    var lastReportNanos: UInt64 = 0
    /// Per stream position: cumulative lost at the last slow-link check, NACKed packets since.
    var lostAtLastCheck: [Int64] = []
    var nackedSinceCheck: [Int] = []
    var lastSlowLinkCheckNanos: UInt64 = 0
    var midExtensionID: UInt8?
    var ridExtensionID: UInt8?
    var repairedRidExtensionID: UInt8?
    /// Transport-wide CC: the extension's id and the arrivals it numbers, when negotiated.
    var transportCCExtensionID: UInt8?
    var transportFeedback: TransportFeedbackRecorder?
    var lastTransportFeedbackNanos: UInt64 = 0
    var packetsReceived = 0
    var bytesReceived = 0
    var rtcpPacketsReceived = 0
    var feedbackReceived = FeedbackCounts()
    var packetsDropped = 0

    /// Browsers can invent SSRCs (probing, simulcast); a cap keeps a hostile peer from growing
    /// the route table without bound.
    static let maxRoutes = 64
    /// Janus's no-media timer: a stream counts as stopped after 1 s without packets.
    static let mediaTimeoutNanos: UInt64 = 1_000_000_000
    /// Receiver reports once a second, as browsers and Janus send them.
    static let reportIntervalNanos: UInt64 = 1_000_000_000
    /// Transport-wide CC feedback this often (libwebrtc's receivers use 100 ms too).
    public static let transportFeedbackIntervalNanos: UInt64 = 100_000_000

    mutating func rebuildRoutes(for negotiated: [MediaStream]) {
        routes.removeAll(keepingCapacity: true)
        routesChanged = true
        localSSRCPositions = [:]
        for (position, stream) in negotiated.enumerated() {
            localSSRCPositions[stream.localSSRC] = position
            if let rtx = stream.localRTXSSRC { localSSRCPositions[rtx] = position }
        }
        reportSenderSSRC = negotiated.first?.localSSRC ?? 1
        streams = negotiated.map { InboundStreamState(stream: $0) }
        lostAtLastCheck = Array(repeating: 0, count: negotiated.count)
        nackedSinceCheck = Array(repeating: 0, count: negotiated.count)
        midExtensionID = negotiated.lazy.compactMap(\.extensions.mid).first
        ridExtensionID = negotiated.lazy.compactMap(\.extensions.rid).first
        repairedRidExtensionID = negotiated.lazy.compactMap(\.extensions.repairedRid).first
        transportCCExtensionID = negotiated.lazy.filter(\.receives).compactMap(\.extensions.transportCC).first
        if transportCCExtensionID != nil, transportFeedback == nil { transportFeedback = TransportFeedbackRecorder() }
        // Routes name streams by position in `negotiated` (rejected m-lines have none).
        for (position, stream) in negotiated.enumerated() where stream.receives && stream.remoteRids.isEmpty {
            let video = stream.kind == .video
            for ssrc in stream.remoteSSRCs {
                routes[ssrc] = InboundRoute(stream: position, isVideo: video, isRTX: false)
                if reception[ssrc] == nil { reception[ssrc] = ReceiverStatistics(ssrc: ssrc, clockRate: stream.clockRate) }
            }
            for ssrc in stream.remoteRTXSSRCs { routes[ssrc] = InboundRoute(stream: position, isVideo: video, isRTX: true) }
        }
    }

    /// Decrypts and routes one RTP packet; nil to drop it. Also says whether the stream just
    /// started receiving (for the `media` event).
    mutating func unprotectRTP(_ slot: UnsafeMutableRawBufferPointer, length: Int, now: UInt64)
        -> (length: Int, route: InboundRoute, started: Int?)? {
        guard let srtp, let plainLength = try? srtp.unprotect(rtp: slot, length: length),
              let header = RTPHeaderView(UnsafeMutableRawBufferPointer(rebasing: slot[0..<plainLength])) else {
            return nil
        }
        // Every packet the sender numbered counts for its estimator, RTX and probes included.
        if let id = transportCCExtensionID, let sequence = header.transportSequenceNumber(id: id) {
            transportFeedback?.record(sequence: sequence, arrivalNanos: now, ssrc: header.ssrc)
        }
        guard let route = routes[header.ssrc] ?? learnRoute(header) else { return nil }
        if !route.isRTX { _ = reception[header.ssrc]?.record(header, arrivalNanoseconds: now) }
        packetsReceived += 1
        bytesReceived += plainLength
        var started: Int?
        if !streams[route.stream].receiving {
            streams[route.stream].receiving = true
            started = route.stream
        }
        streams[route.stream].lastPacketNanos = now
        streams[route.stream].packets += 1
        streams[route.stream].bytes += plainLength
        return (plainLength, route, started)
    }

    /// An SSRC the SDP did not announce: find its stream by the mid extension, else by payload
    /// type (unique per m-line within a bundle); simulcast layers by rid. Allocates once per SSRC.
    private mutating func learnRoute(_ header: RTPHeaderView) -> InboundRoute? {
        guard routes.count < Self.maxRoutes else { return nil }
        let mid = midExtensionID.flatMap { header.stringExtension(id: $0) }
        let rid = ridExtensionID.flatMap { header.stringExtension(id: $0) }
        let repairedRid = repairedRidExtensionID.flatMap { header.stringExtension(id: $0) }
        let pt = header.payloadType
        for (position, candidate) in streams.enumerated() where candidate.stream.receives {
            let stream = candidate.stream
            let byMid = mid.map { $0 == stream.mid } ?? false
            let byPT = mid == nil && (pt == stream.payloadType || pt == stream.rtxPayloadType)
            guard byMid || byPT else { continue }
            let isRTX = pt == stream.rtxPayloadType && stream.rtxPayloadType != nil
            let layerRid = isRTX ? (repairedRid ?? rid) : rid
            let layer = layerRid.flatMap { stream.remoteRids.firstIndex(of: $0) } ?? 0
            let route = InboundRoute(stream: position, isVideo: stream.kind == .video, isRTX: isRTX, layer: layer,
                                     layerCount: max(1, stream.remoteRids.count))
            routes[header.ssrc] = route
            routesChanged = true
            if !isRTX { reception[header.ssrc] = ReceiverStatistics(ssrc: header.ssrc, clockRate: stream.clockRate) }
            return route
        }
        return nil
    }

    /// Notes the NTP time of each sender report (for LSR/DLSR in our receiver reports).
    mutating func recordSenderReports(_ compound: UnsafeRawBufferPointer, now: UInt64) {
        var iterator = RTCPCompoundIterator(compound)
        while let packet = iterator.next() {
            guard packet.packetType == RTCPPacketType.senderReport, packet.bytes.count >= 16 else { continue }
            let bytes = packet.bytes
            var ssrc: UInt32 = 0
            var ntp: UInt64 = 0
            for i in 4..<8 { ssrc = ssrc << 8 | UInt32(bytes[i]) }
            for i in 8..<16 { ntp = ntp << 8 | UInt64(bytes[i]) }
            reception[ssrc]?.recordSenderReport(ntpTimestamp: ntp, arrivalNanoseconds: now)
        }
    }

    /// Counts the packets the browser NACKs, per stream of ours (by local SSRC).
    mutating func recordNACKs(_ compound: UnsafeRawBufferPointer) {
        var iterator = RTCPCompoundIterator(compound)
        while let packet = iterator.next() {
            guard packet.packetType == RTCPPacketType.transportFeedback, packet.format == RTCPFeedbackFormat.nack,
                  packet.bytes.count >= 12 else { continue }
            var media: UInt32 = 0
            for i in 8..<12 { media = media << 8 | UInt32(packet.bytes[i]) }
            guard let position = localSSRCPositions[media], nackedSinceCheck.indices.contains(position) else { continue }
            var lost = 0
            _ = RTCPNack.forEachLost(in: packet) { _ in lost += 1 }
            nackedSinceCheck[position] += lost
        }
    }

    /// Once a second: streams whose loss (incoming gaps, or packets NACKed by the browser)
    /// reached `threshold`, as (position, uplink, lost).
    mutating func slowLinks(now: UInt64, threshold: Int) -> [(Int, Bool, Int)] {
        guard threshold > 0, elapsed(since: lastSlowLinkCheckNanos, now) >= Self.reportIntervalNanos else { return [] }
        lastSlowLinkCheckNanos = now
        var found: [(Int, Bool, Int)] = []
        for position in streams.indices where lostAtLastCheck.indices.contains(position) {
            let lost = reception.values.filter { routes[$0.ssrc]?.stream == position }.reduce(Int64(0)) { $0 + $1.cumulativeLost }
            let newlyLost = Int(max(0, lost - lostAtLastCheck[position]))
            lostAtLastCheck[position] = lost
            if newlyLost >= threshold { found.append((position, true, newlyLost)) }
            if nackedSinceCheck[position] >= threshold { found.append((position, false, nackedSinceCheck[position])) }
            nackedSinceCheck[position] = 0
        }
        return found
    }

    /// A compound RR + SDES about every incoming stream, once per report interval.
    mutating func receiverReport(now: UInt64, senderSSRC: UInt32) -> [UInt8]? {
        guard srtp != nil, !reception.isEmpty, elapsed(since: lastReportNanos, now) >= Self.reportIntervalNanos else {
            return nil
        }
        lastReportNanos = now
        var blocks: [RTCPReportBlock] = []
        for ssrc in reception.keys.sorted().prefix(31) {
            if let block = reception[ssrc]?.makeReportBlock(nowNanoseconds: now) { blocks.append(block) }
        }
        guard !blocks.isEmpty else { return nil }
        var out = [UInt8](repeating: 0, count: 64 + blocks.count * RTCPReportBlock.length)
        let length = out.withUnsafeMutableBytes { buffer in
            RTCPWriter.writeReceiverReport(RTCPReceiverReport(ssrc: senderSSRC, reportBlocks: blocks),
                                           cname: Array("confab".utf8), into: buffer)
        }
        guard let length else { return nil }
        return Array(out.prefix(length))
    }

    /// Transport-wide CC feedback about the packets that arrived since the last one, once per
    /// feedback interval (several packets when a fast sender filled more than one).
    mutating func transportFeedbackPackets(now: UInt64, senderSSRC: UInt32) -> [[UInt8]] {
        guard srtp != nil, transportFeedback?.hasPending == true,
              elapsed(since: lastTransportFeedbackNanos, now) >= Self.transportFeedbackIntervalNanos else { return [] }
        lastTransportFeedbackNanos = now
        var packets: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: TransportFeedbackRecorder.maxPacketSize)
        while packets.count < 4, let length = buffer.withUnsafeMutableBytes({
            transportFeedback?.writeFeedback(senderSSRC: senderSSRC, into: $0)
        }) {
            packets.append(Array(buffer.prefix(length)))
        }
        return packets
    }

    /// Streams that stopped receiving (no packet for a second), by position.
    mutating func stoppedStreams(now: UInt64) -> [Int] {
        var stopped: [Int] = []
        for index in streams.indices where streams[index].receiving
            && elapsed(since: streams[index].lastPacketNanos, now) > Self.mediaTimeoutNanos {
            streams[index].receiving = false
            stopped.append(index)
        }
        return stopped
    }

    /// The receive side's part of the Admin API's statistics.
    func fill(_ stats: inout PeerConnectionStatistics) {
        stats.srtpProfile = srtp?.profile.name
        stats.packetsReceived = packetsReceived
        stats.bytesReceived = bytesReceived
        stats.rtcpPacketsReceived = rtcpPacketsReceived
        stats.feedbackReceived = feedbackReceived
        stats.packetsDropped = packetsDropped
        stats.remoteSSRCs = routes.keys.sorted()
        stats.reception = reception
        stats.inbound = streams.map { PacketCount(packets: $0.packets, bytes: $0.bytes) }
        stats.remoteSSRCsByStream = streams.indices.map { index in
            routes.filter { $0.value.stream == index }.map { ($0.key, $0.value.isRTX) }.sorted { $0.0 < $1.0 }
                .map { RemoteSSRC(ssrc: $0.0, isRTX: $0.1) }
        }
    }
}

/// Time from `start` to `now`, 0 when `start` is later: a shard reads its clock before walking
/// its connections' timers, and a packet may be stamped after that reading.
func elapsed(since start: UInt64, _ now: UInt64) -> UInt64 {
    now > start ? now - start : 0
}

struct InboundStreamState {
    let stream: MediaStream
    var receiving = false
    var lastPacketNanos: UInt64 = 0
    var packets = 0
    var bytes = 0
}

struct TickStep {
    var outbound: [[UInt8]] = []
    var receiverReport: [UInt8]?
    var transportFeedback: [[UInt8]] = []
    var slowLinks: [(Int, Bool, Int)] = []
    var stoppedStreams: [Int] = []
    var closeReason: String?
}

/// Send side of the media path: outbound SRTP and where to send.
///
/// @unchecked Sendable: like `ReceiveState`, only touched on the owning shard's thread.
struct SendState: @unchecked Sendable {
    var srtp: SRTPSession?
    var destination: TransportAddress?
    /// Full ICE: the connection's own transport (preferred over `destination`); the owner's copy
    /// of `LinkState.transport`.
    var transport: (any ICETransport)?
    var packetsSent = 0
    var bytesSent = 0
    var rtcpPacketsSent = 0
    var feedbackSent = FeedbackCounts()
    /// Per stream (by position), sized when the streams are configured.
    var perStream: [PacketCount] = []
    /// What each stream (by position) sends with, copied from the streams when they are configured,
    /// so that a forwarded packet needs no look at the stream table.
    var outgoing: [OutgoingSSRCs] = []

    var outlet: Outlet? {
        if let transport { return .transport(transport) }
        return destination.map { .address($0) }
    }

    /// The send side's part of the Admin API's statistics.
    func fill(_ stats: inout PeerConnectionStatistics) {
        stats.packetsSent = packetsSent
        stats.bytesSent = bytesSent
        stats.rtcpPacketsSent = rtcpPacketsSent
        stats.feedbackSent = feedbackSent
        stats.outbound = perStream
    }
}

/// A stream's sending SSRCs; `nil` media SSRC when the stream does not send.
struct OutgoingSSRCs {
    var media: UInt32?
    var rtx: UInt32?

    init(_ stream: MediaStream) {
        media = stream.sends ? stream.localSSRC : nil
        rtx = stream.sends ? stream.localRTXSSRC : nil
    }
}

public struct PacketCount: Sendable, Equatable {
    public var packets = 0
    public var bytes = 0

    public init(packets: Int = 0, bytes: Int = 0) {
        self.packets = packets
        self.bytes = bytes
    }
}

public struct RemoteSSRC: Sendable, Equatable {
    public var ssrc: UInt32
    public var isRTX: Bool
}

/// A snapshot for the Admin API's handle_info.
public struct PeerConnectionStatistics: Sendable {
    public var iceState = "new"
    public var localUfrag = ""
    public var remoteUfrag: String?
    public var selectedAddress: TransportAddress?
    /// Full ICE: the transport's selected pair ("local <-> remote").
    public var selectedPair: String?
    /// Full ICE: the transport's gathered candidates (nil for ICE-lite: the engine's host candidates).
    public var localCandidates: [Candidate]?
    public var checksAnswered = 0
    public var checksRejected = 0
    public var dtlsState = "none"
    public var dtlsRole: String?
    public var srtpProfile: String?
    public var packetsReceived = 0
    public var bytesReceived = 0
    public var rtcpPacketsReceived = 0
    public var packetsDropped = 0
    public var packetsSent = 0
    public var bytesSent = 0
    public var rtcpPacketsSent = 0
    public var feedbackReceived = FeedbackCounts()
    public var feedbackSent = FeedbackCounts()
    public var remoteSSRCs: [UInt32] = []
    /// Per stream, by position in `streams`.
    public var inbound: [PacketCount] = []
    public var outbound: [PacketCount] = []
    public var remoteSSRCsByStream: [[RemoteSSRC]] = []
    /// RFC 3550 reception statistics per incoming media SSRC (loss, jitter).
    public var reception: [UInt32: ReceiverStatistics] = [:]
    public var streams: [MediaStream] = []
}

/// RTCP feedback messages counted per direction (for handle_info).
public struct FeedbackCounts: Sendable, Equatable {
    public var nacks = 0
    public var plis = 0
    public var firs = 0
    public var rembs = 0
    /// Transport-wide CC feedback packets.
    public var transportCC = 0

    public init() {}

    /// Counts the feedback packets in a well-formed compound.
    mutating func count(_ compound: UnsafeRawBufferPointer) {
        var iterator = RTCPCompoundIterator(compound)
        while let packet = iterator.next() {
            switch (packet.packetType, packet.format) {
            case (RTCPPacketType.transportFeedback, RTCPFeedbackFormat.nack): nacks += 1
            case (RTCPPacketType.transportFeedback, RTCPFeedbackFormat.transportWideCC): transportCC += 1
            case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.pli): plis += 1
            case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.fir): firs += 1
            case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.applicationLayer): rembs += 1
            default: break
            }
        }
    }
}
