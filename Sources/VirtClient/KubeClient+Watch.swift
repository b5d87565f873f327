import AsyncHTTPClient
import NIOCore
import VirtAPI
import VirtError

extension KubeClient {
    /// Watches a collection: a long-lived `GET …?watch=true` whose chunked body is one JSON event per line.
    ///
    /// The stream ends when the server closes the response (a watch is never closed by a client-side
    /// timeout; pass `timeoutSeconds` to have the server end it). An `ERROR` event (for example 410 Expired
    /// when `resourceVersion` is too old) ends the stream by throwing the `VirtError` its `Status` describes.
    /// Cancelling the consuming task, or dropping the stream, closes the connection.
    ///
    /// - Parameters:
    ///   - path: the collection (a name in `path` becomes a `metadata.name` field selector, as kubectl does).
    ///   - resourceVersion: deliver events after this version; `nil` or `"0"` first sends the current state
    ///     as `ADDED` events.
    ///   - accept: ``KubeClient/tableAccept`` makes every event's object a one-row `Table`.
    public func watch(
        _ path: ResourcePath,
        resourceVersion: String? = nil,
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        allowBookmarks: Bool = false,
        timeoutSeconds: Int? = nil,
        accept: String = KubeClient.jsonAccept
    ) -> AsyncThrowingStream<WatchEvent, any Error> {
        var query: [(String, String)] = []
        if allowBookmarks { query.append(("allowWatchBookmarks", "true")) }
        var fields = fieldSelector.flatMap { $0.isEmpty ? nil : $0 }
        if let name = path.name {
            let byName = "metadata.name=\(name)"
            fields = fields.map { "\(byName),\($0)" } ?? byName
        }
        if let fields { query.append(("fieldSelector", fields)) }
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if let timeoutSeconds { query.append(("timeoutSeconds", String(timeoutSeconds))) }
        query.append(("watch", "true"))
        let urlPath = ResourcePath(
            group: path.group, version: path.version, resource: path.resource, namespace: path.namespace
        ).urlPath
        let request = makeRequest(method: "GET", path: urlPath, query: query, body: nil, contentType: nil, accept: accept)

        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchEvent.self, throwing: (any Error).self)
        let task = Task { [self] in
            do {
                let response: HTTPClientResponse
                do {
                    response = try await http.execute(request, deadline: .distantFuture)
                } catch {
                    throw transportError(error, method: "GET", path: urlPath)
                }
                guard (200..<300).contains(Int(response.status.code)) else {
                    let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
                    throw KubeStatus.error(httpStatus: Int(response.status.code), body: body)
                }
                var splitter = LineSplitter()
                do {
                    for try await buffer in response.body {
                        for line in splitter.append(buffer.readableBytesView) {
                            continuation.yield(try WatchEvent.decode(line))
                        }
                    }
                } catch let error as VirtError {
                    throw error
                } catch {
                    if Task.isCancelled { throw CancellationError() }
                    throw VirtError(
                        .serviceUnavailable, "the watch on \(urlPath) at \(serverURL) broke off",
                        cause: TransportFailure(description: String(describing: error))
                    )
                }
                if let rest = splitter.finish() {
                    continuation.yield(try WatchEvent.decode(rest))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
