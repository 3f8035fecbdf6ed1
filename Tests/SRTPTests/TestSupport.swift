// Packet builders and buffer helpers shared by the SRTP tests.
@testable import SRTP

/// A deterministic master key of the right size for `profile`.
func testMasterKey(_ profile: SRTPProfile, seed: UInt8 = 1) -> SRTPMasterKey {
    SRTPMasterKey(
        key: (0..<profile.keyLength).map { UInt8(truncatingIfNeeded: Int(seed) &* 31 &+ $0) },
        salt: (0..<profile.saltLength).map { UInt8(truncatingIfNeeded: Int(seed) &* 17 &+ 0x80 &+ $0) }
    )
}

/// A 12-byte RTP header (V=2, PT 111) followed by `payloadLength` bytes.
func rtpPacket(sequence: UInt16, ssrc: UInt32 = 0xCAFE_BABE, payloadLength: Int = 160) -> [UInt8] {
    var packet: [UInt8] = [0x80, 111, UInt8(sequence >> 8), UInt8(sequence & 0xFF),
                           0, 0, 0x10, 0x00,
                           UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
    packet += (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(sequence)) }
    return packet
}

/// A minimal RTCP receiver report (PT 201, no report blocks) plus 16 bytes of padding-free body.
func rtcpPacket(ssrc: UInt32 = 0xCAFE_BABE) -> [UInt8] {
    // Length field counts 32-bit words minus one: 8-byte header + 16 bytes = 6 words.
    var packet: [UInt8] = [0x80, 201, 0x00, 0x05,
                           UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
    packet += (0..<16).map { UInt8($0 &* 3) }
    return packet
}

/// `packet` copied into a buffer with trailer room for protect/protectRTCP.
func withRoom(_ packet: [UInt8]) -> [UInt8] {
    packet + [UInt8](repeating: 0, count: SRTPSession.maxRTCPTrailer)
}

/// Protects `packet` and returns exactly the SRTP bytes.
func protectRTP(_ session: SRTPSession, _ packet: [UInt8]) throws -> [UInt8] {
    var buffer = withRoom(packet)
    let length = try buffer.withUnsafeMutableBytes { raw in
        try session.protect(rtp: raw, length: packet.count)
    }
    return Array(buffer[0..<length])
}

func unprotectRTP(_ session: SRTPSession, _ packet: [UInt8]) throws -> [UInt8] {
    var buffer = packet
    let length = try buffer.withUnsafeMutableBytes { raw in
        try session.unprotect(rtp: raw, length: packet.count)
    }
    return Array(buffer[0..<length])
}

func protectRTCP(_ session: SRTPSession, _ packet: [UInt8]) throws -> [UInt8] {
    var buffer = withRoom(packet)
    let length = try buffer.withUnsafeMutableBytes { raw in
        try session.protectRTCP(raw, length: packet.count)
    }
    return Array(buffer[0..<length])
}

func unprotectRTCP(_ session: SRTPSession, _ packet: [UInt8]) throws -> [UInt8] {
    var buffer = packet
    let length = try buffer.withUnsafeMutableBytes { raw in
        try session.unprotectRTCP(raw, length: packet.count)
    }
    return Array(buffer[0..<length])
}

/// A matched outbound/inbound pair sharing one master key.
func sessionPair(_ profile: SRTPProfile, seed: UInt8 = 1) throws -> (sender: SRTPSession, receiver: SRTPSession) {
    let key = testMasterKey(profile, seed: seed)
    return (try SRTPSession(profile: profile, masterKey: key, direction: .outbound),
            try SRTPSession(profile: profile, masterKey: key, direction: .inbound))
}
