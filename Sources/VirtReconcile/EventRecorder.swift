import Foundation
import Logging
import Synchronization
import VirtAPI
import VirtClient
import VirtError

/// Records core/v1 `Event`s about objects (what `kubectl describe` and `kubectl get events` show), the way
/// client-go's recorder does: one Event per distinct (object, type, reason, message); a repeat bumps its
/// `count` and `lastTimestamp` instead of creating another.
///
/// Recording never fails the caller: an Event that cannot be written is logged and dropped.
public final class EventRecorder: Sendable {
    /// `Normal` or `Warning`.
    public enum EventType: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    /// `source.component`, e.g. `virtualmachine-controller`, `default-scheduler`.
    public let component: String
    /// `source.host`, if any.
    public let host: String?
    let client: any APIClient
    let now: @Sendable () -> Date
    let logger: Logger
    private let seen = Mutex(Seen())

    private struct Seen {
        var entries: [String: Entry] = [:]
        var order: [String] = []
    }

    private struct Entry {
        var namespace: String
        var name: String
        var count: Int64
    }

    /// How many distinct events the recorder remembers for aggregation.
    static let memory = 4096

    public init(client: any APIClient, component: String, host: String? = nil, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.client = client
        self.component = component
        self.host = host
        self.now = now
        self.logger = logger
    }

    /// Records an event about an object (its `kind`, `apiVersion` and metadata name the involved object).
    public func record(_ object: JSONValue, _ type: EventType, reason: String, message: String) async {
        var reference: JSONValue = [
            "kind": object["kind"] ?? .null,
            "apiVersion": object["apiVersion"] ?? .null,
            "name": object[path: ["metadata", "name"]] ?? .null,
            "uid": object[path: ["metadata", "uid"]] ?? .null,
        ]
        if let namespace = object.metadataNamespace { reference["namespace"] = .string(namespace) }
        if let version = object.metadataResourceVersion { reference["resourceVersion"] = .string(version) }
        await record(reference: reference.droppingNulls(), type, reason: reason, message: message)
    }

    /// Records an event about the object an `ObjectReference` names.
    public func record(reference: JSONValue, _ type: EventType, reason: String, message: String) async {
        let namespace = reference["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        let involvedName = reference["name"]?.stringValue ?? "unknown"
        let identity = [
            reference["kind"]?.stringValue ?? "", namespace, involvedName, reference["uid"]?.stringValue ?? "",
            type.rawValue, reason, message,
        ].joined(separator: "\u{1F}")
        let timestamp = KubeTime.format(now())
        let path = ResourcePath.core("events", namespace: namespace)

        if let entry = seen.withLock({ $0.entries[identity] }) {
            let count = entry.count + 1
            let patch: JSONValue = ["count": .int(count), "lastTimestamp": .string(timestamp)]
            do {
                _ = try await client.patch(path.named(entry.name), mergePatch: patch)
                seen.withLock { $0.entries[identity]?.count = count }
                return
            } catch where error.code == .notFound {
                // Expired or deleted: record it afresh below.
            } catch {
                logger.warning("could not update event", metadata: ["reason": "\(reason)", "object": "\(involvedName)", "error": "\(error)"])
                return
            }
        }

        var involved = reference
        involved["resourceVersion"] = nil
        var name = Self.eventName(involvedName, now())
        var event: JSONValue = [
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "involvedObject": involved,
            "reason": .string(reason),
            "message": .string(message),
            "type": .string(type.rawValue),
            "source": ["component": .string(component)],
            "count": 1,
            "firstTimestamp": .string(timestamp),
            "lastTimestamp": .string(timestamp),
            "reportingComponent": .string(component),
            "reportingInstance": .string(host ?? ""),
        ]
        if let host { event[path: ["source", "host"]] = .string(host) }
        do {
            // Two events of one object in the same nanosecond (or under a test's fixed clock) can draw the
            // same name: draw again rather than lose the second.
            var attempts = 0
            while true {
                do {
                    _ = try await client.create(path, body: event)
                    break
                } catch where error.code == .exists && attempts < 5 {
                    attempts += 1
                    name = Self.eventName(involvedName, now())
                    event[path: ["metadata", "name"]] = .string(name)
                }
            }
            seen.withLock { seen in
                if seen.entries.updateValue(Entry(namespace: namespace, name: name, count: 1), forKey: identity) == nil {
                    seen.order.append(identity)
                }
                if seen.order.count > EventRecorder.memory {
                    let excess = seen.order.count - EventRecorder.memory
                    for key in seen.order.prefix(excess) { seen.entries[key] = nil }
                    seen.order.removeFirst(excess)
                }
            }
        } catch {
            logger.warning("could not record event", metadata: ["reason": "\(reason)", "object": "\(involvedName)", "error": "\(error)"])
        }
    }
}

extension EventRecorder {
    /// `<object>.<nanoseconds + a random few, hex>`, as Kubernetes names events.
    static func eventName(_ involvedName: String, _ date: Date) -> String {
        "\(involvedName).\(String(UInt64(max(0, date.timeIntervalSince1970 * 1e9)) &+ UInt64.random(in: 0..<1_000_000), radix: 16))"
    }
}

extension JSONValue {
    /// An object without its `null` members.
    func droppingNulls() -> JSONValue {
        guard case .object(let members) = self else { return self }
        return .object(members.filter { $0.value != .null })
    }
}
