import Testing
@testable import Settings

@Suite struct BadFileTests {
    /// Each case is a file and the exact error line it must produce; line numbers matter.
    @Test(arguments: [
        // Ranges and types of numbers.
        ("http: {\n  port = 70000;\n};", "confab.cfg:2: http.port must be 1..65535, got 70000"),
        ("\n\ngeneral: { session_timeout = \"60\"; };", "confab.cfg:3: general.session_timeout must be an integer, got a string"),
        ("general: {\n  session_timeout = 1.5;\n};", "confab.cfg:2: general.session_timeout must be an integer, got a float"),
        ("general: { session_timeout = -1; };", "confab.cfg:1: general.session_timeout must be >= 0, got -1"),
        ("turn: {\n\n  credential_lifetime = 0;\n};", "confab.cfg:3: turn.credential_lifetime must be > 0, got 0"),
        ("websockets: { port = 0; };", "confab.cfg:1: websockets.port must be 1..65535, got 0"),
        ("media: { udp_port = [1]; };", "confab.cfg:1: media.udp_port must be an integer, got an array"),
        // Booleans are libconfig true/false only.
        ("http: { enabled = \"yes\"; };", "confab.cfg:1: http.enabled must be true or false, got a string"),
        ("site: {\n  enabled = 1;\n};", "confab.cfg:2: site.enabled must be true or false, got an integer"),
        ("media: {\n\n  ice_tcp = \"on\";\n};", "confab.cfg:3: media.ice_tcp must be true or false, got a string"),
        // Strings with a shape.
        ("http: { path = \"janus\"; };", "confab.cfg:1: http.path must start with '/', got \"janus\""),
        ("admin: { path = \"/admin/\"; };", "confab.cfg:1: admin.path must not end with '/', got \"/admin/\""),
        ("http: { path = \"/my api\"; };", "confab.cfg:1: http.path must not contain spaces, got \"/my api\""),
        ("http: { bind = \"300.1.2.3\"; };", "confab.cfg:1: http.bind must be an IP address or host name, got \"300.1.2.3\""),
        ("turn: { bind = \"fe80::zz\"; };", "confab.cfg:1: turn.bind must be an IP address or host name, got \"fe80::zz\""),
        ("admin: { bind = \"bad_host\"; };", "confab.cfg:1: admin.bind must be an IP address or host name, got \"bad_host\""),
        ("general: { server_name = 5; };", "confab.cfg:1: general.server_name must be a string, got an integer"),
        ("general: { public_url = \"meet.example.org\"; };",
         "confab.cfg:1: general.public_url must be empty or an http:// or https:// URL with a host, got \"meet.example.org\""),
        ("general: { log_level = \"loud\"; };",
         "confab.cfg:1: general.log_level must be one of trace, debug, info, notice, warning, error, critical or 0..7, got \"loud\""),
        ("general: { log_level = 9; };",
         "confab.cfg:1: general.log_level must be one of trace, debug, info, notice, warning, error, critical or 0..7, got 9"),
        ("media: { ice_mode = \"lite\"; };", "confab.cfg:1: media.ice_mode must be \"mux\" or \"full\", got \"lite\""),
        ("media: { rtp_port_range = \"20000\"; };", "confab.cfg:1: media.rtp_port_range must look like \"20000-40000\", got \"20000\""),
        ("media: { rtp_port_range = \"0-100\"; };", "confab.cfg:1: media.rtp_port_range ports must be 1..65535, got \"0-100\""),
        ("turn: { relay_port_range = \"50000-49000\"; };",
         "confab.cfg:1: turn.relay_port_range must not start above its end, got \"50000-49000\""),
        ("media: { nat_1_1_mapping = \"example.org\"; };",
         "confab.cfg:1: media.nat_1_1_mapping must be empty, \"auto\" or an IP address, got \"example.org\""),
        ("media: { stun_server = \"stun.example.org\"; };",
         "confab.cfg:1: media.stun_server must be empty or \"host:port\" (an IP address or host name, [v6]:port for IPv6), got \"stun.example.org\""),
        ("media: { turn_server = \"::1:3478\"; };",
         "confab.cfg:1: media.turn_server must be empty or \"host:port\" (an IP address or host name, [v6]:port for IPv6), got \"::1:3478\""),
        // Lists: the list's line, the element's index.
        ("media: { interfaces = 5; };", "confab.cfg:1: media.interfaces must be a string or a list of strings, got an integer"),
        ("media: {\n  interfaces = (\"eth0\",\n    5);\n};", "confab.cfg:2: media.interfaces[1] must be a string, got an integer"),
        ("turn: {\n  users = (\n    \"alice:pw\",\n    \"bob\"\n  );\n};",
         "confab.cfg:2: turn.users[1] must look like \"user:password\", got \"bob\""),
        ("turn: { users = \"alice:pw\"; };", "confab.cfg:1: turn.users must be a list of strings, got a string"),
        ("turn: { deny_peers = [\"10.0.0.0/8\", \"10.0.0.0/33\"]; };",
         "confab.cfg:1: turn.deny_peers[1] must be an address or CIDR like \"10.0.0.0/8\", got \"10.0.0.0/33\""),
        ("turn: {\n  allow_peers = (\"127.0.0.0/8\", \"::1/129\");\n};",
         "confab.cfg:2: turn.allow_peers[1] must be an address or CIDR like \"10.0.0.0/8\", got \"::1/129\""),
        ("turn: {\n  external_ip = \"turn.example.org\";\n};",
         "confab.cfg:2: turn.external_ip must be empty or an IP address, got \"turn.example.org\""),
        ("turn: { max_allocations = -1; };", "confab.cfg:1: turn.max_allocations must be >= 0, got -1"),
        ("turn: {\n\n  unauthenticated_rate = -5;\n};", "confab.cfg:3: turn.unauthenticated_rate must be >= 0, got -5"),
        ("turn: { allow_peers = \"localhost\"; };",
         "confab.cfg:1: turn.allow_peers[0] must be an address or CIDR like \"10.0.0.0/8\", got \"localhost\""),
        // Groups.
        ("http = 5;", "confab.cfg:1: http must be a group, got an integer"),
        ("videoroom: { rooms = 5; };", "confab.cfg:1: videoroom.rooms must be a list of groups, got an integer"),
        ("videoroom: { rooms = ( 5 ); };", "confab.cfg:1: videoroom.rooms[0] must be a group, got an integer"),
        // Rooms.
        ("videoroom: {\n  rooms = (\n    { description = \"x\"; }\n  );\n};", "confab.cfg:3: videoroom.rooms[0] has no id"),
        ("videoroom: { rooms = ( { id = 0; } ); };", "confab.cfg:1: videoroom.rooms[0].id must be > 0, got 0"),
        ("videoroom: { rooms = ( { id = \"abc\"; } ); };", "confab.cfg:1: videoroom.rooms[0].id must be an integer, got a string"),
        ("videoroom: {\n  rooms = (\n    { id = 1; },\n    { id = 2; },\n    { id = 1; }\n  );\n};",
         "confab.cfg:5: videoroom.rooms[2].id 1 is already used by videoroom.rooms[0]"),
        ("videoroom: { rooms = ( {\n  id = 1;\n  publishers = 0;\n} ); };", "confab.cfg:3: videoroom.rooms[0].publishers must be > 0, got 0"),
        ("videoroom: { rooms = ( { id = 1;\n videocodec = \"vp8,vp7\"; } ); };",
         "confab.cfg:2: videoroom.rooms[0].videocodec must be a comma-separated list of vp8, vp9, h264, av1, h265, got \"vp8,vp7\""),
        ("videoroom: { rooms = ( { id = 1; audiocodec = \"\"; } ); };",
         "confab.cfg:1: videoroom.rooms[0].audiocodec must be a comma-separated list of opus, g722, pcmu, pcma, isac16, isac32, multiopus, got \"\""),
        // Rules between keys.
        ("websockets: {\n  port = 8088;\n};", "confab.cfg:2: websockets.port 8088 is already used by http.port"),
        ("turn: { port = 8188; };\nhttp: { port = 9000; };", "confab.cfg:1: turn.port 8188 is already used by websockets.port"),
        ("http: {\n  port = 3478;\n};", "confab.cfg:2: http.port 3478 is already used by turn.port"),
        ("admin: {\n  secret = \"s\";\n  port = 8188;\n};", "confab.cfg:3: admin.port 8188 is already used by websockets.port"),
        ("media: {\n  ice_mode = \"full\";\n  rtp_port_range = \"40000-49500\";\n};",
         "confab.cfg:3: media.rtp_port_range 40000-49500 overlaps turn.relay_port_range 49152-49999"),
        ("media: { udp_port = 49160; };", "confab.cfg:1: media.udp_port 49160 is inside turn.relay_port_range 49152-49999"),
        ("media: { udp_port = 40000; };\nturn: { relay_port_range = \"30000-45000\"; };",
         "confab.cfg:2: turn.relay_port_range 30000-45000 contains media.udp_port 40000"),
        ("media: {\n  nat_1_1_mapping = \"auto\";\n};", "confab.cfg:2: media.nat_1_1_mapping \"auto\" needs general.public_url with a host"),
        ("media: {\n  dtls_key = \"k.pem\";\n};", "confab.cfg:2: media.dtls_key is set but media.dtls_certificate is not; give both or neither"),
    ])
    func valueErrors(file: String, expected: String) {
        #expect(errorText(file) == expected)
    }

    @Test(arguments: [
        ("htp: { port = 1; };", "confab.cfg:1: unknown key htp (did you mean http?)"),
        ("http: {\n  prot = 8088;\n};", "confab.cfg:2: unknown key http.prot (did you mean http.port?)"),
        ("media: {\n\n  udpport = 1;\n};", "confab.cfg:3: unknown key media.udpport (did you mean media.udp_port?)"),
        ("http: { colour = \"blue\"; };", "confab.cfg:1: unknown key http.colour"),
        ("port = 8088;", "confab.cfg:1: unknown key port"),
        ("videoroom: { rooms = ( { id = 1;\n  pubishers = 3; } ); };",
         "confab.cfg:2: unknown key videoroom.rooms[0].pubishers (did you mean videoroom.rooms[0].publishers?)"),
    ])
    func unknownKeys(file: String, expected: String) {
        #expect(errorText(file) == expected)
    }

    @Test(arguments: [
        ("http: {\n  port = ;\n};", "confab.cfg:2: syntax error"),
        ("http: {\n  port = 1;\n  port = 2;\n};", "confab.cfg:3: duplicate setting name"),
        ("general: {\n  server_name = \"a\" 5;\n};\n", "confab.cfg:2: syntax error"),
        ("media: { interfaces = [\"eth0\", 5]; };", "confab.cfg:1: mismatched element type in array"),
    ])
    func syntaxErrors(file: String, expected: String) {
        #expect(errorText(file) == expected)
    }

    @Test func everyProblemIsReportedOneLineEach() throws {
        let file = "http: {\n  port = 0;\n  prot = 1;\n};\ngeneral: {\n  session_timeout = true;\n};"
        let error = try #require(throws: SettingsError.self) { try parse(file) }
        #expect(error.description == """
            confab.cfg:2: http.port must be 1..65535, got 0
            confab.cfg:3: unknown key http.prot (did you mean http.port?)
            confab.cfg:6: general.session_timeout must be an integer, got a boolean
            """)
        #expect(error.file == "confab.cfg")
        #expect(error.line == 2)
        #expect(error.key == "http.port")
        #expect(error.message == "http.port must be 1..65535, got 0")
        #expect(error.problems.count == 3)
    }

    @Test func fileNameIsUsedAsGiven() {
        #expect(throws: SettingsError(.init(file: "/etc/confab/confab.cfg", line: 1, key: "http.port",
                                            message: "http.port must be 1..65535, got 0"))) {
            try SettingsLoader.parse(text: "http: { port = 0; };", fileName: "/etc/confab/confab.cfg", environment: [:])
        }
    }
}
