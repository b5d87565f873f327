import Testing
import VirtError

@testable import VirtAPI

/// A DataVolume is accepted or refused as CDI's own admission does: one rule per test, each naming the
/// CDI rule it mirrors.
@Suite struct DataVolumeAdmissionTests {
    static let size: JSONValue = ["resources": ["requests": ["storage": "1Gi"]]]

    /// `object` with the members of `more` added.
    static func with(_ object: JSONValue, _ more: JSONValue) -> JSONValue {
        guard case .object(var fields) = object, case .object(let extra) = more else { return object }
        for (key, value) in extra { fields[key] = value }
        return .object(fields)
    }

    /// A volume spec of 1Gi with `fields` besides.
    static func sized(_ fields: JSONValue) -> JSONValue { with(fields, size) }

    private func validate(_ spec: JSONValue, old: JSONValue? = nil) -> [VirtError.Cause] {
        Admission.validate(group: "cdi.kubevirt.io", kind: "DataVolume", object: object(spec), old: old.map(object))
    }

    private func object(_ spec: JSONValue) -> JSONValue {
        ["apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": ["name": "dv", "namespace": "default"], "spec": spec]
    }

    private func fields(_ spec: JSONValue) -> [String] { validate(spec).map(\.field) }

    private func unknown(_ spec: JSONValue) -> [String] {
        Admission.unknownFields(group: "cdi.kubevirt.io", kind: "DataVolume", object: object(spec))
    }

    // MARK: - The volume: spec.pvc or spec.storage

    /// CDI: "Missing Data volume PVC" and "Duplicate storage definition".
    @Test func exactlyOneOfPVCAndStorage() {
        #expect(fields(["source": ["blank": [:]]]) == ["spec.storage"])
        #expect(fields(["source": ["blank": [:]], "pvc": Self.sized(["accessModes": ["ReadWriteOnce"]]), "storage": Self.size])
            == ["spec.pvc"])
    }

    /// CDI: spec.pvc takes exactly one access mode; spec.storage none (from the StorageProfile) or several.
    @Test func accessModes() {
        #expect(fields(["source": ["blank": [:]], "pvc": Self.size]) == ["spec.pvc.accessModes"])
        #expect(fields(["source": ["blank": [:]], "pvc": Self.sized(["accessModes": ["ReadWriteOnce", "ReadOnlyMany"]])])
            == ["spec.pvc.accessModes"])
        #expect(fields(["source": ["blank": [:]], "pvc": Self.sized(["accessModes": ["ReadWriteOnce"]])]) == [])
        #expect(fields(["source": ["blank": [:]], "storage": Self.size]) == [])
        #expect(fields(["source": ["blank": [:]], "storage": Self.sized(["accessModes": ["ReadWriteOnce", "ReadWriteMany"]])]) == [])
        #expect(fields(["source": ["blank": [:]], "storage": Self.sized(["accessModes": ["ReadWriteSometimes"]])])
            == ["spec.storage.accessModes[0]"])
    }

    /// CDI does not check the volume mode; FromStorageProfile asks for the StorageProfile's.
    @Test func volumeModeFromStorageProfileIsAccepted() {
        #expect(fields(["source": ["blank": [:]], "storage": Self.sized(["volumeMode": "FromStorageProfile"])]) == [])
    }

    /// CDI's size rule: required, above zero and at least 1Mi; only a clone into spec.storage may leave it out.
    @Test func size() {
        #expect(fields(["source": ["http": ["url": "https://example.org/a.img"]], "storage": [:]]) == ["spec.storage.resources.requests.storage"])
        #expect(fields(["source": ["pvc": ["namespace": "default", "name": "src"]], "storage": [:]]) == [])
        #expect(fields(["source": ["snapshot": ["namespace": "default", "name": "snap"]], "storage": [:]]) == [])
        #expect(fields(["sourceRef": ["kind": "DataSource", "name": "fedora"], "storage": [:]]) == [])
        #expect(fields(["source": ["pvc": ["namespace": "default", "name": "src"]], "pvc": ["accessModes": ["ReadWriteOnce"]]])
            == ["spec.pvc.resources.requests.storage"])
        #expect(fields(["source": ["blank": [:]], "storage": ["resources": ["requests": ["storage": "0"]]]])
            == ["spec.storage.resources.requests.storage"])
        #expect(fields(["source": ["blank": [:]], "storage": ["resources": ["requests": ["storage": "512Ki"]]]])
            == ["spec.storage.resources.requests.storage"])
        #expect(fields(["source": ["blank": [:]], "storage": ["resources": ["requests": ["storage": "1Mi"]]]]) == [])
    }

    /// CDI: a storage class name is a DNS subdomain, at most 253 characters.
    @Test func storageClassNameLength() {
        let long = String(repeating: "a", count: 254)
        #expect(fields(["source": ["blank": [:]], "storage": Self.sized(["storageClassName": .string(long)])])
            == ["spec.storage.storageClassName"])
    }

    // MARK: - Where the data comes from

    /// CDI: "Data volume should have either Source or SourceRef, or be externally populated".
    @Test func exactlyOneOfSourceSourceRefAndExternalPopulation() {
        #expect(fields(["storage": Self.size]) == ["spec.source"])
        #expect(fields(["source": ["blank": [:]], "sourceRef": ["kind": "DataSource", "name": "f"], "storage": Self.size]) == ["spec.sourceRef"])
    }

    /// CDI's external population: a dataSourceRef alone fills the volume; it excludes source and sourceRef.
    @Test func externalPopulation() {
        let ref: JSONValue = ["apiGroup": "cdi.kubevirt.io", "kind": "VolumeImportSource", "name": "fedora-import"]
        #expect(fields(["storage": Self.sized(["dataSourceRef": ref])]) == [])
        #expect(fields(["storage": Self.sized(["dataSourceRef": ["kind": "PersistentVolumeClaim", "name": "src"]])]) == [])
        #expect(fields(["source": ["blank": [:]], "storage": Self.sized(["dataSourceRef": ref])]) == ["spec.source"])
        #expect(fields(["storage": Self.sized(["dataSourceRef": ["kind": "VolumeImportSource", "name": "x"]])])
            == ["spec.storage.dataSourceRef.apiGroup"])
        #expect(fields(["storage": Self.sized(["dataSourceRef": ["apiGroup": "cdi.kubevirt.io", "kind": "VolumeImportSource"]])])
            == ["spec.storage.dataSourceRef.name"])
        #expect(fields(["storage": Self.sized(["dataSourceRef": Self.with(ref, ["namespace": "other"])])])
            == ["spec.storage.dataSourceRef.namespace"])
        let other: JSONValue = ["apiGroup": "cdi.kubevirt.io", "kind": "VolumeImportSource", "name": "other"]
        #expect(fields(["storage": Self.sized(["dataSourceRef": ref, "dataSource": ref])]) == [])
        #expect(fields(["storage": Self.sized(["dataSourceRef": ref, "dataSource": other])]) == ["spec.storage.dataSourceRef"])
    }

    /// CDI's sourceRef rule: kind DataSource (the only one) and a name.
    @Test func sourceRef() {
        #expect(fields(["sourceRef": ["name": "fedora"], "storage": Self.size]) == ["spec.sourceRef.kind"])
        #expect(fields(["sourceRef": ["kind": "PersistentVolumeClaim", "name": "fedora"], "storage": Self.size]) == ["spec.sourceRef.kind"])
        #expect(fields(["sourceRef": ["kind": "DataSource"], "storage": Self.size]) == ["spec.sourceRef.name"])
        #expect(fields(["sourceRef": ["kind": "DataSource", "name": "fedora", "namespace": "os-images"], "storage": Self.size]) == [])
    }

    /// CDI's number-of-sources rule: exactly one source type.
    @Test func exactlyOneSourceType() {
        #expect(fields(["source": [:], "storage": Self.size]) == ["spec.source"])
        #expect(fields(["source": ["blank": [:], "upload": [:]], "storage": Self.size]) == ["spec.source"])
        #expect(fields(["source": ["upload": [:]], "storage": Self.size]) == [])
    }

    /// CDI's content type rule, and its blank and registry exceptions.
    @Test func contentType() {
        #expect(fields(["source": ["http": ["url": "https://e.org/a.tar"]], "contentType": "archive", "storage": Self.size]) == [])
        #expect(fields(["source": ["http": ["url": "https://e.org/a.tar"]], "contentType": "iso", "storage": Self.size]) == ["spec.contentType"])
        #expect(fields(["source": ["blank": [:]], "contentType": "archive", "storage": Self.size]) == ["spec.contentType"])
        #expect(fields(["source": ["registry": ["url": "docker://quay.io/a/b"]], "contentType": "archive", "storage": Self.size])
            == ["spec.contentType"])
    }

    /// CDI's source URL rule (http, s3, gcs, imageio, vddk): present, absolute, http, https or gs.
    @Test func sourceURLs() {
        #expect(fields(["source": ["http": ["url": "https://example.org/a.img", "insecureSkipVerify": true]], "storage": Self.size]) == [])
        #expect(unknown(["source": ["http": ["url": "https://example.org/a.img", "insecureSkipVerify": true]], "storage": Self.size]) == [])
        #expect(fields(["source": ["http": ["url": ""]], "storage": Self.size]) == ["spec.source.http.url"])
        #expect(fields(["source": ["http": ["url": "example.org/a.img"]], "storage": Self.size]) == ["spec.source.http.url"])
        #expect(fields(["source": ["http": ["url": "ftp://example.org/a.img"]], "storage": Self.size]) == ["spec.source.http.url"])
        #expect(fields(["source": ["s3": ["url": "https://s3.example.org/bucket/a.img", "secretRef": "s3"]], "storage": Self.size]) == [])
        #expect(fields(["source": ["gcs": ["url": "gs://bucket/a.img"]], "storage": Self.size]) == [])
        #expect(fields(["source": ["gcs": ["url": "bucket/a.img"]], "storage": Self.size]) == ["spec.source.gcs.url"])
    }

    /// CDI's checksum rule: algorithm:digest with md5, sha1, sha256 or sha512 and a digest of its length.
    @Test func httpChecksum() {
        let digest = String(repeating: "ab", count: 32)
        func checksum(_ value: String) -> [String] {
            fields(["source": ["http": ["url": "https://e.org/a.img", "checksum": .string(value)]], "storage": Self.size])
        }
        #expect(checksum("sha256:\(digest)") == [])
        #expect(checksum("SHA256:\(digest.uppercased())") == [])
        #expect(checksum(digest) == ["spec.source.http.checksum"])
        #expect(checksum("sha384:\(digest)") == ["spec.source.http.checksum"])
        #expect(checksum("md5:\(digest)") == ["spec.source.http.checksum"])
        #expect(checksum("sha1:" + String(repeating: "zz", count: 20)) == ["spec.source.http.checksum"])
    }

    /// CDI's registry rule: url (docker:// or oci-archive://) or imageStream (with pullMethod node); pullMethod pod or node.
    @Test func registry() {
        #expect(fields(["source": ["registry": ["url": "docker://quay.io/containerdisks/fedora:40"]], "storage": Self.size]) == [])
        #expect(fields(["source": ["registry": ["url": "oci-archive:///images/disk.tar", "pullMethod": "node"]], "storage": Self.size]) == [])
        #expect(fields(["source": ["registry": [:]], "storage": Self.size]) == ["spec.source.registry"])
        #expect(fields(["source": ["registry": ["url": "docker://a/b", "imageStream": "fedora"]], "storage": Self.size]) == ["spec.source.registry"])
        #expect(fields(["source": ["registry": ["url": "quay.io/containerdisks/fedora:40"]], "storage": Self.size]) == ["spec.source.registry.url"])
        #expect(fields(["source": ["registry": ["url": "docker://a/b", "pullMethod": "host"]], "storage": Self.size]) == ["spec.source.registry.pullMethod"])
        #expect(fields(["source": ["registry": ["imageStream": "fedora", "pullMethod": "node"]], "storage": Self.size]) == [])
        #expect(fields(["source": ["registry": ["imageStream": "fedora"]], "storage": Self.size]) == ["spec.source.registry.pullMethod"])
        #expect(unknown(["source": ["registry": ["url": "docker://a/b", "platform": ["architecture": "arm64"]]], "storage": Self.size]) == [])
    }

    /// CDI's clone rules: a pvc or snapshot source names both namespace and name.
    @Test func pvcAndSnapshotSources() {
        #expect(fields(["source": ["pvc": ["namespace": "", "name": "src"]], "storage": Self.size]) == ["spec.source.pvc.namespace"])
        #expect(fields(["source": ["snapshot": ["namespace": "default", "name": ""]], "storage": Self.size]) == ["spec.source.snapshot.name"])
    }

    /// CDI's imageio and vddk rules: the fields each import needs.
    @Test func imageioAndVDDK() {
        let imageio: JSONValue = ["url": "https://engine.example.org/ovirt-engine/api", "diskId": "d1", "secretRef": "engine", "certConfigMap": "ca"]
        #expect(fields(["source": ["imageio": imageio], "storage": Self.size]) == [])
        var insecure = imageio
        insecure["certConfigMap"] = nil
        #expect(fields(["source": ["imageio": insecure], "storage": Self.size]) == ["spec.source.imageio.certConfigMap"])
        insecure["insecureSkipVerify"] = true
        #expect(fields(["source": ["imageio": insecure], "storage": Self.size]) == [])
        let vddk: JSONValue = [
            "url": "https://vcenter.example.org", "uuid": "52260566-b032-36cb-55b1-79bf29e30490",
            "backingFile": "[datastore1] vm/vm.vmdk", "thumbprint": "20:6C:8A:5D", "secretRef": "vcenter",
        ]
        #expect(fields(["source": ["vddk": vddk], "storage": Self.size]) == [])
        var noThumbprint = vddk
        noThumbprint["thumbprint"] = nil
        #expect(fields(["source": ["vddk": noThumbprint], "storage": Self.size]) == ["spec.source.vddk.thumbprint"])
    }

    // MARK: - Updates

    /// CDI: "Cannot update DataVolume Spec", except the checkpoints of a multi-stage import.
    @Test func theSpecIsFixedOnceCreated() {
        let old: JSONValue = ["source": ["blank": [:]], "storage": Self.size]
        #expect(validate(old, old: old) == [])
        let changed = validate(["source": ["blank": [:]], "storage": ["resources": ["requests": ["storage": "2Gi"]]]], old: old)
        #expect(changed.map(\.field) == ["spec"])
        #expect(changed.first?.reason == "FieldValueForbidden")

        let vddk: JSONValue = ["vddk": ["url": "https://vc", "uuid": "u", "backingFile": "f", "thumbprint": "t", "secretRef": "s"]]
        let stage1: JSONValue = ["source": vddk, "storage": Self.size, "checkpoints": [["previous": "", "current": "snap-1"]]]
        let stage2: JSONValue = [
            "source": vddk, "storage": Self.size, "finalCheckpoint": true,
            "checkpoints": [["previous": "", "current": "snap-1"], ["previous": "snap-1", "current": "snap-2"]],
        ]
        #expect(validate(stage2, old: stage1) == [])
    }
}

