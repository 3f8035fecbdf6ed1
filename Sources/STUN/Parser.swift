/// Wire → STUNMessage. Nothing read from the packet is trusted: every length is checked
/// against the bytes actually present before it is used, and every failure is a typed
/// STUNError, never a trap.

/// Where one attribute sits in a validated message; shared with Integrity.swift so the
/// integrity checks walk the same bounds-checked layout as the parser.
struct STUNAttributeSpan {
    let type: UInt16
    /// Offset of the 4-byte attribute header from the start of the message.
    let offset: Int
    /// Value length as declared (without padding).
    let length: Int
    var valueStart: Int { offset + 4 }
    var valueEnd: Int { offset + 4 + length }
}

extension STUNMessage {
    static let headerLength = 20

    /// Quick demultiplexing test (RFC 7983 §7): first byte 0...3 and the magic cookie at
    /// bytes 4..<8. Needs at least 8 bytes; does not validate the rest.
    public static func isSTUN(_ firstBytes: some Collection<UInt8>) -> Bool {
        var iterator = firstBytes.makeIterator()
        var head: [UInt8] = []
        head.reserveCapacity(8)
        while head.count < 8, let byte = iterator.next() { head.append(byte) }
        guard head.count == 8, head[0] <= 3 else { return false }
        return readUInt32(head, 4) == stunMagicCookie
    }

    /// Parses one complete STUN message; the collection must hold exactly that message.
    public static func parse(_ bytes: some Collection<UInt8>) throws(STUNError) -> STUNMessage {
        try parse(bytes: Array(bytes))
    }

    /// Same, straight from a receive buffer (copied once, since the message keeps its bytes).
    public static func parse(_ buffer: UnsafeRawBufferPointer) throws(STUNError) -> STUNMessage {
        try parse(bytes: Array(buffer))
    }

    static func parse(bytes: [UInt8]) throws(STUNError) -> STUNMessage {
        let spans = try scan(bytes)
        let transactionID = Array(bytes[8..<20])
        var attributes: [STUNAttribute] = []
        attributes.reserveCapacity(spans.count)
        // RFC 8489 §14.5–14.7: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
        // FINGERPRINT count, after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT, after FINGERPRINT
        // nothing. Ignored attributes are still bounds-checked by `scan`, just not decoded.
        var allowed: Set<UInt16>? = nil
        for span in spans {
            if let allowed, !allowed.contains(span.type) { continue }
            let value = bytes[span.valueStart..<span.valueEnd]
            attributes.append(try decodeAttribute(type: span.type, value: value, transactionID: transactionID))
            switch span.type {
            case STUNAttributeType.messageIntegrity:
                allowed = [STUNAttributeType.messageIntegritySHA256, STUNAttributeType.fingerprint]
            case STUNAttributeType.messageIntegritySHA256:
                allowed = [STUNAttributeType.fingerprint]
            case STUNAttributeType.fingerprint:
                allowed = []
            default:
                break
            }
        }
        var message = STUNMessage(type: STUNMessageType(rawValue: readUInt16(bytes, 0)),
                                  transactionID: transactionID, attributes: attributes)
        message.rawBytes = bytes
        return message
    }

    /// Validates the header and the attribute layout, returning every attribute's position.
    static func scan(_ bytes: [UInt8]) throws(STUNError) -> [STUNAttributeSpan] {
        guard bytes.count >= headerLength else { throw .truncatedHeader(length: bytes.count) }
        guard bytes[0] & 0xC0 == 0 else { throw .notSTUN(firstByte: bytes[0]) }
        let cookie = readUInt32(bytes, 4)
        guard cookie == stunMagicCookie else { throw .badMagicCookie(cookie) }
        let declared = Int(readUInt16(bytes, 2))
        guard declared % 4 == 0 else { throw .lengthNotMultipleOfFour(declared) }
        guard headerLength + declared == bytes.count else {
            throw .lengthMismatch(declared: declared, actual: bytes.count - headerLength)
        }
        var spans: [STUNAttributeSpan] = []
        var offset = headerLength
        // The total is a multiple of 4 and so is every padded attribute, so whenever
        // offset < count at least a full 4-byte attribute header remains.
        while offset + 4 <= bytes.count {
            let type = readUInt16(bytes, offset)
            let length = Int(readUInt16(bytes, offset + 2))
            let padded = (length + 3) & ~3
            guard offset + 4 + padded <= bytes.count else {
                throw .attributeOverrun(type: type, offset: offset, length: length)
            }
            spans.append(STUNAttributeSpan(type: type, offset: offset, length: length))
            offset += 4 + padded
        }
        return spans
    }

    /// Decodes one attribute value (without padding) by type.
    static func decodeAttribute(type: UInt16, value: ArraySlice<UInt8>,
                                transactionID: [UInt8]) throws(STUNError) -> STUNAttribute {
        typealias T = STUNAttributeType
        let v = Array(value)  // zero-based indices from here on
        func requireLength(_ valid: Bool) throws(STUNError) {
            if !valid { throw .badAttributeLength(type: type, length: v.count) }
        }
        func text(_ bytes: ArraySlice<UInt8>) throws(STUNError) -> String {
            guard let string = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8(type: type) }
            return string
        }
        func family(_ byte: UInt8) throws(STUNError) -> STUNAddressFamily {
            guard let family = STUNAddressFamily(rawValue: byte) else {
                throw .badAddressFamily(type: type, family: byte)
            }
            return family
        }
        func address(xor: Bool) throws(STUNError) -> STUNAddress {
            try requireLength(v.count >= 4)
            let fam = try family(v[1])
            try requireLength(v.count == 4 + fam.addressLength)
            var port = readUInt16(v, 2)
            var addr = Array(v[4...])
            if xor {
                // RFC 8489 §14.2: port XOR the cookie's top 16 bits; address XOR the cookie
                // (IPv4) or cookie ‖ transaction ID (IPv6).
                port ^= UInt16(stunMagicCookie >> 16)
                let mask = xorMask(transactionID: transactionID)
                for index in addr.indices { addr[index] ^= mask[index] }
            }
            // Length was checked to be 4 or 16 above, so the failable init succeeds.
            guard let result = STUNAddress(address: addr, port: port) else {
                throw .badAttributeLength(type: type, length: v.count)
            }
            return result
        }
        func errorCode() throws(STUNError) -> STUNErrorCode {
            try requireLength(v.count >= 4)
            let errorClass = Int(v[2] & 0x07)
            let number = Int(v[3])
            guard (3...6).contains(errorClass), number < 100 else { throw .invalidValue(type: type) }
            return STUNErrorCode(code: errorClass * 100 + number, reason: try text(v[4...]))
        }

        switch type {
        case T.mappedAddress: return .mappedAddress(try address(xor: false))
        case T.alternateServer: return .alternateServer(try address(xor: false))
        case T.xorMappedAddress: return .xorMappedAddress(try address(xor: true))
        case T.xorPeerAddress: return .xorPeerAddress(try address(xor: true))
        case T.xorRelayedAddress: return .xorRelayedAddress(try address(xor: true))
        case T.username: return .username(try text(value))
        case T.realm: return .realm(try text(value))
        case T.nonce: return .nonce(try text(value))
        case T.software: return .software(try text(value))
        case T.userhash: return .userhash(v)
        case T.messageIntegrity:
            try requireLength(v.count == 20)
            return .messageIntegrity(v)
        case T.messageIntegritySHA256:
            // §14.6: at least 16 bytes, at most 32, a multiple of 4.
            try requireLength(v.count >= 16 && v.count <= 32 && v.count % 4 == 0)
            return .messageIntegritySHA256(v)
        case T.fingerprint:
            try requireLength(v.count == 4)
            return .fingerprint(readUInt32(v, 0))
        case T.errorCode: return .errorCode(try errorCode())
        case T.unknownAttributes:
            try requireLength(v.count % 2 == 0)
            return .unknownAttributes(stride(from: 0, to: v.count, by: 2).map { readUInt16(v, $0) })
        case T.passwordAlgorithm: return .passwordAlgorithm(v)
        case T.passwordAlgorithms: return .passwordAlgorithms(v)
        case T.priority:
            try requireLength(v.count == 4)
            return .priority(readUInt32(v, 0))
        case T.useCandidate:
            try requireLength(v.isEmpty)
            return .useCandidate
        case T.iceControlled:
            try requireLength(v.count == 8)
            return .iceControlled(tieBreaker: readUInt64(v, 0))
        case T.iceControlling:
            try requireLength(v.count == 8)
            return .iceControlling(tieBreaker: readUInt64(v, 0))
        case T.channelNumber:
            try requireLength(v.count == 4)
            return .channelNumber(readUInt16(v, 0))
        case T.lifetime:
            try requireLength(v.count == 4)
            return .lifetime(readUInt32(v, 0))
        case T.data: return .data(v)
        case T.requestedTransport:
            try requireLength(v.count == 4)
            return .requestedTransport(v[0])
        case T.dontFragment:
            try requireLength(v.isEmpty)
            return .dontFragment
        case T.evenPort:
            try requireLength(v.count == 1)
            return .evenPort(reserveNext: v[0] & 0x80 != 0)
        case T.reservationToken:
            try requireLength(v.count == 8)
            return .reservationToken(v)
        case T.requestedAddressFamily:
            try requireLength(v.count == 4)
            return .requestedAddressFamily(try family(v[0]))
        case T.additionalAddressFamily:
            try requireLength(v.count == 4)
            return .additionalAddressFamily(try family(v[0]))
        case T.addressErrorCode:
            try requireLength(v.count >= 4)
            return .addressErrorCode(family: try family(v[0]), error: try errorCode())
        default:
            return .unknown(type: type, value: v)
        }
    }

    /// Cookie ‖ transaction ID: the XOR pad for address attributes (first 4 bytes for IPv4).
    static func xorMask(transactionID: [UInt8]) -> [UInt8] {
        var mask = bigEndianBytes(stunMagicCookie)
        mask.append(contentsOf: normalizedTransactionID(transactionID))
        return mask
    }

    /// Exactly 12 bytes, whatever the caller stored, so encoding can never go out of bounds.
    static func normalizedTransactionID(_ id: [UInt8]) -> [UInt8] {
        id.count == 12 ? id : Array((id + [UInt8](repeating: 0, count: 12)).prefix(12))
    }
}

// Big-endian field access. Callers check bounds first (see `scan` and `requireLength`).
@inline(__always) func readUInt16(_ b: [UInt8], _ i: Int) -> UInt16 {
    UInt16(b[i]) << 8 | UInt16(b[i + 1])
}
@inline(__always) func readUInt32(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(readUInt16(b, i)) << 16 | UInt32(readUInt16(b, i + 2))
}
@inline(__always) func readUInt64(_ b: [UInt8], _ i: Int) -> UInt64 {
    UInt64(readUInt32(b, i)) << 32 | UInt64(readUInt32(b, i + 4))
}
func bigEndianBytes<I: FixedWidthInteger>(_ value: I) -> [UInt8] {
    (0..<(I.bitWidth / 8)).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}
