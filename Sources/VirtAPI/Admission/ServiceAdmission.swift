import VirtError

/// core/v1 Service: the checks the Kubernetes API server makes that matter here, and its defaults, with a
/// cluster IP and node ports offered at once (``ServiceNames``; the service controller moves one that
/// clashes with another Service's).
enum ServiceAdmission {
    static let types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
    static let protocols = ["TCP", "UDP", "SCTP"]

    static func validate(_ service: KubeService, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        var causes: [VirtError.Cause] = []
        let spec = service.spec ?? ServiceSpec()
        let type = spec.type ?? "ClusterIP"
        if !types.contains(type) { causes.append(FieldErrors.notSupported("spec.type", type, types)) }
        let ports = spec.ports ?? []
        if type == "ExternalName" {
            if (spec.externalName ?? "").isEmpty { causes.append(FieldErrors.required("spec.externalName")) }
            return causes
        }
        if ports.isEmpty { causes.append(FieldErrors.required("spec.ports")) }
        var names: Set<String> = []
        var pairs: Set<String> = []
        for (i, port) in ports.enumerated() {
            let path = "spec.ports[\(i)]"
            if ports.count > 1, (port.name ?? "").isEmpty { causes.append(FieldErrors.required("\(path).name", "a name when there is more than one port")) }
            if let name = port.name, !name.isEmpty, !names.insert(name).inserted { causes.append(FieldErrors.duplicate("\(path).name", name)) }
            if !(1...65535).contains(port.port) {
                causes.append(FieldErrors.invalid("\(path).port", number: Int64(port.port), "must be between 1 and 65535, inclusive"))
            }
            let proto = port.protocol ?? "TCP"
            if !protocols.contains(proto) { causes.append(FieldErrors.notSupported("\(path).protocol", proto, protocols)) }
            if !pairs.insert("\(proto)/\(port.port)").inserted {
                causes.append(FieldErrors.duplicate("\(path)", "\(port.port)/\(proto)"))
            }
            if let target = port.targetPort, !target.isNull {
                if let number = target.intValue {
                    if !(1...65535).contains(number) {
                        causes.append(FieldErrors.invalid("\(path).targetPort", number: number, "must be between 1 and 65535, inclusive"))
                    }
                } else if target.stringValue?.isEmpty ?? true {
                    causes.append(FieldErrors.invalid("\(path).targetPort", "must be a port number or the name of a container port"))
                }
            }
            if let nodePort = port.nodePort, nodePort != 0 {
                if type == "ClusterIP" {
                    causes.append(FieldErrors.forbidden("\(path).nodePort", "may not be used when `type` is 'ClusterIP'"))
                } else if !ServiceNames.nodePortRange.contains(nodePort) {
                    causes.append(FieldErrors.invalid("\(path).nodePort", number: Int64(nodePort),
                        "provided port is not in the valid range. The range of valid ports is \(ServiceNames.nodePortRange.lowerBound)-\(ServiceNames.nodePortRange.upperBound)"))
                }
            }
        }
        if let clusterIP = spec.clusterIP, !clusterIP.isEmpty, clusterIP != "None" {
            if let address = IPv4Address(clusterIP) {
                if !ServiceNames.clusterIPRange.contains(address) {
                    causes.append(FieldErrors.invalid("spec.clusterIP", clusterIP, "provided IP is not in the valid range. The range of valid IPs is \(ServiceNames.clusterIPRange)"))
                }
            } else {
                causes.append(FieldErrors.invalid("spec.clusterIP", clusterIP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
            }
        }
        let affinity = spec.sessionAffinity ?? "None"
        if !["None", "ClientIP"].contains(affinity) {
            causes.append(FieldErrors.notSupported("spec.sessionAffinity", affinity, ["ClientIP", "None"]))
        }
        let timeout = spec.sessionAffinityConfig?[path: ["clientIP", "timeoutSeconds"]]
        if affinity == "ClientIP", let timeout, !timeout.isNull {
            let field = "spec.sessionAffinityConfig.clientIP.timeoutSeconds"
            if let seconds = timeout.intValue {
                if !(1...86400).contains(seconds) { causes.append(FieldErrors.invalid(field, number: seconds, "must be greater than 0 and less than 86400")) }
            } else {
                causes.append(FieldErrors.invalid(field, "must be a number of seconds, greater than 0 and less than 86400"))
            }
        } else if affinity == "None", let config = spec.sessionAffinityConfig, !config.isNull {
            causes.append(FieldErrors.invalid("spec.sessionAffinityConfig", "must not be set when spec.sessionAffinity is None; set sessionAffinity: ClientIP"))
        }
        for (field, value) in [("spec.externalTrafficPolicy", spec.externalTrafficPolicy), ("spec.internalTrafficPolicy", spec.internalTrafficPolicy)] {
            if let value, !["Cluster", "Local"].contains(value) { causes.append(FieldErrors.notSupported(field, value, ["Cluster", "Local"])) }
        }
        if type == "ClusterIP", let external = spec.externalTrafficPolicy {
            causes.append(FieldErrors.invalid("spec.externalTrafficPolicy", external, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
        }
        // Unlike Kubernetes, a cluster IP may change: the controller moves one offered twice (admission
        // cannot see the other Services), before anything relies on it.
        if spec.ipFamilies?.contains(where: { $0 != "IPv4" }) == true {
            causes.append(FieldErrors.notSupported("spec.ipFamilies", spec.ipFamilies?.first { $0 != "IPv4" } ?? "", ["IPv4"]))
        }
        return causes
    }

    /// Kubernetes' defaults: type ClusterIP, protocol TCP, targetPort = port, session affinity None,
    /// IPv4 single stack, traffic policies Cluster; a cluster IP and (NodePort, LoadBalancer) node ports
    /// offered from the Service's name.
    static func defaults(_ object: inout JSONValue) {
        guard case .object = object else { return }
        let namespace = object[path: ["metadata", "namespace"]]?.stringValue ?? "default"
        let name = object[path: ["metadata", "name"]]?.stringValue ?? object[path: ["metadata", "generateName"]]?.stringValue ?? ""
        var spec = object["spec"] ?? [:]
        guard case .object = spec else { return }
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        spec["type"] = .string(type)
        if type == "ExternalName" {
            object["spec"] = spec
            return
        }
        if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = "None" }
        if spec["sessionAffinity"]?.stringValue == "ClientIP", spec[path: ["sessionAffinityConfig", "clientIP", "timeoutSeconds"]] == nil {
            spec[path: ["sessionAffinityConfig", "clientIP", "timeoutSeconds"]] = .int(Int64(ServiceNames.defaultAffinitySeconds))
        }
        if spec["ipFamilies"] == nil { spec["ipFamilies"] = ["IPv4"] }
        if spec["ipFamilyPolicy"] == nil { spec["ipFamilyPolicy"] = "SingleStack" }
        if spec["internalTrafficPolicy"] == nil { spec["internalTrafficPolicy"] = "Cluster" }
        if type != "ClusterIP", spec["externalTrafficPolicy"] == nil { spec["externalTrafficPolicy"] = "Cluster" }
        let clusterIP = spec["clusterIP"]?.stringValue ?? ""
        if clusterIP.isEmpty {
            let offered = ServiceNames.clusterIP(namespace: namespace, name: name).description
            spec["clusterIP"] = .string(offered)
            spec["clusterIPs"] = [.string(offered)]
        } else if spec["clusterIPs"] == nil {
            spec["clusterIPs"] = [.string(clusterIP)]
        }
        if case .array(var ports)? = spec["ports"] {
            for index in ports.indices {
                guard case .object = ports[index] else { continue }
                if ports[index]["protocol"] == nil { ports[index]["protocol"] = "TCP" }
                if ports[index]["targetPort"] == nil, let port = ports[index]["port"] { ports[index]["targetPort"] = port }
                if type != "ClusterIP", (ports[index]["nodePort"]?.intValue ?? 0) == 0, let port = ports[index]["port"]?.intValue {
                    ports[index]["nodePort"] = .int(Int64(ServiceNames.nodePort(namespace: namespace, name: name, port: Int(port))))
                }
            }
            spec["ports"] = .array(ports)
        }
        object["spec"] = spec
    }

    static func validateEndpointSlice(_ slice: EndpointSlice, object: JSONValue, old: JSONValue?) -> [VirtError.Cause] {
        let types = ["IPv4", "IPv6", "FQDN"]
        var causes = types.contains(slice.addressType) ? [] : [FieldErrors.notSupported("addressType", slice.addressType, types)]
        for (i, port) in (slice.ports ?? []).enumerated() {
            if let number = port["port"]?.intValue, !(1...65535).contains(number) {
                causes.append(FieldErrors.invalid("ports[\(i)].port", number: number, "must be between 1 and 65535, inclusive"))
            }
            if let proto = port["protocol"]?.stringValue, !protocols.contains(proto) {
                causes.append(FieldErrors.notSupported("ports[\(i)].protocol", proto, protocols))
            }
        }
        for (i, endpoint) in (slice.endpoints ?? []).enumerated() {
            for (j, address) in (endpoint["addresses"]?.arrayValue ?? []).enumerated() where slice.addressType == "IPv4" {
                if address.stringValue.flatMap({ IPv4Address($0) }) == nil {
                    causes.append(FieldErrors.invalid("endpoints[\(i)].addresses[\(j)]", "must be a valid IPv4 address"))
                }
            }
        }
        return causes
    }
}
