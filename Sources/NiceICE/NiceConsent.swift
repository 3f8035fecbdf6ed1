// Consent freshness for full-ICE PeerConnections (RFC 7675's 30 s, the same timeout as ICE-lite
// mode), kept by Confab because libnice 0.1.21's own consent expiry is a fixed 10 s.
//
// Evidence of consent is anything the agent delivers from the peer (DTLS, SRTP, SRTCP — libnice
// consumes the STUN itself and does not report it): WebRTC endpoints send RTCP at least every
// few seconds even when they send no media. The receive callback only sets a flag; a 1 Hz GLib
// timer per agent, on the agent's worker thread, takes the flag and hangs up ("ICE consent lost")
// once nothing arrived for the timeout. libnice's keepalive checks stay on as a backstop.

import CNice
import Net

extension NiceTransport {
    /// The consent timer: a 1 s GLib timeout source on the worker's context whose callback gets
    /// `data` (the retained transport). Returned with a reference the transport gives back when
    /// its agent is freed.
    func startConsentTimer(_ data: UnsafeMutableRawPointer) -> UnsafeMutablePointer<GSource> {
        let source = cn_g_timeout_source_new(1000)!
        cn_g_source_set_callback(source, niceConsentTick, data, nil)
        cn_g_source_attach(source, worker.context)
        return source
    }

    /// One tick (worker thread). Returns false once the timer is no longer needed.
    fileprivate func consentTick() -> Bool {
        let now = MonotonicClock.nanoseconds()
        let heardSinceLastTick = heard.exchange(false, ordering: .relaxed)
        let timeout = factory.consentTimeoutNanos.load(ordering: .relaxed)
        enum Verdict { case keepGoing, stop, lost }
        let verdict: Verdict = state.withLock { state in
            guard !state.closed, !state.failed else { return .stop }
            // Before ICE connects, failure is libnice's to report ("ICE failed").
            guard state.connected else { return .keepGoing }
            if heardSinceLastTick {
                state.lastHeardNanos = now
                return .keepGoing
            }
            guard now > state.lastHeardNanos, now - state.lastHeardNanos > timeout else { return .keepGoing }
            state.failed = true
            return .lost
        }
        switch verdict {
        case .keepGoing:
            return true
        case .stop:
            return false
        case .lost:
            factory.logger.debug("media: nothing from the peer for \(timeout / 1_000_000_000) s on libnice agent; consent lost")
            owner?.transport(self, didFailWithReason: "ICE consent lost")
            return false
        }
    }
}

/// GSourceFunc: `data` is the transport, retained until its agent is freed (which destroys
/// this source first, on the same thread).
private let niceConsentTick: GSourceFunc = { data in
    guard let data else { return 0 }
    return Unmanaged<NiceTransport>.fromOpaque(data).takeUnretainedValue().consentTick() ? 1 : 0
}
