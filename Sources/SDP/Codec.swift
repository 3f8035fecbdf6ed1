/// A codec view of an RTP section: rtpmap, fmtp and rtcp-fb joined by
/// payload type, which is what codec negotiation actually works with.

public struct Codec: Sendable, Equatable, Hashable {
    public var payloadType: UInt8
    public var name: String
    public var clockRate: UInt32
    public var channels: UInt16?
    public var parameters: [FormatParameter]
    /// Feedback for this payload type, including wildcard (`*`) entries.
    public var feedback: [RTCPFeedback]

    public init(payloadType: UInt8, name: String, clockRate: UInt32, channels: UInt16? = nil,
                parameters: [FormatParameter] = [], feedback: [RTCPFeedback] = []) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.parameters = parameters
        self.feedback = feedback
    }

    /// The value of the first fmtp parameter named `key` (case-insensitive).
    public func parameter(_ key: String) -> String? {
        let wanted = key.lowercased()
        return parameters.first { $0.key.lowercased() == wanted }?.value
    }

    public var isRTX: Bool { name.lowercased() == "rtx" }

    /// For an RTX codec, the payload type it retransmits (`apt`, RFC 4588).
    public var associatedPayloadType: UInt8? {
        guard isRTX, let apt = parameter("apt"), let value = decimal(apt, as: UInt8.self), value <= 127 else { return nil }
        return value
    }
}

extension MediaDescription {
    /// Static payload types browsers may list without an rtpmap (RFC 3551).
    private static let staticCodecs: [UInt8: (String, UInt32)] = [0: ("PCMU", 8000), 8: ("PCMA", 8000), 9: ("G722", 8000)]

    /// Codecs in the order of the m= line; payload types with neither an
    /// rtpmap nor a static assignment are skipped since nothing names them.
    public var codecs: [Codec] {
        payloadTypes.compactMap { codec(payloadType: $0) }
    }

    public func codec(payloadType pt: UInt8) -> Codec? {
        var codec: Codec
        if let map = rtpMaps.last(where: { $0.payloadType == pt }) {
            codec = Codec(payloadType: pt, name: map.encodingName, clockRate: map.clockRate, channels: map.channels)
        } else if let known = Self.staticCodecs[pt] {
            codec = Codec(payloadType: pt, name: known.0, clockRate: known.1, channels: kind == .audio ? 1 : nil)
        } else {
            return nil
        }
        codec.parameters = fmtps.filter { $0.payloadType == pt }.flatMap(\.parameters)
        codec.feedback = rtcpFeedback.filter { $0.payloadType == nil || $0.payloadType == pt }
        return codec
    }

    /// The RTX payload type that retransmits `pt`, if one is offered.
    public func rtxPayloadType(for pt: UInt8) -> UInt8? {
        codecs.first { $0.associatedPayloadType == pt }?.payloadType
    }
}
