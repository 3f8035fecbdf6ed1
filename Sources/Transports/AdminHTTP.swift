import Hummingbird
import JanusAPI
import NIOCore
import Prometheus

/// The Admin API over HTTP (`POST <admin path>[/<session>[/<handle>]]`) and `GET /metrics`
/// in Prometheus text format.
struct AdminHTTP {
    let gateway: Gateway
    let path: String
    let maxBodySize: Int
    let metrics: PrometheusCollectorRegistry

    func register<Context: RequestContext>(on router: Router<Context>) {
        router.post(RouterPath(path)) { request, _ in await post(request, session: nil, handle: nil) }
        router.post("\(path)/:session") { request, context in
            await post(request, session: context.parameters.get("session"), handle: nil)
        }
        router.post("\(path)/:session/:handle") { request, context in
            await post(request, session: context.parameters.get("session"), handle: context.parameters.get("handle"))
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
    }

    private func post(_ request: Request, session: String?, handle: String?) async -> Response {
        guard let body = await JanusPost.read(request, maxBodySize: maxBodySize) else { return JanusPost.tooLarge(maxBodySize) }
        let origin = JanusPost.origin(transport: JanusHTTP.package, session: session, handle: handle)
        return .json(await gateway.processAdmin(body.readableBytesView, origin: origin))
    }
}
