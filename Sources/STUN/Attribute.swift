/// STUN attributes (RFC 8489 §14, RFC 8445 §16.1, RFC 8656 §18) as typed Swift values.
/// Wire decoding is in Parser.swift and encoding in Encoder.swift; this file is the model.

/// Attribute type codes. Below 0x8000 is comprehension-required, 0x8000 and up optional.
public enum STUNAttributeType {
    public static let mappedAddress: UInt16 = 0x0001
    public static let username: UInt16 = 0x0006
    public static let messageIntegrity: UInt16 = 0x0008
    public static let errorCode: UInt16 = 0x0009
    public static let unknownAttributes: UInt16 = 0x000A
    public static let channelNumber: UInt16 = 0x000C
    public static let lifetime: UInt16 = 0x000D
    public static let xorPeerAddress: UInt16 = 0x0012
    public static let data: UInt16 = 0x0013
    public static let realm: UInt16 = 0x0014
    public static let nonce: UInt16 = 0x0015
    public static let xorRelayedAddress: UInt16 = 0x0016
    public static let requestedAddressFamily: UInt16 = 0x0017
    public static let evenPort: UInt16 = 0x0018
    public static let requestedTransport: UInt16 = 0x0019
    public static let dontFragment: UInt16 = 0x001A
    public static let messageIntegritySHA256: UInt16 = 0x001C
    public static let passwordAlgorithm: UInt16 = 0x001D
    public static let userhash: UInt16 = 0x001E
    public static let xorMappedAddress: UInt16 = 0x0020
    public static let reservationToken: UInt16 = 0x0022
    public static let priority: UInt16 = 0x0024
    public static let useCandidate: UInt16 = 0x0025
    public static let additionalAddressFamily: UInt16 = 0x8000
    public static let addressErrorCode: UInt16 = 0x8001
    public static let passwordAlgorithms: UInt16 = 0x8002
    public static let software: UInt16 = 0x8022
    public static let alternateServer: UInt16 = 0x8023
    public static let fingerprint: UInt16 = 0x8028
    public static let iceControlled: UInt16 = 0x8029
    public static let iceControlling: UInt16 = 0x802A
}

/// Address family byte used by address attributes and (ADDITIONAL-)REQUESTED-ADDRESS-FAMILY.
public enum STUNAddressFamily: UInt8, Sendable, Hashable {
    case ipv4 = 0x01
    case ipv6 = 0x02

    /// Address length in bytes.
    public var addressLength: Int { self == .ipv4 ? 4 : 16 }
}

/// A transport address in clear (the XOR is applied only on the wire).
public struct STUNAddress: Sendable, Hashable, CustomStringConvertible {
    public let family: STUNAddressFamily
    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public let address: [UInt8]
    public let port: UInt16

    /// Fails unless `address` is 4 or 16 bytes, so a value always encodes validly.
    public init?(address: [UInt8], port: UInt16) {
        switch address.count {
        case 4: family = .ipv4
        case 16: family = .ipv6
        default: return nil
        }
        self.address = address
        self.port = port
    }

    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        family = .ipv4
        address = [a, b, c, d]
        self.port = port
    }

    /// "192.0.2.1:3478" or "[2001:db8:0:0:0:0:0:1]:3478" (uncompressed groups, enough for logs).
    public var description: String {
        switch family {
        case .ipv4:
            return address.map(String.init).joined(separator: ".") + ":\(port)"
        case .ipv6:
            let groups = stride(from: 0, to: 16, by: 2).map {
                String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16)
            }
            return "[" + groups.joined(separator: ":") + "]:\(port)"
        }
    }
}

/// ERROR-CODE value (RFC 8489 §14.8): a code 300...699 and a UTF-8 reason phrase.
public struct STUNErrorCode: Sendable, Hashable {
    public var code: Int
    public var reason: String

    public init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The hundreds digit, carried in 3 bits on the wire.
    public var errorClass: Int { code / 100 }
    /// The remainder 0...99, carried in one byte.
    public var number: Int { code % 100 }

    public static let tryAlternate = 300
    public static let badRequest = 400
    public static let unauthenticated = 401
    public static let forbidden = 403
    public static let unknownAttribute = 420
    public static let allocationMismatch = 437
    public static let staleNonce = 438
    public static let addressFamilyNotSupported = 440
    public static let wrongCredentials = 441
    public static let unsupportedTransportProtocol = 442
    public static let peerAddressFamilyMismatch = 443
    public static let allocationQuotaReached = 486
    public static let roleConflict = 487
    public static let serverError = 500
    public static let insufficientCapacity = 508
}

/// One attribute. Values are decoded; `.unknown` keeps anything else verbatim so it can be
/// reported (UNKNOWN-ATTRIBUTES) or re-encoded unchanged.
public enum STUNAttribute: Sendable, Hashable {
    case mappedAddress(STUNAddress)
    case xorMappedAddress(STUNAddress)
    case xorPeerAddress(STUNAddress)
    case xorRelayedAddress(STUNAddress)
    case alternateServer(STUNAddress)
    case username(String)
    /// USERHASH: SHA-256 of username ":" realm, 32 bytes, kept raw.
    case userhash([UInt8])
    /// 20-byte HMAC-SHA1 as it appeared on the wire (see `STUNMessage.encoded` to compute it).
    case messageIntegrity([UInt8])
    /// 16...32-byte (multiple of 4) truncated HMAC-SHA256.
    case messageIntegritySHA256([UInt8])
    case fingerprint(UInt32)
    case errorCode(STUNErrorCode)
    case realm(String)
    case nonce(String)
    case unknownAttributes([UInt16])
    case software(String)
    /// PASSWORD-ALGORITHM value kept raw (algorithm number + parameters).
    case passwordAlgorithm([UInt8])
    /// PASSWORD-ALGORITHMS value kept raw (list of algorithm entries).
    case passwordAlgorithms([UInt8])
    // ICE (RFC 8445 §16.1).
    case priority(UInt32)
    case useCandidate
    case iceControlled(tieBreaker: UInt64)
    case iceControlling(tieBreaker: UInt64)
    // TURN (RFC 8656 §18).
    case channelNumber(UInt16)
    /// Seconds.
    case lifetime(UInt32)
    case data([UInt8])
    /// IANA protocol number; 17 = UDP.
    case requestedTransport(UInt8)
    case dontFragment
    /// R bit: ask the server to reserve the next-higher port too.
    case evenPort(reserveNext: Bool)
    /// 8 opaque bytes.
    case reservationToken([UInt8])
    case requestedAddressFamily(STUNAddressFamily)
    case additionalAddressFamily(STUNAddressFamily)
    case addressErrorCode(family: STUNAddressFamily, error: STUNErrorCode)
    /// Any other type, value bytes without padding.
    case unknown(type: UInt16, value: [UInt8])

    /// The wire type code.
    public var typeCode: UInt16 {
        typealias T = STUNAttributeType
        switch self {
        case .mappedAddress: return T.mappedAddress
        case .xorMappedAddress: return T.xorMappedAddress
        case .xorPeerAddress: return T.xorPeerAddress
        case .xorRelayedAddress: return T.xorRelayedAddress
        case .alternateServer: return T.alternateServer
        case .username: return T.username
        case .userhash: return T.userhash
        case .messageIntegrity: return T.messageIntegrity
        case .messageIntegritySHA256: return T.messageIntegritySHA256
        case .fingerprint: return T.fingerprint
        case .errorCode: return T.errorCode
        case .realm: return T.realm
        case .nonce: return T.nonce
        case .unknownAttributes: return T.unknownAttributes
        case .software: return T.software
        case .passwordAlgorithm: return T.passwordAlgorithm
        case .passwordAlgorithms: return T.passwordAlgorithms
        case .priority: return T.priority
        case .useCandidate: return T.useCandidate
        case .iceControlled: return T.iceControlled
        case .iceControlling: return T.iceControlling
        case .channelNumber: return T.channelNumber
        case .lifetime: return T.lifetime
        case .data: return T.data
        case .requestedTransport: return T.requestedTransport
        case .dontFragment: return T.dontFragment
        case .evenPort: return T.evenPort
        case .reservationToken: return T.reservationToken
        case .requestedAddressFamily: return T.requestedAddressFamily
        case .additionalAddressFamily: return T.additionalAddressFamily
        case .addressErrorCode: return T.addressErrorCode
        case .unknown(let type, _): return type
        }
    }
}
