/// The networking kinds: Multus' network attachments and nmstate's node policies.
extension ResourceType {
    /// k8s.cni.cncf.io/v1 `NetworkAttachmentDefinition`.
    public static let networkAttachmentDefinition = ResourceType(
        group: "k8s.cni.cncf.io", version: "v1", kind: "NetworkAttachmentDefinition", plural: "network-attachment-definitions",
        shortNames: ["net-attach-def"], subresources: [],
        admission: .typed(NetworkAttachmentDefinition.self, validate: NetworkAttachmentDefinitionAdmission.validate))

    /// nmstate.io/v1 `NodeNetworkConfigurationPolicy`.
    public static let nodeNetworkConfigurationPolicy = ResourceType(
        group: "nmstate.io", version: "v1", kind: "NodeNetworkConfigurationPolicy", plural: "nodenetworkconfigurationpolicies",
        namespaced: false, shortNames: ["nncp"],
        columns: [
            .condition("Status", type: "Available"),
            PrinterColumn("Reason") { object in
                let conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
                return conditions.first { $0["status"]?.stringValue == "True" }?["reason"] ?? .null
            },
        ],
        admission: .typed(NodeNetworkConfigurationPolicy.self))

    /// nmstate.io/v1beta1 `NodeNetworkConfigurationEnactment`: how one policy went on one node
    /// (`<node>.<policy>`), written by that node's agent.
    public static let nodeNetworkConfigurationEnactment = ResourceType(
        group: "nmstate.io", version: "v1beta1", kind: "NodeNetworkConfigurationEnactment", plural: "nodenetworkconfigurationenactments",
        namespaced: false, shortNames: ["nnce"],
        columns: [
            PrinterColumn("Status") { object in
                let conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
                return conditions.first { $0["status"]?.stringValue == "True" }?["type"] ?? .null
            },
            PrinterColumn("Reason") { object in
                let conditions = object[path: ["status", "conditions"]]?.arrayValue ?? []
                return conditions.first { $0["status"]?.stringValue == "True" }?["reason"] ?? .null
            },
        ],
        admission: .typed(NodeNetworkConfigurationEnactment.self))

    /// nmstate.io/v1beta1 `NodeNetworkState`: a node's interfaces as its agent last read them (named as the
    /// node).
    public static let nodeNetworkState = ResourceType(
        group: "nmstate.io", version: "v1beta1", kind: "NodeNetworkState", plural: "nodenetworkstates",
        namespaced: false, shortNames: ["nns"],
        columns: [.age],
        admission: .typed(NodeNetworkState.self))
}
