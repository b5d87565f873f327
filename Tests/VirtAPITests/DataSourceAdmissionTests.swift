import Testing
import VirtError

@testable import VirtAPI

/// A DataSource names one PVC by namespace and name; a snapshot source is refused as not supported yet,
/// each refusal naming its field.
@Suite struct DataSourceAdmissionTests {
    private func fields(_ spec: JSONValue) -> [String] {
        let object: JSONValue = ["apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataSource",
                                 "metadata": ["name": "fedora", "namespace": "default"], "spec": spec]
        return Admission.validate(group: "cdi.kubevirt.io", kind: "DataSource", object: object, old: nil).map(\.field)
    }

    @Test func aPVCWithNamespaceAndNameIsAccepted() {
        #expect(fields(["source": ["pvc": ["namespace": "default", "name": "golden"]]]) == [])
    }

    @Test func aSourceWithoutAPVCIsRefused() {
        #expect(fields(["source": [:]]) == ["spec.source.pvc"])
    }

    @Test func anEmptyNameOrNamespaceIsRefused() {
        #expect(fields(["source": ["pvc": ["namespace": "", "name": ""]]]) == ["spec.source.pvc.namespace", "spec.source.pvc.name"])
    }

    @Test func aSnapshotSourceIsRefusedAsNotSupportedYet() {
        let object: JSONValue = ["apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataSource", "metadata": ["name": "f", "namespace": "default"],
                                 "spec": ["source": ["snapshot": ["namespace": "default", "name": "snap"]]]]
        let causes = Admission.validate(group: "cdi.kubevirt.io", kind: "DataSource", object: object, old: nil)
        #expect(causes.map(\.field) == ["spec.source.snapshot"])
        #expect(causes.first?.message.contains("not supported yet") == true)
    }
}
