import VirtAPI
@testable import VirtAPIServer
import VirtStore
import VirtTestSupport

/// The router over a real SQLite store in a temporary directory, without authentication or sockets: what
/// the router suites send requests to.
struct InMemoryAPI {
    let router: APIRouter
    let directory: TemporaryDirectory

    /// With `namespaces`, the built-in namespaces exist, as in a daemon.
    init(prefix: String, namespaces: Bool = true) async throws {
        directory = try TemporaryDirectory(prefix: prefix)
        router = APIRouter(store: try SQLiteStore(path: directory.path + "/store.db"), tokens: nil)
        if namespaces { try await Bootstrap.ensureNamespaces(router.handler) }
    }

    /// One request; the answer's status and JSON body (`.null` when the body is not JSON bytes).
    func send(_ method: String, _ path: String, _ body: JSONValue? = nil, query: [String: String] = [:],
              contentType: String = "application/json", accept: String = "application/json") async throws -> (Int, JSONValue) {
        let request = APIRequest(method: method, path: path, query: query, accept: accept, contentType: contentType,
                                 body: body?.serializedBytes() ?? [])
        let response = await router.respond(request, authorization: nil)
        guard case .bytes(let bytes) = response.body else { return (response.status, .null) }
        return (response.status, try JSONValue.parse(bytes))
    }
}
