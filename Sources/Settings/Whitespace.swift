// Trimming without Foundation's CharacterSet API (FoundationEssentials has no
// `trimmingCharacters(in:)` for substrings): settings and HTTP values only ever need spaces and tabs.

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    public var trimmingWhitespace: String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
