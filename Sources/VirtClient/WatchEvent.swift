import VirtAPI
import VirtError

/// One event of a watch stream: `{"type":"ADDED","object":{...}}`.
public struct WatchEvent: Sendable, Equatable {
    /// What happened to the object.
    public enum EventType: String, Sendable, Equatable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// Carries only `metadata.resourceVersion`: the stream has seen everything up to it.
        case bookmark = "BOOKMARK"
        /// Carries a `Status`. ``KubeClient/watch(_:resourceVersion:labelSelector:fieldSelector:allowBookmarks:timeoutSeconds:accept:)``
        /// throws it as a `VirtError` instead of yielding it.
        case error = "ERROR"
    }

    /// `ADDED`, `MODIFIED`, `DELETED` or `BOOKMARK`.
    public var type: EventType
    /// The object (or, for a watch with the Table `Accept`, a one-row `Table`).
    public var object: JSONValue

    /// Creates an event.
    public init(type: EventType, object: JSONValue) {
        self.type = type
        self.object = object
    }

    /// `object.metadata.resourceVersion` (for a Table, the table's own `metadata.resourceVersion`).
    public var resourceVersion: String? { object[path: ["metadata", "resourceVersion"]]?.stringValue }
}

extension WatchEvent {
    /// Decodes one line of a watch stream.
    ///
    /// - Throws: the `VirtError` an `ERROR` event's `Status` describes; `VirtError.internal` for a line that
    ///   is not a watch event.
    public static func decode(_ line: [UInt8]) throws(VirtError) -> WatchEvent {
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            throw VirtError(.internal, "the server sent a malformed watch event: \(error.message)")
        }
        guard let typeName = value["type"]?.stringValue, let object = value["object"] else {
            throw VirtError(.internal, "the server sent a watch event without type or object")
        }
        guard let type = EventType(rawValue: typeName) else {
            throw VirtError(.internal, "the server sent a watch event of unknown type \"\(typeName)\"")
        }
        if type == .error {
            throw KubeStatus.error(status: object, httpStatus: object["code"]?.intValue.map(Int.init) ?? 500)
        }
        return WatchEvent(type: type, object: object)
    }
}
