import Testing
import VirtAPI
import VirtClient
import VirtControllers
import VirtReconcile
import VirtTestSupport

/// CDI's `source.registry`: the claim carries CDI's registry import annotations; what is not imported here
/// (oci-archive, imageStream) gets no claim and says which field.
@Suite struct DataVolumeRegistrySourceTests {
    @Test func aRegistryDataVolumeGetsItsClaimWithCDIsRegistryAnnotations() async throws {
        let world = DataVolumeWorld()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), dataVolumeManifest(
            "disk", source: ["registry": ["url": "docker://127.0.0.1:5000/guest:v1", "secretRef": "creds", "certConfigMap": "cas",
                                          "pullMethod": "node", "platform": ["architecture": "arm64"]]]))
        try await world.reconcile("disk")

        let claim = try #require(world.claim("disk"))
        let annotations = claim[path: ["metadata", "annotations"]]
        #expect(annotations?["cdi.kubevirt.io/storage.import.source"] == "registry")
        #expect(annotations?["cdi.kubevirt.io/storage.import.endpoint"] == "docker://127.0.0.1:5000/guest:v1")
        #expect(annotations?["cdi.kubevirt.io/storage.import.secretName"] == "creds")
        #expect(annotations?["cdi.kubevirt.io/storage.import.certConfigMap"] == "cas")
        #expect(annotations?["cdi.kubevirt.io/storage.import.registryImportMethod"] == "node")
        #expect(annotations?["swiftvirt.io/import-registry-architecture"] == "arm64")
        #expect(annotations?["cdi.kubevirt.io/storage.contentType"] == "kubevirt")
        #expect(annotations?[CDINames.Annotation.checksum] == nil)
        #expect(claim.controllerReference?.kind == "DataVolume")

        try await world.reconcile("disk")
        #expect(world.dataVolume("disk")?[path: ["status", "phase"]] == "WaitForFirstConsumer")
    }

    @Test(arguments: [
        (["url": "oci-archive:///images/disk.tar"], "oci-archive:// is not yet"),
        (["imageStream": "fedora", "pullMethod": "node"], "source.registry.imageStream"),
    ] as [(JSONValue, String)])
    func whatIsNotImportedGetsNoClaimAndNamesTheField(registry: JSONValue, words: String) async throws {
        let world = DataVolumeWorld()
        world.client.seed(DataVolumeController.path.inNamespace(namespace), dataVolumeManifest("reg", source: ["registry": registry]))
        try await world.reconcile("reg")
        #expect(world.claim("reg") == nil)
        #expect(world.dataVolume("reg")?[path: ["status", "phase"]] == "Pending")
        let message = world.condition("reg", "Running")?["message"]?.stringValue ?? ""
        #expect(message.contains(words), "\(message)")
    }
}
