// swift-tools-version:6.1
import PackageDescription

/// A system library reached through pkg-config, installed from Debian's -dev package.
func systemLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

/// Where Debian puts libnice's and GLib's headers (`pkg-config --cflags nice`; both multiarch
/// directories, so that the same manifest builds on amd64 and arm64). Only headers: libnice is
/// loaded at run time (CNice), so the pkg-config link flags must not reach the executable.
let niceHeaderFlags = ["/usr/include/nice", "/usr/include/glib-2.0", "/usr/lib/x86_64-linux-gnu/glib-2.0/include",
                       "/usr/lib/aarch64-linux-gnu/glib-2.0/include"].flatMap { ["-isystem", $0] }
let niceHeaderSwiftFlags = niceHeaderFlags.flatMap { ["-Xcc", $0] }

let package = Package(
    name: "confab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "confab", targets: ["confab"]),
        .executable(name: "confab-media-bench", targets: ["MediaBench"]),
        .executable(name: "confab-load", targets: ["LoadTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        // Without the default traits: FullFoundation links all of Foundation (with ICU, ~8 MB of
        // resident memory) for URL-encoded-form date formatters Confab does not use;
        // ConfigurationSupport pulls in swift-configuration, which Confab does not use either.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.8.0"),
    ],
    targets: [
        // C libraries from Debian, one system-library target each.
        systemLibrary("CLibConfig", pkgConfig: "libconfig", apt: "libconfig-dev"),
        // libnice's and GLib's headers, and its functions loaded with dlopen when full ICE is
        // configured (so ICE-lite never maps libnice and its ~40 libraries); see CNice.h.
        .target(name: "CNice", cSettings: [.unsafeFlags(niceHeaderFlags)], linkerSettings: [.linkedLibrary("dl")]),
        systemLibrary("CSRTP", pkgConfig: "libsrtp2", apt: "libsrtp2-dev"),
        systemLibrary("COpenSSL", pkgConfig: "openssl", apt: "libssl-dev"),
        systemLibrary("COpus", pkgConfig: "opus", apt: "libopus-dev"),

        // Typed settings from confab.cfg (libconfig), with defaults and file:line: key errors.
        .target(name: "Settings", dependencies: [
            "CLibConfig", "COpenSSL",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // STUN messages (RFC 8489), shared by ICE and the TURN server.
        .target(name: "STUN", dependencies: ["COpenSSL"]),
        // SDP offers and answers (RFC 8866, JSEP/RFC 8829 as browsers send them).
        .target(name: "SDP"),
        // RTP/RTCP packets, header extensions, sequence arithmetic.
        .target(name: "RTP"),
        // SRTP/SRTCP contexts on libsrtp2, protecting and unprotecting in place.
        // libsrtp2's AES-CM, AES-GCM and HMAC-SHA1 replaced by OpenSSL implementations (Debian builds it on NSS).
        .target(name: "CSRTPCrypto", dependencies: ["CSRTP", "COpenSSL"]),
        .target(name: "SRTP", dependencies: ["CSRTP", "CSRTPCrypto"]),
        // OpenSSL helpers shared by DTLS and TLS (the error-queue drain), so TLS needs no DTLS/libsrtp2.
        .target(name: "OpenSSLSupport", dependencies: ["COpenSSL"]),
        // DTLS-SRTP handshake on OpenSSL (memory BIOs; certificates and fingerprints).
        .target(name: "DTLS", dependencies: ["COpenSSL", "OpenSSLSupport", "SRTP"]),
        // UDP sockets with batched I/O (recvmmsg/sendmmsg), compact addresses, interface list.
        .target(name: "CLinux"),
        .target(name: "Net", dependencies: ["CLinux"]),
        // TURN relays handed to the SFU in process: the relayed-address table both sides share, and the
        // per-thread ChannelData sender the media engine uses for relayed destinations.
        .target(name: "RelayHandover", dependencies: ["Net"]),
        // ICE-lite on the shared media port: credentials, host candidates, Binding checks, consent.
        .target(name: "ICE", dependencies: ["STUN", "Net"]),
        // PeerConnections (ICE + DTLS + SRTP + streams), the shared-port reader threads, forwarding.
        .target(name: "Media", dependencies: [
            "Net", "ICE", "STUN", "DTLS", "SRTP", "RTP", "SDP", "CLinux", "RelayHandover",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Full ICE on libnice (media.ice_mode = "full"): one agent per PeerConnection, a small pool of GLib threads.
        .target(name: "NiceICE", dependencies: [
            "CNice", "ICE", "Media", "Net", "SDP",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: [.unsafeFlags(niceHeaderSwiftFlags)]),
        // Joins a Janus plugin handle to its PeerConnection: jsep answers, webrtcup/media/hangup events.
        .target(name: "JanusMedia", dependencies: [
            "JanusAPI", "Media", "SDP", "DTLS",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // janus.plugin.echotest: media echoed back to its sender.
        .target(name: "EchoTest", dependencies: [
            "JanusAPI", "JanusMedia", "Media", "RTP", "SDP",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Janus API core: sessions, handles, transactions, errors, plugins, auth. No I/O.
        .target(name: "JanusAPI", dependencies: [
            "COpenSSL",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // janus.plugin.videoroom (room management now; media with the VideoRoom issue).
        .target(name: "VideoRoom", dependencies: [
            "JanusAPI", "JanusMedia", "Media", "Net", "RTP", "SDP",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // TLS 1.2/1.3 server side for NIO stream channels on the system OpenSSL (memory BIOs), for TURNS.
        .target(name: "TLS", dependencies: [
            "COpenSSL", "OpenSSLSupport",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // TURN server (RFC 8656): UDP/TCP listeners and relay sockets on its own epoll loop, TLS on SwiftNIO, long-term and REST credentials.
        .target(name: "TURN", dependencies: [
            "STUN", "Net", "COpenSSL", "TLS", "RelayHandover",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], swiftSettings: [
            // Release builds only: the runtime's dynamic exclusivity tracking (a thread-local access
            // set entered and left on every class property the relay path touches) was ~3.5% of the
            // TURN server's CPU per relayed packet. Debug builds — `swift test` — keep the checks, so
            // an overlapping access in this target still traps there; static checking stays on.
            .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
        ]),
        // HTTP long poll, WebSocket, Admin API, /metrics, static site and /config.js.
        .target(name: "Transports", dependencies: [
            "JanusAPI", "Settings",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
        ]),
        // The executable only wires the targets together.
        .executableTarget(name: "confab", dependencies: [
            "Settings", "JanusAPI", "VideoRoom", "Transports", "Media", "EchoTest", "ICE", "Net", "DTLS", "TURN", "NiceICE", "RelayHandover",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // A bare browser-like endpoint (ICE check, DTLS client, SRTP) for benchmarks and tests.
        .target(name: "PeerClient", dependencies: ["DTLS", "SRTP", "ICE", "Net", "STUN"]),
        // Hot-path benchmark: one in-process browser echoing SRTP through the shared-port engine.
        .executableTarget(name: "MediaBench", dependencies: [
            "Media", "DTLS", "SRTP", "ICE", "Net", "STUN", "SDP", "PeerClient",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // confab-load: VideoRoom load over the Janus API with real WebRTC peers, for Confab or Janus.
        .executableTarget(name: "LoadTool", dependencies: [
            "PeerClient", "SDP", "RTP", "SRTP", "DTLS", "ICE", "Net", "CLinux",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
        ]),

        .testTarget(name: "SettingsTests", dependencies: ["Settings"]),
        .testTarget(name: "STUNTests", dependencies: ["STUN"]),
        .testTarget(name: "NetTests", dependencies: ["Net", "CLinux"]),
        .testTarget(name: "OpenSSLSupportTests", dependencies: ["OpenSSLSupport", "COpenSSL"]),
        .testTarget(name: "TLSTests", dependencies: [
            "TLS", "COpenSSL",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ], swiftSettings: [.unsafeFlags(niceHeaderSwiftFlags)]),
        .testTarget(name: "TURNTests", dependencies: [
            "TURN", "STUN", "Net", "TLS", "RelayHandover",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "SDPTests", dependencies: ["SDP"]),
        .testTarget(name: "RTPTests", dependencies: ["RTP"]),
        .testTarget(name: "SRTPTests", dependencies: ["SRTP", "COpenSSL"]),
        .testTarget(name: "DTLSTests", dependencies: ["DTLS", "SRTP"]),
        .testTarget(name: "ICETests", dependencies: ["ICE", "Net", "STUN"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "PeerClient", "ICE", "Net", "DTLS", "SDP", "RTP",
                                                       .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "NiceICETests", dependencies: ["NiceICE", "Media", "ICE", "Net", "SDP", "DTLS", "STUN", "TURN",
                                                         .product(name: "Logging", package: "swift-log")],
                    swiftSettings: [.unsafeFlags(niceHeaderSwiftFlags)]),
        .testTarget(name: "JanusAPITests", dependencies: ["JanusAPI"]),
        .testTarget(name: "VideoRoomTests", dependencies: ["VideoRoom", "JanusAPI"]),
        .testTarget(name: "EchoTestTests", dependencies: ["EchoTest", "RTP"]),
        .testTarget(name: "TransportsTests", dependencies: [
            "Transports", "JanusAPI", "Settings",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
