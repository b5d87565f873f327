/// Every kind the server knows, and look-ups by path and by apiVersion/kind.
public struct Registry: Sendable {
    public let types: [ResourceType]

    public init(types: [ResourceType]) {
        self.types = types
    }

    /// The API group/versions in the order discovery lists them (core first).
    public var groupVersions: [(group: String, version: String)] {
        var seen: [String] = []
        var result: [(String, String)] = []
        for type in types where !seen.contains(type.apiVersion) {
            seen.append(type.apiVersion)
            result.append((type.group, type.version))
        }
        return result
    }

    public func resource(group: String, version: String, plural: String) -> ResourceType? {
        types.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    public func resource(apiVersion: String, kind: String) -> ResourceType? {
        types.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    public func resources(group: String, version: String) -> [ResourceType] {
        types.filter { $0.group == group && $0.version == version }
    }

    /// The kinds SwiftVirt serves, in the order discovery lists them. Each is described in one place, its
    /// `ResourceType` (`ResourceType+Core.swift` and its neighbours): REST names, printing, admission and
    /// protobuf message.
    public static let standard = Registry(types: [
        // core/v1
        .namespace, .node, .pod, .persistentVolumeClaim, .persistentVolume, .event, .secret, .configMap, .service,
        // storage.k8s.io/v1, coordination.k8s.io/v1, policy/v1, certificates.k8s.io/v1, discovery.k8s.io/v1
        .storageClass, .lease, .eviction, .certificateSigningRequest, .endpointSlice,
        // kubevirt.io/v1, migrations.kubevirt.io/v1alpha1, cdi.kubevirt.io/v1beta1
        .virtualMachine, .virtualMachineInstance, .virtualMachineInstanceMigration, .migrationPolicy, .dataVolume,
        .storageProfile, .dataSource,
        // upload.cdi.kubevirt.io/v1beta1 (create-only, nothing stored)
        .uploadTokenRequest,
        // k8s.cni.cncf.io/v1, nmstate.io/v1 and v1beta1
        .networkAttachmentDefinition, .nodeNetworkConfigurationPolicy, .nodeNetworkConfigurationEnactment, .nodeNetworkState,
    ])
}
