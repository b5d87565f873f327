import Foundation
import Testing
import VirtError

@testable import VirtAPI

/// Manifests in the shape of KubeVirt's and Kubernetes' own examples, as JSON text.
enum KubeVirtManifests {
    static let fedoraVM = #"""
        {
          "apiVersion": "kubevirt.io/v1",
          "kind": "VirtualMachine",
          "metadata": {
            "name": "vm-fedora",
            "namespace": "default",
            "labels": {"kubevirt.io/vm": "vm-fedora", "app.kubernetes.io/name": "fedora"},
            "annotations": {"description": "Fedora with a DataVolume root disk"}
          },
          "spec": {
            "runStrategy": "Always",
            "dataVolumeTemplates": [
              {
                "metadata": {"name": "fedora-dv"},
                "spec": {
                  "storage": {"resources": {"requests": {"storage": "10Gi"}}, "storageClassName": "local"},
                  "source": {"http": {"url": "https://download.example.org/fedora-cloud.qcow2"}}
                }
              }
            ],
            "template": {
              "metadata": {"labels": {"kubevirt.io/vm": "vm-fedora", "kubevirt.io/domain": "vm-fedora"}},
              "spec": {
                "domain": {
                  "cpu": {"cores": 2, "sockets": 1, "threads": 1, "model": "host-model"},
                  "memory": {"guest": "2Gi"},
                  "resources": {"requests": {"memory": "2Gi", "cpu": "500m"}, "limits": {"memory": "3Gi"}},
                  "machine": {"type": "q35"},
                  "firmware": {"bootloader": {"efi": {"secureBoot": false}}, "serial": "fedora-1"},
                  "features": {"acpi": {}, "smm": {"enabled": true}},
                  "clock": {"utc": {}, "timer": {"hpet": {"present": false}, "rtc": {"tickPolicy": "catchup"}}},
                  "devices": {
                    "disks": [
                      {"name": "rootdisk", "disk": {"bus": "virtio"}, "bootOrder": 1, "cache": "none"},
                      {"name": "cloudinitdisk", "disk": {"bus": "virtio"}},
                      {"name": "installer", "cdrom": {"bus": "sata", "readonly": true, "tray": "closed"}},
                      {"name": "scratch", "disk": {"bus": "scsi"}, "serial": "SCRATCH1"}
                    ],
                    "interfaces": [
                      {"name": "default", "masquerade": {}, "ports": [{"name": "ssh", "port": 22, "protocol": "TCP"}]},
                      {"name": "secondary", "bridge": {}, "macAddress": "02:00:00:00:00:01", "model": "virtio"}
                    ],
                    "rng": {},
                    "autoattachSerialConsole": true,
                    "autoattachGraphicsDevice": false,
                    "networkInterfaceMultiqueue": true,
                    "inputs": [{"type": "tablet", "bus": "usb", "name": "tablet0"}]
                  }
                },
                "networks": [
                  {"name": "default", "pod": {}},
                  {"name": "secondary", "multus": {"networkName": "default/br1"}}
                ],
                "evictionStrategy": "LiveMigrate",
                "terminationGracePeriodSeconds": 180,
                "nodeSelector": {"kubernetes.io/arch": "amd64"},
                "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                  {"matchExpressions": [{"key": "kubevirt.io/schedulable", "operator": "In", "values": ["true"]}]}]}}},
                "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}],
                "hostname": "fedora",
                "volumes": [
                  {"name": "rootdisk", "dataVolume": {"name": "fedora-dv"}},
                  {"name": "cloudinitdisk", "cloudInitNoCloud": {
                    "userData": "#cloud-config\npassword: fedora\nchpasswd: { expire: False }\n",
                    "networkData": "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"}},
                  {"name": "installer", "containerDisk": {"image": "quay.io/containerdisks/fedora:40", "imagePullPolicy": "IfNotPresent"}},
                  {"name": "scratch", "emptyDisk": {"capacity": "2Gi"}}
                ]
              }
            }
          }
        }
        """#

    static let cirrosVMI = #"""
        {
          "apiVersion": "kubevirt.io/v1",
          "kind": "VirtualMachineInstance",
          "metadata": {"name": "vmi-cirros", "namespace": "default", "labels": {"special": "vmi-cirros"}},
          "spec": {
            "domain": {
              "resources": {"requests": {"memory": "128Mi"}},
              "devices": {
                "disks": [
                  {"name": "containerdisk", "disk": {"bus": "virtio"}},
                  {"name": "cloudinitdisk", "disk": {"bus": "virtio"}}
                ]
              }
            },
            "terminationGracePeriodSeconds": 0,
            "volumes": [
              {"name": "containerdisk", "containerDisk": {"image": "quay.io/kubevirt/cirros-container-disk-demo:latest"}},
              {"name": "cloudinitdisk", "cloudInitNoCloud": {"userDataBase64": "IyEvYmluL3NoCgplY2hvICdwcmludGVkIGZyb20gY2xvdWQtaW5pdCB1c2VyZGF0YScK"}}
            ]
          },
          "status": {
            "phase": "Running",
            "nodeName": "node01",
            "phaseTransitionTimestamps": [{"phase": "Running", "phaseTransitionTimestamp": "2024-05-01T10:00:00Z"}],
            "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-01T10:00:00Z"}],
            "interfaces": [{"name": "default", "ipAddress": "10.0.2.2", "ipAddresses": ["10.0.2.2"], "mac": "52:54:00:12:34:56",
                            "interfaceName": "eth0", "infoSource": "domain, guest-agent", "queueCount": 1}],
            "guestOSInfo": {"id": "cirros", "name": "CirrOS"},
            "migrationMethod": "BlockMigration",
            "qosClass": "Burstable",
            "activePods": {"1b5b4c40-9a7f-4a8e-8b36-2f3a1b2c3d4e": "node01"},
            "launcherContainerImageVersion": "swiftvirt/launcher:v1",
            "runtimeUser": 107,
            "machine": {"type": "pc-q35-9.0"},
            "currentCPUTopology": {"cores": 1, "sockets": 1, "threads": 1},
            "memory": {"guestAtBoot": "128Mi", "guestCurrent": "128Mi"},
            "volumeStatus": [{"name": "containerdisk", "target": "vda"}]
          }
        }
        """#
}

@Suite struct KindsTests {
    private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> StrictDecodeResult<T> {
        try decodeTracking(type, from: try JSONValue.parse(text))
    }

    // MARK: - KubeVirt

    @Test func fedoraVirtualMachineDecodesWithNoUnknownFields() throws {
        let result = try decode(VirtualMachine.self, KubeVirtManifests.fedoraVM)
        #expect(result.unknownFields == [])
        let vm = result.value
        #expect(vm.metadata?.name == "vm-fedora")
        #expect(vm.spec.runStrategy == "Always")
        #expect(vm.spec.effectiveRunStrategy == "Always")
        let spec = try #require(vm.spec.template?.spec)
        #expect(spec.domain.cpu?.cores == 2)
        #expect(spec.domain.memory?.guest?.bytes == 2_147_483_648)
        #expect(spec.domain.resources?.requests?["cpu"]?.milliValue == 500)
        #expect(spec.domain.firmware?.bootloader?.efi?.secureBoot == false)
        #expect(spec.domain.devices.disks?.map(\.name) == ["rootdisk", "cloudinitdisk", "installer", "scratch"])
        #expect(spec.domain.devices.disks?[0].bootOrder == 1)
        #expect(spec.domain.devices.disks?[2].cdrom?.bus == "sata")
        #expect(spec.domain.devices.interfaces?[0].bindingMethods == ["masquerade"])
        #expect(spec.domain.devices.interfaces?[1].macAddress == "02:00:00:00:00:01")
        #expect(spec.networks?[1].multus?.networkName == "default/br1")
        #expect(spec.volumes?[0].dataVolume?.name == "fedora-dv")
        #expect(spec.volumes?[1].cloudInitNoCloud?.userData?.hasPrefix("#cloud-config\n") == true)
        #expect(spec.volumes?[3].emptyDisk?.capacity.text == "2Gi")
        #expect(spec.volumes?.map(\.sourceTypes) == [["dataVolume"], ["cloudInitNoCloud"], ["containerDisk"], ["emptyDisk"]])
        #expect(spec.evictionStrategy == "LiveMigrate")
        #expect(spec.affinity?["nodeAffinity"] != nil)
    }

    @Test func cirrosInstanceWithStatusDecodesWithNoUnknownFields() throws {
        let result = try decode(VirtualMachineInstance.self, KubeVirtManifests.cirrosVMI)
        #expect(result.unknownFields == [])
        let status = try #require(result.value.status)
        #expect(status.phase == "Running")
        #expect(status.interfaces?.first?.ipAddress == "10.0.2.2")
        #expect(status.conditions?.first?.type == "Ready")
        #expect(status.conditions?.first?.lastProbeTime == nil)
        #expect(status.activePods?.values.first == "node01")
        #expect(status.machine?.type == "pc-q35-9.0")
        #expect(result.value.spec.terminationGracePeriodSeconds == 0)
    }

    @Test func typoAtAModelledLevelIsReportedWithItsPath() throws {
        var json = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        let disks = ["spec", "template", "spec", "domain", "devices", "disks"]
        var list = try #require(json[path: disks]?.arrayValue)
        list[0]["bogus"] = true
        json[path: disks] = .array(list)
        json[path: ["spec", "runStrategyy"]] = "Always"
        json[path: ["spec", "template", "spec", "domain", "cpu", "corez"]] = 4
        json[path: ["metadata", "nmae"]] = "x"
        let result = try decodeTracking(VirtualMachine.self, from: json)
        #expect(result.unknownFields == [
            "metadata.nmae",
            "spec.runStrategyy",
            "spec.template.spec.domain.cpu.corez",
            "spec.template.spec.domain.devices.disks[0].bogus",
        ])
        #expect(Admission.unknownFields(group: "kubevirt.io", kind: "VirtualMachine", object: json) == result.unknownFields)
    }

    @Test func fieldsUnderOpaqueSubtreesAreNotReported() throws {
        var json = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        json[path: ["spec", "template", "spec", "affinity", "podAntiAffinity"]] = ["madeUp": ["anything": 1]]
        json[path: ["spec", "template", "spec", "domain", "features", "hyperv"]] = ["relaxed": [:], "notReal": true]
        json[path: ["spec", "instancetype"]] = ["name": "u1.medium", "whatever": 1]
        json[path: ["metadata", "managedFields"]] = [["manager": "kubectl", "fieldsV1": ["f:spec": [:]]]]
        let result = try decodeTracking(VirtualMachine.self, from: json)
        #expect(result.unknownFields == [])
    }

    @Test func markerObjectsMustBeEmpty() throws {
        let iface: JSONValue = ["name": "default", "masquerade": ["mode": "fast"]]
        let result = try decodeTracking(Interface.self, from: iface)
        #expect(result.unknownFields == ["masquerade.mode"])
    }

    @Test func typeErrorsNameTheFieldLikeKubernetes() throws {
        var json = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        json[path: ["spec", "running"]] = "string"
        do throws(VirtError) {
            _ = try decodeTracking(VirtualMachine.self, from: json)
            Issue.record("decoded a string as a boolean")
        } catch {
            #expect(error.code == .invalid)
            #expect(error.causes == [VirtError.Cause(
                reason: "FieldValueInvalid",
                message: #"Invalid value: "string": spec.running in body must be of type boolean: "string""#,
                field: "spec.running")])
        }
    }

    @Test func encodingRoundTripsTheManifest() throws {
        let original = try JSONValue.parse(KubeVirtManifests.fedoraVM)
        let vm = try decodeTracking(VirtualMachine.self, from: original).value
        let encoded = try JSONValue.parse(Array(JSONEncoder().encode(vm)))
        #expect(encoded == original)
    }

    @Test func migrationAndPolicy() throws {
        let migration = try decode(VirtualMachineInstanceMigration.self, #"""
            {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstanceMigration",
             "metadata": {"name": "migration-job"}, "spec": {"vmiName": "vmi-fedora"},
             "status": {"phase": "Running", "phaseTransitionTimestamps": [{"phase": "Pending", "phaseTransitionTimestamp": "2024-05-01T10:00:00Z"}],
                        "migrationState": {"sourceNode": "node01", "targetNode": "node02", "completed": false}}}
            """#)
        #expect(migration.unknownFields == [])
        #expect(migration.value.spec.vmiName == "vmi-fedora")

        let policy = try decode(MigrationPolicy.self, #"""
            {"apiVersion": "migrations.kubevirt.io/v1alpha1", "kind": "MigrationPolicy", "metadata": {"name": "fast"},
             "spec": {"allowAutoConverge": true, "bandwidthPerMigration": "217Ki", "completionTimeoutPerGiB": 23,
                      "allowPostCopy": false, "selectors": {"namespaceSelector": {"team": "a"},
                      "virtualMachineInstanceSelector": {"workload": "db"}}}}
            """#)
        #expect(policy.unknownFields == [])
        #expect(policy.value.spec.bandwidthPerMigration?.bytes == 222_208)
        #expect(policy.value.spec.selectors?.virtualMachineInstanceSelector == ["workload": "db"])
    }

    // MARK: - CDI, Multus, nmstate

    @Test func dataVolumes() throws {
        let http = try decode(DataVolume.self, #"""
            {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "fedora"},
             "spec": {"source": {"http": {"url": "https://example.org/f.qcow2", "certConfigMap": "ca", "extraHeaders": ["X-A: 1"]}},
                      "pvc": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}, "volumeMode": "Block"},
                      "contentType": "kubevirt", "preallocation": true},
             "status": {"phase": "ImportInProgress", "progress": "45.20%", "restartCount": 0, "claimName": "fedora",
                        "conditions": [{"type": "Bound", "status": "True", "lastHeartbeatTime": "2024-05-01T10:00:00Z", "reason": "Bound"}]}}
            """#)
        #expect(http.unknownFields == [])
        #expect(http.value.spec.pvc?.resources?.requests?["storage"]?.bytes == 5_368_709_120)
        #expect(http.value.spec.source?.sourceTypes == ["http"])

        let clone = try decode(DataVolume.self, #"""
            {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "clone"},
             "spec": {"source": {"pvc": {"namespace": "golden", "name": "fedora"}}, "storage": {}}}
            """#)
        #expect(clone.unknownFields == [])
        let blank = try decode(DataVolume.self, #"""
            {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "blank"},
             "spec": {"source": {"blank": {}}, "storage": {"resources": {"requests": {"storage": "1Gi"}}}}}
            """#)
        #expect(blank.unknownFields == [])
        #expect(blank.value.spec.source?.blank == EmptyObject())
    }

    @Test func networkKinds() throws {
        let nad = try decode(NetworkAttachmentDefinition.self, #"""
            {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition", "metadata": {"name": "br1"},
             "spec": {"config": "{\"cniVersion\": \"0.3.1\", \"type\": \"bridge\", \"bridge\": \"br1\", \"ipam\": {}}"}}
            """#)
        #expect(nad.unknownFields == [])
        #expect(nad.value.spec?.config?.contains("bridge") == true)

        let policy = try decode(NodeNetworkConfigurationPolicy.self, #"""
            {"apiVersion": "nmstate.io/v1", "kind": "NodeNetworkConfigurationPolicy", "metadata": {"name": "br1-eth1"},
             "spec": {"nodeSelector": {"node-role.kubernetes.io/worker": ""}, "maxUnavailable": "50%",
                      "desiredState": {"interfaces": [{"name": "br1", "type": "linux-bridge", "state": "up",
                        "bridge": {"options": {"stp": {"enabled": false}}, "port": [{"name": "eth1"}]}}]}}}
            """#)
        #expect(policy.unknownFields == [])
        #expect(policy.value.spec?.maxUnavailable == "50%")
    }

    // MARK: - Core and other Kubernetes kinds

    @Test func nodeWithCapacityAndTaints() throws {
        let node = try decode(Node.self, #"""
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node01", "labels": {"kubernetes.io/hostname": "node01"}},
             "spec": {"unschedulable": true, "podCIDR": "10.244.0.0/24", "providerID": "swiftvirt://node01",
                      "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": "2024-05-01T10:00:00Z"}]},
             "status": {"capacity": {"cpu": "8", "memory": "32Gi", "devices.kubevirt.io/kvm": "1k", "pods": "110"},
                        "allocatable": {"cpu": "7500m", "memory": "31Gi"},
                        "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "2024-05-01T10:00:00Z",
                                        "lastTransitionTime": "2024-05-01T09:00:00Z", "reason": "KubeletReady", "message": "ready"}],
                        "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "node01"}],
                        "nodeInfo": {"architecture": "amd64", "kernelVersion": "6.1.0"},
                        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}}
            """#)
        #expect(node.unknownFields == [])
        #expect(node.value.status?.allocatable?["cpu"]?.milliValue == 7500)
        #expect(node.value.status?.capacity?["memory"]?.bytes == 34_359_738_368)
        #expect(node.value.spec?.taints?.first?.effect == "NoSchedule")
    }

    @Test func launcherPod() throws {
        let pod = try decode(Pod.self, #"""
            {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": "virt-launcher-vmi-abcde", "namespace": "default",
                          "ownerReferences": [{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "name": "vmi",
                                               "uid": "u1", "controller": true, "blockOwnerDeletion": true}],
                          "annotations": {"k8s.v1.cni.cncf.io/networks": "[]"}},
             "spec": {"containers": [{"name": "compute", "image": "swiftvirt/launcher", "command": ["/usr/bin/qemu-system-x86_64"],
                                      "resources": {"requests": {"cpu": "100m", "memory": "1200Mi"}, "limits": {"devices.kubevirt.io/kvm": "1"}},
                                      "volumeMounts": [{"name": "private", "mountPath": "/var/run/kubevirt-private"}],
                                      "securityContext": {"privileged": false}, "env": [{"name": "A", "value": "1"}]}],
                      "nodeSelector": {"kubevirt.io/schedulable": "true"}, "restartPolicy": "Never",
                      "terminationGracePeriodSeconds": 210, "schedulerName": "default-scheduler", "priority": 0,
                      "automountServiceAccountToken": false, "volumes": [{"name": "private", "emptyDir": {}}],
                      "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]},
             "status": {"phase": "Running", "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}], "hostIP": "192.168.1.10",
                        "startTime": "2024-05-01T10:00:00Z", "qosClass": "Burstable",
                        "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-01T10:00:01Z"}],
                        "containerStatuses": [{"name": "compute", "ready": true, "restartCount": 0}]}}
            """#)
        #expect(pod.unknownFields == [])
        #expect(pod.value.spec?.containers.first?.resources?.requests?["memory"]?.bytes == 1_258_291_200)
        #expect(pod.value.metadata?.ownerReferences?.first?.controller == true)
    }

    @Test func storageKinds() throws {
        let claim = try decode(PersistentVolumeClaim.self, #"""
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "disk"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}, "storageClassName": "local",
                      "volumeMode": "Filesystem", "dataSource": {"kind": "PersistentVolumeClaim", "name": "golden"}},
             "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}}}
            """#)
        #expect(claim.unknownFields == [])

        let volume = try decode(PersistentVolume.self, #"""
            {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
             "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Delete",
                      "storageClassName": "local", "volumeMode": "Filesystem", "local": {"path": "/var/lib/swiftvirt/volumes/pv1"},
                      "claimRef": {"namespace": "default", "name": "disk", "uid": "u2"},
                      "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["node01"]}]}]}}},
             "status": {"phase": "Bound"}}
            """#)
        #expect(volume.unknownFields == [])
        #expect(volume.value.spec?.local?.path == "/var/lib/swiftvirt/volumes/pv1")

        let storageClass = try decode(StorageClass.self, #"""
            {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local",
             "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
             "provisioner": "swiftvirt.io/local", "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer",
             "allowVolumeExpansion": true, "parameters": {"path": "/var/lib/swiftvirt/volumes"}}
            """#)
        #expect(storageClass.unknownFields == [])
        #expect(storageClass.value.provisioner == "swiftvirt.io/local")
    }

    @Test func smallCoreKinds() throws {
        let namespace = try decode(Namespace.self, #"""
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "vms"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
            """#)
        #expect(namespace.unknownFields == [])
        let event = try decode(Event.self, #"""
            {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "vm.17a", "namespace": "default"},
             "involvedObject": {"kind": "VirtualMachine", "namespace": "default", "name": "vm", "uid": "u", "apiVersion": "kubevirt.io/v1", "resourceVersion": "5"},
             "reason": "SuccessfulCreate", "message": "Started the virtual machine", "source": {"component": "virtualmachine-controller"},
             "firstTimestamp": "2024-05-01T10:00:00Z", "lastTimestamp": "2024-05-01T10:00:00Z", "count": 1, "type": "Normal",
             "eventTime": null, "reportingComponent": "", "reportingInstance": ""}
            """#)
        #expect(event.unknownFields == [])
        #expect(event.value.involvedObject.kind == "VirtualMachine")
        let secret = try decode(Secret.self, #"""
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "userdata"}, "type": "Opaque",
             "data": {"userdata": "I2Nsb3VkLWNvbmZpZwo="}, "stringData": {"note": "plain"}, "immutable": false}
            """#)
        #expect(secret.unknownFields == [])
        let configMap = try decode(ConfigMap.self, #"""
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "b"}, "binaryData": {"bin": "AAE="}}
            """#)
        #expect(configMap.unknownFields == [])
        let lease = try decode(Lease.self, #"""
            {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "node01", "namespace": "kube-node-lease"},
             "spec": {"holderIdentity": "node01", "leaseDurationSeconds": 40, "renewTime": "2024-05-01T10:00:00.000000Z", "leaseTransitions": 0}}
            """#)
        #expect(lease.unknownFields == [])
        #expect(lease.value.spec?.leaseDurationSeconds == 40)
        let eviction = try decode(Eviction.self, #"""
            {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "virt-launcher-x", "namespace": "default"},
             "deleteOptions": {"gracePeriodSeconds": 0}}
            """#)
        #expect(eviction.unknownFields == [])
    }
}
