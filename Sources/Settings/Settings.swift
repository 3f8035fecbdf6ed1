/// Every setting Confab reads, typed, with the embedded defaults a self-hoster gets with no file.
/// `SettingsLoader` fills these from `confab.cfg`; the rest of the program only sees these types.
public struct Settings: Sendable, Equatable {
    public var general = General()
    public var http = HTTP()
    public var websockets = WebSockets()
    public var admin = Admin()
    public var security = Security()
    public var media = Media()
    public var turn = TURN()
    public var site = Site()
    public var videoroom = VideoRoomSettings()

    public init() {}

    public enum LogLevel: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    public struct General: Sendable, Equatable {
        /// The URL people open (e.g. `https://meet.example.org`); empty = derive from each request's Host.
        public var publicURL: String = ""
        public var serverName: String = "Confab"
        public var logLevel: LogLevel = .info
        /// Seconds without activity before a session times out (0 = never).
        public var sessionTimeout: Int = 60
        /// Seconds a WebSocket-created session survives its socket closing, to be claimed again (0 = destroy at once).
        public var reclaimSessionTimeout: Int = 0
        public init() {}
    }

    public struct HTTP: Sendable, Equatable {
        public var enabled = true
        public var bind: String = "0.0.0.0"
        public var port: Int = 8088
        public var path: String = "/janus"
        /// Largest request body accepted, in bytes.
        public var maxBodySize: Int = 1 << 20
        /// Allowed CORS origin; empty echoes the request's Origin as Janus does.
        public var allowOrigin: String = ""
        public init() {}
    }

    public struct WebSockets: Sendable, Equatable {
        public var enabled = true
        public var bind: String = "0.0.0.0"
        /// Dedicated WebSocket port; WebSocket upgrades are also accepted on the HTTP port.
        public var port: Int = 8188
        /// Seconds between server pings, so proxies with an idle cut keep quiet sockets open.
        public var pingInterval: Int = 25
        public init() {}
    }

    public struct Admin: Sendable, Equatable {
        public var bind: String = "127.0.0.1"
        public var port: Int = 7088
        public var path: String = "/admin"
        /// Empty = the Admin API is off.
        public var secret: String = ""
        public init() {}
    }

    public struct Security: Sendable, Equatable {
        public var apiSecret: String = ""
        /// Stored tokens, managed through the Admin API (`add_token`, ...).
        public var tokenAuth = false
        /// Signed HMAC tokens (Janus 1.x `token_auth_secret`); non-empty enables them.
        public var tokenAuthSecret: String = ""
        public init() {}
    }

    public enum ICEMode: String, Sendable, Equatable {
        /// ICE-lite, every PeerConnection on one UDP port.
        case mux
        /// Full ICE on libnice, ports from `rtpPortRange`.
        case full
    }

    public struct PortRange: Sendable, Equatable, CustomStringConvertible {
        public var lower: Int
        public var upper: Int
        public init(lower: Int, upper: Int) {
            self.lower = lower
            self.upper = upper
        }
        public var description: String { "\(lower)-\(upper)" }
        public func overlaps(_ other: PortRange) -> Bool { lower <= other.upper && other.lower <= upper }
    }

    public struct Media: Sendable, Equatable {
        public var udpPort: Int = 10000
        public var iceMode: ICEMode = .mux
        public var rtpPortRange = PortRange(lower: 20000, upper: 40000)
        /// Interfaces (names or addresses) to announce; empty = all.
        public var interfaces: [String] = []
        /// Interfaces (names, addresses or prefixes) never to announce.
        public var ignoreInterfaces: [String] = ["vmnet", "docker", "veth", "br-"]
        /// Public address to announce: an IP, `"auto"` (the host of general.public_url), or empty.
        public var nat11Mapping: String = ""
        /// Announce the public address beside the local ones instead of replacing them.
        public var keepPrivateHost = false
        public var dtlsCertificate: String = ""
        public var dtlsKey: String = ""
        public var ipv6 = true
        /// Lost packets (or NACKed packets) per second on one stream that trigger a `slowlink`
        /// event; 0 = never, as Janus's default.
        public var slowlinkThreshold = 0
        /// Full ICE: a STUN server (`host:port`) for server-reflexive candidates; empty = none.
        public var stunServer: String = ""
        /// Full ICE: a TURN server (`host:port`, UDP) for relayed candidates; empty = none.
        public var turnServer: String = ""
        public var turnUser: String = ""
        public var turnPassword: String = ""
        /// Full ICE: Janus's `full_trickle` — candidates go out as `trickle` events as they are
        /// gathered, descriptions carry none; false waits for gathering (half-trickle, Janus's default).
        public var fullTrickle = false
        /// Full ICE: ICE-TCP (RFC 6544) candidates beside the UDP ones, for clients that can
        /// only reach Confab over TCP; off as Janus's `nat.ice_tcp`.
        public var iceTCP = false
        public init() {}
    }

    public struct TURN: Sendable, Equatable {
        public var enabled = true
        public var bind: String = "0.0.0.0"
        public var port: Int = 3478
        /// TURN over TLS ("turns:") when no TLS proxy is in front; 0 = off (the default: a TLS listener
        /// needs a certificate, which only the operator can provide).
        public var tlsPort: Int = 0
        /// PEM certificate (chain) and private key for `tlsPort`; checked at load time.
        public var tlsCertificate: String = ""
        public var tlsKey: String = ""
        public var realm: String = "confab"
        /// Shared secret of the TURN REST API scheme; empty = generated at start-up.
        public var secret: String = ""
        /// Seconds the credentials handed to pages stay valid.
        public var credentialLifetime: Int = 86400
        public var relayPortRange = PortRange(lower: 49152, upper: 49999)
        /// Long-term users, `user:password`.
        public var users: [String] = []
        /// CIDRs relays may reach besides Confab's own media port (empty = only that); special-purpose ranges
        /// (loopback, private, link-local, ...) only when an entry inside them is listed, e.g. loopback for tests.
        public var allowPeers: [String] = []
        /// CIDRs relays may never reach, even when `allowPeers` lists them.
        public var denyPeers: [String] = []
        /// Allocations one user may hold at once; 0 = no limit.
        public var userQuota: Int = 12
        /// Allocations in total; 0 = no limit (beyond the relay port range).
        public var maxAllocations: Int = 0
        /// Relayed bits per second per allocation and direction, more is dropped; 0 = no cap.
        public var maxBPS: Int = 0
        /// The public IP announced as the relayed address behind 1:1 NAT; empty = the media's
        /// nat_1_1_mapping address of that family, else the address the relay is bound to.
        public var externalIP: String = ""
        /// Answers to unauthenticated UDP requests (Binding, 401/438 challenges) per second per client IP,
        /// after a burst of four seconds' worth; 0 = no limit.
        public var unauthenticatedRate: Int = 50
        public init() {}
    }

    public struct Site: Sendable, Equatable {
        public var enabled = true
        public var root: String = "html"
        public init() {}
    }

    public struct Room: Sendable, Equatable {
        public var id: UInt64
        public var description: String
        public var isPrivate = false
        public var secret: String = ""
        public var pin: String = ""
        public var publishers: Int = 3
        public var bitrate: Int = 0
        public var bitrateCap = false
        public var firFreq: Int = 0
        public var audiocodec: String = "opus"
        public var videocodec: String = "vp8"
        public var notifyJoining = false
        public var requirePvtid = false
        public var audiolevelEvent = false
        // The options below match the VideoRoom API's `create` (and Janus's defaults), so rooms made
        // permanent through the API keep everything they were created with.
        /// Tokens allowed to join; nil = anyone (the check is off).
        public var allowed: [String]?
        public var requireE2ee = false
        public var opusFec = true
        public var videoSVC = false
        public var audiolevelExt = true
        public var audioActivePackets = 100
        public var audioLevelAverage = 25
        public var videoorientExt = true
        public var playoutdelayExt = true
        public var transportWideCCExt = true
        public var record = false
        /// Empty = the working directory.
        public var recDir: String = ""
        public var lockRecord = false
        public init(id: UInt64, description: String) {
            self.id = id
            self.description = description
        }
    }

    public struct VideoRoomSettings: Sendable, Equatable {
        public var adminKey: String = ""
        /// Where rooms made `permanent` through the API are kept; empty = `confab-rooms.cfg` beside
        /// the settings file (and none when Confab runs without one).
        public var roomsFile: String = ""
        public var rooms: [Room] = {
            var demo = Room(id: 1234, description: "Demo Room")
            demo.publishers = 50
            demo.bitrate = 128000
            demo.firFreq = 10
            return [demo]
        }()
        public init() {}
    }
}
