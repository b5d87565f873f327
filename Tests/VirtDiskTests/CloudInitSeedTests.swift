import Testing
import VirtAPI
import VirtError

@testable import VirtDisk

/// The seed files, as KubeVirt writes them, without building an ISO.
@Suite struct CloudInitSeedTests {
    static func vmi(_ name: String = "testvmi", namespace: String? = "demo", volumes: [Volume]) -> VirtualMachineInstance {
        var vmi = VirtualMachineInstance(metadata: ObjectMeta(name: name, namespace: namespace), spec: VirtualMachineInstanceSpec())
        vmi.spec.volumes = volumes
        return vmi
    }

    static func noCloud(_ source: CloudInitSource, name: String = "cloudinit") -> Volume {
        var volume = Volume(name: name)
        volume.cloudInitNoCloud = source
        return volume
    }

    static func configDrive(_ source: CloudInitSource, name: String = "cloudinit") -> Volume {
        var volume = Volume(name: name)
        volume.cloudInitConfigDrive = source
        return volume
    }

    @Test func noCloudMetaDataAsKubeVirtWritesIt() throws {
        let seed = try CloudInitSeed(vmi: Self.vmi(volumes: [Self.noCloud(CloudInitSource(userData: "#cloud-config\n"))]), volumeIndex: 0)
        #expect(seed.dataSource.volumeLabel == "cidata")
        #expect(seed.files.map(\.path) == ["meta-data", "user-data"])
        // KubeVirt's VM controller gives a VMI the firmware UUID uuid5(6a1a24a1-…, name); Python agrees:
        // uuid.uuid5(uuid.UUID('6a1a24a1-4061-4607-8bf4-a3963d0c5895'), 'testvmi')
        #expect(seed.file("meta-data")?.text == #"{"instance-id":"f8918e71-270a-598e-a2a4-1afac39e1394","local-hostname":"testvmi"}"#)
        #expect(seed.file("user-data")?.text == "#cloud-config\n")
    }

    @Test func hostnameComesFromSpecElseTheNameUpToTheFirstDot() throws {
        var vmi = Self.vmi("web.frontend", volumes: [Self.noCloud(CloudInitSource(userData: "x"))])
        #expect(CloudInitSeed.hostname(of: vmi) == "web")
        vmi.spec.hostname = "myhost"
        #expect(CloudInitSeed.hostname(of: vmi) == "myhost")
        let long = String(repeating: "a", count: 70)
        #expect(CloudInitSeed.hostname(of: Self.vmi(long, volumes: [])) == String(repeating: "a", count: 63))
        vmi.spec.domain.firmware = Firmware()
        vmi.spec.domain.firmware?.uuid = "5d307ca9-b3ef-428c-8861-06e72d69f223"
        vmi.metadata?.annotations = ["kubevirt.io/instancetype-name": "u1.small"]
        let seed = try CloudInitSeed(vmi: vmi, volumeIndex: 0)
        #expect(
            seed.file("meta-data")?.text
                == #"{"instance-type":"u1.small","instance-id":"5d307ca9-b3ef-428c-8861-06e72d69f223","local-hostname":"myhost"}"#)
    }

    @Test func base64AndNetworkData() throws {
        var source = CloudInitSource()
        source.userDataBase64 = "I2Nsb3VkLWNvbmZpZwpwYXNzd29yZDogeAo="  // "#cloud-config\npassword: x\n"
        source.networkData = "version: 2\nethernets: {}\n"
        let seed = try CloudInitSeed(vmi: Self.vmi(volumes: [Volume(name: "disk0"), Self.noCloud(source)]), volumeIndex: 1)
        #expect(seed.files.map(\.path) == ["meta-data", "user-data", "network-config"])
        #expect(seed.file("user-data")?.text == "#cloud-config\npassword: x\n")
        #expect(seed.file("network-config")?.text == "version: 2\nethernets: {}\n")
    }

    @Test func onlyNetworkDataStillWritesAnEmptyUserData() throws {
        var source = CloudInitSource()
        source.networkDataBase64 = "dmVyc2lvbjogMQo="
        let seed = try CloudInitSeed(vmi: Self.vmi(volumes: [Self.noCloud(source)]), volumeIndex: 0)
        #expect(seed.file("user-data")?.contents == [])
        #expect(seed.file("network-config")?.text == "version: 1\n")
    }

    @Test func secretsAreReadByEitherKeyName() throws {
        var source = CloudInitSource()
        source.secretRef = LocalObjectReference(name: "my-ud")
        source.networkDataSecretRef = LocalObjectReference(name: "my-nd")
        var userSecret = Secret(metadata: ObjectMeta(name: "my-ud"))
        userSecret.data = ["userData": "I2Nsb3VkLWNvbmZpZwo="]  // "#cloud-config\n"
        var networkSecret = Secret(metadata: ObjectMeta(name: "my-nd"))
        networkSecret.stringData = ["networkdata": "version: 1\n"]
        let seed = try CloudInitSeed(
            vmi: Self.vmi(volumes: [Self.configDrive(source)]), volumeIndex: 0, secrets: ["my-ud": userSecret, "my-nd": networkSecret])
        #expect(seed.file("openstack/latest/user_data")?.text == "#cloud-config\n")
        #expect(seed.file("openstack/latest/network_data.json")?.text == "version: 1\n")
    }

    @Test func configDriveMetaData() throws {
        let seed = try CloudInitSeed(vmi: Self.vmi(volumes: [Self.configDrive(CloudInitSource(userData: "#!/bin/sh\n"))]), volumeIndex: 0)
        #expect(seed.dataSource.volumeLabel == "config-2")
        #expect(seed.files.map(\.path) == ["openstack/latest/meta_data.json", "openstack/latest/user_data"])
        #expect(
            seed.file("openstack/latest/meta_data.json")?.text
                == #"{"instance-id":"testvmi.demo","instance_id":"testvmi.demo","hostname":"testvmi","uuid":"f8918e71-270a-598e-a2a4-1afac39e1394","name":"testvmi"}"#
        )
    }

    @Test func errorsNameTheField() throws {
        func error(_ source: CloudInitSource, secrets: [String: Secret] = [:], configDrive: Bool = false) -> VirtError? {
            let volume = configDrive ? Self.configDrive(source) : Self.noCloud(source)
            do {
                _ = try CloudInitSeed(vmi: Self.vmi(volumes: [Volume(name: "root"), volume]), volumeIndex: 1, secrets: secrets)
                return nil
            } catch {
                return error as? VirtError
            }
        }
        var bad = CloudInitSource()
        bad.userDataBase64 = "not base64!"
        let badBase64 = try #require(error(bad))
        #expect(badBase64.code == .invalid)
        #expect(badBase64.message.hasPrefix("spec.volumes[1].cloudInitNoCloud.userDataBase64: Invalid value: not valid base64"))
        #expect(badBase64.causes.map(\.field) == ["spec.volumes[1].cloudInitNoCloud.userDataBase64"])

        let empty = try #require(error(CloudInitSource(), configDrive: true))
        #expect(empty.message.hasPrefix("spec.volumes[1].cloudInitConfigDrive: Required value: set one of userData"))

        var withSecret = CloudInitSource()
        withSecret.secretRef = LocalObjectReference(name: "gone")
        let missing = try #require(error(withSecret))
        #expect(missing.code == .notFound)
        #expect(missing.message == #"spec.volumes[1].cloudInitNoCloud.secretRef.name: Not found: secret "gone" in namespace "demo" (create it, or fix the name)"#)

        var secret = Secret(metadata: ObjectMeta(name: "gone"))
        secret.data = ["other": "eA=="]
        let noKey = try #require(error(withSecret, secrets: ["gone": secret]))
        #expect(noKey.message == #"spec.volumes[1].cloudInitNoCloud.secretRef.name: Invalid value: secret "gone" has no key "userdata" or "userData" (it has other)"#)

        #expect(throws: VirtError.self) { try CloudInitSeed(vmi: Self.vmi(volumes: [Volume(name: "root")]), volumeIndex: 0) }
    }
}
