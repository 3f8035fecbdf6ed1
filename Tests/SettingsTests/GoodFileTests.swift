import Foundation
import Testing
@testable import Settings

@Suite struct GoodFileTests {
    @Test func everyKeyIsRead() throws {
        let pem = try PEMPair()
        let text = """
            general: {
              public_url = "https://meet.example.org";
              server_name = "Test";
              log_level = "debug";
              session_timeout = 0;
              reclaim_session_timeout = 30;
            };
            http: { enabled = false; bind = "::"; port = 8080; path = "/api/janus"; max_body_size = 4096; allow_origin = "https://a.example"; };
            websockets: { enabled = false; bind = "ws.local"; port = 8989; ping_interval = 10; };
            admin: { bind = "::1"; port = 7000; path = "/adm"; secret = "s3cret"; };
            security: { api_secret = "api"; token_auth = true; token_auth_secret = "hmac"; };
            media: {
              udp_port = 11000; ice_mode = "full"; rtp_port_range = "30000-31000";
              interfaces = ["eth0", "192.168.1.2"]; ignore_interfaces = ();
              nat_1_1_mapping = "auto"; keep_private_host = true;
              dtls_certificate = "/etc/c.pem"; dtls_key = "/etc/k.pem"; ipv6 = false;
              stun_server = "stun.example.org:3478"; turn_server = "[2001:db8::1]:3478";
              turn_user = "u"; turn_password = "p"; ice_tcp = true;
            };
            turn: {
              enabled = true; bind = "10.0.0.1"; port = 3479; tls_port = 5350; realm = "r"; secret = "t";
              tls_certificate = "\(pem.certificate)"; tls_key = "\(pem.key)";
              credential_lifetime = 600; relay_port_range = "50000-50100";
              users = ("alice:pw", "bob:p:w"); deny_peers = ("10.0.0.0/8", "fc00::/7", "192.0.2.1");
              allow_peers = ("127.0.0.0/8", "::1/128"); user_quota = 50; max_allocations = 500;
              external_ip = "203.0.113.7"; unauthenticated_rate = 7; max_bps = 2000000;
            };
            site: { enabled = false; root = "/srv/www"; };
            videoroom: {
              admin_key = "key";
              rooms = (
                { id = 1; description = "One"; publishers = 6; pin = "p"; secret = "s"; bitrate = 256000;
                  bitrate_cap = true; is_private = true; fir_freq = 5; audiocodec = "opus,g722";
                  videocodec = "vp9,h264"; notify_joining = true; require_pvtid = true; audiolevel_event = true; },
                { id = 5000000000L; }
              );
            };
            """
        var expected = Settings()
        expected.general.publicURL = "https://meet.example.org"
        expected.general.serverName = "Test"
        expected.general.logLevel = .debug
        expected.general.sessionTimeout = 0
        expected.general.reclaimSessionTimeout = 30
        expected.http.enabled = false
        expected.http.bind = "::"
        expected.http.port = 8080
        expected.http.path = "/api/janus"
        expected.http.maxBodySize = 4096
        expected.http.allowOrigin = "https://a.example"
        expected.websockets.enabled = false
        expected.websockets.bind = "ws.local"
        expected.websockets.port = 8989
        expected.websockets.pingInterval = 10
        expected.admin.bind = "::1"
        expected.admin.port = 7000
        expected.admin.path = "/adm"
        expected.admin.secret = "s3cret"
        expected.security.apiSecret = "api"
        expected.security.tokenAuth = true
        expected.security.tokenAuthSecret = "hmac"
        expected.media.udpPort = 11000
        expected.media.iceMode = .full
        expected.media.rtpPortRange = .init(lower: 30000, upper: 31000)
        expected.media.interfaces = ["eth0", "192.168.1.2"]
        expected.media.ignoreInterfaces = []
        expected.media.nat11Mapping = "auto"
        expected.media.keepPrivateHost = true
        expected.media.dtlsCertificate = "/etc/c.pem"
        expected.media.dtlsKey = "/etc/k.pem"
        expected.media.ipv6 = false
        expected.media.stunServer = "stun.example.org:3478"
        expected.media.turnServer = "[2001:db8::1]:3478"
        expected.media.turnUser = "u"
        expected.media.turnPassword = "p"
        expected.media.iceTCP = true
        expected.turn.bind = "10.0.0.1"
        expected.turn.port = 3479
        expected.turn.tlsPort = 5350
        expected.turn.tlsCertificate = pem.certificate
        expected.turn.tlsKey = pem.key
        expected.turn.realm = "r"
        expected.turn.secret = "t"
        expected.turn.credentialLifetime = 600
        expected.turn.relayPortRange = .init(lower: 50000, upper: 50100)
        expected.turn.users = ["alice:pw", "bob:p:w"]
        expected.turn.denyPeers = ["10.0.0.0/8", "fc00::/7", "192.0.2.1"]
        expected.turn.allowPeers = ["127.0.0.0/8", "::1/128"]
        expected.turn.userQuota = 50
        expected.turn.maxAllocations = 500
        expected.turn.externalIP = "203.0.113.7"
        expected.turn.unauthenticatedRate = 7
        expected.turn.maxBPS = 2_000_000
        expected.site.enabled = false
        expected.site.root = "/srv/www"
        expected.videoroom.adminKey = "key"
        var one = Settings.Room(id: 1, description: "One")
        one.publishers = 6
        one.pin = "p"
        one.secret = "s"
        one.bitrate = 256000
        one.bitrateCap = true
        one.isPrivate = true
        one.firFreq = 5
        one.audiocodec = "opus,g722"
        one.videocodec = "vp9,h264"
        one.notifyJoining = true
        one.requirePvtid = true
        one.audiolevelEvent = true
        expected.videoroom.rooms = [one, Settings.Room(id: 5_000_000_000, description: "Room 5000000000")]

        #expect(try parse(text) == expected)
    }

    @Test func emptyFileGivesDefaults() throws {
        #expect(try parse("") == Settings())
        #expect(try parse("# only a comment\n") == Settings())
    }

    @Test(arguments: [
        ("0", Settings.LogLevel.critical), ("2", .error), ("3", .warning), ("4", .info), ("5", .debug), ("7", .trace),
        ("\"WARNING\"", .warning), ("\"notice\"", .notice), ("\"4\"", .info),
    ])
    func logLevelNamesAndJanusNumbers(value: String, level: Settings.LogLevel) throws {
        #expect(try parse("general: { log_level = \(value); };").general.logLevel == level)
    }

    @Test func listsAlsoTakeACommaSeparatedString() throws {
        let settings = try parse("""
            media: { interfaces = "eth0, wlan0,"; ignore_interfaces = ""; };
            turn: { deny_peers = "10.0.0.0/8,172.16.0.0/12"; };
            """)
        #expect(settings.media.interfaces == ["eth0", "wlan0"])
        #expect(settings.media.ignoreInterfaces == [])
        #expect(settings.turn.denyPeers == ["10.0.0.0/8", "172.16.0.0/12"])
    }

    @Test func roomDefaultsAndCodecNormalizing() throws {
        let rooms = try parse("videoroom: { rooms = ( { id = 7; audiocodec = \"Opus, g722\"; } ); };").videoroom.rooms
        var expected = Settings.Room(id: 7, description: "Room 7")
        expected.audiocodec = "opus,g722"
        #expect(rooms == [expected])
        #expect(try parse("videoroom: { rooms = (); };").videoroom.rooms == [])
    }

    @Test func adminPortMayRepeatWhileTheAdminAPIIsOff() throws {
        #expect(try parse("admin: { port = 8088; };").admin.port == 8088)
    }

    @Test func disabledListenersDoNotClash() throws {
        #expect(try parse("websockets: { enabled = false; port = 8088; };").websockets.port == 8088)
    }

    @Test func rtpRangeMayOverlapRelaysInMuxMode() throws {
        let settings = try parse("media: { rtp_port_range = \"49000-50000\"; };")
        #expect(settings.media.rtpPortRange == .init(lower: 49000, upper: 50000))
    }

    @Test func shippedConfigEqualsEmbeddedDefaults() throws {
        let path = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("confab.cfg").path
        #expect(try SettingsLoader.load(path: path, environment: [:]) == Settings())
    }

    @Test func loadFollowsIncludesRelativeToTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("confab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "http: { port = 9000; };\n@include \"extra.cfg\"\n".write(
            to: directory.appendingPathComponent("main.cfg"), atomically: true, encoding: .utf8)
        try "site: {\n  root = 5;\n};\n".write(to: directory.appendingPathComponent("extra.cfg"), atomically: true, encoding: .utf8)
        let path = directory.appendingPathComponent("main.cfg").path
        #expect(throws: SettingsError.self) { try SettingsLoader.load(path: path, environment: [:]) }
        do {
            _ = try SettingsLoader.load(path: path, environment: [:])
        } catch {
            #expect(error.description == "extra.cfg:2: site.root must be a string, got an integer")
        }
    }

    @Test func unreadableFile() {
        #expect(throws: SettingsError(.init(file: "/nonexistent/confab.cfg", line: nil, key: nil, message: "cannot read the file"))) {
            try SettingsLoader.load(path: "/nonexistent/confab.cfg", environment: [:])
        }
    }
}
