import Testing
import VirtAPI
import VirtClient
import VirtError

@Suite struct DiscoveryTests {
    static let coreV1 = """
        {"kind":"APIResourceList","groupVersion":"v1","resources":[
          {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","shortNames":["po"],"verbs":["get","list","watch"]},
          {"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]},
          {"name":"namespaces","singularName":"namespace","namespaced":false,"kind":"Namespace","shortNames":["ns"],"verbs":["get","list"]},
          {"name":"events","singularName":"","namespaced":true,"kind":"Event","shortNames":["ev"],"verbs":["list"]}
        ]}
        """
    static let kubevirtV1 = """
        {"kind":"APIResourceList","apiVersion":"v1","groupVersion":"kubevirt.io/v1","resources":[
          {"name":"virtualmachines","singularName":"virtualmachine","namespaced":true,"kind":"VirtualMachine",
           "shortNames":["vm","vms"],"categories":["all"],"verbs":["create","delete","get","list","patch","update","watch"]},
          {"name":"virtualmachines/status","singularName":"","namespaced":true,"kind":"VirtualMachine","verbs":["get","patch","update"]},
          {"name":"virtualmachineinstances","singularName":"virtualmachineinstance","namespaced":true,"kind":"VirtualMachineInstance",
           "shortNames":["vmi","vmis"],"categories":["all"],"verbs":["get","list"]}
        ]}
        """
    static let kubevirtV1alpha3 = """
        {"kind":"APIResourceList","groupVersion":"kubevirt.io/v1alpha3","resources":[
          {"name":"virtualmachines","singularName":"virtualmachine","namespaced":true,"kind":"VirtualMachine","shortNames":["vm"]}
        ]}
        """
    static let metricsPods = """
        {"kind":"APIResourceList","groupVersion":"metrics.k8s.io/v1beta1","resources":[
          {"name":"pods","singularName":"","namespaced":true,"kind":"PodMetrics","verbs":["get","list"]}
        ]}
        """

    static func discovery() throws -> Discovery {
        try Discovery(resourceLists: [coreV1, kubevirtV1, kubevirtV1alpha3, metricsPods].map { try JSONValue.parse($0) })
    }

    @Test(arguments: ["vm", "vms", "virtualmachine", "virtualmachines", "VirtualMachine", "VIRTUALMACHINES",
                      "virtualmachines.kubevirt.io", "vm.kubevirt.io", "virtualmachines.v1.kubevirt.io"])
    func virtualMachineSpellings(_ typed: String) throws {
        let resource = try Self.discovery().resolve(typed)
        #expect(resource.group == "kubevirt.io")
        #expect(resource.version == "v1")
        #expect(resource.name == "virtualmachines")
        #expect(resource.kind == "VirtualMachine")
        #expect(resource.namespaced)
        #expect(resource.qualifiedName == "virtualmachines.kubevirt.io")
        #expect(resource.kindQualifiedName == "virtualmachine.kubevirt.io")
    }

    @Test func aQualifiedVersionPicksThatVersion() throws {
        let resource = try Self.discovery().resolve("vm.v1alpha3.kubevirt.io")
        #expect(resource.version == "v1alpha3")
    }

    @Test func coreResourcesWinOverOtherGroups() throws {
        let pods = try Self.discovery().resolve("pods")
        #expect(pods.group == "")
        #expect(pods.kind == "Pod")
        #expect(try Self.discovery().resolve("po").name == "pods")
        #expect(try Self.discovery().resolve("pods.metrics.k8s.io").kind == "PodMetrics")
    }

    @Test func clusterScopedAndEmptySingularNames() throws {
        let ns = try Self.discovery().resolve("ns")
        #expect(ns.name == "namespaces")
        #expect(!ns.namespaced)
        #expect(ns.path(namespace: "ignored", name: "default").urlPath == "/api/v1/namespaces/default")
        // An empty singularName falls back to the lower-cased kind.
        #expect(try Self.discovery().resolve("event").name == "events")
    }

    @Test func subresourcesAreNotResourceTypes() throws {
        let names = try Self.discovery().resources.map(\.name)
        #expect(!names.contains { $0.contains("/") })
    }

    @Test func unknownTypesUseKubectlsWording() throws {
        let error = #expect(throws: VirtError.self) { try Self.discovery().resolve("foo") }
        #expect(error?.message == "the server doesn't have a resource type \"foo\"")
        #expect(error?.code == .notFound)
    }

    @Test func manifestsResolveByAPIVersionAndKind() throws {
        let discovery = try Self.discovery()
        #expect(try discovery.resolve(apiVersion: "kubevirt.io/v1", kind: "VirtualMachine").name == "virtualmachines")
        #expect(try discovery.resolve(apiVersion: "kubevirt.io/v1alpha3", kind: "VirtualMachine").version == "v1alpha3")
        #expect(try discovery.resolve(apiVersion: "v1", kind: "Namespace").name == "namespaces")
        let error = #expect(throws: VirtError.self) { try discovery.resolve(apiVersion: "kubevirt.io/v2", kind: "VirtualMachine") }
        #expect(error?.message == "no matches for kind \"VirtualMachine\" in version \"kubevirt.io/v2\"")
    }

    @Test func categories() throws {
        #expect(try Self.discovery().resources(inCategory: "all").map(\.name) == ["virtualmachines", "virtualmachineinstances"])
    }

    @Test func splitAPIVersion() {
        let core = Discovery.splitAPIVersion("v1")
        #expect(core.group == "" && core.version == "v1")
        let kubevirt = Discovery.splitAPIVersion("kubevirt.io/v1")
        #expect(kubevirt.group == "kubevirt.io" && kubevirt.version == "v1")
    }

    @Test func aDocumentThatIsNotAResourceListIsRejected() {
        #expect(throws: VirtError.self) { try Discovery(resourceLists: [["kind": "Status"]]) }
    }
}
