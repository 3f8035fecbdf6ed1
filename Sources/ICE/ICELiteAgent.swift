// The ICE-lite side of one PeerConnection (RFC 8445 §2.5, RFC 7675).
//
// A lite agent never sends checks: it answers the browser's Binding requests on the shared
// port, takes the pair the browser nominates (USE-CANDIDATE), follows the browser to a new
// address once a check from there authenticates, and treats the stream of checks the browser
// keeps sending as consent (RFC 7675: no valid check for 30 s = consent lost).
//
// Not thread-safe: the owning PeerConnection serialises access.

import Net
import STUN

public enum ICEState: String, Sendable {
    /// Waiting for the first valid check.
    case new
    /// Checks arrive; no pair nominated yet.
    case checking
    /// A pair is selected; media may flow.
    case connected
    /// Consent expired or the agent was closed.
    case failed
}

/// What the agent did with one STUN datagram.
public struct BindingOutcome {
    public enum Event: Equatable, Sendable {
        case none
        /// The browser nominated (or moved to) this address; send media here from now on.
        case selected(TransportAddress)
    }

    /// The response to send back to the request's source, if any.
    public var response: [UInt8]?
    public var event: Event
    /// Why a request was refused (for counters and debug logs).
    public var rejection: String?
}

public final class ICELiteAgent {
    public private(set) var local: ICECredentials
    /// The browser's ufrag from its offer (or trickle); nil until known.
    public private(set) var remoteUfrag: String?
    public private(set) var state: ICEState = .new
    public private(set) var selected: TransportAddress?
    /// Addresses that sent a valid check, for the Admin API and for following a move.
    public private(set) var validatedAddresses: Set<TransportAddress> = []
    /// When the last valid check arrived (monotonic ns), the consent clock.
    public private(set) var lastConsentNanos: UInt64
    public private(set) var checksAnswered = 0
    public private(set) var checksRejected = 0

    /// RFC 7675 §5.1: consent expires 30 s after the last authenticated check.
    public static let defaultConsentTimeoutNanos: UInt64 = 30_000_000_000
    public let consentTimeoutNanos: UInt64

    public init(local: ICECredentials = .random(), remoteUfrag: String? = nil, now: UInt64 = MonotonicClock.nanoseconds(),
                consentTimeoutNanos: UInt64 = ICELiteAgent.defaultConsentTimeoutNanos) {
        self.local = local
        self.consentTimeoutNanos = consentTimeoutNanos
        self.remoteUfrag = remoteUfrag
        self.lastConsentNanos = now
    }

    /// The offer (or a trickle) told us the browser's ufrag.
    public func setRemote(ufrag: String) { remoteUfrag = ufrag }

    /// ICE restart (RFC 8445 §9): fresh local credentials; the selected pair keeps carrying
    /// media until the browser nominates again with the new ones.
    public func restart(remoteUfrag: String?, now: UInt64) -> ICECredentials {
        local = .random()
        self.remoteUfrag = remoteUfrag
        lastConsentNanos = now
        return local
    }

    /// Answers one Binding request already parsed from `source`.
    public func handle(request: STUNMessage, from source: TransportAddress, now: UInt64) -> BindingOutcome {
        guard state != .failed else { return BindingOutcome(response: nil, event: .none, rejection: "agent closed") }
        guard request.method == .binding, request.messageClass == .request else {
            // Indications (keepalives) need no answer; responses are not expected by a lite agent.
            return BindingOutcome(response: nil, event: .none, rejection: nil)
        }
        if let problem = authenticationProblem(request) {
            checksRejected += 1
            return BindingOutcome(response: Self.errorResponse(request, problem.code, problem.reason), event: .none,
                                  rejection: problem.reason)
        }
        checksAnswered += 1
        validatedAddresses.insert(source)
        if source == selected || selected == nil || request.attribute(STUNAttributeType.useCandidate) != nil {
            lastConsentNanos = now
        }
        let event = selectIfNominated(request, source)
        if state == .new { state = .checking }
        return BindingOutcome(response: successResponse(request, source), event: event, rejection: nil)
    }

    /// True once no authenticated check arrived for 30 s.
    public func consentExpired(now: UInt64) -> Bool {
        now > lastConsentNanos && now - lastConsentNanos > consentTimeoutNanos
    }

    public func close() { state = .failed }

    // MARK: - Internals

    private func selectIfNominated(_ request: STUNMessage, _ source: TransportAddress) -> BindingOutcome.Event {
        let nominated = request.attribute(STUNAttributeType.useCandidate) != nil
        // Regular nomination picks the pair; a browser that never nominates (some stacks skip
        // USE-CANDIDATE toward a lite agent) still gets its first validated address.
        guard nominated || selected == nil, source != selected else { return .none }
        selected = source
        state = .connected
        return .selected(source)
    }

    private func authenticationProblem(_ request: STUNMessage) -> (code: Int, reason: String)? {
        if let problem = Self.credentialProblem(request, local: local) { return problem }
        // USERNAME is "ours:theirs"; once the offer told us theirs, it must match too.
        if let remoteUfrag, request.username?.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).last
            != Substring(remoteUfrag) {
            return (STUNErrorCode.unauthenticated, "Unauthenticated")
        }
        return nil
    }

    /// The checks of a Binding request that need only the local credentials, so any thread may
    /// run them without the agent (the shared port's readers do, before handing a check to the
    /// reader that owns its PeerConnection): the error response to send when one fails (nil
    /// when all pass) and why.
    public static func rejection(of request: STUNMessage, local: ICECredentials) -> (response: [UInt8], reason: String)? {
        guard let problem = credentialProblem(request, local: local) else { return nil }
        return (errorResponse(request, problem.code, problem.reason), problem.reason)
    }

    private static func credentialProblem(_ request: STUNMessage, local: ICECredentials) -> (code: Int, reason: String)? {
        // RFC 8445 §7.3 / RFC 8489 §9.1.3: missing USERNAME or MESSAGE-INTEGRITY is a 400,
        // wrong ones a 401.
        guard let username = request.username,
              request.attribute(STUNAttributeType.messageIntegrity) != nil else {
            return (STUNErrorCode.badRequest, "Bad Request")
        }
        guard request.attribute(STUNAttributeType.fingerprint) != nil, request.verifyFingerprint() else {
            return (STUNErrorCode.badRequest, "Bad Request")
        }
        let parts = username.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == local.ufrag else {
            return (STUNErrorCode.unauthenticated, "Unauthenticated")
        }
        guard request.verifyIntegrity(key: STUNCredentials.shortTermKey(password: local.pwd)) else {
            return (STUNErrorCode.unauthenticated, "Unauthenticated")
        }
        return nil
    }

    private func successResponse(_ request: STUNMessage, _ source: TransportAddress) -> [UInt8]? {
        guard let mapped = STUNAddress(address: source.addressBytes, port: source.port) else { return nil }
        let response = STUNMessage(method: .binding, class: .successResponse, transactionID: request.transactionID,
                                   attributes: [.xorMappedAddress(mapped)])
        return response.encoded(integrity: STUNCredentials.shortTermKey(password: local.pwd), fingerprint: true)
    }

    private static func errorResponse(_ request: STUNMessage, _ code: Int, _ reason: String) -> [UInt8] {
        let response = STUNMessage(method: .binding, class: .errorResponse, transactionID: request.transactionID,
                                   attributes: [.errorCode(STUNErrorCode(code: code, reason: reason))])
        return response.encoded(fingerprint: true)
    }
}

extension STUNMessage {
    /// The local ufrag a Binding request is for: the part of USERNAME before the colon.
    /// The shared-port demultiplexer routes a request to its PeerConnection by it.
    public var iceLocalUfrag: Substring? {
        guard let username else { return nil }
        return username.split(separator: ":", maxSplits: 1).first
    }
}
