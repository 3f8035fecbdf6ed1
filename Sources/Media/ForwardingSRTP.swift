// SRTP for a plain-UDP forward (the VideoRoom's rtp_forward with `srtp_suite` + `srtp_crypto`):
// one outbound libsrtp session keyed with an SDES-style master key, shared by whichever reader
// thread forwards the publisher's packets.

import Net
import SRTP
import Synchronization

public final class ForwardingSRTP: Sendable {
    /// libsrtp contexts are not thread-safe: `session` is only touched with `lock` held (a leaf
    /// lock, held around the protect call only, never across I/O), which is why the unchecked
    /// access is safe. (A Mutex<SRTPSession> cannot take the packet buffer into its region.)
    private nonisolated(unsafe) let session: SRTPSession
    private let lock = Mutex<Void>(())
    public let profile: SRTPProfile

    /// `suite`: the authentication tag length, 32 or 80 (AES_CM_128_HMAC_SHA1_32/_80);
    /// `keyAndSalt`: at least the 30-byte master key and salt (extra bytes are ignored, as Janus
    /// does). Nil for another suite or a short key.
    public init?(suite: Int, keyAndSalt: [UInt8]) {
        let profile: SRTPProfile
        switch suite {
        case 32: profile = .aes128CmSha1_32
        case 80: profile = .aes128CmSha1_80
        default: return nil
        }
        guard keyAndSalt.count >= profile.masterKeyAndSaltLength else { return nil }
        let key = SRTPMasterKey(key: Array(keyAndSalt[0..<profile.keyLength]),
                                salt: Array(keyAndSalt[profile.keyLength..<profile.masterKeyAndSaltLength]))
        // The forward numbers its own packets, so replays cannot happen; retransmissions allowed anyway.
        guard let made = try? SRTPSession(profile: profile, masterKey: key, direction: .outbound) else { return nil }
        session = made
        self.profile = profile
    }

    /// Protects `buffer[0..<length]` in place; nil when libsrtp refuses (the packet is dropped).
    func protect(_ buffer: UnsafeMutableRawBufferPointer, length: Int) -> Int? {
        lock.withLock { _ in try? session.protect(rtp: buffer, length: length) }
    }
}

extension MediaSendContext {
    /// Queues an SRTP-protected copy of `packet` for `destination`, edited in place by `edit`
    /// (before protection); dropped when the slot has no room for the SRTP trailer.
    public func enqueueProtected(_ packet: UnsafeRawBufferPointer, to destination: TransportAddress,
                                 srtp: ForwardingSRTP, edit: (UnsafeMutableRawBufferPointer) -> Void) {
        let slot = reserve()
        guard packet.count + SRTPSession.maxRTPTrailer <= slot.count else { return }
        slot.copyMemory(from: packet)
        edit(UnsafeMutableRawBufferPointer(rebasing: slot[0..<packet.count]))
        guard let length = srtp.protect(slot, length: packet.count) else { return }
        commit(length: length, to: destination)
    }
}
