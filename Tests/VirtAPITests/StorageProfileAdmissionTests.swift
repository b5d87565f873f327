import Testing
import VirtError

@testable import VirtAPI

/// A StorageProfile's spec is checked as CDI's StorageProfile controller checks it: every claim property
/// set names access modes and a volume mode from Kubernetes' values.
@Suite struct StorageProfileAdmissionTests {
    private func causes(_ spec: JSONValue) -> [VirtError.Cause] {
        Admission.validate(group: "cdi.kubevirt.io", kind: "StorageProfile",
                           object: ["apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "StorageProfile", "metadata": ["name": "local"], "spec": spec],
                           old: nil)
    }

    @Test func aCompleteSpecIsAccepted() {
        #expect(causes([:]).isEmpty)
        #expect(causes(["claimPropertySets": [["accessModes": ["ReadWriteOnce"], "volumeMode": "Block"]],
                        "cloneStrategy": "copy", "dataImportCronSourceFormat": "pvc"]).isEmpty)
    }

    @Test func eachSetNeedsAccessModesAndAVolumeMode() {
        let found = causes(["claimPropertySets": [["volumeMode": "Block"], ["accessModes": ["ReadWriteOnce"]]]])
        #expect(found.map(\.field) == ["spec.claimPropertySets[0].accessModes", "spec.claimPropertySets[1].volumeMode"])
        #expect(found.first?.message.contains("must provide access mode for volume mode: Block") == true)
    }

    @Test func valuesComeFromTheEnums() {
        let found = causes(["claimPropertySets": [["accessModes": ["ReadWriteSometimes"], "volumeMode": "Tape"]],
                            "cloneStrategy": "rsync", "dataImportCronSourceFormat": "tarball"])
        #expect(found.map(\.field) == ["spec.claimPropertySets[0].accessModes[0]", "spec.claimPropertySets[0].volumeMode",
                                       "spec.cloneStrategy", "spec.dataImportCronSourceFormat"])
    }
}
