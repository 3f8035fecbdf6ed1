#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JanusAPI

/// `GET <path>/<session>?maxev=N&apisecret=..&token=..`: the parts of a Janus long poll both
/// of its implementations share (the parked one in `LongPollHandler`, the routed fallback).
struct LongPoll {
    static let timeout: Duration = .seconds(30)

    let sessionID: UInt64
    let maxEvents: Int
    let credentials: [String: JSON]

    /// Parses a request target (`/janus/123?maxev=5`); nil unless it names a session under `basePath`.
    init?(target: String, basePath: String) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let prefix = basePath + "/"
        guard let path = parts.first, path.hasPrefix(prefix) else { return nil }
        let idText = path.dropFirst(prefix.count)
        guard !idText.isEmpty, idText.allSatisfy(\.isASCIIDigit), let id = UInt64(idText), id > 0 else { return nil }
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let value = keyValue.count == 2 ? String(keyValue[1]) : ""
                query[String(keyValue[0])] = Self.percentDecoded(value.replacing("+", with: " ")) ?? value
            }
        }
        self.init(sessionID: id, query: query)
    }

    init(sessionID: UInt64, query: [String: String]) {
        self.sessionID = sessionID
        self.maxEvents = query["maxev"].flatMap { Int($0) }.map { max(1, min($0, 100)) } ?? 1
        var credentials: [String: JSON] = [:]
        if let secret = query["apisecret"] { credentials["apisecret"] = .string(secret) }
        if let token = query["token"] { credentials["token"] = .string(token) }
        self.credentials = credentials
    }

    enum Outcome {
        /// Janus answers an unknown session with a bare 404 and bad credentials with a bare 403.
        case notFound
        case forbidden
        case wait(Session)
    }

    func check(with gateway: Gateway) -> Outcome {
        guard let session = gateway.session(sessionID), !session.isDestroyed else { return .notFound }
        guard gateway.auth.authorizes(credentials) else { return .forbidden }
        return .wait(session)
    }

    /// `{"janus":"keepalive"}` when nothing came; one event, or an array when `maxev` > 1.
    func body(for events: [JSON]) -> JSON {
        if events.isEmpty { return ["janus": "keepalive"] }
        return maxEvents > 1 ? .array(events) : events[0]
    }
}

extension LongPoll {
    /// `%XX` escapes decoded (RFC 3986); nil for a malformed escape or bytes that are not UTF-8,
    /// as Foundation's `removingPercentEncoding` answers.
    static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(PercentEncoding.hexValue),
                  let low = iterator.next().flatMap(PercentEncoding.hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
