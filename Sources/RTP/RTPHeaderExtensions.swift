// RFC 8285 header extension lookup. The SFU reads a handful of negotiated
// extensions (audio level, abs-send-time, transport-wide-cc, mid, rid) and
// rewrites a few in place, so lookup walks the elements without allocating.

/// Where one extension element's value lives inside the packet buffer.
public struct RTPHeaderExtensionElement: Sendable, Equatable {
    public let id: UInt8
    /// Offset of the value (after the element's id/length byte(s)).
    public let valueOffset: Int
    public let valueLength: Int
}

/// The two RFC 8285 element formats, chosen by the extension header's profile.
public enum RTPHeaderExtensionFormat: Sendable, Equatable {
    case oneByte
    case twoByte

    /// Profile 0xBEDE is one-byte; 0x100X (X = appbits) is two-byte; anything
    /// else is a non-RFC 8285 extension whose contents we cannot index.
    public init?(profile: UInt16) {
        if profile == 0xBEDE {
            self = .oneByte
        } else if profile & 0xFFF0 == 0x1000 {
            self = .twoByte
        } else {
            return nil
        }
    }
}

public enum RTPHeaderExtensions {
    /// Calls `body` for each element in order; `body` returns false to stop.
    /// Returns false if the element list is malformed (an element runs past
    /// the extension data) or the profile is not RFC 8285.
    @discardableResult
    public static func forEach(
        in bytes: UnsafeRawBufferPointer, layout: RTPPacketLayout,
        _ body: (RTPHeaderExtensionElement) -> Bool
    ) -> Bool {
        guard let profile = layout.extensionProfile,
              let format = RTPHeaderExtensionFormat(profile: profile) else { return false }
        var pos = layout.extensionDataOffset
        let end = pos + layout.extensionDataLength
        // The layout came from these bytes, but guard anyway in case a caller
        // pairs a layout with a shorter buffer.
        guard end <= bytes.count else { return false }
        while pos < end {
            let first = bytes[pos]
            // Id 0 is a single padding byte in both formats.
            if first == 0 { pos += 1; continue }
            let id: UInt8
            let length: Int
            let valueOffset: Int
            switch format {
            case .oneByte:
                id = first >> 4
                // Id 15 is reserved: parsing stops there (RFC 8285 §4.2).
                if id == 15 { return true }
                length = Int(first & 0x0F) + 1
                valueOffset = pos + 1
            case .twoByte:
                guard pos + 1 < end else { return false }
                id = first
                length = Int(bytes[pos + 1])
                valueOffset = pos + 2
            }
            guard valueOffset + length <= end else { return false }
            if !body(RTPHeaderExtensionElement(id: id, valueOffset: valueOffset, valueLength: length)) {
                return true
            }
            pos = valueOffset + length
        }
        return true
    }

    /// The first element with `id`, or nil if absent or the list is malformed.
    public static func find(
        id: UInt8, in bytes: UnsafeRawBufferPointer, layout: RTPPacketLayout
    ) -> RTPHeaderExtensionElement? {
        guard id != 0 else { return nil }
        var found: RTPHeaderExtensionElement?
        let ok = forEach(in: bytes, layout: layout) { element in
            if element.id == id { found = element; return false }
            return true
        }
        return ok ? found : nil
    }
}

/// RFC 6464 client-to-mixer audio level: voice activity flag and level in -dBov (0 loudest, 127 silence).
public struct AudioLevel: Sendable, Equatable {
    public let voiceActivity: Bool
    public let level: UInt8

    public init(voiceActivity: Bool, level: UInt8) {
        self.voiceActivity = voiceActivity
        self.level = level & 0x7F
    }
}
