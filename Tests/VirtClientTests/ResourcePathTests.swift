import Testing
import VirtClient

@Suite struct ResourcePathTests {
    @Test func coreGroupUsesApi() {
        #expect(ResourcePath.core("pods").urlPath == "/api/v1/pods")
        #expect(ResourcePath.core("pods", namespace: "default", name: "p1").urlPath == "/api/v1/namespaces/default/pods/p1")
        #expect(ResourcePath.core("namespaces", name: "kube-system").urlPath == "/api/v1/namespaces/kube-system")
    }

    @Test func namedGroupsUseApis() {
        let vm = ResourcePath(group: "kubevirt.io", version: "v1", resource: "virtualmachines", namespace: "default", name: "vm1")
        #expect(vm.urlPath == "/apis/kubevirt.io/v1/namespaces/default/virtualmachines/vm1")
        #expect(vm.subresource("status").urlPath == "/apis/kubevirt.io/v1/namespaces/default/virtualmachines/vm1/status")
        #expect(vm.collection.urlPath == "/apis/kubevirt.io/v1/namespaces/default/virtualmachines")
        #expect(vm.inNamespace(nil).collection.urlPath == "/apis/kubevirt.io/v1/virtualmachines")
        #expect(vm.apiVersion == "kubevirt.io/v1")
    }

    @Test func virtSubresources() {
        let start = ResourcePath(
            group: "subresources.kubevirt.io", version: "v1", resource: "virtualmachines",
            namespace: "ns", name: "vm1", subresource: "start"
        )
        #expect(start.urlPath == "/apis/subresources.kubevirt.io/v1/namespaces/ns/virtualmachines/vm1/start")
    }

    @Test func emptyPartsMeanAbsent() {
        let path = ResourcePath(group: "", version: "v1", resource: "pods", namespace: "", name: "", subresource: "")
        #expect(path.namespace == nil && path.name == nil && path.subresource == nil)
        #expect(path.urlPath == "/api/v1/pods")
    }

    @Test func segmentsArePercentEncoded() {
        #expect(ResourcePath.core("configmaps", namespace: "a b", name: "x/y").urlPath == "/api/v1/namespaces/a%20b/configmaps/x%2Fy")
    }
}
