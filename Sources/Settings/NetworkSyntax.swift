#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks for addresses and URLs. The `…Problem` functions return what is wrong, or nil when the text is fine.
enum NetworkSyntax {
    static func isIPv4(_ text: String) -> Bool { parses(text, family: AF_INET) }
    static func isIPv6(_ text: String) -> Bool { parses(text, family: AF_INET6) }
    static func isIP(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    private static func parses(_ text: String, family: Int32) -> Bool {
        var address = in6_addr()  // big enough for either family
        return inet_pton(family, text, &address) == 1
    }

    /// RFC 1123 labels: letters, digits and inner hyphens, 1-63 characters each.
    static func isHostName(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return text.utf8.count <= 253 && labels.allSatisfy { label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// Text made only of digits and dots is meant as IPv4 and text with a colon as IPv6, so those must parse as such.
    static func bindProblem(_ text: String) -> String? {
        let valid = if text.contains(":") {
            isIPv6(text)
        } else if text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            isIPv4(text)
        } else {
            isHostName(text)
        }
        return valid ? nil : "must be an IP address or host name"
    }

    /// An address with an optional prefix length: `10.0.0.0/8`, `fc00::/7`, `192.0.2.1`.
    static func cidrProblem(_ text: String) -> String? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let maxPrefix = parts.first.map { isIPv4($0) ? 32 : isIPv6($0) ? 128 : -1 } ?? -1
        let prefixOK = parts.count == 1 || (parts.count == 2 && Int(parts[1]).map { (0...maxPrefix).contains($0) } == true)
        return maxPrefix >= 0 && prefixOK ? nil : "must be an address or CIDR like \"10.0.0.0/8\""
    }

    /// The host of an `http://` or `https://` URL; nil when there is none.
    static func urlHost(_ text: String) -> String? {
        guard let url = URLComponents(string: text), ["http", "https"].contains(url.scheme?.lowercased()),
              let host = url.host, !host.isEmpty
        else { return nil }
        return host
    }

    static func publicURLProblem(_ text: String) -> String? {
        text.isEmpty || urlHost(text) != nil ? nil : "must be empty or an http:// or https:// URL with a host"
    }

    static func optionalIPProblem(_ text: String) -> String? {
        text.isEmpty || isIP(text) ? nil : "must be empty or an IP address"
    }

    /// `host:port` or `[v6]:port` (a STUN or TURN server), or empty.
    static func optionalHostPortProblem(_ text: String) -> String? {
        guard !text.isEmpty else { return nil }
        let problem = "must be empty or \"host:port\" (an IP address or host name, [v6]:port for IPv6)"
        guard let split = splitHostPort(text) else { return problem }
        return isIP(split.host) || isHostName(split.host) ? nil : problem
    }

    /// `host:port` → (host, port), brackets removed from an IPv6 host; nil when malformed.
    static func splitHostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return nil
        }
        return host.isEmpty ? nil : (host, port)
    }

    static func natMappingProblem(_ text: String) -> String? {
        text.isEmpty || text == "auto" || isIP(text) ? nil : "must be empty, \"auto\" or an IP address"
    }

    /// A URL path to serve under: `/janus`, never `janus`, `/janus/` or `/my path`.
    static func urlPathProblem(_ text: String) -> String? {
        if !text.hasPrefix("/") { return "must start with '/'" }
        if text.hasSuffix("/") { return "must not end with '/'" }
        if text.contains(where: \.isWhitespace) { return "must not contain spaces" }
        return nil
    }

    /// A TURN long-term user, `user:password`, both parts non-empty.
    static func turnUserProblem(_ text: String) -> String? {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex
        else { return "must look like \"user:password\"" }
        return nil
    }
}
