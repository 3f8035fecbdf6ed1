// OpenSSL helpers shared by the DTLS and TLS targets. A target of its own (on COpenSSL only) so that
// TLS, used by the TURN server, does not have to depend on DTLS and through it on libsrtp2.

internal import COpenSSL

/// Drains OpenSSL's thread-local error queue into one readable string ("a; b").
///
/// Call it right where an OpenSSL call failed (after `ERR_clear_error()` before that call), so a
/// stale entry can never be blamed on a later, unrelated call; the queue is left empty.
/// - Parameter fallback: returned when the queue held nothing (some calls fail without queueing).
package func drainOpenSSLErrors(fallback: String = "unknown OpenSSL error") -> String {
    var messages: [String] = []
    // ERR_error_string_n wants at least 256 bytes for a full message and always NUL-terminates.
    var buffer = [CChar](repeating: 0, count: 256)
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        ERR_error_string_n(code, &buffer, buffer.count)
        messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return messages.isEmpty ? fallback : messages.joined(separator: "; ")
}
