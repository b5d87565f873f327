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
        let wanted = Self.slices(for: typed, uid: service.metadataUID ?? "", pods: pods.list(namespace: key.namespace), selector: selector)
        let collection = Self.slices.inNamespace(key.namespace)
        for slice in wanted {
            guard let name = slice.metadataName else { continue }
            let path = collection.named(name)
            if var existing = try await client.getIfPresent(path) {
                guard existing["endpoints"] != slice["endpoints"] || existing["ports"] != slice["ports"] else { continue }
                existing["endpoints"] = slice["endpoints"]
                existing["ports"] = slice["ports"]
                _ = try await client.update(path, body: existing)
            } else {
                _ = try await client.create(collection, body: slice)
            }
        }
        // Slices of ours for port mappings no pod has any more (the first one always stays).
        let names = Set(wanted.compactMap(\.metadataName))
        let ours = try await client.list(collection, labelSelector: "\(ServiceNames.serviceNameLabel)=\(key.name),\(ServiceNames.managedByLabel)=\(ServiceNames.managedBy)",
                                         fieldSelector: nil)
        for slice in ours["items"]?.arrayValue ?? [] {
            if let name = slice.metadataName, !names.contains(name) { try await client.deleteIfPresent(collection.named(name)) }
        }
        return .done
    }

    /// The slices of `service`, one per port mapping as Kubernetes keeps them: pods that resolve the
    /// Service's named target ports alike share one, and a pod without a name's port is in a slice
    /// without that port. The first (named as the Service) holds the pods that resolve the most ports; the
    /// others are `<service>-<hash of their ports>`.
    static func slices(for service: KubeService, uid: String, pods: [JSONValue], selector: [String: String]) -> [JSONValue] {
        let name = service.metadata?.name ?? ""
        let ports = service.spec?.ports ?? []
        let picked = Self.picked(pods, selector: selector)
        // Each pod's number for each named port (nil: the pod has no such port).
        func mapping(_ pod: JSONValue) -> [Int?] {
            ports.map { port in
                guard let portName = port.targetPort?.stringValue else { return port.targetPortNumber }
                return Self.containerPort(named: portName, transport: port.protocol ?? "TCP", of: pod)
            }
        }
        var groups: [[Int?]: [JSONValue]] = [:]
        var order: [[Int?]] = []
        for pod in picked {
            let key = mapping(pod)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(pod)
        }
        // The Service's own slice first: its mapping resolves the most ports (the numeric ones when no pod resolves a name).
        let numeric = ports.map { $0.targetPort?.stringValue == nil ? $0.targetPortNumber : nil }
        let first = order.max { $0.compactMap { $0 }.count < $1.compactMap { $0 }.count } ?? numeric
        var result = [slice(for: service, uid: uid, name: name, pods: groups[first] ?? [], numbers: first)]
        for key in order where key != first {
            let suffix = String(FNV1a.hash64(key.map { $0.map(String.init) ?? "-" }.joined(separator: ",")) & 0xffff_ffff, radix: 16)
            result.append(slice(for: service, uid: uid, name: "\(name)-\(suffix)", pods: groups[key] ?? [], numbers: key))
        }
        return result
    }

    /// The pods a selector picks that have an address, in name order.
    static func picked(_ pods: [JSONValue], selector: [String: String]) -> [JSONValue] {
        pods.filter { pod in
            let labels = pod.metadataLabels
            return pod.metadataDeletionTimestamp == nil && selector.allSatisfy { labels[$0.key] == $0.value }
                && !(pod[path: ["status", "podIP"]]?.stringValue ?? "").isEmpty
        }.sorted { ($0.metadataName ?? "") < ($1.metadataName ?? "") }
    }

    /// One slice: `pods` with the port `numbers` (nil: the port is left out, as for pods without that name).
    static func slice(for service: KubeService, uid: String, name: String, pods picked: [JSONValue], numbers: [Int?]) -> JSONValue {
        let serviceName = service.metadata?.name ?? ""
        let namespace = service.metadata?.namespace ?? "default"
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
        let ports: [JSONValue] = zip(service.spec?.ports ?? [], numbers).compactMap { port, number in
            guard let number else { return nil }
            return ["name": .string(port.name ?? ""), "port": .int(Int64(number)), "protocol": .string(port.protocol ?? "TCP")]
        }
        return [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": [
                "name": .string(name), "namespace": .string(namespace),
                "labels": [ServiceNames.serviceNameLabel: .string(serviceName), ServiceNames.managedByLabel: .string(ServiceNames.managedBy)],
                "ownerReferences": [["apiVersion": "v1", "kind": "Service", "name": .string(serviceName), "uid": .string(uid), "controller": true,
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
