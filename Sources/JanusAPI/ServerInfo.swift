/// The `info` reply: Janus's `server_info` shape, naming Confab and listing plugins and transports.
extension Gateway {
    public func serverInfo(transaction: String?) -> JSON {
        let state = runtime.withLock { $0 }
        var info: [String: JSON] = [
            "janus": "server_info",
            "name": "Confab",
            "version": .int(Int64(Self.apiVersion)),
            "version_string": .string(Self.apiVersionString),
            "confab-version": .string(Self.confabVersion),
            "author": "The Confab authors",
            "server-name": .string(configuration.serverName),
            "commit-hash": "",
            "compile-time": "",
            "log-to-stdout": true,
            "log-to-file": false,
            "local-ip": .string(configuration.localIP),
            "ice-nomination": "regular",
            "ice-keepalive-conncheck": false,
            "min-nack-queue": 200,
            "nack-optimizations": false,
            "twcc-period": 100,
            "dtls-mtu": 1200,
            "static-event-loops": 0,
            "dependencies": .object(configuration.dependencies),
            "data_channels": false,
            "accepting-new-sessions": .bool(state.acceptingSessions),
            "session-timeout": .int(Int64(state.sessionTimeout)),
            "reclaim-session-timeout": .int(Int64(configuration.reclaimSessionTimeout)),
            "candidates-timeout": 45,
            "ice-lite": .bool(configuration.iceLite),
            "ice-tcp": .bool(configuration.iceTCP),
            "full-trickle": .bool(configuration.fullTrickle),
            "mdns-enabled": false,
            "ipv6": true,
            "api_secret": .bool(!configuration.apiSecret.isEmpty),
            "auth_token": .bool(auth.tokensEnabled),
            "event_handlers": false,
            "opaqueid_in_api": false,
            "transports": .object(transports.withLock { $0 }),
            "events": [:],
            "loggers": [:],
            "plugins": .object(plugins.mapValues { $0.info.json }),
        ]
        if let transaction { info["transaction"] = .string(transaction) }
        return .object(info)
    }
}
