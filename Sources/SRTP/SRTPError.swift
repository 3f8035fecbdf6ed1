// Typed errors for SRTP setup and per-packet processing.
//
// Per-packet calls use typed throws with this enum: no existential box is
// allocated when a packet is rejected, which matters because rejected packets
// (replays, garbage from the network) can arrive at line rate.

internal import CSRTP

public enum SRTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The authentication tag did not verify (tampered, wrong key, or not SRTP).
    case authenticationFailed
    /// The packet index was already seen inside the replay window.
    case replayed
    /// The packet index is older than the replay window can remember.
    case tooOld
    /// `length` is negative, larger than the buffer, too large for libsrtp, or
    /// the buffer has no base address.
    case invalidLength(length: Int, capacity: Int)
    /// The buffer does not leave the documented trailer room after `length`.
    case insufficientCapacity(required: Int, available: Int)
    /// libsrtp rejected the packet or a parameter as malformed
    /// (e.g. shorter than an RTP/RTCP header, bad version).
    case malformedPacket
    /// DTLS-exported keying material has the wrong size for the profile.
    case invalidKeyingMaterial(expected: Int, actual: Int)
    /// A master key or salt has the wrong size for the profile.
    case invalidMasterKey(expected: Int, actual: Int)
    /// Replay window outside libsrtp's accepted range (64...32767).
    case invalidReplayWindow(Int)
    /// srtp_init() failed; every session creation will fail the same way.
    case initializationFailed(status: Int32)
    /// Any other srtp_err_status_t (raw value), e.g. cipher failure or key expiry.
    case library(status: Int32)

    public var description: String {
        switch self {
        case .authenticationFailed: "SRTP authentication failed"
        case .replayed: "SRTP replay detected"
        case .tooOld: "SRTP packet index too old for the replay window"
        case let .invalidLength(length, capacity): "invalid SRTP length \(length) for buffer of \(capacity) bytes"
        case let .insufficientCapacity(required, available): "SRTP buffer needs \(required) bytes, has \(available)"
        case .malformedPacket: "malformed RTP/RTCP packet"
        case let .invalidKeyingMaterial(expected, actual): "DTLS-SRTP keying material is \(actual) bytes, expected \(expected)"
        case let .invalidMasterKey(expected, actual): "SRTP master key/salt is \(actual) bytes, expected \(expected)"
        case let .invalidReplayWindow(size): "SRTP replay window \(size) outside 64...32767"
        case let .initializationFailed(status): "srtp_init failed with status \(status)"
        case let .library(status): "libsrtp error status \(status)"
        }
    }

    /// Maps a non-ok libsrtp status to the error callers can act on.
    init(status: srtp_err_status_t) {
        switch status {
        case srtp_err_status_auth_fail: self = .authenticationFailed
        case srtp_err_status_replay_fail: self = .replayed
        case srtp_err_status_replay_old: self = .tooOld
        case srtp_err_status_bad_param, srtp_err_status_parse_err: self = .malformedPacket
        default: self = .library(status: Int32(bitPattern: status.rawValue))
        }
    }
}
