/// RFC 3489 ("classic STUN") Binding requests, answered the way RFC 5389 §12.2 asks of a newer
/// server: no magic cookie, so bytes 4..<20 are one 128-bit transaction ID echoed verbatim; the
/// mapped address goes in MAPPED-ADDRESS (the client cannot un-XOR XOR-MAPPED-ADDRESS); no
/// FINGERPRINT or other comprehension-optional attribute the client would not know.
///
/// libnice still discovers server-reflexive candidates this way. Only Binding exists here: no TURN
/// method is ever accepted without the cookie.
public enum ClassicSTUNBinding {
    /// A validated classic Binding request.
    public struct Request: Sendable, Equatable {
        /// Bytes 4..<20 of the request, exactly 16.
        public let transactionID: [UInt8]
        /// Comprehension-required attributes the server will not act on: RESPONSE-ADDRESS (answering
        /// elsewhere than the source would make the server a reflector), CHANGE-REQUEST asking for
        /// another address or port (one address here, RFC 5780 §7.2 says 420), anything unknown.
        /// Non-empty means the answer is a 420 listing them.
        public let unsupportedAttributes: [UInt16]
    }

    static let responseAddress: UInt16 = 0x0002
    static let changeRequest: UInt16 = 0x0003
    /// Comprehension-required types a Binding request may carry that need no action:
    /// USERNAME and MESSAGE-INTEGRITY (RFC 3489 short-term credentials; nothing here to check them
    /// against, and a mapped address is no secret), and a CHANGE-REQUEST with no flag set.
    static let ignorable: Set<UInt16> = [STUNAttributeType.username, STUNAttributeType.messageIntegrity]

    /// True when the header has a STUN shape (top bits zero) but no magic cookie, i.e. an RFC 3489
    /// message. Needs at least 8 bytes.
    public static func isClassic(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 8, bytes[0] & 0xC0 == 0 else { return false }
        return readUInt32(bytes, 4) != stunMagicCookie
    }

    /// Validates a classic Binding request: header length and every attribute bounds-checked like
    /// `STUNMessage.parse`, message type exactly Binding request (0x0001).
    public static func parse(_ bytes: [UInt8]) throws(STUNError) -> Request {
        guard bytes.count >= 20 else { throw .truncatedHeader(length: bytes.count) }
        guard bytes[0] & 0xC0 == 0 else { throw .notSTUN(firstByte: bytes[0]) }
        guard readUInt16(bytes, 0) == STUNMessageType.bindingRequest.rawValue else {
            throw .invalidValue(type: readUInt16(bytes, 0))
        }
        let declared = Int(readUInt16(bytes, 2))
        guard declared % 4 == 0 else { throw .lengthNotMultipleOfFour(declared) }
        guard 20 + declared == bytes.count else {
            throw .lengthMismatch(declared: declared, actual: bytes.count - 20)
        }
        var unsupported: [UInt16] = []
        var offset = 20
        while offset + 4 <= bytes.count {
            let type = readUInt16(bytes, offset)
            let length = Int(readUInt16(bytes, offset + 2))
            let padded = (length + 3) & ~3
            guard offset + 4 + padded <= bytes.count else {
                throw .attributeOverrun(type: type, offset: offset, length: length)
            }
            switch type {
            case changeRequest:
                // Flags in the last byte: 0x04 change IP, 0x02 change port. Zero asks for nothing.
                guard length == 4 else { throw .badAttributeLength(type: type, length: length) }
                if bytes[offset + 7] & 0x06 != 0 { unsupported.append(type) }
            case let type where type >= 0x8000 || ignorable.contains(type):
                break
            default:
                unsupported.append(type)
            }
            offset += 4 + padded
        }
        return Request(transactionID: Array(bytes[4..<20]), unsupportedAttributes: unsupported)
    }

    /// Binding success response carrying MAPPED-ADDRESS (IPv4: 32 bytes, as large as a typical
    /// request plus one attribute; IPv6 as RFC 5389 §15.1 allows).
    public static func successResponse(transactionID: [UInt8], mapped: STUNAddress) -> [UInt8] {
        let value = [0, mapped.family.rawValue] + bigEndianBytes(mapped.port) + mapped.address
        return header(type: STUNMessageType.bindingSuccess.rawValue, transactionID: transactionID,
                      body: bigEndianBytes(STUNAttributeType.mappedAddress) + bigEndianBytes(UInt16(value.count)) + value)
    }

    /// 420 with UNKNOWN-ATTRIBUTES in RFC 3489 form: an odd attribute list padded by repeating one entry
    /// (RFC 3489 §11.2.10). The reason phrase is empty (a multiple of 4, as RFC 3489 §11.2.9 wants) so the
    /// answer stays about the size of the request that earned it: this is unauthenticated traffic.
    public static func unknownAttributesResponse(transactionID: [UInt8], attributes: [UInt16]) -> [UInt8] {
        let errorValue: [UInt8] = [0, 0, 4, 20]
        var types = Array(attributes.prefix(16))
        if types.count % 2 == 1, let last = types.last { types.append(last) }
        let unknownValue = types.flatMap { bigEndianBytes($0) }
        let body = bigEndianBytes(STUNAttributeType.errorCode) + bigEndianBytes(UInt16(errorValue.count)) + errorValue
            + bigEndianBytes(STUNAttributeType.unknownAttributes) + bigEndianBytes(UInt16(unknownValue.count)) + unknownValue
        let errorType = STUNMessageType(method: .binding, messageClass: .errorResponse).rawValue
        return header(type: errorType, transactionID: transactionID, body: body)
    }

    private static func header(type: UInt16, transactionID: [UInt8], body: [UInt8]) -> [UInt8] {
        let id = transactionID.count == 16 ? transactionID : Array((transactionID + [UInt8](repeating: 0, count: 16)).prefix(16))
        return bigEndianBytes(type) + bigEndianBytes(UInt16(body.count)) + id + body
    }
}
