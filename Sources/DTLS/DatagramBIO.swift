// A BIO that keeps datagram boundaries in both directions.
//
// A plain memory BIO concatenates everything written to it, so a DTLS flight
// of several records would come out as one blob that may exceed the path MTU
// and can no longer be split into the datagrams OpenSSL intended. This BIO
// records each BIO_write (OpenSSL writes exactly one datagram per call) as a
// separate packet, and hands out one received datagram per BIO_read.

internal import COpenSSL

/// Packets between the SSL object and the endpoint. Only touched from the
/// endpoint's thread: the BIO callbacks run synchronously inside SSL_* calls
/// the endpoint makes.
final class DatagramPipe {
    /// The datagram being fed in; consumed by the next BIO_read.
    var inbound: [UInt8]?
    /// Datagrams OpenSSL wants sent, oldest first.
    var outbound: [[UInt8]] = []
}

enum DatagramBIO {
    // BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY (BIO_set_retry_read is a macro).
    private static let retryReadFlags: Int32 = 0x01 | 0x08

    static func makeMethod() -> OpaquePointer? {
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "confab-dtls-datagram") else { return nil }
        let ok = BIO_meth_set_write(method, { bio, data, length in
            guard let pipe = DatagramBIO.pipe(of: bio), let data, length >= 0 else { return -1 }
            data.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { bytes in
                pipe.outbound.append(Array(UnsafeBufferPointer(start: bytes, count: Int(length))))
            }
            return length
        }) == 1 && BIO_meth_set_read(method, { bio, buffer, capacity in
            guard let pipe = DatagramBIO.pipe(of: bio), let buffer, capacity >= 0 else { return -1 }
            BIO_clear_flags(bio, DatagramBIO.retryReadFlags)
            guard let datagram = pipe.inbound else {
                // No data yet: tell OpenSSL to retry later (SSL_ERROR_WANT_READ), not EOF.
                BIO_set_flags(bio, DatagramBIO.retryReadFlags)
                return -1
            }
            pipe.inbound = nil
            // Like a UDP socket, an oversized datagram is truncated.
            let count = min(datagram.count, Int(capacity))
            datagram.withUnsafeBytes { source in
                if let base = source.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: count) }
            }
            return Int32(count)
        }) == 1 && BIO_meth_set_ctrl(method, { _, command, _, _ in
            switch command {
            // DTLS flushes after each flight and treats <= 0 as an error.
            case BIO_CTRL_FLUSH: 1
            // Everything else (MTU queries, timeouts, peer addresses, pending
            // counts) has no meaning here: the endpoint sets the MTU itself.
            default: 0
            }
        }) == 1
        guard ok else {
            BIO_meth_free(method)
            return nil
        }
        return method
    }

    /// Creates a BIO bound to `pipe` (held unretained: the endpoint owns the
    /// pipe and frees the SSL, and with it the BIO, before releasing it).
    static func make(method: OpaquePointer, pipe: DatagramPipe) -> OpaquePointer? {
        guard let bio = BIO_new(method) else { return nil }
        BIO_set_data(bio, Unmanaged.passUnretained(pipe).toOpaque())
        BIO_set_init(bio, 1)
        return bio
    }

    private static func pipe(of bio: OpaquePointer?) -> DatagramPipe? {
        guard let bio, let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<DatagramPipe>.fromOpaque(data).takeUnretainedValue()
    }
}
