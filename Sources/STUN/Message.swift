/// STUN message model (RFC 8489 §5): a type (method + class), a 96-bit transaction ID and an
/// ordered list of attributes. Parsing lives in Parser.swift, encoding in Encoder.swift.

/// The magic cookie every RFC 5389/8489 message carries at bytes 4..<8.
public let stunMagicCookie: UInt32 = 0x2112_A442

/// A STUN method: the 12-bit number shared by a request and its responses.
/// A struct rather than an enum so methods this codec does not name still round-trip.
public struct STUNMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// Only the low 12 bits are meaningful; the initialiser masks the rest.
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }

    public static let binding = STUNMethod(rawValue: 0x001)
    // TURN (RFC 8656 §17).
    public static let allocate = STUNMethod(rawValue: 0x003)
    public static let refresh = STUNMethod(rawValue: 0x004)
    public static let send = STUNMethod(rawValue: 0x006)
    public static let data = STUNMethod(rawValue: 0x007)
    public static let createPermission = STUNMethod(rawValue: 0x008)
    public static let channelBind = STUNMethod(rawValue: 0x009)

    public var description: String {
        switch self {
        case .binding: "Binding"
        case .allocate: "Allocate"
        case .refresh: "Refresh"
        case .send: "Send"
        case .data: "Data"
        case .createPermission: "CreatePermission"
        case .channelBind: "ChannelBind"
        default: "Method(0x\(String(rawValue, radix: 16)))"
        }
    }
}

/// The two class bits C1 C0 of the message type.
public enum STUNClass: UInt8, Sendable, Hashable, CaseIterable {
    case request = 0b00
    case indication = 0b01
    case successResponse = 0b10
    case errorResponse = 0b11
}

/// Method and class, packed on the wire into 14 bits with the class bits interleaved
/// at positions 4 and 8 (RFC 8489 §5, figure 3).
public struct STUNMessageType: Hashable, Sendable {
    public var method: STUNMethod
    public var messageClass: STUNClass

    public init(method: STUNMethod, messageClass: STUNClass) {
        self.method = method
        self.messageClass = messageClass
    }

    /// Splits the 16-bit wire value (top two bits are ignored; the parser checks them).
    public init(rawValue: UInt16) {
        let m = (rawValue & 0x000F) | ((rawValue & 0x00E0) >> 1) | ((rawValue & 0x3E00) >> 2)
        let c = ((rawValue & 0x0010) >> 4) | ((rawValue & 0x0100) >> 7)
        method = STUNMethod(rawValue: m)
        // Two bits always map onto one of the four cases.
        messageClass = STUNClass(rawValue: UInt8(c)) ?? .request
    }

    /// The 16-bit wire value.
    public var rawValue: UInt16 {
        let m = method.rawValue
        let c = UInt16(messageClass.rawValue)
        return (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2)
            | ((c & 0b01) << 4) | ((c & 0b10) << 7)
    }

    public static let bindingRequest = STUNMessageType(method: .binding, messageClass: .request)
    public static let bindingSuccess = STUNMessageType(method: .binding, messageClass: .successResponse)
}

/// One STUN message.
///
/// Equality compares type, transaction ID and attributes only: the retained wire bytes of a
/// parsed message are a verification aid, not part of its meaning.
public struct STUNMessage: Sendable, Equatable {
    public var type: STUNMessageType
    /// Exactly 12 bytes on the wire; the encoder pads or truncates anything else to 12.
    public var transactionID: [UInt8]
    /// In wire order. After parsing, attributes the RFC says to ignore (anything after
    /// MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256/FINGERPRINT, anything after
    /// FINGERPRINT) are already dropped.
    public var attributes: [STUNAttribute]
    /// The bytes this message was parsed from, kept because MESSAGE-INTEGRITY and FINGERPRINT
    /// must be checked over the exact bytes received (padding included). Nil when built locally.
    public internal(set) var rawBytes: [UInt8]?

    public init(type: STUNMessageType, transactionID: [UInt8], attributes: [STUNAttribute] = []) {
        self.type = type
        self.transactionID = transactionID
        self.attributes = attributes
        self.rawBytes = nil
    }

    public init(method: STUNMethod, class messageClass: STUNClass, transactionID: [UInt8],
                attributes: [STUNAttribute] = []) {
        self.init(type: STUNMessageType(method: method, messageClass: messageClass),
                  transactionID: transactionID, attributes: attributes)
    }

    public var method: STUNMethod { type.method }
    public var messageClass: STUNClass { type.messageClass }

    /// A fresh random 96-bit transaction ID (RFC 8489 §5 asks for uniform randomness).
    public static func randomTransactionID() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<12).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    public static func == (lhs: STUNMessage, rhs: STUNMessage) -> Bool {
        lhs.type == rhs.type && lhs.transactionID == rhs.transactionID && lhs.attributes == rhs.attributes
    }

    /// Types of comprehension-required attributes (0x0000–0x7FFF) this codec does not
    /// understand; a server answers 420 listing them in UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1).
    public var unknownComprehensionRequired: [UInt16] {
        attributes.compactMap { attribute in
            if case .unknown(let type, _) = attribute, type < 0x8000 { return type }
            return nil
        }
    }

    /// The first attribute with the given wire type, if any.
    public func attribute(_ type: UInt16) -> STUNAttribute? {
        attributes.first { $0.typeCode == type }
    }

    // Convenience accessors for the attributes ICE and TURN look at on every packet.
    public var username: String? {
        for case .username(let value) in attributes { return value }
        return nil
    }
    public var realm: String? {
        for case .realm(let value) in attributes { return value }
        return nil
    }
    public var nonce: String? {
        for case .nonce(let value) in attributes { return value }
        return nil
    }
    public var xorMappedAddress: STUNAddress? {
        for case .xorMappedAddress(let value) in attributes { return value }
        return nil
    }
    public var errorCode: STUNErrorCode? {
        for case .errorCode(let value) in attributes { return value }
        return nil
    }
}
