// One DTLS-SRTP association (one per PeerConnection), driven by the caller.
//
// The endpoint does no I/O and owns no timers: the media loop feeds received
// datagrams in with `receive(datagram:)`, sends what `drainOutbound()` (or the
// `onOutbound` closure) yields over the ICE-selected pair, and calls
// `handleTimeout()` when `retransmissionTimeout` expires. On completion the
// peer certificate is pinned against the SDP fingerprint and the SRTP keys are
// exported (RFC 5764 §4.2).
//
// Threading: OpenSSL's SSL object is not thread-safe, so the class is
// deliberately NOT Sendable; it stays inside the media loop's isolation domain.

internal import COpenSSL
internal import OpenSSLSupport
public import SRTP

public final class DTLSEndpoint {
    /// Our DTLS role, from SDP a=setup (RFC 5763 §5): active = client.
    public enum Role: Sendable, Equatable {
        /// Sends ClientHello (SSL_connect); SDP a=setup:active.
        case client
        /// Waits for ClientHello (SSL_accept); SDP a=setup:passive.
        case server

        /// Maps our own negotiated a=setup value; actpass is not a final role.
        public init?(sdpSetup: String) {
            switch sdpSetup.lowercased() {
            case "active": self = .client
            case "passive": self = .server
            default: return nil
            }
        }
    }

    public enum State: Sendable, Equatable {
        /// Created; `start()` not called yet.
        case idle
        case handshaking
        /// Handshake done, fingerprint verified, keys in `keyingMaterial`.
        case connected
        /// close_notify sent or received.
        case closed
        case failed(DTLSError)
    }

    public let role: Role
    public let remoteFingerprint: DTLSFingerprint
    public private(set) var state: State = .idle
    /// Set once `state` becomes `.connected`.
    public private(set) var keyingMaterial: SRTPKeyingMaterial?
    /// Datagrams dropped: rejected before reaching OpenSSL (not DTLS-shaped, or records that
    /// do not frame the datagram / are too short to decrypt), arriving after the association ended, or, once
    /// connected, consumed without any effect (forged or undecryptable records, duplicates).
    public private(set) var droppedDatagrams = 0
    /// Called with each datagram to send, right when OpenSSL produces it. If
    /// nil, datagrams queue up until `drainOutbound()`.
    public var onOutbound: (([UInt8]) -> Void)?

    /// SSL*, owned; frees the BIO with it.
    private let ssl: OpaquePointer
    private let pipe = DatagramPipe()
    /// Keeps the SSL_CTX alive as long as this SSL refers to it.
    private let context: DTLSContext

    /// - Parameter mtu: largest datagram OpenSSL may emit. 1200 leaves room
    ///   for IPv6 + UDP + TURN framing on any sane path.
    public init(context: DTLSContext, role: Role, remoteFingerprint: DTLSFingerprint, mtu: Int = 1200) throws(DTLSError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw .endpointSetup(reason: "SSL_new: \(drainOpenSSLErrors())")
        }
        guard let bio = DatagramBIO.make(method: context.bioMethod, pipe: pipe) else {
            SSL_free(ssl)
            throw .endpointSetup(reason: "BIO_new: \(drainOpenSSLErrors())")
        }
        // Same BIO for read and write: SSL_set_bio takes a single reference.
        SSL_set_bio(ssl, bio, bio)
        // Our BIO cannot discover the MTU, so fix it (SSL_set_mtu is a macro;
        // SSL_OP_NO_QUERY_MTU is SSL_OP_BIT(12)).
        SSL_set_options(ssl, UInt64(1) << 12)
        _ = SSL_ctrl(ssl, SSL_CTRL_SET_MTU, mtu, nil)
        switch role {
        case .client: SSL_set_connect_state(ssl)
        case .server: SSL_set_accept_state(ssl)
        }
        self.ssl = ssl
        self.context = context
        self.role = role
        self.remoteFingerprint = remoteFingerprint
    }

    deinit {
        SSL_free(ssl)
    }

    public var isConnected: Bool { state == .connected }

    /// Begins the handshake: a client emits its ClientHello, a server starts
    /// waiting. Receiving a datagram starts it implicitly.
    public func start() {
        guard state == .idle else { return }
        state = .handshaking
        advanceHandshake()
    }

    /// Feeds one received datagram. Returns application data records
    /// (SCTP for data channels) decrypted from it, if any.
    @discardableResult
    public func receive(datagram: some Collection<UInt8>) -> [[UInt8]] {
        let bytes = Array(datagram)
        guard DTLSRecord.looksLikeDTLS(bytes),
              !DTLSRecord.isMalformed(bytes, minimumProtectedLength: minimumProtectedLength) else {
            droppedDatagrams += 1
            return []
        }
        switch state {
        case .closed, .failed:
            droppedDatagrams += 1
            return []
        case .idle:
            state = .handshaking
            pipe.inbound = bytes
            advanceHandshake()
            pipe.inbound = nil
            return []
        case .handshaking:
            pipe.inbound = bytes
            advanceHandshake()
            // If the handshake finished, the same datagram may carry more records.
            let data = state == .connected ? readApplicationData() : []
            pipe.inbound = nil
            return data
        case .connected:
            pipe.inbound = bytes
            let queued = pipe.outbound.count
            let data = readApplicationData()
            pipe.inbound = nil
            // OpenSSL discards bad records silently (RFC 6347 §4.1.2.7); nothing came of it.
            if data.isEmpty, state == .connected, pipe.outbound.count == queued { droppedDatagrams += 1 }
            return data
        }
    }

    /// The overhead of the negotiated cipher on a protected record: AES-GCM 8-byte explicit
    /// nonce + 16-byte tag, ChaCha20-Poly1305 and CCM8 a 16-byte / 8+8-byte one. Before a cipher
    /// is chosen no protected record can be legitimate yet except a Finished (longer than any).
    private var minimumProtectedLength: Int {
        guard let cipher = SSL_get_current_cipher(ssl) else { return 24 }
        if SSL_CIPHER_get_cipher_nid(cipher) == NID_chacha20_poly1305 { return 16 }
        if let name = SSL_CIPHER_get_name(cipher), String(cString: name).hasSuffix("CCM8") { return 16 }
        return 24
    }

    /// Returns and forgets the datagrams waiting to be sent.
    public func drainOutbound() -> [[UInt8]] {
        defer { pipe.outbound.removeAll() }
        return pipe.outbound
    }

    /// Time until `handleTimeout()` should be called, or nil when no
    /// retransmission timer is running (DTLSv1_get_timeout, a macro).
    public var retransmissionTimeout: Duration? {
        guard state == .handshaking else { return nil }
        var remaining = timeval()
        guard SSL_ctrl(ssl, DTLS_CTRL_GET_TIMEOUT, 0, &remaining) == 1 else { return nil }
        return .seconds(remaining.tv_sec) + .microseconds(remaining.tv_usec)
    }

    /// Retransmits the last flight if its timer expired (DTLSv1_handle_timeout).
    public func handleTimeout() {
        guard state == .handshaking else { return }
        ERR_clear_error()
        if SSL_ctrl(ssl, DTLS_CTRL_HANDLE_TIMEOUT, 0, nil) < 0 {
            // OpenSSL gives up after its retransmission limit.
            fail(.timedOut)
        }
        flush()
    }

    /// Encrypts one application data record (SCTP for data channels) into
    /// the outbound queue. Returns false unless connected and accepted.
    @discardableResult
    public func send(applicationData: [UInt8]) -> Bool {
        guard state == .connected, !applicationData.isEmpty, applicationData.count <= Int(Int32.max) else { return false }
        ERR_clear_error()
        let written = SSL_write(ssl, applicationData, Int32(applicationData.count))
        if written <= 0 { handleError(written) }
        flush()
        return written == Int32(applicationData.count)
    }

    /// Sends close_notify and stops processing.
    public func close() {
        switch state {
        case .connected, .handshaking:
            ERR_clear_error()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
            state = .closed
            flush()
        case .idle:
            state = .closed
        case .closed, .failed:
            break
        }
    }

    // MARK: - Internals

    private func advanceHandshake() {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            completeHandshake()
        } else {
            handleError(result)
        }
        flush()
    }

    /// Pins the peer certificate and exports the SRTP keys.
    private func completeHandshake() {
        guard let peer = SSL_get1_peer_certificate(ssl) else { return fail(.noPeerCertificate) }
        defer { X509_free(peer) }
        let actual: DTLSFingerprint
        do {
            actual = try DTLSFingerprint(certificate: peer, algorithm: remoteFingerprint.algorithm)
        } catch {
            return fail(error)
        }
        guard actual == remoteFingerprint else {
            // Tell the peer why we stop (bad_certificate would need internals;
            // close_notify at least ends its handshake promptly).
            _ = SSL_shutdown(ssl)
            return fail(.fingerprintMismatch)
        }
        guard let selected = SSL_get_selected_srtp_profile(ssl) else { return fail(.noSRTPProfile) }
        let id = selected.pointee.id
        guard let rawID = UInt16(exactly: id), let profile = SRTPProfile(rawValue: rawID) else {
            return fail(.unsupportedSRTPProfile(id: id))
        }
        var exported = [UInt8](repeating: 0, count: profile.keyingMaterialLength)
        let label = "EXTRACTOR-dtls_srtp"
        let status = SSL_export_keying_material(ssl, &exported, exported.count, label, label.utf8.count, nil, 0, 0)
        defer { for index in exported.indices { exported[index] = 0 } }
        guard status == 1 else { return fail(.keyExportFailed) }
        do {
            keyingMaterial = try SRTPKeyingMaterial(
                exported: exported, profile: profile, role: role == .client ? .client : .server)
        } catch {
            return fail(.keyingMaterial(error))
        }
        state = .connected
    }

    /// Drains decrypted records; notices close_notify and fatal alerts.
    private func readApplicationData() -> [[UInt8]] {
        var records: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while state == .connected {
            ERR_clear_error()
            let count = SSL_read(ssl, &buffer, Int32(buffer.count))
            if count > 0 {
                records.append(Array(buffer.prefix(Int(count))))
                continue
            }
            handleError(count)
            break
        }
        flush()
        return records
    }

    /// Interprets a non-success SSL_* result.
    private func handleError(_ result: Int32) {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            // Normal: waiting for the peer's next flight.
            break
        case SSL_ERROR_ZERO_RETURN:
            // close_notify from the peer.
            state = .closed
        default:
            fail(.handshakeFailed(reason: drainOpenSSLErrors(fallback: "SSL error")))
        }
        ERR_clear_error()
    }

    private func fail(_ error: DTLSError) {
        keyingMaterial = nil
        state = .failed(error)
    }

    /// Hands queued datagrams to `onOutbound` when one is set.
    private func flush() {
        guard let onOutbound, !pipe.outbound.isEmpty else { return }
        for datagram in drainOutbound() { onOutbound(datagram) }
    }
}
