/// turn.tls_port, turn.tls_certificate and turn.tls_key: a TLS listener needs a readable PEM
/// certificate and the private key that belongs to it, and says where the settings went wrong.
import Foundation
import Testing
@testable import Settings

/// A self-signed certificate, its key and an unrelated key, made with the openssl command line.
final class PEMPair: Sendable {
    let directory: String
    var certificate: String { directory + "/cert.pem" }
    var key: String { directory + "/key.pem" }
    var otherKey: String { directory + "/other.pem" }

    init() throws {
        directory = NSTemporaryDirectory() + "confab-pem-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=confab-test"])
        try Self.openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", otherKey])
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}

@Suite struct TURNTLSSettingsTests {
    let pem: PEMPair
    init() throws { pem = try PEMPair() }

    func turn(_ body: String) -> String { "turn: {\n  tls_port = 5349;\n  \(body)\n};" }

    @Test func offByDefaultAndAPairThatMatchesLoads() throws {
        #expect(Settings().turn.tlsPort == 0)
        let settings = try parse(turn("tls_certificate = \"\(pem.certificate)\"; tls_key = \"\(pem.key)\";"))
        #expect(settings.turn.tlsPort == 5349 && settings.turn.tlsKey == pem.key)
        // With TLS off the files are not looked at.
        #expect(errorText("turn: { tls_port = 0; tls_certificate = \"/nonexistent\"; };") == nil)
        #expect(errorText("turn: { enabled = false; tls_port = 5349; };") == nil)
    }

    @Test func missingPathsBlameTheTLSPort() {
        #expect(errorText(turn("")) ==
                "confab.cfg:2: turn.tls_port 5349 needs turn.tls_certificate and turn.tls_key (PEM files); set them or tls_port = 0")
        #expect(errorText(turn("tls_certificate = \"\(pem.certificate)\";")) ==
                "confab.cfg:2: turn.tls_port 5349 needs turn.tls_key (PEM files); set them or tls_port = 0")
    }

    @Test func unreadableOrWrongFilesBlameTheirKeyAndLine() {
        #expect(errorText(turn("tls_certificate = \"/nonexistent/c.pem\";\n  tls_key = \"\(pem.key)\";")) ==
                "confab.cfg:3: turn.tls_certificate \"/nonexistent/c.pem\" cannot be read")
        #expect(errorText(turn("tls_certificate = \"\(pem.certificate)\";\n  tls_key = \"\(pem.directory)\";")) ==
                "confab.cfg:4: turn.tls_key \"\(pem.directory)\" cannot be read")
        #expect(errorText(turn("tls_certificate = \"\(pem.key)\";\n  tls_key = \"\(pem.key)\";")) ==
                "confab.cfg:3: turn.tls_certificate \"\(pem.key)\" holds no PEM certificate")
        #expect(errorText(turn("tls_certificate = \"\(pem.certificate)\";\n  tls_key = \"\(pem.certificate)\";")) ==
                "confab.cfg:4: turn.tls_key \"\(pem.certificate)\" holds no PEM private key (or it is encrypted)")
        #expect(errorText(turn("tls_certificate = \"\(pem.certificate)\";\n  tls_key = \"\(pem.otherKey)\";")) ==
                "confab.cfg:4: turn.tls_key \"\(pem.otherKey)\" does not match the certificate in turn.tls_certificate")
    }

    @Test func tlsPortMayNotShareAPortWithAnotherListener() {
        let text = "turn: {\n  port = 3478;\n  tls_port = 3478; tls_certificate = \"\(pem.certificate)\"; tls_key = \"\(pem.key)\";\n};"
        #expect(errorText(text) == "confab.cfg:3: turn.tls_port 3478 is already used by turn.port")
        #expect(errorText("turn: { tls_port = 70000; };") == "confab.cfg:1: turn.tls_port must be 0..65535, got 70000")
    }
}
