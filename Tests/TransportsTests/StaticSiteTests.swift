import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Transports

/// A temporary web root next to a secret file, with symlinks in and out of the root.
///
///     <tmp>/confab.cfg                 secret, one level above the root
///     <tmp>/outside/confab.cfg         secret, in a sibling folder
///     <tmp>/site/                      the root (also reachable through <tmp>/site-link)
///         index.html, docs/index.html, empty/, assets of every type, big.bin (1 MiB)
///         .git/config, .env, docs/.hidden
///         escape    -> ../outside/confab.cfg   (relative, leaves the root)
///         escapedir -> ../outside              (folder, leaves the root)
///         absolute  -> <tmp>/confab.cfg        (absolute, leaves the root)
///         gitlink   -> .git/config             (stays inside, but reaches a dotfile)
///         inside.txt -> notes.txt              (stays inside: allowed)
final class StaticSiteFixture: Sendable {
    static let secret = "SECRET-confab-cfg"
    let base: URL
    let root: String
    let rootLink: String
    var big: [UInt8] { Self.big }
    /// 1 MiB with a pattern that makes misplaced ranges visible; built once for all tests.
    static let big: [UInt8] = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }

    init() throws {
        let fm = FileManager.default
        self.base = fm.temporaryDirectory.appendingPathComponent("confab-site-\(UUID().uuidString)")
        let site = self.base.appendingPathComponent("site")
        self.root = site.path
        self.rootLink = self.base.appendingPathComponent("site-link").path

        func write(_ relative: String, _ text: String, in dir: URL? = nil) throws {
            let url = (dir ?? site).appendingPathComponent(relative)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try fm.createDirectory(at: site, withIntermediateDirectories: true)
        try write("confab.cfg", Self.secret, in: self.base)
        try write("outside/confab.cfg", Self.secret, in: self.base)

        try write("index.html", "<!doctype html><title>root</title>")
        try write("docs/index.html", "<!doctype html><title>docs</title>")
        try write("docs/.hidden", Self.secret)
        try fm.createDirectory(at: site.appendingPathComponent("empty"), withIntermediateDirectories: true)
        try write(".git/config", Self.secret)
        try write(".env", Self.secret)
        for name in Self.contentTypes.keys where name != "index.html" {
            try write(name, "content of \(name)")
        }
        try write("empty.txt", "")

        try Data(Self.big).write(to: site.appendingPathComponent("big.bin"))

        try fm.createSymbolicLink(atPath: site.appendingPathComponent("escape").path, withDestinationPath: "../outside/confab.cfg")
        try fm.createSymbolicLink(atPath: site.appendingPathComponent("escapedir").path, withDestinationPath: "../outside")
        try fm.createSymbolicLink(
            atPath: site.appendingPathComponent("absolute").path,
            withDestinationPath: self.base.appendingPathComponent("confab.cfg").path
        )
        try fm.createSymbolicLink(atPath: site.appendingPathComponent("gitlink").path, withDestinationPath: ".git/config")
        try fm.createSymbolicLink(atPath: site.appendingPathComponent("inside.txt").path, withDestinationPath: "notes.txt")
        try fm.createSymbolicLink(atPath: self.rootLink, withDestinationPath: "site")
    }

    deinit {
        try? FileManager.default.removeItem(at: self.base)
    }

    static let contentTypes: [String: String] = [
        "index.html": "text/html; charset=utf-8",
        "style.css": "text/css; charset=utf-8",
        "app.js": "text/javascript; charset=utf-8",
        "module.mjs": "text/javascript; charset=utf-8",
        "data.json": "application/json",
        "icon.svg": "image/svg+xml",
        "logo.png": "image/png",
        "photo.jpg": "image/jpeg",
        "photo.webp": "image/webp",
        "favicon.ico": "image/x-icon",
        "font.woff2": "font/woff2",
        "codec.wasm": "application/wasm",
        "notes.txt": "text/plain; charset=utf-8",
        "app.js.map": "application/json",
        "UPPER.PNG": "image/png",
        "blob.unknownext": "application/octet-stream",
    ]

    func app(root: String? = nil) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: StaticSite(root: root ?? self.root))
        router.get("/janus/info") { _, _ in "janus-info-route" }
        router.post("/index.html") { _, _ in "posted" }
        return Application(router: router)
    }
}

@Suite("StaticSite")
struct StaticSiteTests {
    let site: StaticSiteFixture

    init() throws {
        self.site = try StaticSiteFixture()
    }

    // MARK: Content types, index, redirects, HEAD

    @Test("Content-Type by extension", arguments: StaticSiteFixture.contentTypes.keys.sorted())
    func contentType(name: String) async throws {
        try await self.site.app().test(.router) { client in
            try await client.execute(uri: "/\(name)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == StaticSiteFixture.contentTypes[name])
                #expect(response.headers[StaticSiteHeader.contentTypeOptions] == "nosniff")
            }
        }
    }

    @Test func rootServesIndexHTMLWithNoCache() async throws {
        try await self.site.app().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "<!doctype html><title>root</title>")
                #expect(response.headers[.cacheControl] == "no-cache")
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            }
            try await client.execute(uri: "/style.css", method: .get) { response in
                #expect(response.headers[.cacheControl] == "public, max-age=300")
                #expect(String(buffer: response.body) == "content of style.css")
            }
        }
    }

    @Test func folderWithoutSlashRedirects() async throws {
        try await self.site.app().test(.router) { client in
            try await client.execute(uri: "/docs", method: .get) { response in
                #expect(response.status == .movedPermanently)
                #expect(response.headers[.location] == "/docs/")
            }
            try await client.execute(uri: "/docs?room=1234", method: .get) { response in
                #expect(response.status == .movedPermanently)
                #expect(response.headers[.location] == "/docs/?room=1234")
            }
            try await client.execute(uri: "/docs/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "<!doctype html><title>docs</title>")
            }
            // A folder without index.html and a file with a trailing slash are not found.
            try await client.execute(uri: "/empty/", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/notes.txt/", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func headHasHeadersButNoBody() async throws {
        try await self.site.app().test(.router) { client in
            try await client.execute(uri: "/big.bin", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentLength] == "\(1 << 20)")
                #expect(response.headers[.eTag] != nil)
                #expect(response.headers[.lastModified] != nil)
                #expect(response.headers[.acceptRanges] == "bytes")
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func largeFileIsStreamedIntact() async throws {
        try await self.site.app().test(.router) { client in
            try await client.execute(uri: "/big.bin", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentLength] == "\(1 << 20)")
                #expect(Array(response.body.readableBytesView) == self.site.big)
            }
            try await client.execute(uri: "/empty.txt", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.contentLength] == "0")
            }
        }
    }

    @Test func symlinksInsideTheRootAndASymlinkedRootWork() async throws {
        try await self.site.app().test(.router) { client in
            try await client.execute(uri: "/inside.txt", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "content of notes.txt")
            }
        }
        try await self.site.app(root: self.site.rootLink).test(.router) { client in
            try await client.execute(uri: "/notes.txt", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "content of notes.txt")
            }
        }
    }

    @Test func fallsThroughToRoutes() async throws {
        try await self.site.app().test(.router) { client in
            try await client.execute(uri: "/janus/info", method: .get) { response in
                #expect(String(buffer: response.body) == "janus-info-route")
            }
            try await client.execute(uri: "/index.html", method: .post) { response in
                #expect(String(buffer: response.body) == "posted")
            }
            try await client.execute(uri: "/missing.html", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
        // A missing root serves nothing and breaks nothing.
        try await self.site.app(root: self.site.root + "/nope").test(.router) { client in
            try await client.execute(uri: "/janus/info", method: .get) { response in
                #expect(String(buffer: response.body) == "janus-info-route")
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    // MARK: Conditional requests

    @Test func eTagAndLastModifiedGive304() async throws {
        try await self.site.app().test(.router) { client in
            let first = try await client.execute(uri: "/app.js", method: .get)
            let eTag = try #require(first.headers[.eTag])
            let lastModified = try #require(first.headers[.lastModified])
            #expect(eTag.hasPrefix("\"") && eTag.hasSuffix("\""))
            #expect(lastModified.hasSuffix(" GMT"))

            for value in [eTag, "W/\(eTag)", "\"other\", \(eTag)", "*"] {
                try await client.execute(uri: "/app.js", method: .get, headers: [.ifNoneMatch: value]) { response in
                    #expect(response.status == .notModified, "If-None-Match: \(value)")
                    #expect(response.body.readableBytes == 0)
                    #expect(response.headers[.eTag] == eTag)
                }
            }
            try await client.execute(uri: "/app.js", method: .get, headers: [.ifNoneMatch: "\"other\""]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/app.js", method: .get, headers: [.ifModifiedSince: lastModified]) { response in
                #expect(response.status == .notModified)
            }
            try await client.execute(
                uri: "/app.js",
                method: .get,
                headers: [.ifModifiedSince: "Thu, 01 Jan 1970 00:00:00 GMT"]
            ) { response in
                #expect(response.status == .ok)
            }
            // If-None-Match wins over If-Modified-Since.
            try await client.execute(
                uri: "/app.js",
                method: .get,
                headers: [.ifNoneMatch: "\"other\"", .ifModifiedSince: lastModified]
            ) { response in
                #expect(response.status == .ok)
            }
        }
    }

    // MARK: Ranges

    @Test func singleRangesGive206() async throws {
        let size = 1 << 20
        let big = self.site.big
        try await self.site.app().test(.router) { client in
            let cases: [(String, ClosedRange<Int>)] = [
                ("bytes=0-9", 0...9),
                ("bytes=100-199", 100...199),
                ("bytes=-5", (size - 5)...(size - 1)),
                ("bytes=\(size - 3)-", (size - 3)...(size - 1)),
                ("bytes=10-99999999999", 10...(size - 1)),
                ("bytes=-99999999", 0...(size - 1)),
            ]
            for (header, range) in cases {
                try await client.execute(uri: "/big.bin", method: .get, headers: [.range: header]) { response in
                    #expect(response.status == .partialContent, "\(header)")
                    #expect(response.headers[.contentRange] == "bytes \(range.lowerBound)-\(range.upperBound)/\(size)")
                    #expect(response.headers[.contentLength] == "\(range.count)")
                    #expect(Array(response.body.readableBytesView) == Array(big[range]))
                }
            }
        }
    }

    @Test func unsatisfiableRangeGives416() async throws {
        let size = 1 << 20
        try await self.site.app().test(.router) { client in
            for header in ["bytes=\(size)-", "bytes=\(size + 10)-\(size + 20)", "bytes=-0", "bytes=99999999999999999999-"] {
                try await client.execute(uri: "/big.bin", method: .get, headers: [.range: header]) { response in
                    #expect(response.status == .rangeNotSatisfiable, "\(header)")
                    #expect(response.headers[.contentRange] == "bytes */\(size)")
                }
            }
            try await client.execute(uri: "/empty.txt", method: .get, headers: [.range: "bytes=0-"]) { response in
                #expect(response.status == .rangeNotSatisfiable)
                #expect(response.headers[.contentRange] == "bytes */0")
            }
        }
    }

    @Test func ignoredRangesServeTheWholeFile() async throws {
        try await self.site.app().test(.router) { client in
            let eTag = try #require(try await client.execute(uri: "/notes.txt", method: .head).headers[.eTag])
            // Bad syntax, other units and multiple ranges are ignored (RFC 9110 allows serving 200).
            for header in ["bytes=5-2", "items=0-1", "bytes=a-b", "bytes=0-1,4-5", "bytes=-"] {
                try await client.execute(uri: "/notes.txt", method: .get, headers: [.range: header]) { response in
                    #expect(response.status == .ok, "\(header)")
                    #expect(String(buffer: response.body) == "content of notes.txt")
                }
            }
            // If-Range: range only while the validator still matches.
            try await client.execute(uri: "/notes.txt", method: .get, headers: [.range: "bytes=0-6", .ifRange: "\"stale\""]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/notes.txt", method: .get, headers: [.range: "bytes=0-6", .ifRange: eTag]) { response in
                #expect(response.status == .partialContent)
                #expect(String(buffer: response.body) == "content")
            }
            // HEAD ignores Range.
            try await client.execute(uri: "/notes.txt", method: .head, headers: [.range: "bytes=0-6"]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    // MARK: Security

    static let refusedPaths = [
        "/../confab.cfg",
        "/%2e%2e/confab.cfg",
        "/%2E%2E/confab.cfg",
        "/.%2e/confab.cfg",
        "/%2e./confab.cfg",
        "/..%2fconfab.cfg",
        "/..%2Fconfab.cfg",
        "/docs/../../confab.cfg",
        "/docs/%2e%2e/%2e%2e/confab.cfg",
        "/docs/..%2f..%2fconfab.cfg",
        "/%2f..%2fconfab.cfg",
        "/..\\confab.cfg",
        "/..%5cconfab.cfg",
        "/docs\\..\\..\\confab.cfg",
        "/notes.txt%00",
        "/notes.txt%00.html",
        "/%00/../confab.cfg",
        "/notes.txt%0a",
        "/notes%ff.txt",
        "/notes%2.txt",
        "/notes.txt%",
        "//confab.cfg",
        "/./notes.txt",
        "/escape",
        "/escapedir/confab.cfg",
        "/escapedir/",
        "/absolute",
        "/gitlink",
        "/.git/config",
        "/.git/",
        "/.git",
        "/%2egit/config",
        "/.env",
        "/docs/.hidden",
    ]

    @Test("Traversal, encoded NUL, backslashes, escaping symlinks and dotfiles are refused", arguments: refusedPaths)
    func refused(path: String) async throws {
        try await self.site.app().test(.router) { client in
            for method in [HTTPRequest.Method.get, .head] {
                try await client.execute(uri: path, method: method) { response in
                    #expect(response.status == .notFound, "\(method) \(path)")
                    #expect(!String(buffer: response.body).contains(StaticSiteFixture.secret))
                    #expect(response.headers[.eTag] == nil)
                }
            }
        }
    }
}

extension StaticSiteTests {
    /// Parsers, without a fixture.
    @Suite("StaticSite units")
    struct Units {
        @Test func pathParsing() throws {
            #expect(try StaticSitePath.parse("/").get() == .init(segments: [], trailingSlash: true))
            #expect(try StaticSitePath.parse("/a%20b/c%C3%A9.txt").get() == .init(segments: ["a b", "cé.txt"], trailingSlash: false))
            #expect(try StaticSitePath.parse("/docs/").get() == .init(segments: ["docs"], trailingSlash: true))
            for bad in ["", "relative", "/a//b", "/a%2Fb", "/a%5Cb", "/a\\b", "/%2e", "/.well-known/x", "/a%7fb", "/a%1"] {
                #expect(throws: StaticSitePathRefusal.self, "\(bad)") { try StaticSitePath.parse(bad).get() }
            }
        }

        @Test func httpDates() {
            #expect(StaticSiteDate.format(epochSeconds: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
            #expect(StaticSiteDate.format(epochSeconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
            #expect(StaticSiteDate.format(epochSeconds: 951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
            #expect(StaticSiteDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
            #expect(StaticSiteDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == nil)
            for seconds in stride(from: 0, to: 4_102_444_800, by: 86_399 * 37) {
                #expect(StaticSiteDate.parse(StaticSiteDate.format(epochSeconds: seconds)) == seconds)
            }
        }

        @Test func byteRangeParsing() {
            #expect(StaticSiteRange.parse("bytes=0-0", size: 10) == .satisfiable(0...0))
            #expect(StaticSiteRange.parse("Bytes = 2 - 4", size: 10) == .ignore)
            #expect(StaticSiteRange.parse("bytes= 2-4 ", size: 10) == .satisfiable(2...4))
            #expect(StaticSiteRange.parse("bytes=9-", size: 10) == .satisfiable(9...9))
            #expect(StaticSiteRange.parse("bytes=10-", size: 10) == .unsatisfiable)
            #expect(StaticSiteRange.parse("bytes=-20", size: 10) == .satisfiable(0...9))
            #expect(StaticSiteRange.parse("bytes=-1", size: 0) == .unsatisfiable)
            #expect(StaticSiteRange.parse("bytes=3-2", size: 10) == .ignore)
            #expect(StaticSiteRange.parse("bytes=+1-2", size: 10) == .ignore)
        }
    }
}
