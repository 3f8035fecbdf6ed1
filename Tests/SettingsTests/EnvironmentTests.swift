import Testing
@testable import Settings

@Suite struct EnvironmentTests {
    @Test(arguments: [
        ("CONFAB_PUBLIC_URL", "https://meet.example.org", \Settings.general.publicURL),
        ("CONFAB_API_SECRET", "api", \Settings.security.apiSecret),
        ("CONFAB_ADMIN_SECRET", "adm", \Settings.admin.secret),
        ("CONFAB_TURN_SECRET", "turn", \Settings.turn.secret),
        ("CONFAB_NAT_1_1_MAPPING", "203.0.113.7", \Settings.media.nat11Mapping),
        ("CONFAB_SITE_ROOT", "/srv/site", \Settings.site.root),
    ] as [(String, String, KeyPath<Settings, String> & Sendable)])
    func stringOverrides(variable: String, value: String, path: KeyPath<Settings, String> & Sendable) throws {
        let settings = try parse("", environment: [variable: value])
        #expect(settings[keyPath: path] == value)
    }

    @Test func numberAndLevelOverrides() throws {
        let environment = ["CONFAB_HTTP_PORT": "9000", "CONFAB_UDP_PORT": "12000", "CONFAB_LOG_LEVEL": "7"]
        let settings = try parse("", environment: environment)
        #expect(settings.http.port == 9000)
        #expect(settings.media.udpPort == 12000)
        #expect(settings.general.logLevel == .trace)
    }

    @Test func environmentBeatsTheFile() throws {
        let file = "http: { port = 9000; };\nsecurity: { api_secret = \"from-file\"; };"
        let settings = try parse(file, environment: ["CONFAB_HTTP_PORT": "9001", "CONFAB_API_SECRET": "from-env"])
        #expect(settings.http.port == 9001)
        #expect(settings.security.apiSecret == "from-env")
    }

    @Test func emptyVariablesCountAsUnset() throws {
        let settings = try parse("security: { api_secret = \"kept\"; };", environment: ["CONFAB_API_SECRET": "", "CONFAB_HTTP_PORT": ""])
        #expect(settings.security.apiSecret == "kept")
        #expect(settings.http.port == 8088)
    }

    @Test(arguments: [
        (["CONFAB_HTTP_PORT": "x"], "CONFAB_HTTP_PORT: http.port must be 1..65535, got x"),
        (["CONFAB_UDP_PORT": "70000"], "CONFAB_UDP_PORT: media.udp_port must be 1..65535, got 70000"),
        (["CONFAB_LOG_LEVEL": "chatty"],
         "CONFAB_LOG_LEVEL: general.log_level must be one of trace, debug, info, notice, warning, error, critical or 0..7, got \"chatty\""),
        (["CONFAB_PUBLIC_URL": "ftp://x"],
         "CONFAB_PUBLIC_URL: general.public_url must be empty or an http:// or https:// URL with a host, got \"ftp://x\""),
        (["CONFAB_NAT_1_1_MAPPING": "auto"], "CONFAB_NAT_1_1_MAPPING: media.nat_1_1_mapping \"auto\" needs general.public_url with a host"),
        (["CONFAB_HTTP_PORT": "8188"], "CONFAB_HTTP_PORT: http.port 8188 is already used by websockets.port"),
    ])
    func badValues(environment: [String: String], expected: String) {
        #expect(errorText("", environment: environment) == expected)
    }

    @Test func natAutoIsSatisfiedByAnOverriddenURL() throws {
        let settings = try parse("media: { nat_1_1_mapping = \"auto\"; };", environment: ["CONFAB_PUBLIC_URL": "https://meet.example.org"])
        #expect(settings.media.nat11Mapping == "auto")
    }

    @Test func defaultsTakeOverridesToo() throws {
        #expect(try SettingsLoader.defaults(environment: [:]) == Settings())
        #expect(try SettingsLoader.defaults(environment: ["CONFAB_HTTP_PORT": "8000"]).http.port == 8000)
        #expect(throws: SettingsError(.init(file: "CONFAB_UDP_PORT", line: nil, key: "media.udp_port",
                                            message: "media.udp_port must be 1..65535, got -5"))) {
            try SettingsLoader.defaults(environment: ["CONFAB_UDP_PORT": "-5"])
        }
    }
}
