import HTTPTypes
import Hummingbird
import JanusAPI
import Logging
import NIOCore

/// The Janus HTTP transport: `POST <path>[/<session>[/<handle>]]`, `GET <path>/<session>` long
/// polls and `GET <path>/info`.
struct JanusHTTP {
    static let package = "janus.transport.http"
    static let longPollTimeout: Duration = .seconds(30)

    let gateway: Gateway
    let path: String
    let maxBodySize: Int

    func register<Context: RequestContext>(on router: Router<Context>) {
        let base = RouterPath(path)
        router.post(base) { request, context in await post(request, context, session: nil, handle: nil) }
        router.post("\(path)/:session") { request, context in
            await post(request, context, session: context.parameters.get("session"), handle: nil)
        }
        router.post("\(path)/:session/:handle") { request, context in
            await post(request, context, session: context.parameters.get("session"), handle: context.parameters.get("handle"))
        }
        router.get("\(path)/info") { _, _ in Response.json(gateway.serverInfo(transaction: Self.randomTransaction())) }
        router.get("\(path)/:session") { request, context in
            await longPoll(request, session: context.parameters.get("session"))
        }
        for route in [base, "\(path)/:session", "\(path)/:session/:handle"] as [RouterPath] {
            router.on(route, method: .options) { _, _ in Response(status: .ok) }
        }
    }

    private func post<Context: RequestContext>(_ request: Request, _ context: Context, session: String?, handle: String?) async -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodySize)
        } catch {
            let tooLarge = JanusError(.invalidJSON, "Request body too large (limit \(maxBodySize) bytes)")
            return .json(tooLarge.reply(transaction: nil), status: .contentTooLarge)
        }
        var origin = RequestOrigin(transport: Self.package)
        origin.pathSessionID = session.flatMap(pathID)
        origin.pathHandleID = handle.flatMap(pathID)
        origin.invalidPath = (session != nil && origin.pathSessionID == nil) || (handle != nil && origin.pathHandleID == nil)
        let reply = await gateway.process(body.readableBytesView, origin: origin)
        if let after = reply.afterSending { Task { await after() } }
        return .json(reply.json)
    }

    /// Waits up to 30 s for events; `maxev` > 1 batches them into an array, as Janus does.
    private func longPoll(_ request: Request, session sessionText: String?) async -> Response {
        // Janus answers a long poll for an unknown session, or without credentials, with a bare status.
        guard let id = pathID(sessionText), let session = gateway.session(id), !session.isDestroyed else {
            return Response(status: .notFound)
        }
        let query = request.uri.queryParameters
        var credentials: [String: JSON] = [:]
        if let secret = query["apisecret"] { credentials["apisecret"] = .string(String(secret)) }
        if let token = query["token"] { credentials["token"] = .string(String(token)) }
        guard gateway.auth.authorizes(credentials) else { return Response(status: .forbidden) }
        let maxEvents = query["maxev"].flatMap { Int(String($0)) }.map { max(1, min($0, 100)) } ?? 1
        // As in Janus, a waiting long poll is not activity: clients send keepalives.
        let events = await session.nextEvents(max: maxEvents, deadline: .now + Self.longPollTimeout)
        if events.isEmpty { return .json(["janus": "keepalive"]) }
        return .json(maxEvents > 1 ? .array(events) : events[0])
    }

    /// Janus answers `GET /janus/info` with a transaction id of its own.
    static func randomTransaction() -> String {
        String((0..<12).map { _ in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement()! })
    }

}
