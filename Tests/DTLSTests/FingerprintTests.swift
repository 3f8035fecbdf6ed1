import Foundation
import Testing
@testable import DTLS

@Suite struct FingerprintTests {
    @Test func generatedFingerprintIsUppercaseHexWithColons() throws {
        let certificate = try DTLSCertificate.generate()
        let fingerprint = certificate.fingerprint
        #expect(fingerprint.algorithm == .sha256)
        #expect(fingerprint.bytes.count == 32)
        let pairs = fingerprint.hex.split(separator: ":", omittingEmptySubsequences: false)
        #expect(pairs.count == 32)
        #expect(pairs.allSatisfy { $0.count == 2 && $0.allSatisfy { "0123456789ABCDEF".contains($0) } })
        #expect(fingerprint.sdpValue == "sha-256 " + fingerprint.hex)
        #expect(fingerprint.sdpAttribute == "a=fingerprint:sha-256 " + fingerprint.hex)
    }

    @Test func parsesWhatItPrintsAndLowercase() throws {
        let fingerprint = try DTLSCertificate.generate().fingerprint
        #expect(try DTLSFingerprint(sdpValue: fingerprint.sdpValue) == fingerprint)
        #expect(try DTLSFingerprint(sdpValue: fingerprint.sdpAttribute) == fingerprint)
        #expect(try DTLSFingerprint(sdpValue: "SHA-256 " + fingerprint.hex.lowercased()) == fingerprint)
    }

    @Test(arguments: ["", "sha-256", "sha-256 AB:CD", "md5 AB:CD", "sha-256 " + String(repeating: "ZZ:", count: 31) + "ZZ",
                      "sha-1 " + String(repeating: "A:", count: 19) + "A"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: DTLSError.self) { try DTLSFingerprint(sdpValue: text) }
    }

    @Test func distinctCertificatesHaveDistinctFingerprints() throws {
        #expect(try DTLSCertificate.generate().fingerprint != DTLSCertificate.generate().fingerprint)
    }

    @Test func pemRoundTripKeepsFingerprint() throws {
        let certificate = try DTLSCertificate.generate()
        let certPath = FileManager.default.temporaryDirectory.appendingPathComponent("confab-dtls-\(UUID().uuidString).crt").path
        let keyPath = certPath + ".key"
        try #require(certificate.certificatePEM).write(toFile: certPath, atomically: true, encoding: .utf8)
        try #require(certificate.privateKeyPEM).write(toFile: keyPath, atomically: true, encoding: .utf8)
        defer {
            try? FileManager.default.removeItem(atPath: certPath)
            try? FileManager.default.removeItem(atPath: keyPath)
        }
        let loaded = try DTLSCertificate.load(certificatePath: certPath, privateKeyPath: keyPath)
        #expect(loaded.fingerprint == certificate.fingerprint)
        #expect(throws: DTLSError.self) { try DTLSCertificate.load(certificatePath: "/nonexistent.crt", privateKeyPath: keyPath) }
    }
}
