// One negotiated m-line of a PeerConnection, as the media path needs it: who sends what on
// which SSRC and payload type, and which header extension ids carry what.

import SDP

public struct MediaStream: Sendable, Equatable {
    public var index: Int
    public var mid: String
    public var kind: MediaKind
    public var codec: String
    public var clockRate: UInt32
    public var payloadType: UInt8
    public var rtxPayloadType: UInt8?
    public var extensions = NegotiatedExtensions()
    /// SSRCs the browser announced for this m-line (media, then RTX via ssrc-group FID).
    public var remoteSSRCs: [UInt32] = []
    public var remoteRTXSSRCs: [UInt32] = []
    /// Simulcast rids the browser sends, lowest first as offered.
    public var remoteRids: [String] = []
    /// SSRCs Confab sends with on this m-line.
    public var localSSRC: UInt32
    public var localRTXSSRC: UInt32?
    /// The answer lets Confab send / receive media on this line.
    public var sends: Bool
    public var receives: Bool
    /// The RTCP feedback agreed on this line (NACK, PLI, FIR, REMB, transport-cc).
    public var feedback: NegotiatedFeedback = []

    public init(index: Int, mid: String, kind: MediaKind, codec: String, clockRate: UInt32, payloadType: UInt8,
                localSSRC: UInt32, sends: Bool, receives: Bool) {
        self.index = index
        self.mid = mid
        self.kind = kind
        self.codec = codec
        self.clockRate = clockRate
        self.payloadType = payloadType
        self.localSSRC = localSSRC
        self.sends = sends
        self.receives = receives
    }
}

/// Where an incoming SSRC goes: which m-line, and whether it is the RTX stream.
public struct InboundRoute: Sendable, Equatable {
    /// Position of the stream in `PeerConnection.streams` (not the m-line index).
    public var stream: Int
    public var isVideo: Bool
    public var isRTX: Bool
    /// Index of the simulcast layer (by rid order) or 0.
    public var layer: Int
    /// How many simulcast layers the stream has (1 without simulcast).
    public var layerCount: Int

    public init(stream: Int, isVideo: Bool, isRTX: Bool, layer: Int = 0, layerCount: Int = 1) {
        self.stream = stream
        self.isVideo = isVideo
        self.isRTX = isRTX
        self.layer = layer
        self.layerCount = layerCount
    }
}
