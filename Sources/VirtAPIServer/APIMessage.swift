import NIOCore
import VirtAPI
import VirtError

/// A request as the handlers see it, free of the HTTP library.
public struct APIRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var accept: String
    public var contentType: String
    public var body: [UInt8]

    public init(method: String, path: String, query: [String: String] = [:], accept: String = "application/json", contentType: String = "application/json", body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.accept = accept
        self.contentType = contentType
        self.body = body
    }

    /// `true` for `?watch=1` / `?watch=true`.
    func flag(_ name: String) -> Bool {
        guard let value = query[name] else { return false }
        return value == "1" || value.lowercased() == "true"
    }

    /// The client asked for a server-side Table (`kubectl get`).
    var wantsTable: Bool { accept.contains("as=Table") }
}

/// Where a pushed body goes.
public protocol ChunkSink: Sendable {
    /// Queues one chunk without blocking; chunks leave in the order of the calls.
    func send(_ chunk: PushChunk)
    /// Returns once the connection has closed.
    func closed() async
}

extension ChunkSink {
    public func send(_ bytes: [UInt8]) { send(PushChunk(bytes)) }
}

/// One chunk of a pushed body, with its HTTP/1.1 chunk framing (`size CRLF data CRLF`) made once: a watch
/// event that a thousand watchers send is framed once, not a thousand times.
public final class PushChunk: Sendable {
    public let bytes: [UInt8]
    let framed: ByteBuffer

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        let size = String(bytes.count, radix: 16)
        var framed = ByteBuffer()
        framed.reserveCapacity(bytes.count + size.utf8.count + 4)
        framed.writeString(size)
        framed.writeStaticString("\r\n")
        framed.writeBytes(bytes)
        framed.writeStaticString("\r\n")
        self.framed = framed
    }
}

/// A response: a whole body or a stream of chunks (watch).
public struct APIResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        case stream(AsyncThrowingStream<[UInt8], any Error>)
        /// Chunks handed straight to the connection by whatever thread makes them (for a watch, the
        /// store's, as it publishes), with no task per chunk: a thousand watchers cost no task switch per
        /// watcher per event. `run` returns when the watch is over (the client went away).
        case push(@Sendable (_ sink: any ChunkSink) async throws -> Void)
    }

    public var status: Int
    public var contentType: String
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, contentType: String = "application/json", headers: [(String, String)] = [], body: Body) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    static func json(_ value: JSONValue, status: Int = 200, warnings: [String] = []) -> APIResponse {
        .json(bytes: value.serializedBytes(), status: status, warnings: warnings)
    }

    /// An object already serialized (as the store wrote it).
    static func json(bytes: [UInt8], status: Int = 200, warnings: [String] = []) -> APIResponse {
        APIResponse(status: status, headers: warnings.map { ("Warning", "299 - \(JSONValue.string($0).serialized())") }, body: .bytes(bytes))
    }

    /// A Kubernetes `Status` for an error.
    static func error(_ error: VirtError) -> APIResponse {
        .json(error.statusObject, status: error.code.httpStatus)
    }
}

extension VirtError {
    /// The `metav1.Status` body for this error.
    public var statusObject: JSONValue {
        var status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reasonText), "code": .int(Int64(code.httpStatus)),
        ]
        if details != nil || !causes.isEmpty {
            var detailObject: [String: JSONValue] = [:]
            if let details {
                if !details.name.isEmpty { detailObject["name"] = .string(details.name) }
                if !details.group.isEmpty { detailObject["group"] = .string(details.group) }
                if !details.kind.isEmpty { detailObject["kind"] = .string(details.kind) }
            }
            if !causes.isEmpty {
                detailObject["causes"] = .array(causes.map { ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)] })
            }
            status["details"] = .object(detailObject)
        }
        return status
    }

    private var reasonText: String {
        switch code {
        case .invalidState: "Conflict"
        case .internal: "InternalError"
        default: code.rawValue
        }
    }
}
