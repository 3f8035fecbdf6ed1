// One enum for a parsed RTCP packet so the SFU's RTCP handler can switch on
// what arrived. Use `RTCPCompoundIterator` to get the packet views.

public enum RTCPPacket: Sendable, Equatable {
    case senderReport(RTCPSenderReport)
    case receiverReport(RTCPReceiverReport)
    case sourceDescription(RTCPSourceDescription)
    case goodbye(RTCPGoodbye)
    case application(RTCPApplication)
    case nack(RTCPNack)
    case transportFeedback(RTCPTransportFeedback)
    case pictureLossIndication(RTCPPictureLossIndication)
    case fullIntraRequest(RTCPFullIntraRequest)
    case receiverEstimatedBitrate(RTCPReceiverEstimatedBitrate)
    /// Well-framed but of a type or format we do not interpret (e.g. XR, SLI).
    case unknown(packetType: UInt8, format: UInt8)

    /// Parses a framed packet; nil when a known type has a malformed body.
    public init?(_ p: RTCPPacketView) {
        switch (p.packetType, p.format) {
        case (RTCPPacketType.senderReport, _):
            guard let v = RTCPSenderReport(p) else { return nil }
            self = .senderReport(v)
        case (RTCPPacketType.receiverReport, _):
            guard let v = RTCPReceiverReport(p) else { return nil }
            self = .receiverReport(v)
        case (RTCPPacketType.sourceDescription, _):
            guard let v = RTCPSourceDescription(p) else { return nil }
            self = .sourceDescription(v)
        case (RTCPPacketType.goodbye, _):
            guard let v = RTCPGoodbye(p) else { return nil }
            self = .goodbye(v)
        case (RTCPPacketType.application, _):
            guard let v = RTCPApplication(p) else { return nil }
            self = .application(v)
        case (RTCPPacketType.transportFeedback, RTCPFeedbackFormat.nack):
            guard let v = RTCPNack(p) else { return nil }
            self = .nack(v)
        case (RTCPPacketType.transportFeedback, RTCPFeedbackFormat.transportWideCC):
            guard let v = RTCPTransportFeedback(p) else { return nil }
            self = .transportFeedback(v)
        case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.pli):
            guard let v = RTCPPictureLossIndication(p) else { return nil }
            self = .pictureLossIndication(v)
        case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.fir):
            guard let v = RTCPFullIntraRequest(p) else { return nil }
            self = .fullIntraRequest(v)
        case (RTCPPacketType.payloadFeedback, RTCPFeedbackFormat.applicationLayer):
            // Other application-layer feedback than REMB is ignored, not an error.
            if let v = RTCPReceiverEstimatedBitrate(p) {
                self = .receiverEstimatedBitrate(v)
            } else {
                self = .unknown(packetType: p.packetType, format: p.format)
            }
        default:
            self = .unknown(packetType: p.packetType, format: p.format)
        }
    }
}
