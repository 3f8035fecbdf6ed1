// One libsrtp context (srtp_t) protecting or unprotecting packets in place.
//
// Threading: an srtp_t carries mutable per-stream state (rollover counters,
// replay windows, cipher contexts) with no internal locking, so a session must
// be used by one thread at a time — in Confab, the media event loop that owns
// the PeerConnection. The class is therefore deliberately NOT Sendable: the
// compiler keeps it inside one isolation domain (it may still be handed over
// once with `sending`, e.g. created during setup and moved onto the loop).
//
// Allocation: per-packet calls pass the caller's buffer straight to libsrtp,
// use a stack Int32 for the length and typed throws for errors, so the steady
// state allocates nothing. libsrtp itself allocates once per new SSRC (it
// clones the wildcard template stream on the first packet of each SSRC).

internal import CSRTP

public final class SRTPSession {
    public enum Direction: Sendable, Equatable {
        /// Packets we send: `protect(rtp:length:)` / `protectRTCP(_:length:)`.
        case outbound
        /// Packets the peer sends: `unprotect(rtp:length:)` / `unprotectRTCP(_:length:)`.
        case inbound
    }

    /// Room a buffer must leave after an RTP packet for `protect(rtp:length:)`.
    /// libsrtp documents that srtp_protect may write up to SRTP_MAX_TRAILER_LEN
    /// (max tag 16 + max MKI 128 = 144) bytes past the packet, whatever the
    /// profile, so we require that much rather than the profile's real tag size.
    public static let maxRTPTrailer = Int(SRTP_MAX_TRAILER_LEN)
    /// Room needed after an RTCP packet for `protectRTCP`: the trailer plus the
    /// 4-byte E||SRTCP index (libsrtp documents SRTP_MAX_TRAILER_LEN + 4).
    public static let maxRTCPTrailer = Int(SRTP_MAX_TRAILER_LEN) + 4

    /// Default replay window. libsrtp's default of 128 is too small for video
    /// bursts with NACK/RTX reordering; WebRTC stacks use 1024.
    public static let defaultReplayWindow = 1024

    public let profile: SRTPProfile
    public let direction: Direction

    /// Owned srtp_t (a pointer to libsrtp's srtp_ctx_t), freed in deinit.
    private let context: OpaquePointer

    /// Creates a session for one direction with `masterKey`.
    /// - Parameters:
    ///   - replayWindow: packets remembered for replay protection (64...32767).
    ///   - allowRetransmissions: let an outbound session protect the same
    ///     sequence number again (NACK retransmissions of the identical packet).
    public init(
        profile: SRTPProfile,
        masterKey: SRTPMasterKey,
        direction: Direction,
        replayWindow: Int = SRTPSession.defaultReplayWindow,
        allowRetransmissions: Bool = true
    ) throws(SRTPError) {
        try LibSRTP.initialize()
        guard masterKey.key.count == profile.keyLength else {
            throw .invalidMasterKey(expected: profile.keyLength, actual: masterKey.key.count)
        }
        guard masterKey.salt.count == profile.saltLength else {
            throw .invalidMasterKey(expected: profile.saltLength, actual: masterKey.salt.count)
        }
        // libsrtp rejects windows outside [64, 0x8000).
        guard (64...0x7FFF).contains(replayWindow) else { throw .invalidReplayWindow(replayWindow) }

        var policy = srtp_policy_t()
        profile.apply(to: &policy)
        policy.ssrc.type = direction == .outbound ? ssrc_any_outbound : ssrc_any_inbound
        policy.ssrc.value = 0
        policy.window_size = UInt(replayWindow)
        policy.allow_repeat_tx = allowRetransmissions ? 1 : 0
        policy.next = nil

        // libsrtp derives session keys inside srtp_create and keeps no pointer
        // to policy.key, so a temporary copy is enough; we wipe it afterwards.
        var keyBytes = masterKey.keyAndSalt
        var created: OpaquePointer?
        let status = keyBytes.withUnsafeMutableBufferPointer { key -> srtp_err_status_t in
            policy.key = key.baseAddress
            defer { policy.key = nil }
            return srtp_create(&created, &policy)
        }
        for index in keyBytes.indices { keyBytes[index] = 0 }

        // Not SRTPError(status:): at creation bad_param means a bad policy, not a bad packet.
        guard status == srtp_err_status_ok else { throw .library(status: Int32(bitPattern: status.rawValue)) }
        guard let created else { throw .library(status: Int32(bitPattern: srtp_err_status_alloc_fail.rawValue)) }
        self.context = created
        self.profile = profile
        self.direction = direction
    }

    deinit {
        // srtp_dealloc only fails on a corrupt context; nothing useful to do then.
        _ = srtp_dealloc(context)
    }

    /// Encrypts and authenticates the RTP packet in `buffer[0..<length]` in place.
    /// `buffer.count - length` must be at least `maxRTPTrailer`.
    /// - Returns: the SRTP packet length (`length + profile.rtpOverhead`).
    public func protect(rtp buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        try transform(buffer, length: length, trailer: Self.maxRTPTrailer, srtp_protect)
    }

    /// Verifies and decrypts the SRTP packet in `buffer[0..<length]` in place.
    /// - Returns: the plain RTP packet length (tag stripped).
    public func unprotect(rtp buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        try transform(buffer, length: length, trailer: 0, srtp_unprotect)
    }

    /// Protects the (compound) RTCP packet in `buffer[0..<length]` in place.
    /// `buffer.count - length` must be at least `maxRTCPTrailer`.
    /// - Returns: the SRTCP packet length (`length + profile.rtcpOverhead`).
    public func protectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        try transform(buffer, length: length, trailer: Self.maxRTCPTrailer, srtp_protect_rtcp)
    }

    /// Verifies and decrypts the SRTCP packet in `buffer[0..<length]` in place.
    /// - Returns: the plain RTCP length (index and tag stripped).
    public func unprotectRTCP(_ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(SRTPError) -> Int {
        try transform(buffer, length: length, trailer: 0, srtp_unprotect_rtcp)
    }

    /// One libsrtp call in place: bounds checked first, the new length returned.
    private func transform(
        _ buffer: UnsafeMutableRawBufferPointer, length: Int, trailer: Int,
        _ operation: (srtp_t?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> srtp_err_status_t
    ) throws(SRTPError) -> Int {
        let base = try Self.validate(buffer, length: length, trailer: trailer)
        var len = Int32(truncatingIfNeeded: length)
        let status = operation(context, base, &len)
        guard status == srtp_err_status_ok else { throw SRTPError(status: status) }
        return Int(len)
    }

    /// Bounds checks before handing raw memory to C: libsrtp trusts the
    /// length it is given, so a wrong one would read or write out of bounds.
    @inline(__always)
    private static func validate(
        _ buffer: UnsafeMutableRawBufferPointer, length: Int, trailer: Int
    ) throws(SRTPError) -> UnsafeMutableRawPointer {
        guard let base = buffer.baseAddress, length >= 0, length <= buffer.count,
              length <= Int(Int32.max) - maxRTCPTrailer
        else { throw .invalidLength(length: length, capacity: buffer.count) }
        guard buffer.count - length >= trailer else {
            throw .insufficientCapacity(required: length + trailer, available: buffer.count)
        }
        return base
    }
}

/// Not Sendable on purpose: see the threading note at the top of this file.
@available(*, unavailable)
extension SRTPSession: Sendable {}
