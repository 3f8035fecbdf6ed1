/// STUNMessage → wire bytes, appending MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT last
/// because each covers everything before it (RFC 8489 §14.5–14.7).

extension STUNMessage {
    /// Encodes the message.
    ///
    /// - Parameters:
    ///   - key: when given, any MESSAGE-INTEGRITY / MESSAGE-INTEGRITY-SHA256 / FINGERPRINT already
    ///     in `attributes` is dropped and a fresh integrity attribute is computed with this key
    ///     (short-term: the password bytes; long-term: `STUNCredentials.longTermKey`).
    ///   - sha256: use MESSAGE-INTEGRITY-SHA256 (full 32 bytes) instead of MESSAGE-INTEGRITY.
    ///   - fingerprint: drop any FINGERPRINT in `attributes` and append a computed one.
    ///   - padding: byte used to pad attribute values to 4 bytes. RFC 8489 says zero; RFC 5769's
    ///     sample messages use spaces, which matters only for byte-exact reproduction.
    ///
    /// Without `key`/`fingerprint`, stored integrity/fingerprint attributes are written as they are.
    /// A value longer than a 16-bit length can describe is truncated to fit.
    public func encoded(integrity key: [UInt8]? = nil, sha256: Bool = false, fingerprint: Bool = false,
                        padding: UInt8 = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out += bigEndianBytes(type.rawValue)
        out += [0, 0]  // length, patched below
        out += bigEndianBytes(stunMagicCookie)
        let tid = Self.normalizedTransactionID(transactionID)
        out += tid

        for attribute in attributes {
            switch attribute {
            case .messageIntegrity, .messageIntegritySHA256:
                if key != nil { continue }
            case .fingerprint:
                if key != nil || fingerprint { continue }
            default:
                break
            }
            Self.append(type: attribute.typeCode, value: Self.encodeValue(attribute, transactionID: tid),
                        to: &out, padding: padding)
        }

        if let key {
            let hashLength = sha256 ? 32 : 20
            // The HMAC covers the header with its length already counting this attribute.
            Self.setLength(&out, out.count - Self.headerLength + 4 + hashLength)
            let mac = sha256 ? STUNCrypto.hmacSHA256(key: key, data: out) : STUNCrypto.hmacSHA1(key: key, data: out)
            Self.append(type: sha256 ? STUNAttributeType.messageIntegritySHA256 : STUNAttributeType.messageIntegrity,
                        value: mac, to: &out, padding: padding)
        }
        if fingerprint {
            Self.setLength(&out, out.count - Self.headerLength + 8)
            let crc = CRC32.checksum(out) ^ STUNCrypto.fingerprintXOR
            Self.append(type: STUNAttributeType.fingerprint, value: bigEndianBytes(crc), to: &out, padding: padding)
        }
        Self.setLength(&out, out.count - Self.headerLength)
        return out
    }

    static func setLength(_ bytes: inout [UInt8], _ length: Int) {
        let value = UInt16(clamping: length)
        bytes[2] = UInt8(value >> 8)
        bytes[3] = UInt8(value & 0xFF)
    }

    static func append(type: UInt16, value: [UInt8], to out: inout [UInt8], padding: UInt8) {
        // Largest value whose padded size still fits a 16-bit message length.
        let value = value.count > 0xFFF8 ? Array(value.prefix(0xFFF8)) : value
        out += bigEndianBytes(type)
        out += bigEndianBytes(UInt16(value.count))
        out += value
        let pad = (4 - value.count % 4) % 4
        out += [UInt8](repeating: padding, count: pad)
    }

    static func encodeValue(_ attribute: STUNAttribute, transactionID: [UInt8]) -> [UInt8] {
        func address(_ address: STUNAddress, xor: Bool) -> [UInt8] {
            var port = address.port
            var addr = address.address
            if xor {
                port ^= UInt16(stunMagicCookie >> 16)
                let mask = xorMask(transactionID: transactionID)
                for index in addr.indices { addr[index] ^= mask[index] }
            }
            return [0, address.family.rawValue] + bigEndianBytes(port) + addr
        }
        func errorCode(_ error: STUNErrorCode) -> [UInt8] {
            [0, 0, UInt8(truncatingIfNeeded: error.errorClass) & 0x07, UInt8(truncatingIfNeeded: error.number)]
                + Array(error.reason.utf8)
        }
        switch attribute {
        case .mappedAddress(let a), .alternateServer(let a): return address(a, xor: false)
        case .xorMappedAddress(let a), .xorPeerAddress(let a), .xorRelayedAddress(let a): return address(a, xor: true)
        case .username(let s), .realm(let s), .nonce(let s), .software(let s): return Array(s.utf8)
        case .userhash(let b), .messageIntegrity(let b), .messageIntegritySHA256(let b),
             .passwordAlgorithm(let b), .passwordAlgorithms(let b), .data(let b), .reservationToken(let b):
            return b
        case .fingerprint(let crc): return bigEndianBytes(crc)
        case .errorCode(let error): return errorCode(error)
        case .unknownAttributes(let types): return types.flatMap { bigEndianBytes($0) }
        case .priority(let p): return bigEndianBytes(p)
        case .useCandidate, .dontFragment: return []
        case .iceControlled(let t), .iceControlling(let t): return bigEndianBytes(t)
        case .channelNumber(let n): return bigEndianBytes(n) + [0, 0]  // RFFU
        case .lifetime(let l): return bigEndianBytes(l)
        case .requestedTransport(let p): return [p, 0, 0, 0]  // RFFU
        case .evenPort(let reserve): return [reserve ? 0x80 : 0]
        case .requestedAddressFamily(let f), .additionalAddressFamily(let f): return [f.rawValue, 0, 0, 0]
        case .addressErrorCode(let family, let error):
            var value = errorCode(error)
            value[0] = family.rawValue
            return value
        case .unknown(_, let value): return value
        }
    }
}
