/// Content types by file extension (lower-cased). Unknown extensions are `application/octet-stream`.
enum StaticSiteMediaType {
    static let byExtension: [String: String] = [
        "html": "text/html; charset=utf-8",
        "htm": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8",
        "json": "application/json",
        "map": "application/json",
        "webmanifest": "application/manifest+json",
        "txt": "text/plain; charset=utf-8",
        "svg": "image/svg+xml",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "avif": "image/avif",
        "ico": "image/x-icon",
        "woff": "font/woff",
        "woff2": "font/woff2",
        "wasm": "application/wasm",
        "mp3": "audio/mpeg",
        "ogg": "audio/ogg",
        "wav": "audio/wav",
        "mp4": "video/mp4",
        "webm": "video/webm",
    ]

    static func contentType(forFileName name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return "application/octet-stream" }
        let ext = name[name.index(after: dot)...].lowercased()
        return self.byExtension[ext] ?? "application/octet-stream"
    }
}

/// HTTP dates (RFC 9110 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`) without Foundation.
enum StaticSiteDate {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(epochSeconds: Int) -> String {
        let days = floorDiv(epochSeconds, 86_400)
        let secondOfDay = epochSeconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        let weekday = weekdays[((days % 7) + 11) % 7]  // 1970-01-01 was a Thursday
        return "\(weekday), \(pad(day)) \(months[month - 1]) \(year) "
            + "\(pad(secondOfDay / 3600)):\(pad(secondOfDay / 60 % 60)):\(pad(secondOfDay % 60)) GMT"
    }

    /// Parses IMF-fixdate only (the form every current client sends); anything else is nil.
    static func parse(_ string: String) -> Int? {
        let parts = string.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
            let day = Int(parts[1]), (1...31).contains(day),
            let monthIndex = months.firstIndex(of: String(parts[2])),
            let year = Int(parts[3]), parts[3].count == 4
        else { return nil }
        let time = parts[4].split(separator: ":")
        guard time.count == 3, let hour = Int(time[0]), let minute = Int(time[1]), let second = Int(time[2]),
            (0..<24).contains(hour), (0..<60).contains(minute), (0...60).contains(second)
        else { return nil }
        let days = self.days(fromYear: year, month: monthIndex + 1, day: day)
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    // Howard Hinnant's days_from_civil / civil_from_days.
    private static func days(fromYear year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// A `Range: bytes=...` request against a file of known size (RFC 9110 §14).
enum StaticSiteRange: Equatable {
    /// Not a single byte range we understand (other unit, bad syntax, several ranges): serve the whole file.
    case ignore
    /// 416 with `Content-Range: bytes */size`.
    case unsatisfiable
    case satisfiable(ClosedRange<Int>)

    static func parse(_ header: String, size: Int) -> StaticSiteRange {
        let value = trim(Substring(header))
        guard value.count > 6, value.prefix(6).lowercased() == "bytes=" else { return .ignore }
        let spec = trim(value.dropFirst(6))
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .ignore }
        let first = trim(spec[..<dash])
        let last = trim(spec[spec.index(after: dash)...])
        guard first.allSatisfy(\.isASCIIDigit), last.allSatisfy(\.isASCIIDigit) else { return .ignore }

        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard !last.isEmpty else { return .ignore }
            let length = Int(last) ?? Int.max
            guard length > 0, size > 0 else { return .unsatisfiable }
            return .satisfiable(max(0, size - length)...(size - 1))
        }
        guard let start = Int(first) else { return .unsatisfiable }  // beyond any file size
        var end = Int.max
        if !last.isEmpty {
            end = Int(last) ?? Int.max
            guard end >= start else { return .ignore }
        }
        guard start < size else { return .unsatisfiable }
        return .satisfiable(start...min(end, size - 1))
    }

    private static func trim(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}

extension Character {
    var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}

/// Conditional request evaluation (RFC 9110 §13).
enum StaticSiteConditional {
    /// `If-None-Match` (weak comparison, `*` matches) takes precedence over `If-Modified-Since`.
    static func notModified(ifNoneMatch: [String], ifModifiedSince: String?, eTag: String, modifiedSeconds: Int) -> Bool {
        if !ifNoneMatch.isEmpty {
            let opaque = weakOpaque(eTag)
            for line in ifNoneMatch {
                for tag in line.split(separator: ",") {
                    let tag = tag.trimmingSpaces
                    if tag == "*" || weakOpaque(tag) == opaque { return true }
                }
            }
            return false
        }
        if let ifModifiedSince, let since = StaticSiteDate.parse(ifModifiedSince) {
            return modifiedSeconds <= since
        }
        return false
    }

    /// `If-Range`: the range applies only if the validator still matches (strong comparison for ETags).
    static func ifRangeAllows(_ ifRange: String?, eTag: String, lastModified: String) -> Bool {
        guard let ifRange else { return true }
        let value = Substring(ifRange).trimmingSpaces
        return value == eTag || value == lastModified
    }

    private static func weakOpaque<S: StringProtocol>(_ tag: S) -> Substring {
        let tag = Substring(tag)
        return tag.hasPrefix("W/") ? tag.dropFirst(2) : tag
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring { Substring(self).trimmingSpaces }
}
