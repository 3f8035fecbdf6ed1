/// Small tokenising helpers shared by the attribute and line parsers.
/// SDP is a line of space-separated tokens, so these are deliberately simple.

extension StringProtocol {
    /// Space-separated tokens; repeated spaces are tolerated because some
    /// stacks emit them, and they carry no meaning in SDP.
    var fields: [SubSequence] { split(separator: " ", omittingEmptySubsequences: true) }

    /// Splits at the first `separator`: ("a", "b:c") for "a:b:c", (self, nil) without one.
    func splitOnce(_ separator: Character) -> (SubSequence, SubSequence?) {
        guard let index = firstIndex(of: separator) else { return (self[...], nil) }
        return (self[..<index], self[self.index(after: index)...])
    }

    /// The text with leading and trailing spaces and tabs removed.
    var trimmed: SubSequence {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isBlank($0) }),
              let end = lastIndex(where: { !isBlank($0) }) else { return self[endIndex...] }
        return self[start...end]
    }
}

/// A decimal number made only of ASCII digits that fits `T`. Stricter than
/// `T.init(_:)`, which would accept a sign, so "+5" or "-1" are rejected.
func decimal<T: FixedWidthInteger>(_ text: some StringProtocol, as _: T.Type = T.self) -> T? {
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return T(text, radix: 10)
}

/// An RTP payload type, which RFC 3550 limits to 7 bits.
func parsePayloadType(_ text: some StringProtocol) throws(Invalid) -> UInt8 {
    guard let value = decimal(text, as: UInt8.self), value <= 127 else {
        throw Invalid("payload type '\(text)' not in 0..127")
    }
    return value
}

/// A number that must fit `T`, with a reason naming the field when it does not.
func number<T: FixedWidthInteger>(_ text: some StringProtocol, _ field: String, as _: T.Type = T.self) throws(Invalid) -> T {
    guard let value = decimal(text, as: T.self) else {
        throw Invalid("\(field) '\(text)' is not a number in 0..\(T.max)")
    }
    return value
}
