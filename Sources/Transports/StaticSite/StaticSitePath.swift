#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A request path checked and split into decoded segments.
struct StaticSiteRequestPath: Sendable, Equatable {
    /// Decoded path segments, none empty, none starting with a dot.
    var segments: [String]
    /// Whether the URL path ended with `/` (always true for `/`).
    var trailingSlash: Bool
}

/// Why a request path is not looked up at all.
struct StaticSitePathRefusal: Error, Equatable {
    let reason: String
}

enum StaticSitePath {
    /// Splits the raw (still percent-encoded) URL path on `/` **before** decoding, then decodes
    /// each segment and refuses anything that could leave the root or reach a hidden file:
    /// `.` and `..` (also as `%2e%2e`), any segment starting with `.`, an encoded `/` (`%2f`),
    /// backslashes (raw or `%5c`), NUL and other control characters, empty segments (`//`),
    /// bad percent-encoding and invalid UTF-8.
    static func parse(_ rawPath: String) -> Result<StaticSiteRequestPath, StaticSitePathRefusal> {
        var bytes = Array(rawPath.utf8)
        guard bytes.first == UInt8(ascii: "/") else { return .failure(.init(reason: "path is not absolute")) }
        bytes.removeFirst()
        var rawSegments = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        var trailingSlash = false
        if rawSegments.last?.isEmpty == true {
            rawSegments.removeLast()
            trailingSlash = true
        }
        var segments: [String] = []
        segments.reserveCapacity(rawSegments.count)
        for raw in rawSegments {
            switch self.decode(raw) {
            case .success(let segment): segments.append(segment)
            case .failure(let refusal): return .failure(refusal)
            }
        }
        return .success(.init(segments: segments, trailingSlash: trailingSlash))
    }

    private static func decode(_ raw: ArraySlice<UInt8>) -> Result<String, StaticSitePathRefusal> {
        guard !raw.isEmpty else { return .failure(.init(reason: "empty path segment")) }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            var byte = raw[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < raw.endIndex, let high = PercentEncoding.hexValue(raw[index + 1]), let low = PercentEncoding.hexValue(raw[index + 2])
                else { return .failure(.init(reason: "bad percent-encoding")) }
                byte = high << 4 | low
                index += 3
            } else {
                index += 1
            }
            switch byte {
            case 0x00..<0x20, 0x7F: return .failure(.init(reason: "control character"))
            case UInt8(ascii: "/"): return .failure(.init(reason: "encoded slash"))
            case UInt8(ascii: "\\"): return .failure(.init(reason: "backslash"))
            default: decoded.append(byte)
            }
        }
        guard decoded.first != UInt8(ascii: ".") else { return .failure(.init(reason: "dot segment or dotfile")) }
        guard let segment = String(validating: decoded, as: UTF8.self) else {
            return .failure(.init(reason: "invalid UTF-8"))
        }
        return .success(segment)
    }
}

/// A regular file found inside the root.
struct StaticSiteFile: Sendable, Equatable {
    /// Resolved absolute path (no symlinks).
    var path: String
    /// Name used for the content type (the requested name, or `index.html`).
    var name: String
    var size: Int
    var modifiedSeconds: Int
    var modifiedNanoseconds: Int

    /// Strong validator from size and modification time.
    var eTag: String {
        "\"\(String(self.size, radix: 16))-\(String(self.modifiedSeconds, radix: 16)).\(String(self.modifiedNanoseconds, radix: 16))\""
    }
}

/// Result of looking a request path up on disk. Blocking: run it on a thread pool.
enum StaticSiteLookup: Sendable, Equatable {
    case missing
    case refused(String)
    case folderNeedsSlash
    case file(StaticSiteFile)

    static func find(root: String, path: StaticSiteRequestPath) -> StaticSiteLookup {
        guard let rootReal = realPath(root) else { return .missing }
        let rootPrefix = rootReal.hasSuffix("/") ? rootReal : rootReal + "/"
        let candidate = path.segments.isEmpty ? rootReal : rootPrefix + path.segments.joined(separator: "/")

        guard let real = realPath(candidate) else { return .missing }
        if let refusal = check(real, rootReal: rootReal, rootPrefix: rootPrefix) { return .refused(refusal) }
        guard let info = FileInfo(path: real) else { return .missing }

        switch info.kind {
        case .directory:
            guard path.trailingSlash else { return .folderNeedsSlash }
            guard let index = realPath(real == "/" ? "/index.html" : real + "/index.html") else { return .missing }
            if let refusal = check(index, rootReal: rootReal, rootPrefix: rootPrefix) { return .refused(refusal) }
            guard let indexInfo = FileInfo(path: index), indexInfo.kind == .regular else { return .missing }
            return .file(indexInfo.file(path: index, name: "index.html"))
        case .regular:
            guard !path.trailingSlash, let name = path.segments.last else { return .missing }
            return .file(info.file(path: real, name: name))
        case .other:
            return .missing
        }
    }

    /// The resolved path must be the root or below it, and no component below the root may be hidden.
    private static func check(_ real: String, rootReal: String, rootPrefix: String) -> String? {
        // Byte-wise comparisons: String's == and hasPrefix use Unicode canonical equivalence.
        if real.utf8.elementsEqual(rootReal.utf8) { return nil }
        guard real.utf8.starts(with: rootPrefix.utf8) else { return "resolves outside the root" }
        let relative = real.utf8.dropFirst(rootPrefix.utf8.count)
        if relative.split(separator: UInt8(ascii: "/")).contains(where: { $0.first == UInt8(ascii: ".") }) {
            return "resolves to a hidden file"
        }
        return nil
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// The few `stat` fields the site needs.
private struct FileInfo {
    enum Kind { case directory, regular, other }
    var kind: Kind
    var size: Int
    var seconds: Int
    var nanoseconds: Int

    init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        switch Int(st.st_mode) & 0o170000 {
        case 0o040000: self.kind = .directory
        case 0o100000: self.kind = .regular
        default: self.kind = .other
        }
        self.size = Int(st.st_size)
        #if canImport(Darwin)
        self.seconds = Int(st.st_mtimespec.tv_sec)
        self.nanoseconds = Int(st.st_mtimespec.tv_nsec)
        #else
        self.seconds = Int(st.st_mtim.tv_sec)
        self.nanoseconds = Int(st.st_mtim.tv_nsec)
        #endif
    }

    func file(path: String, name: String) -> StaticSiteFile {
        .init(path: path, name: name, size: self.size, modifiedSeconds: self.seconds, modifiedNanoseconds: self.nanoseconds)
    }
}
