/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) for the FINGERPRINT attribute
/// (RFC 8489 §14.7). A small table implementation, so the codec needs no zlib.
enum CRC32 {
    /// One entry per byte value, built once; `static let` is lazily and thread-safely initialised.
    private static let table: [UInt32] = (0..<256).map { index -> UInt32 in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
        return crc
    }

    /// CRC-32 of `bytes`; `checksum("123456789") == 0xCBF43926`.
    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        let table = self.table
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }
}
