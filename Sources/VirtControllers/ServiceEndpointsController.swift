import Logging
import VirtAPI
import VirtClient
import VirtError
import VirtReconcile

/// Keeps each Service's EndpointSlice (named as the Service, labelled `kubernetes.io/service-name`,
/// owned by it): one endpoint per pod of its namespace that its selector picks and that has an address,
/// ready while the pod runs; the ports are the Service's target ports. A Service without a selector is
/// left alone (its slices are the user's), as Kubernetes does.
///
/// It also settles clashes of the addresses offered at admission (``ServiceNames``): of two Services with
/// the same cluster IP or node port, the younger gets the next free one.
///
/// Keys are Services; pod events wake the Services of the pod's namespace.
public struct ServiceEndpointsController: Reconciler {
    public static let services = ResourcePath.core("services")
    public static let slices = ResourcePath(group: "discovery.k8s.io", version: "v1", resource: "endpointslices")

    let client: any APIClient
    let serviceCache: ObjectCache
    let pods: ObjectCache
    let logger: Logger

    public init(client: any APIClient, services: ObjectCache, pods: ObjectCache, logger: Logger) {
        self.client = client
        self.serviceCache = services
        self.pods = pods
        self.logger = logger
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let service = serviceCache.get(key), service.metadataDeletionTimestamp == nil else { return .done }
        // A moved Service comes back with its new address; its slice is written either way.
        _ = try await settleClashes(service, key: key)
        guard let selector = service[path: ["spec", "selector"]]?.objectValue?.compactMapValues(\.stringValue), !selector.isEmpty else { return .done }
        let typed: KubeService = try service.decoded()
        let slice = Self.slice(for: typed, uid: service.metadataUID ?? "", pods: pods.list(namespace: key.namespace), selector: selector)
        let path = Self.slices.inNamespace(key.namespace).named(key.name)
        let existing: JSONValue?
        do {
            existing = try await client.get(path)
        } catch {
            guard error.code == .notFound else { throw error }
            existing = nil
        }
        if var existing {
            guard existing["endpoints"] != slice["endpoints"] || existing["ports"] != slice["ports"] else { return .done }
            existing["endpoints"] = slice["endpoints"]
            existing["ports"] = slice["ports"]
            _ = try await client.update(path, body: existing)
        } else {
            _ = try await client.create(Self.slices.inNamespace(key.namespace), body: slice)
        }
        return .done
    }

    /// The slice of `service`: its pods with addresses, in name order. A named `targetPort` is the number
    /// of the container port of that name and protocol on the pods (the launcher pod's carry the VMI's
    /// interface ports); a pod without it, or with another number than the first pod's, is left out.
    static func slice(for service: KubeService, uid: String, pods: [JSONValue], selector: [String: String]) -> JSONValue {
        let name = service.metadata?.name ?? ""
        let namespace = service.metadata?.namespace ?? "default"
        var picked = pods.filter { pod in
            let labels = pod.metadataLabels
            return pod.metadataDeletionTimestamp == nil && selector.allSatisfy { labels[$0.key] == $0.value }
                && !(pod[path: ["status", "podIP"]]?.stringValue ?? "").isEmpty
        }.sorted { ($0.metadataName ?? "") < ($1.metadataName ?? "") }
        var resolved: [Int: Int] = [:]
        for (index, port) in (service.spec?.ports ?? []).enumerated() {
            guard let portName = port.targetPort?.stringValue else { continue }
            let transport = port.protocol ?? "TCP"
            let numbers = picked.map { Self.containerPort(named: portName, transport: transport, of: $0) }
            guard let first = numbers.compactMap({ $0 }).first else {
                picked = []
                break
            }
            resolved[index] = first
            picked = zip(picked, numbers).filter { $0.1 == first }.map(\.0)
        }
        let endpoints: [JSONValue] = picked.map { pod in
            let ready = pod[path: ["status", "phase"]]?.stringValue == "Running"
            var endpoint: JSONValue = [
                "addresses": [pod[path: ["status", "podIP"]] ?? .null],
                "conditions": ["ready": .bool(ready), "serving": .bool(ready), "terminating": false],
                "targetRef": ["kind": "Pod", "namespace": .string(namespace), "name": .string(pod.metadataName ?? ""), "uid": .string(pod.metadataUID ?? "")],
            ]
            if let node = pod[path: ["spec", "nodeName"]]?.stringValue { endpoint["nodeName"] = .string(node) }
            return endpoint
        }
        let ports: [JSONValue] = (service.spec?.ports ?? []).enumerated().compactMap { index, port in
            if port.targetPort?.stringValue != nil && resolved[index] == nil { return nil }
            return ["name": .string(port.name ?? ""), "port": .int(Int64(resolved[index] ?? port.targetPortNumber)),
                    "protocol": .string(port.protocol ?? "TCP")]
        }
        return [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": [
                "name": .string(name), "namespace": .string(namespace),
                "labels": [ServiceNames.serviceNameLabel: .string(name), ServiceNames.managedByLabel: .string(ServiceNames.managedBy)],
                "ownerReferences": [["apiVersion": "v1", "kind": "Service", "name": .string(name), "uid": .string(uid), "controller": true,
                                     "blockOwnerDeletion": true]],
            ],
            "addressType": "IPv4", "endpoints": .array(endpoints), "ports": .array(ports),
        ]
    }

    /// The number of `pod`'s container port called `name` with protocol `transport`.
    static func containerPort(named name: String, transport: String, of pod: JSONValue) -> Int? {
        for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            for port in container["ports"]?.arrayValue ?? [] where port["name"]?.stringValue == name
                && (port["protocol"]?.stringValue ?? "TCP") == transport {
                if let number = port["containerPort"]?.intValue, (1...65535).contains(number) { return Int(number) }
            }
        }
        return nil
    }

    /// Moves this Service's cluster IP or node ports when an older Service has them; true when it wrote.
    func settleClashes(_ service: JSONValue, key: ObjectKey) async throws -> Bool {
        let others = serviceCache.list().filter { $0.metadataUID != service.metadataUID && Self.isOlder($0, than: service) }
        let takenIPs = Set(others.compactMap { $0[path: ["spec", "clusterIP"]]?.stringValue })
        let takenPorts = Set(others.flatMap { ($0[path: ["spec", "ports"]]?.arrayValue ?? []).compactMap { $0["nodePort"]?.intValue } })
        var changed = service
        let namespace = key.namespace ?? "default"
        var wrote = false
        if let ip = service[path: ["spec", "clusterIP"]]?.stringValue, takenIPs.contains(ip) {
            var attempt = 1
            var next = ServiceNames.clusterIP(namespace: namespace, name: key.name, attempt: attempt).description
            while takenIPs.contains(next) && attempt < 1000 {
                attempt += 1
                next = ServiceNames.clusterIP(namespace: namespace, name: key.name, attempt: attempt).description
            }
            changed[path: ["spec", "clusterIP"]] = .string(next)
            changed[path: ["spec", "clusterIPs"]] = [.string(next)]
            wrote = true
        }
        if case .array(var ports)? = service[path: ["spec", "ports"]] {
            var used = takenPorts
            for index in ports.indices {
                guard let nodePort = ports[index]["nodePort"]?.intValue, takenPorts.contains(nodePort), let port = ports[index]["port"]?.intValue else {
                    if let nodePort = ports[index]["nodePort"]?.intValue { used.insert(nodePort) }
                    continue
                }
                var attempt = 1
                var next = Int64(ServiceNames.nodePort(namespace: namespace, name: key.name, port: Int(port), attempt: attempt))
                while used.contains(next) && attempt < 10000 {
                    attempt += 1
                    next = Int64(ServiceNames.nodePort(namespace: namespace, name: key.name, port: Int(port), attempt: attempt))
                }
                used.insert(next)
                ports[index]["nodePort"] = .int(next)
                wrote = true
            }
            changed[path: ["spec", "ports"]] = .array(ports)
        }
        guard wrote else { return false }
        _ = try await client.update(Self.services.inNamespace(key.namespace).named(key.name), body: changed)
        logger.info("service \(key): its offered address or node port was another Service's; moved")
        return true
    }

    static func isOlder(_ a: JSONValue, than b: JSONValue) -> Bool {
        let (ta, tb) = (a[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "", b[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "")
        if ta != tb { return ta < tb }
        return (a.metadataUID ?? "") < (b.metadataUID ?? "")
    }
}
