/// The error-queue drain against real OpenSSL failures: every queued reason comes out, in order,
/// and the queue is left empty so the next failure is not blamed on this one.
import COpenSSL
import Foundation
import Testing
@testable import OpenSSLSupport

@Suite struct OpenSSLErrorQueueTests {
    /// Makes OpenSSL queue a real error: PEM-decoding bytes that hold no PEM block ("no start line").
    private func failPEMRead() {
        let garbage = Array("not a certificate".utf8)
        garbage.withUnsafeBytes { bytes in
            let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count))
            #expect(PEM_read_bio_X509(bio, nil, nil, nil) == nil)
            BIO_free(bio)
        }
    }

    @Test func drainsTheQueuedReasonAndEmptiesTheQueue() {
        ERR_clear_error()
        failPEMRead()
        let reasons = drainOpenSSLErrors()
        #expect(reasons.contains("no start line"))
        #expect(ERR_peek_error() == 0)
        #expect(drainOpenSSLErrors(fallback: "nothing queued") == "nothing queued")
    }

    @Test func joinsSeveralReasonsInOrder() {
        ERR_clear_error()
        failPEMRead()
        let first = ERR_peek_error()
        failPEMRead()
        let parts = drainOpenSSLErrors().components(separatedBy: "; ")
        #expect(parts.count >= 2)
        #expect(parts.filter { $0.contains("no start line") }.count == 2)
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(first, &buffer, buffer.count)
        #expect(parts.first == String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    @Test func emptyQueueGivesTheFallback() {
        ERR_clear_error()
        #expect(drainOpenSSLErrors() == "unknown OpenSSL error")
        #expect(drainOpenSSLErrors(fallback: "SSL error 1") == "SSL error 1")
    }
}
