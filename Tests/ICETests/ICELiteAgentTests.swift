/// The ICE-lite agent answers browser checks as RFC 8445 §7.3 asks, follows nomination and
/// moves, and keeps the consent clock (RFC 7675).
import Testing
import Net
import STUN
@testable import ICE

@Suite struct ICELiteAgentTests {
    let local = ICECredentials(ufrag: "srvU", pwd: "server-password-0123456789")
    let browser = TransportAddress(ip: "127.0.0.1", port: 50000)!

    /// A Binding request as a browser sends it: USERNAME local:remote, PRIORITY, ICE-CONTROLLING,
    /// MESSAGE-INTEGRITY with the server's password, FINGERPRINT.
    func check(username: String = "srvU:brwU", password: String = "server-password-0123456789",
               nominate: Bool = false, fingerprint: Bool = true) -> STUNMessage {
        var attributes: [STUNAttribute] = [.username(username), .priority(1_845_501_695), .iceControlling(tieBreaker: 42)]
        if nominate { attributes.append(.useCandidate) }
        let request = STUNMessage(method: .binding, class: .request, transactionID: STUNMessage.randomTransactionID(),
                                  attributes: attributes)
        let bytes = request.encoded(integrity: Array(password.utf8), fingerprint: fingerprint)
        return try! STUNMessage.parse(bytes)
    }

    @Test func answersAValidCheckWithXorMappedAddressSignedWithItsPassword() throws {
        let agent = ICELiteAgent(local: local, remoteUfrag: "brwU", now: 0)
        let request = check()
        let outcome = agent.handle(request: request, from: browser, now: 1)
        let response = try STUNMessage.parse(try #require(outcome.response))
        #expect(response.type == .bindingSuccess)
        #expect(response.transactionID == request.transactionID)
        #expect(response.xorMappedAddress == STUNAddress(address: [127, 0, 0, 1], port: 50000))
        #expect(response.verifyIntegrity(key: Array(local.pwd.utf8)))
        #expect(response.verifyFingerprint())
        #expect(outcome.rejection == nil)
        // Without USE-CANDIDATE the first validated address is still taken (lenient browsers).
        #expect(outcome.event == .selected(browser))
        #expect(agent.state == .connected)
    }

    @Test func wrongPasswordOrUfragIs401AndSelectsNothing() throws {
        let agent = ICELiteAgent(local: local, remoteUfrag: "brwU", now: 0)
        for request in [check(password: "not-the-password-at-all!!"), check(username: "other:brwU"),
                        check(username: "srvU:intruder")] {
            let outcome = agent.handle(request: request, from: browser, now: 1)
            let response = try STUNMessage.parse(try #require(outcome.response))
            #expect(response.messageClass == .errorResponse)
            #expect(response.errorCode?.code == 401)
            #expect(outcome.event == .none)
        }
        #expect(agent.selected == nil)
        #expect(agent.checksRejected == 3)
    }

    @Test func missingFingerprintOrIntegrityIs400() throws {
        let agent = ICELiteAgent(local: local, now: 0)
        let unsigned = try STUNMessage.parse(STUNMessage(method: .binding, class: .request,
                                                         transactionID: STUNMessage.randomTransactionID(),
                                                         attributes: [.username("srvU:x")]).encoded(fingerprint: true))
        for request in [check(fingerprint: false), unsigned] {
            let outcome = agent.handle(request: request, from: browser, now: 1)
            #expect(try STUNMessage.parse(try #require(outcome.response)).errorCode?.code == 400)
        }
    }

    @Test func nominationMovesTheSelectedPairAndConsentFollowsIt() {
        let agent = ICELiteAgent(local: local, remoteUfrag: "brwU", now: 0)
        let moved = TransportAddress(ip: "::1", port: 40000)!
        #expect(agent.handle(request: check(nominate: true), from: browser, now: 1).event == .selected(browser))
        // A second, unnominated check from elsewhere does not steal the pair.
        #expect(agent.handle(request: check(), from: moved, now: 2).event == .none)
        #expect(agent.selected == browser)
        // A nominated check from the new address does (the browser moved networks).
        #expect(agent.handle(request: check(nominate: true), from: moved, now: 3).event == .selected(moved))
        #expect(agent.validatedAddresses == [browser, moved])
    }

    @Test func consentExpiresThirtySecondsAfterTheLastValidCheck() {
        let agent = ICELiteAgent(local: local, remoteUfrag: "brwU", now: 0)
        let second: UInt64 = 1_000_000_000
        _ = agent.handle(request: check(nominate: true), from: browser, now: 1 * second)
        #expect(!agent.consentExpired(now: 30 * second))
        _ = agent.handle(request: check(), from: browser, now: 25 * second)
        #expect(!agent.consentExpired(now: 50 * second))
        // Failed checks do not refresh consent.
        _ = agent.handle(request: check(password: "wrong-wrong-wrong-wrong!"), from: browser, now: 54 * second)
        #expect(agent.consentExpired(now: 56 * second))
    }

    @Test func restartChangesCredentialsAndOldOnesStopWorking() throws {
        let agent = ICELiteAgent(local: local, remoteUfrag: "brwU", now: 0)
        let fresh = agent.restart(remoteUfrag: "brw2", now: 0)
        #expect(fresh != local)
        #expect(agent.handle(request: check(), from: browser, now: 1).rejection != nil)
        let request = check(username: "\(fresh.ufrag):brw2", password: fresh.pwd)
        #expect(agent.handle(request: request, from: browser, now: 1).rejection == nil)
    }

    @Test func randomCredentialsAreLongEnoughAndDistinct() {
        let a = ICECredentials.random()
        let b = ICECredentials.random()
        #expect(a != b)
        #expect(a.ufrag.count >= 4 && a.pwd.count >= 22)
        #expect(!a.ufrag.contains(":"))
    }

    @Test func routingUfragIsTheUsernamePrefix() {
        #expect(check().iceLocalUfrag == "srvU")
    }
}
