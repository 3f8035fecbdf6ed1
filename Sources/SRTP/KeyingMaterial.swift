// Splitting DTLS-exported keying material into the two SRTP master keys.
//
// RFC 5764 §4.2: the exporter output is
//   client_write_SRTP_master_key | server_write_SRTP_master_key |
//   client_write_SRTP_master_salt | server_write_SRTP_master_salt
// The DTLS client protects what it sends with the client key/salt and the
// server with the server key/salt, so "local" (outbound) and "remote" (inbound)
// depend on which DTLS role we played.

/// One direction's master key and salt.
public struct SRTPMasterKey: Sendable, Equatable, CustomStringConvertible {
    public let key: [UInt8]
    public let salt: [UInt8]

    public init(key: [UInt8], salt: [UInt8]) {
        self.key = key
        self.salt = salt
    }

    /// key || salt, the contiguous layout libsrtp's srtp_policy_t.key wants.
    public var keyAndSalt: [UInt8] { key + salt }

    /// Never print key bytes into logs.
    public var description: String { "SRTPMasterKey(\(key.count)+\(salt.count) bytes, redacted)" }
}

/// Both directions' master keys for one DTLS-SRTP association.
public struct SRTPKeyingMaterial: Sendable, Equatable {
    /// Which side of the DTLS handshake we were.
    public enum Role: Sendable, Equatable {
        case client
        case server
    }

    public let profile: SRTPProfile
    /// Key for what we send: use with an outbound `SRTPSession`.
    public let local: SRTPMasterKey
    /// Key for what the peer sends: use with an inbound `SRTPSession`.
    public let remote: SRTPMasterKey

    /// Splits `exported` (exactly `profile.keyingMaterialLength` bytes).
    public init(exported: some Collection<UInt8>, profile: SRTPProfile, role: Role) throws(SRTPError) {
        let bytes = Array(exported)
        guard bytes.count == profile.keyingMaterialLength else {
            throw .invalidKeyingMaterial(expected: profile.keyingMaterialLength, actual: bytes.count)
        }
        let k = profile.keyLength
        let s = profile.saltLength
        let client = SRTPMasterKey(key: Array(bytes[0..<k]), salt: Array(bytes[(2 * k)..<(2 * k + s)]))
        let server = SRTPMasterKey(key: Array(bytes[k..<(2 * k)]), salt: Array(bytes[(2 * k + s)..<(2 * k + 2 * s)]))
        self.profile = profile
        switch role {
        case .client:
            local = client
            remote = server
        case .server:
            local = server
            remote = client
        }
    }
}
