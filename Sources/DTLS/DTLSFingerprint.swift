// Certificate fingerprints as carried in SDP (RFC 8122 §5):
//   a=fingerprint:sha-256 AB:CD:...  (uppercase hex pairs separated by colons)
// The remote one authenticates the DTLS peer: WebRTC certificates are
// self-signed, so the signalling channel is the only trust anchor (RFC 8827).

internal import COpenSSL
internal import OpenSSLSupport

public struct DTLSFingerprint: Sendable, Equatable, CustomStringConvertible {
    /// Hash functions we can check. Browsers send sha-256; the others are
    /// cheap to support and appear in RFC 8122's registry.
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha1 = "sha-1"
        case sha256 = "sha-256"
        case sha384 = "sha-384"
        case sha512 = "sha-512"

        var digestLength: Int {
            switch self {
            case .sha1: 20
            case .sha256: 32
            case .sha384: 48
            case .sha512: 64
            }
        }

        /// The OpenSSL digest (static objects owned by libcrypto, never freed).
        var evp: OpaquePointer? {
            switch self {
            case .sha1: EVP_sha1()
            case .sha256: EVP_sha256()
            case .sha384: EVP_sha384()
            case .sha512: EVP_sha512()
            }
        }
    }

    public let algorithm: Algorithm
    public let bytes: [UInt8]

    public init(algorithm: Algorithm, bytes: [UInt8]) throws(DTLSError) {
        guard bytes.count == algorithm.digestLength else {
            throw .invalidFingerprint("\(algorithm.rawValue) with \(bytes.count) bytes")
        }
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// Parses the SDP attribute value "sha-256 AB:CD:..." (an "a=fingerprint:"
    /// prefix is tolerated). Hash names and hex are case-insensitive (RFC 8122).
    public init(sdpValue: String) throws(DTLSError) {
        var text = Substring(sdpValue).trimmingWhitespace()
        for prefix in ["a=fingerprint:", "fingerprint:"] where text.lowercased().hasPrefix(prefix) {
            text = text.dropFirst(prefix.count)
        }
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let algorithm = Algorithm(rawValue: parts[0].lowercased()) else {
            throw .invalidFingerprint(sdpValue)
        }
        var bytes: [UInt8] = []
        for pair in parts[1].split(separator: ":", omittingEmptySubsequences: false) {
            guard pair.count == 2, let byte = UInt8(pair, radix: 16) else { throw .invalidFingerprint(sdpValue) }
            bytes.append(byte)
        }
        guard bytes.count == algorithm.digestLength else { throw .invalidFingerprint(sdpValue) }
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// Hashes a DER certificate (an X509*) with `algorithm`.
    init(certificate: OpaquePointer, algorithm: Algorithm) throws(DTLSError) {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, algorithm.evp, &digest, &length) == 1 else {
            throw .certificateGeneration(reason: "X509_digest: \(drainOpenSSLErrors())")
        }
        try self.init(algorithm: algorithm, bytes: Array(digest.prefix(Int(length))))
    }

    /// "AB:CD:..." — uppercase hex with colons, as browsers emit it.
    public var hex: String {
        bytes.map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: ":")
    }

    /// The attribute value: "sha-256 AB:CD:...".
    public var sdpValue: String { "\(algorithm.rawValue) \(hex)" }

    /// The whole SDP line without CRLF: "a=fingerprint:sha-256 AB:CD:...".
    public var sdpAttribute: String { "a=fingerprint:\(sdpValue)" }

    public var description: String { sdpValue }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result = result.dropFirst() }
        while let last = result.last, last.isWhitespace { result = result.dropLast() }
        return result
    }
}
