/// Why a datagram was refused as a STUN message.
///
/// Parsing reports the first problem it meets with a typed error rather than crashing or
/// guessing, so a server can drop the packet (or answer 400) and count the reason.
public enum STUNError: Error, Sendable, Equatable {
    /// Fewer than the 20 bytes every STUN header needs.
    case truncatedHeader(length: Int)
    /// The two most significant bits of the first byte are not zero (RFC 8489 §5);
    /// the packet is some other protocol multiplexed on the port (RFC 7983).
    case notSTUN(firstByte: UInt8)
    /// The magic cookie is not 0x2112A442 (RFC 8489 §5).
    case badMagicCookie(UInt32)
    /// The header's length field is not a multiple of 4 (all attributes are padded).
    case lengthNotMultipleOfFour(Int)
    /// The header's length field disagrees with the bytes actually received.
    case lengthMismatch(declared: Int, actual: Int)
    /// An attribute (with its padding) runs past the end of the message.
    case attributeOverrun(type: UInt16, offset: Int, length: Int)
    /// An attribute's value has a size its type does not allow.
    case badAttributeLength(type: UInt16, length: Int)
    /// An address attribute names a family other than IPv4 (0x01) or IPv6 (0x02).
    case badAddressFamily(type: UInt16, family: UInt8)
    /// A text attribute (USERNAME, REALM, NONCE, SOFTWARE, reason phrases) is not UTF-8.
    case invalidUTF8(type: UInt16)
    /// A field holds a value its attribute forbids, e.g. an error class outside 3...6.
    case invalidValue(type: UInt16)
}
