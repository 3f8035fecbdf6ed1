/// Every key of confab.cfg and where it lands in `Settings`. Keys missing here are rejected as unknown.
enum Schema {
    static let settings: [Field<Settings>] = [
        .group("general", general),
        .group("http", http),
        .group("websockets", websockets),
        .group("admin", admin),
        .group("security", security),
        .group("media", media),
        .group("turn", turn),
        .group("site", site),
        .group("videoroom", videoroom),
    ]

    private static let general: [Field<Settings>] = [
        .string("public_url", \.general.publicURL, NetworkSyntax.publicURLProblem),
        .string("server_name", \.general.serverName),
        .logLevel("log_level", \.general.logLevel),
        .integer("session_timeout", \.general.sessionTimeout, 0...),
        .integer("reclaim_session_timeout", \.general.reclaimSessionTimeout, 0...),
    ]

    private static let http: [Field<Settings>] = [
        .bool("enabled", \.http.enabled),
        .string("bind", \.http.bind, NetworkSyntax.bindProblem),
        .port("port", \.http.port),
        .string("path", \.http.path, NetworkSyntax.urlPathProblem),
        .integer("max_body_size", \.http.maxBodySize, 1...),
        .string("allow_origin", \.http.allowOrigin),
    ]

    private static let websockets: [Field<Settings>] = [
        .bool("enabled", \.websockets.enabled),
        .string("bind", \.websockets.bind, NetworkSyntax.bindProblem),
        .port("port", \.websockets.port),
        .integer("ping_interval", \.websockets.pingInterval, 1...),
    ]

    private static let admin: [Field<Settings>] = [
        .string("bind", \.admin.bind, NetworkSyntax.bindProblem),
        .port("port", \.admin.port),
        .string("path", \.admin.path, NetworkSyntax.urlPathProblem),
        .string("secret", \.admin.secret),
    ]

    private static let security: [Field<Settings>] = [
        .string("api_secret", \.security.apiSecret),
        .bool("token_auth", \.security.tokenAuth),
        .string("token_auth_secret", \.security.tokenAuthSecret),
    ]

    private static let media: [Field<Settings>] = [
        .port("udp_port", \.media.udpPort),
        .iceMode("ice_mode", \.media.iceMode),
        .portRange("rtp_port_range", \.media.rtpPortRange),
        .strings("interfaces", \.media.interfaces, splitCommas: true),
        .strings("ignore_interfaces", \.media.ignoreInterfaces, splitCommas: true),
        .string("nat_1_1_mapping", \.media.nat11Mapping, NetworkSyntax.natMappingProblem),
        .bool("keep_private_host", \.media.keepPrivateHost),
        .string("dtls_certificate", \.media.dtlsCertificate),
        .string("dtls_key", \.media.dtlsKey),
        .bool("ipv6", \.media.ipv6),
        .integer("slowlink_threshold", \.media.slowlinkThreshold, 0...),
        .string("stun_server", \.media.stunServer, NetworkSyntax.optionalHostPortProblem),
        .string("turn_server", \.media.turnServer, NetworkSyntax.optionalHostPortProblem),
        .string("turn_user", \.media.turnUser),
        .string("turn_password", \.media.turnPassword),
        .bool("full_trickle", \.media.fullTrickle),
        .bool("ice_tcp", \.media.iceTCP),
    ]

    private static let turn: [Field<Settings>] = [
        .bool("enabled", \.turn.enabled),
        .string("bind", \.turn.bind, NetworkSyntax.bindProblem),
        .port("port", \.turn.port),
        .integer("tls_port", \.turn.tlsPort, 0...65535),
        .string("tls_certificate", \.turn.tlsCertificate),
        .string("tls_key", \.turn.tlsKey),
        .string("realm", \.turn.realm),
        .string("secret", \.turn.secret),
        .integer("credential_lifetime", \.turn.credentialLifetime, 1...),
        .portRange("relay_port_range", \.turn.relayPortRange),
        // Passwords may contain commas, so users are a list only.
        .strings("users", \.turn.users, splitCommas: false, each: NetworkSyntax.turnUserProblem),
        .strings("allow_peers", \.turn.allowPeers, splitCommas: true, each: NetworkSyntax.cidrProblem),
        .strings("deny_peers", \.turn.denyPeers, splitCommas: true, each: NetworkSyntax.cidrProblem),
        .integer("user_quota", \.turn.userQuota, 0...),
        .integer("max_allocations", \.turn.maxAllocations, 0...),
        .integer("max_bps", \.turn.maxBPS, 0...),
        .string("external_ip", \.turn.externalIP, NetworkSyntax.optionalIPProblem),
        .integer("unauthenticated_rate", \.turn.unauthenticatedRate, 0...),
    ]

    private static let site: [Field<Settings>] = [
        .bool("enabled", \.site.enabled),
        .string("root", \.site.root),
    ]

    private static let videoroom: [Field<Settings>] = [
        .string("admin_key", \.videoroom.adminKey),
        .string("rooms_file", \.videoroom.roomsFile),
        Rooms.field("rooms", \.videoroom.rooms),
    ]

    /// Variables that override the file, for containers. Empty values count as unset, so
    /// `CONFAB_API_SECRET=${API_SECRET}` with no API_SECRET leaves the file's secret alone.
    static let environment: [(variable: String, key: String)] = [
        ("CONFAB_PUBLIC_URL", "general.public_url"),
        ("CONFAB_LOG_LEVEL", "general.log_level"),
        ("CONFAB_HTTP_PORT", "http.port"),
        ("CONFAB_API_SECRET", "security.api_secret"),
        ("CONFAB_ADMIN_SECRET", "admin.secret"),
        ("CONFAB_TURN_SECRET", "turn.secret"),
        ("CONFAB_NAT_1_1_MAPPING", "media.nat_1_1_mapping"),
        ("CONFAB_SITE_ROOT", "site.root"),
        ("CONFAB_UDP_PORT", "media.udp_port"),
    ]
}
