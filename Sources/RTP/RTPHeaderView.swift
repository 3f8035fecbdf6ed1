// A non-owning, non-allocating view over one RTP packet in a caller-owned
// buffer. The forwarding path validates once, then reads and rewrites header
// fields and extensions in place before re-protecting the same bytes.

public struct RTPHeaderView {
    /// The whole packet. The view never outlives the caller's buffer.
    public let buffer: UnsafeMutableRawBufferPointer
    public let layout: RTPPacketLayout

    /// Validates the packet; nil if it is not well-formed RTP.
    public init?(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let layout = RTPPacketLayout(validating: UnsafeRawBufferPointer(buffer)) else { return nil }
        self.buffer = buffer
        self.layout = layout
    }

    // MARK: Fixed header

    public var version: UInt8 { buffer[0] >> 6 }
    public var hasPadding: Bool { buffer[0] & 0x20 != 0 }
    public var hasExtension: Bool { buffer[0] & 0x10 != 0 }
    public var csrcCount: Int { layout.csrcCount }

    public var marker: Bool {
        get { buffer[1] & 0x80 != 0 }
        nonmutating set { buffer[1] = newValue ? buffer[1] | 0x80 : buffer[1] & 0x7F }
    }

    /// 7-bit payload type; higher bits of a new value are dropped.
    public var payloadType: UInt8 {
        get { buffer[1] & 0x7F }
        nonmutating set { buffer[1] = (buffer[1] & 0x80) | (newValue & 0x7F) }
    }

    public var sequenceNumber: UInt16 {
        get { buffer.readOnly.u16(2) }
        nonmutating set { buffer.put16(newValue, at: 2) }
    }

    public var timestamp: UInt32 {
        get { buffer.readOnly.u32(4) }
        nonmutating set { buffer.put32(newValue, at: 4) }
    }

    public var ssrc: UInt32 {
        get { buffer.readOnly.u32(8) }
        nonmutating set { buffer.put32(newValue, at: 8) }
    }

    /// CSRC at `index`, or nil when out of range.
    public func csrc(at index: Int) -> UInt32? {
        guard index >= 0, index < layout.csrcCount else { return nil }
        return buffer.readOnly.u32(12 + index * 4)
    }

    // MARK: Payload and padding

    public var payloadOffset: Int { layout.payloadOffset }
    public var payloadLength: Int { layout.payloadLength }
    public var paddingLength: Int { layout.paddingLength }

    /// The payload bytes (without padding), sharing the packet's storage.
    public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: buffer[layout.payloadOffset..<(layout.payloadOffset + layout.payloadLength)])
    }

    /// Clears the P bit and returns the packet length without padding; the
    /// caller sends only that many bytes. Used when forwarding padding-only
    /// probes is pointless or payload is trimmed.
    @discardableResult
    public func removePadding() -> Int {
        buffer[0] &= ~0x20
        return layout.packetLength - layout.paddingLength
    }

    // MARK: Header extensions

    public func headerExtension(id: UInt8) -> RTPHeaderExtensionElement? {
        RTPHeaderExtensions.find(id: id, in: buffer.readOnly, layout: layout)
    }

    /// The raw value of extension `id`, sharing the packet's storage.
    public func extensionValue(id: UInt8) -> UnsafeRawBufferPointer? {
        guard let e = headerExtension(id: id) else { return nil }
        return buffer.readOnly.slice(e.valueOffset, e.valueLength)
    }

    /// Overwrites extension `id` with `value` of the same length; false if the
    /// extension is absent or the lengths differ (resizing would move the payload).
    @discardableResult
    public func setExtensionValue(id: UInt8, to value: UnsafeRawBufferPointer) -> Bool {
        guard let e = headerExtension(id: id), e.valueLength == value.count else { return false }
        for i in 0..<value.count { buffer[e.valueOffset + i] = value[i] }
        return true
    }

    /// RFC 6464 audio level (one byte: V flag + 7-bit level).
    public func audioLevel(id: UInt8) -> AudioLevel? {
        guard let e = headerExtension(id: id), e.valueLength >= 1 else { return nil }
        let b = buffer[e.valueOffset]
        return AudioLevel(voiceActivity: b & 0x80 != 0, level: b & 0x7F)
    }

    /// abs-send-time: 24-bit 6.18 fixed-point seconds.
    public func absSendTime(id: UInt8) -> UInt32? {
        guard let e = headerExtension(id: id), e.valueLength == 3 else { return nil }
        return buffer.readOnly.u24(e.valueOffset)
    }

    @discardableResult
    public func setAbsSendTime(_ value: UInt32, id: UInt8) -> Bool {
        guard let e = headerExtension(id: id), e.valueLength == 3 else { return false }
        buffer.put24(value & 0xFF_FFFF, at: e.valueOffset)
        return true
    }

    /// transport-wide-cc sequence number (draft-holmer-rmcat-transport-wide-cc-extensions).
    public func transportSequenceNumber(id: UInt8) -> UInt16? {
        guard let e = headerExtension(id: id), e.valueLength == 2 else { return nil }
        return buffer.readOnly.u16(e.valueOffset)
    }

    /// The SFU stamps its own transport-wide sequence per outgoing transport.
    @discardableResult
    public func setTransportSequenceNumber(_ value: UInt16, id: UInt8) -> Bool {
        guard let e = headerExtension(id: id), e.valueLength == 2 else { return false }
        buffer.put16(value, at: e.valueOffset)
        return true
    }

    /// Compares a text extension (mid, rid, repaired-rid) with bytes the
    /// caller keeps (e.g. `Array("0".utf8)`) without allocating per packet.
    public func extensionEquals<Bytes: Collection>(id: UInt8, _ expected: Bytes) -> Bool where Bytes.Element == UInt8 {
        guard let value = extensionValue(id: id), value.count == expected.count else { return false }
        return value.elementsEqual(expected)
    }

    /// A text extension (mid, rid, repaired-rid) as a String. Allocates, so it
    /// is meant for learning a new stream, not for every packet.
    public func stringExtension(id: UInt8) -> String? {
        guard let value = extensionValue(id: id) else { return nil }
        return String(validating: value, as: UTF8.self)
    }
}
