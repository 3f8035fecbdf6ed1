// TLS for a NIO stream channel, server side, on OpenSSL with two memory BIOs: ciphertext read from
// the socket is written into one, OpenSSL's output is drained from the other and written to the
// socket. Handlers after this one see plaintext ByteBuffers, so a protocol handler (TURN's TCP
// framing) serves TLS connections unchanged.
//
// A connection that fails the handshake, does not finish it in time, or sends records that do not
// decrypt is reported through `onFailure` and closed; nothing the peer sends can trap.

internal import COpenSSL
internal import OpenSSLSupport
import NIOCore

public final class TLSServerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Why a connection was closed by the TLS layer.
    public enum Failure: Sendable, Equatable, CustomStringConvertible {
        /// The handshake failed (not TLS at all, no shared version or cipher, a bad Finished...).
        case handshake(String)
        /// No completed handshake within the time allowed.
        case handshakeTimeout
        /// After the handshake: a record that does not decrypt or a fatal alert.
        case record(String)

        public var description: String {
            switch self {
            case .handshake(let reason): "TLS handshake failed: \(reason)"
            case .handshakeTimeout: "TLS handshake timed out"
            case .record(let reason): "TLS record error: \(reason)"
            }
        }
    }

    enum State {
        case handshaking
        case established
        case closed
    }

    private let tls: TLSServerContext
    private let handshakeTimeout: TimeAmount
    private let onFailure: (Failure) -> Void
    private var state = State.handshaking
    /// SSL*, owning both BIOs; nil until added to a pipeline and after removal.
    private var ssl: OpaquePointer?
    /// Ciphertext from the peer goes in here; OpenSSL's output comes out of `networkOut`.
    private var networkIn: OpaquePointer?
    private var networkOut: OpaquePointer?
    /// Plaintext written before the handshake finished, sent once it has.
    private var pendingWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    private var timeout: Scheduled<Void>?

    /// - Parameter onFailure: called on the channel's event loop, once per failed connection.
    public init(context: TLSServerContext, handshakeTimeout: TimeAmount = .seconds(10),
                onFailure: @escaping (Failure) -> Void = { _ in }) {
        self.tls = context
        self.handshakeTimeout = handshakeTimeout
        self.onFailure = onFailure
    }

    deinit {
        if let ssl { SSL_free(ssl) }
    }

    /// The negotiated protocol ("TLSv1.3"), once established.
    public var negotiatedVersion: String? {
        guard state == .established, let ssl, let name = SSL_get_version(ssl) else { return nil }
        return String(cString: name)
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        ERR_clear_error()
        guard let ssl = SSL_new(tls.context), let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            fail(.handshake("cannot set up TLS: \(drainOpenSSLErrors())"), context: context)
            return
        }
        // An empty input BIO means "wait for more" (retry), never end of file.
        _ = BIO_ctrl(input, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nil)
        SSL_set_bio(ssl, input, output)
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        networkIn = input
        networkOut = output
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: handshakeTimeout) {
            if handler.value.state == .handshaking { handler.value.fail(.handshakeTimeout, context: bound.value) }
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
        failPendingWrites(ChannelError.ioOnClosedChannel)
        state = .closed
        if let ssl { SSL_free(ssl) }
        ssl = nil
        networkIn = nil
        networkOut = nil
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state != .closed, let ssl, let networkIn else { return }
        let ciphertext = unwrapInboundIn(data)
        let written = ciphertext.withUnsafeReadableBytes { bytes in
            bytes.isEmpty ? 0 : BIO_write(networkIn, bytes.baseAddress, Int32(clamping: bytes.count))
        }
        guard written == ciphertext.readableBytes else {
            return fail(.record("cannot buffer \(ciphertext.readableBytes) bytes"), context: context)
        }
        if state == .handshaking {
            ERR_clear_error()
            let result = SSL_do_handshake(ssl)
            if result == 1 {
                state = .established
                timeout?.cancel()
                timeout = nil
                for (plaintext, promise) in pendingWrites { encrypt(plaintext, promise: promise, context: context) }
                pendingWrites = []
            } else if !isRetry(result) {
                return fail(.handshake(drainOpenSSLErrors(fallback: "SSL error \(SSL_get_error(ssl, result))")), context: context)
            }
        }
        if state == .established { readPlaintext(context: context) }
        writeCiphertext(context: context, promise: nil)
        context.flush()
    }

    /// Decrypts every complete record buffered so far and passes the plaintext on, gathered into
    /// as few buffers as fit (one per read burst in the usual case, not one per record).
    private func readPlaintext(context: ChannelHandlerContext) {
        var plaintext = context.channel.allocator.buffer(capacity: 16_384)
        while state == .established, let ssl {
            if plaintext.writableBytes == 0 {
                context.fireChannelRead(wrapInboundOut(plaintext))
                plaintext = context.channel.allocator.buffer(capacity: 16_384)
            }
            var result: Int32 = 0
            plaintext.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { bytes in
                ERR_clear_error()
                result = SSL_read(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
                return max(0, Int(result))
            }
            if result > 0 { continue }
            // Read the outcome before passing plaintext on: a reply written meanwhile runs SSL_write,
            // and SSL_get_error describes only the last call.
            let error = SSL_get_error(ssl, result)
            let reasons = error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_ZERO_RETURN
                ? "" : drainOpenSSLErrors(fallback: "SSL error \(error)")
            if plaintext.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(plaintext)) }
            guard state == .established else { return }
            if error == SSL_ERROR_ZERO_RETURN {
                // close_notify: answer with ours and close.
                _ = SSL_shutdown(ssl)
                writeCiphertext(context: context, promise: nil)
                state = .closed
                context.close(promise: nil)
            } else if !reasons.isEmpty {
                fail(.record(reasons), context: context)
            }
            return
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        state = .closed
        failPendingWrites(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let plaintext = unwrapOutboundIn(data)
        switch state {
        case .handshaking: pendingWrites.append((plaintext, promise))
        case .established: encrypt(plaintext, promise: promise, context: context)
        case .closed: promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if state == .established, mode == .all, let ssl {
            ERR_clear_error()
            _ = SSL_shutdown(ssl)  // queues close_notify
            ERR_clear_error()
            writeCiphertext(context: context, promise: nil)
            context.flush()
        }
        state = .closed
        failPendingWrites(ChannelError.ioOnClosedChannel)
        context.close(mode: mode, promise: promise)
    }

    private func encrypt(_ plaintext: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        guard let ssl, plaintext.readableBytes > 0 else {
            promise?.succeed()
            return
        }
        ERR_clear_error()
        // Memory BIOs never block, so without partial writes SSL_write takes everything or fails.
        let result = plaintext.withUnsafeReadableBytes { bytes in
            SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        }
        guard result == plaintext.readableBytes else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return fail(.record(drainOpenSSLErrors(fallback: "SSL_write failed")), context: context)
        }
        writeCiphertext(context: context, promise: promise)
    }

    /// Moves whatever OpenSSL has produced to the socket (not flushed).
    private func writeCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard let networkOut else {
            promise?.succeed()
            return
        }
        let pending = Int(BIO_ctrl_pending(networkOut))
        guard pending > 0 else {
            promise?.succeed()
            return
        }
        var ciphertext = context.channel.allocator.buffer(capacity: pending)
        ciphertext.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
            max(0, Int(BIO_read(networkOut, bytes.baseAddress, Int32(clamping: pending))))
        }
        context.write(wrapOutboundOut(ciphertext), promise: promise)
    }

    // MARK: - Failure

    private func isRetry(_ result: Int32) -> Bool {
        guard let ssl else { return false }
        let error = SSL_get_error(ssl, result)
        return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE
    }

    private func fail(_ failure: Failure, context: ChannelHandlerContext) {
        guard state != .closed else { return }
        state = .closed
        ERR_clear_error()
        timeout?.cancel()
        // The alert OpenSSL queued (if any) tells the peer why.
        writeCiphertext(context: context, promise: nil)
        context.flush()
        failPendingWrites(ChannelError.ioOnClosedChannel)
        onFailure(failure)
        context.close(promise: nil)
    }

    private func failPendingWrites(_ error: any Error) {
        let writes = pendingWrites
        pendingWrites = []
        for (_, promise) in writes { promise?.fail(error) }
    }
}
