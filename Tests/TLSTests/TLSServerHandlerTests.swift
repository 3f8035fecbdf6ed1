/// The TLS handler against an in-process OpenSSL client (memory BIOs, so no sockets): handshakes
/// with TLS 1.3 and 1.2, plaintext both ways, and every failure closed and reported.
import COpenSSL
import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import TLS

/// A self-signed certificate and key made with the openssl command line, plus an unrelated key.
final class Credentials: Sendable {
    let directory: String
    var certificate: String { directory + "/cert.pem" }
    var key: String { directory + "/key.pem" }
    var otherKey: String { directory + "/other.pem" }

    init() throws {
        directory = NSTemporaryDirectory() + "tls-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem", "-days", "1",
                          "-subj", "/CN=confab-test"])
        try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", directory + "/other.pem"])
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}

/// A TLS client on memory BIOs; the test moves its bytes to and from the channel.
final class MemoryClient {
    let context: OpaquePointer
    let ssl: OpaquePointer
    let input: OpaquePointer
    let output: OpaquePointer

    /// `alpn`: protocol names offered (none by default).
    init(maxVersion: Int32 = TLS1_3_VERSION, alpn: [String] = []) {
        context = SSL_CTX_new(TLS_client_method())!
        if !alpn.isEmpty {
            let wire = alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            _ = SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count))
        }
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MAX_PROTO_VERSION, Int(maxVersion), nil)
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)  // self-signed; not what is under test
        ssl = SSL_new(context)!
        input = BIO_new(BIO_s_mem())!
        output = BIO_new(BIO_s_mem())!
        SSL_set_bio(ssl, input, output)
        SSL_set_connect_state(ssl)
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
    }

    /// What the client wants to send.
    func take() -> [UInt8] {
        let pending = Int(BIO_ctrl_pending(output))
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        _ = BIO_read(output, &bytes, Int32(pending))
        return bytes
    }

    func give(_ bytes: [UInt8]) {
        if !bytes.isEmpty { _ = BIO_write(input, bytes, Int32(bytes.count)) }
    }

    func handshake() -> Bool { SSL_do_handshake(ssl) == 1 }

    func send(_ text: String) { _ = SSL_write(ssl, text, Int32(text.utf8.count)) }

    func receive() -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var text = ""
        while true {
            let count = SSL_read(ssl, &buffer, Int32(buffer.count))
            guard count > 0 else { break }
            text += String(decoding: buffer.prefix(Int(count)), as: UTF8.self)
        }
        return text
    }

    var version: String { String(cString: SSL_get_version(ssl)) }

    /// The ALPN protocol the server selected, nil when none.
    var selectedALPN: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }
}

/// Sends every plaintext read back, upper-cased.
final class Shout: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let text = String(buffer: unwrapInboundIn(data)).uppercased()
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
    }
}

final class Failures {
    var seen: [TLSServerHandler.Failure] = []
}

@Suite struct TLSServerHandlerTests {
    let credentials: Credentials
    let context: TLSServerContext

    init() throws {
        credentials = try Credentials()
        context = try TLSServerContext(certificatePath: credentials.certificate, privateKeyPath: credentials.key)
    }

    func channel(_ failures: Failures, timeout: TimeAmount = .seconds(10)) throws -> (EmbeddedChannel, TLSServerHandler) {
        let handler = TLSServerHandler(context: context, handshakeTimeout: timeout) { failures.seen.append($0) }
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([handler, Shout()])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5349)).wait()
        return (channel, handler)
    }

    /// Moves bytes both ways until neither side has anything left to say.
    func pump(_ client: MemoryClient, _ channel: EmbeddedChannel) throws {
        for _ in 0..<10 {
            _ = client.handshake()
            let bytes = client.take()
            if !bytes.isEmpty { try channel.writeInbound(ByteBuffer(bytes: bytes)) }
            var answered = false
            while let out = try channel.readOutbound(as: ByteBuffer.self) {
                client.give(Array(out.readableBytesView))
                answered = true
            }
            if bytes.isEmpty && !answered { return }
        }
    }

    @Test(arguments: [TLS1_3_VERSION, TLS1_2_VERSION])
    func handshakeThenPlaintextBothWays(maxVersion: Int32) throws {
        let failures = Failures()
        let (channel, handler) = try channel(failures)
        let client = MemoryClient(maxVersion: maxVersion)
        try pump(client, channel)
        #expect(client.handshake())
        #expect(handler.negotiatedVersion == (maxVersion == TLS1_3_VERSION ? "TLSv1.3" : "TLSv1.2"))
        #expect(client.version == handler.negotiatedVersion)
        client.send("binding")
        client.send(" request")
        try pump(client, channel)
        #expect(client.receive().hasPrefix("BINDING"))
        #expect(failures.seen.isEmpty)
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    /// RFC 7443: "stun.turn" is selected when offered (among others); other offers get no ALPN, and TURN anyway.
    @Test(arguments: [(["h2", "stun.turn"], "stun.turn"), (["stun.turn"], "stun.turn"), (["h2", "http/1.1"], nil),
                      ([], nil)] as [([String], String?)])
    func alpnSelectsStunTurn(offered: [String], selected: String?) throws {
        let failures = Failures()
        let (channel, _) = try channel(failures)
        let client = MemoryClient(alpn: offered)
        try pump(client, channel)
        #expect(client.handshake())
        #expect(client.selectedALPN == selected)
        client.send("binding")
        try pump(client, channel)
        #expect(client.receive() == "BINDING")
        #expect(failures.seen.isEmpty)
        _ = try? channel.finish()
    }

    @Test func manyRecordsInOneReadArriveWholeAndInOrder() throws {
        let failures = Failures()
        let (channel, _) = try channel(failures)
        let client = MemoryClient()
        try pump(client, channel)
        // 100 records of 1,000 bytes (more than one 16 KB plaintext buffer) in a single socket read.
        let chunks = (0..<100).map { String(repeating: String(UnicodeScalar(UInt8(97 + $0 % 26))), count: 1000) }
        for chunk in chunks { client.send(chunk) }
        try channel.writeInbound(ByteBuffer(bytes: client.take()))
        var answer = ""
        while let out = try channel.readOutbound(as: ByteBuffer.self) {
            client.give(Array(out.readableBytesView))
            answer += client.receive()
        }
        #expect(answer == chunks.joined().uppercased())
        #expect(failures.seen.isEmpty)
    }

    @Test func plaintextInsteadOfAHandshakeIsReportedAndClosed() throws {
        let failures = Failures()
        let (channel, _) = try channel(failures)
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(!channel.isActive)
        #expect(failures.seen.count == 1)
        if case .handshake = failures.seen.first {} else { Issue.record("\(failures.seen)") }
        // A STUN message (what a client speaking TCP to the TLS port sends) fails the same way.
        let (second, _) = try self.channel(failures)
        try second.writeInbound(ByteBuffer(bytes: [0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42] + Array(repeating: 0, count: 12)))
        #expect(!second.isActive && failures.seen.count == 2)
    }

    @Test func unfinishedHandshakeTimesOut() throws {
        let failures = Failures()
        let (channel, _) = try channel(failures, timeout: .seconds(5))
        let client = MemoryClient()
        _ = client.handshake()
        try channel.writeInbound(ByteBuffer(bytes: client.take().prefix(10)))  // half a ClientHello
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        #expect(failures.seen == [.handshakeTimeout])
    }

    @Test func garbageRecordsAfterTheHandshakeAreReportedAndClosed() throws {
        let failures = Failures()
        let (channel, _) = try channel(failures)
        let client = MemoryClient()
        try pump(client, channel)
        #expect(client.handshake())
        // An application-data record header followed by bytes that do not decrypt.
        try channel.writeInbound(ByteBuffer(bytes: [0x17, 0x03, 0x03, 0x00, 0x20] + Array(repeating: 0xAB, count: 32)))
        #expect(!channel.isActive)
        #expect(failures.seen.count == 1)
        if case .record = failures.seen.first {} else { Issue.record("\(failures.seen)") }
    }

    @Test func randomBytesNeverTrap() throws {
        var generator = SystemRandomNumberGenerator()
        let failures = Failures()
        for round in 0..<200 {
            let (channel, _) = try channel(failures)
            let count = Int.random(in: 1...600, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if round % 2 == 0 { bytes[0] = 0x16 }  // looks like a handshake record
            _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
            _ = try? channel.finish()
        }
    }

    @Test func closingSendsCloseNotify() throws {
        let failures = Failures()
        let (channel, _) = try channel(failures)
        let client = MemoryClient()
        try pump(client, channel)
        try channel.close().wait()
        var bytes: [UInt8] = []
        while let out = try channel.readOutbound(as: ByteBuffer.self) { bytes += out.readableBytesView }
        client.give(bytes)
        #expect(client.receive() == "")
        #expect(SSL_get_shutdown(client.ssl) & SSL_RECEIVED_SHUTDOWN != 0)
    }
}

@Suite struct TLSServerContextTests {
    @Test func missingUnreadableAndMismatchedFilesAreRefused() throws {
        let credentials = try Credentials()
        func error(_ certificate: String, _ key: String) -> TLSContextError? {
            do {
                _ = try TLSServerContext(certificatePath: certificate, privateKeyPath: key)
                return nil
            } catch { return error }
        }
        #expect(error(credentials.certificate, credentials.key) == nil)
        #expect(error(credentials.directory + "/none.pem", credentials.key)?.key == .certificate)
        #expect(error(credentials.certificate, credentials.directory + "/none.pem")?.key == .privateKey)
        #expect(error(credentials.key, credentials.key)?.key == .certificate, "a key is not a certificate")
        #expect(error(credentials.certificate, credentials.certificate)?.key == .privateKey, "a certificate is not a key")
        let mismatch = error(credentials.certificate, credentials.otherKey)
        #expect(mismatch?.key == .privateKey)
        #expect(mismatch?.message.contains("does not match") == true, "\(String(describing: mismatch))")
    }
}
