import Hummingbird
import Logging
import NIOPosix

/// Serves the files of one folder (the web root) for `GET` and `HEAD`.
///
/// Anything that is not a servable file (unknown path, other methods, refused paths)
/// falls through to `next`, so routes registered on the router keep working:
///
/// ```swift
/// let router = Router(context: BasicRequestContext.self)
/// router.add(middleware: StaticSite(root: "html"))
/// router.get("/janus/info") { ... }
/// ```
///
/// Supports `ETag`/`If-None-Match`, `Last-Modified`/`If-Modified-Since` (304),
/// single byte ranges (206, or 416 when unsatisfiable, honouring `If-Range`),
/// `index.html` for folders (a folder URL without a trailing slash gets a 301 to the slash form).
///
/// Security: every request path is split on `/` before percent-decoding, and a segment that
/// decodes to `.`/`..`, starts with a dot (dotfiles), or contains `/`, `\`, NUL or another control
/// character is refused. The target is then resolved with `realpath` and must lie inside the
/// resolved root, so symlinks pointing outside the root are refused too. Refused requests are
/// passed to `next` (which normally answers 404); the file is never served.
/// Files are streamed from disk in chunks, never read whole into memory.
public struct StaticSite<Context: RequestContext>: RouterMiddleware {
    /// The folder served, as configured (resolved again on every request, so a root that is a
    /// symlink swapped by a deploy is followed).
    public let root: String
    /// `Cache-Control` for HTML documents.
    public let htmlCacheControl: String
    /// `Cache-Control` for everything else.
    public let assetCacheControl: String

    let fileIO: FileIO

    /// - Parameters:
    ///   - root: folder whose files are served at `/`.
    ///   - htmlCacheControl: `Cache-Control` for `.html` files (default: always revalidate).
    ///   - assetMaxAge: `max-age` in seconds for all other files.
    public init(root: String, htmlCacheControl: String = "no-cache", assetMaxAge: Int = 300) {
        self.root = root
        self.htmlCacheControl = htmlCacheControl
        self.assetCacheControl = "public, max-age=\(max(0, assetMaxAge))"
        self.fileIO = FileIO(threadPool: .singleton)
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.method == .get || request.method == .head else {
            return try await next(request, context)
        }
        let rawPath = request.uri.path
        let path: StaticSiteRequestPath
        switch StaticSitePath.parse(rawPath) {
        case .success(let parsed):
            path = parsed
        case .failure(let refusal):
            context.logger.debug(
                "static site refused path",
                metadata: ["path": .string(rawPath), "reason": .string(refusal.reason)]
            )
            return try await next(request, context)
        }

        let root = self.root
        let lookup: StaticSiteLookup
        do {
            lookup = try await NIOThreadPool.singleton.runIfActive {
                StaticSiteLookup.find(root: root, path: path)
            }
        } catch {
            context.logger.error("static site lookup failed", metadata: ["error": .string("\(error)")])
            return try await next(request, context)
        }

        switch lookup {
        case .missing:
            return try await next(request, context)
        case .refused(let reason):
            context.logger.warning(
                "static site refused path",
                metadata: ["path": .string(rawPath), "reason": .string(reason)]
            )
            return try await next(request, context)
        case .folderNeedsSlash:
            var location = rawPath + "/"
            if let query = request.uri.query { location += "?" + query }
            return Response(status: .movedPermanently, headers: [.location: location])
        case .file(let file):
            return try await self.respond(file: file, request: request, context: context)
        }
    }

    private func respond(file: StaticSiteFile, request: Request, context: Context) async throws -> Response {
        let contentType = StaticSiteMediaType.contentType(forFileName: file.name)
        let eTag = file.eTag
        let lastModified = StaticSiteDate.format(epochSeconds: file.modifiedSeconds)

        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.eTag] = eTag
        headers[.lastModified] = lastModified
        headers[.cacheControl] = contentType.hasPrefix("text/html") ? self.htmlCacheControl : self.assetCacheControl
        headers[.acceptRanges] = "bytes"
        headers[StaticSiteHeader.contentTypeOptions] = "nosniff"

        if StaticSiteConditional.notModified(
            ifNoneMatch: request.headers[values: .ifNoneMatch],
            ifModifiedSince: request.headers[.ifModifiedSince],
            eTag: eTag,
            modifiedSeconds: file.modifiedSeconds
        ) {
            return Response(status: .notModified, headers: headers)
        }

        if request.method == .head {
            headers[.contentLength] = String(file.size)
            return Response(status: .ok, headers: headers, body: ResponseBody())
        }

        if let rangeHeader = request.headers[.range],
            StaticSiteConditional.ifRangeAllows(request.headers[.ifRange], eTag: eTag, lastModified: lastModified)
        {
            switch StaticSiteRange.parse(rangeHeader, size: file.size) {
            case .ignore:
                break
            case .unsatisfiable:
                headers[.contentRange] = "bytes */\(file.size)"
                headers[.contentLength] = "0"
                return Response(status: .rangeNotSatisfiable, headers: headers, body: ResponseBody())
            case .satisfiable(let range):
                headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)"
                let body = try await self.fileIO.loadFile(path: file.path, range: range, context: context)
                return Response(status: .partialContent, headers: headers, body: body)
            }
        }

        if file.size == 0 {
            return Response(status: .ok, headers: headers, body: ResponseBody())
        }
        let body = try await self.fileIO.loadFile(path: file.path, context: context)
        return Response(status: .ok, headers: headers, body: body)
    }
}

enum StaticSiteHeader {
    /// `X-Content-Type-Options`, so browsers never sniff a served file into another type.
    static let contentTypeOptions = HTTPFields.Element.Name("X-Content-Type-Options")!
}
