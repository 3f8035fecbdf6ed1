/// Rules between keys, run once the file and the environment are both applied.
enum CrossChecks {
    static func run(_ settings: Settings, report: inout Report) {
        listenerPorts(settings, &report)
        media(settings.media, turn: settings.turn, &report)
        turnTLS(settings.turn, &report)
        if settings.media.nat11Mapping == "auto", NetworkSyntax.urlHost(settings.general.publicURL) == nil,
           !report.failedKeys.contains("general.public_url") {
            report.add("media.nat_1_1_mapping \"auto\" needs general.public_url with a host", blaming: "media.nat_1_1_mapping")
        }
        let certificate = settings.media.dtlsCertificate, key = settings.media.dtlsKey
        if certificate.isEmpty != key.isEmpty {
            let (set, unset) = certificate.isEmpty
                ? ("media.dtls_key", "media.dtls_certificate") : ("media.dtls_certificate", "media.dtls_key")
            report.add("\(set) is set but \(unset) is not; give both or neither", blaming: set)
        }
    }

    /// Only listeners that actually bind take part: the Admin API binds only with a secret.
    private static func listenerPorts(_ settings: Settings, _ report: inout Report) {
        let listeners = [
            ("http.port", settings.http.port, settings.http.enabled),
            ("websockets.port", settings.websockets.port, settings.websockets.enabled),
            ("admin.port", settings.admin.port, !settings.admin.secret.isEmpty),
            ("turn.port", settings.turn.port, settings.turn.enabled),
            ("turn.tls_port", settings.turn.tlsPort, settings.turn.enabled && settings.turn.tlsPort != 0),
        ].filter(\.2)
        for (index, (key, port, _)) in listeners.enumerated() {
            guard let (earlier, _, _) = listeners[..<index].first(where: { $0.1 == port }) else { continue }
            report.conflict(earlier, key) { blamed, other in "\(blamed) \(port) is already used by \(other)" }
        }
    }

    /// A TLS listener needs a certificate and its key; both files are read and matched here, so a
    /// listener that could not start is reported before anything runs.
    private static func turnTLS(_ turn: Settings.TURN, _ report: inout Report) {
        guard turn.enabled, turn.tlsPort != 0, !report.failedKeys.contains("turn.tls_port") else { return }
        let missing = [("turn.tls_certificate", turn.tlsCertificate), ("turn.tls_key", turn.tlsKey)].filter { $0.1.isEmpty }
        guard missing.isEmpty else {
            let names = missing.map(\.0).joined(separator: " and ")
            report.add("turn.tls_port \(turn.tlsPort) needs \(names) (PEM files); set them or tls_port = 0",
                       blaming: "turn.tls_port")
            return
        }
        if let problem = TLSFileCheck.problem(certificate: turn.tlsCertificate, key: turn.tlsKey) {
            let key = problem.blamesKey ? "turn.tls_key" : "turn.tls_certificate"
            report.add("\(key) \(problem.message)", blaming: key)
        }
    }

    /// The relay range only matters with TURN on; the RTP range only with full ICE.
    private static func media(_ media: Settings.Media, turn: Settings.TURN, _ report: inout Report) {
        guard turn.enabled else { return }
        let relay = turn.relayPortRange
        if media.iceMode == .full, media.rtpPortRange.overlaps(relay) {
            let ranges = ["media.rtp_port_range": media.rtpPortRange, "turn.relay_port_range": relay]
            report.conflict("media.rtp_port_range", "turn.relay_port_range") { blamed, other in
                "\(blamed) \(ranges[blamed].map(\.description) ?? "") overlaps \(other) \(ranges[other].map(\.description) ?? "")"
            }
        }
        if (relay.lower...relay.upper).contains(media.udpPort) {
            report.conflict("media.udp_port", "turn.relay_port_range") { blamed, _ in
                blamed == "media.udp_port"
                    ? "media.udp_port \(media.udpPort) is inside turn.relay_port_range \(relay)"
                    : "turn.relay_port_range \(relay) contains media.udp_port \(media.udpPort)"
            }
        }
    }
}
