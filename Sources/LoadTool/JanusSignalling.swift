// The Janus API over HTTP, as a load client needs it: create, attach, messages whose answer
// comes as an event, and one long poll per session dispatching events to whoever waits.

import Foundation
import Synchronization

struct SignallingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

typealias JSONObject = [String: Any]

/// One Janus session over HTTP with its long poll.
final class JanusSession: @unchecked Sendable {
    // @unchecked Sendable: `waiters` and `early` are only touched under `lock`; the rest is
    // immutable after init.
    let base: URL
    let id: UInt64
    private let lock = NSLock()
    // Events travel as serialized JSON: `[String: Any]` is not Sendable across the continuation.
    private var waiters: [String: CheckedContinuation<Data, Error>] = [:]
    private var early: [String: Data] = [:]
    private var polling = true

    static func create(base: URL) async throws -> JanusSession {
        let reply = try await post(base, ["janus": "create", "transaction": transaction()])
        guard let data = reply["data"] as? JSONObject, let id = (data["id"] as? NSNumber)?.uint64Value else {
            throw SignallingError("create failed: \(reply)")
        }
        let session = JanusSession(base: base, id: id)
        session.startPolling()
        return session
    }

    private init(base: URL, id: UInt64) {
        self.base = base
        self.id = id
    }

    var url: URL { base.appendingPathComponent(String(id)) }

    func attach(_ plugin: String) async throws -> UInt64 {
        let reply = try await Self.post(url, ["janus": "attach", "plugin": plugin, "transaction": Self.transaction()])
        guard let data = reply["data"] as? JSONObject, let id = (data["id"] as? NSNumber)?.uint64Value else {
            throw SignallingError("attach failed: \(reply)")
        }
        return id
    }

    /// A synchronous plugin request: the `plugindata.data` of the success reply.
    func request(_ handle: UInt64, _ body: JSONObject) async throws -> JSONObject {
        let reply = try await Self.post(url.appendingPathComponent(String(handle)),
                                        ["janus": "message", "body": body, "transaction": Self.transaction()])
        guard let plugindata = reply["plugindata"] as? JSONObject, let data = plugindata["data"] as? JSONObject else {
            throw SignallingError("request \(body) failed: \(reply)")
        }
        return data
    }

    /// An asynchronous plugin request: waits for the event with the same transaction.
    func message(_ handle: UInt64, _ body: JSONObject, jsep: JSONObject? = nil, timeout: Double = 20) async throws -> JSONObject {
        let transaction = Self.transaction()
        var request: JSONObject = ["janus": "message", "body": body, "transaction": transaction]
        if let jsep { request["jsep"] = jsep }
        async let event = waitEvent(transaction, timeout: timeout)
        let ack = try await Self.post(url.appendingPathComponent(String(handle)), request)
        guard (ack["janus"] as? String) == "ack" || (ack["janus"] as? String) == "success" else {
            throw SignallingError("message \(body) refused: \(ack)")
        }
        if (ack["janus"] as? String) == "success" { return ack }
        guard let parsed = try JSONSerialization.jsonObject(with: try await event) as? JSONObject else {
            throw SignallingError("event is not an object")
        }
        return parsed
    }

    func keepalive() async {
        _ = try? await Self.post(url, ["janus": "keepalive", "transaction": Self.transaction()])
    }

    func destroy() async {
        lock.withLock { polling = false }
        _ = try? await Self.post(url, ["janus": "destroy", "transaction": Self.transaction()])
    }

    private func waitEvent(_ transaction: String, timeout: Double) async throws -> Data {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Data? = lock.withLock {
                if let event = early.removeValue(forKey: transaction) { return event }
                waiters[transaction] = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [self] in
                let late = lock.withLock { waiters.removeValue(forKey: transaction) }
                late?.resume(throwing: SignallingError("no event for transaction \(transaction) in \(timeout) s"))
            }
        }
    }

    private func startPolling() {
        Task.detached { [self] in
            while lock.withLock({ polling }) {
                let poll = url.appending(queryItems: [URLQueryItem(name: "maxev", value: "10")])
                guard let data = try? await LoopbackHTTP.send(.GET, poll, timeout: 60),
                      let parsed = try? JSONSerialization.jsonObject(with: data) else {
                    try? await Task.sleep(for: .milliseconds(100))  // a refused poll must not spin
                    continue
                }
                let events = (parsed as? [JSONObject]) ?? [parsed as? JSONObject].compactMap { $0 }
                for event in events { deliver(event) }
            }
        }
    }

    private func deliver(_ event: JSONObject) {
        guard let transaction = event["transaction"] as? String, (event["janus"] as? String) == "event",
              let bytes = try? JSONSerialization.data(withJSONObject: event) else { return }
        let waiter: CheckedContinuation<Data, Error>? = lock.withLock {
            if let waiter = waiters.removeValue(forKey: transaction) { return waiter }
            early[transaction] = bytes
            return nil
        }
        waiter?.resume(returning: bytes)
    }

    static func post(_ url: URL, _ body: JSONObject) async throws -> JSONObject {
        let data = try await LoopbackHTTP.send(.POST, url, body: try JSONSerialization.data(withJSONObject: body), timeout: 20)
        guard let reply = try JSONSerialization.jsonObject(with: data) as? JSONObject else {
            throw SignallingError("not a JSON object: \(String(decoding: data, as: UTF8.self))")
        }
        return reply
    }

    static func transaction() -> String {
        String((0..<12).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }
}
