"""Volumes: the built-in StorageClasses, PVC → PV binding and provisioning, and VMs whose disks are PVCs, on
the real daemon with runc pods and QEMU under TCG. The boot disks are the test guest's image converted into
a static PersistentVolume's disk.img (imports are test_datavolume.py's); provisioned volumes are made empty
by the node agent."""
import json
import os
import subprocess
import tempfile

import pytest

from test_vms import GUEST, VMS, VMIS, run_cluster, serial_log, vmi, wait_for

PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
PVS = "/api/v1/persistentvolumes"
CLASSES = "/apis/storage.k8s.io/v1/storageclasses"
EVENTS = "/api/v1/namespaces/default/events"


@pytest.fixture
def cluster():
    yield from run_cluster(["--emulation", "--node-name", "node-a"], "swiftvirt-storage-")


def pvc(name, size="32Mi", mode="Filesystem", class_name=None, volume_name=None, access=("ReadWriteOnce",)):
    spec = {"accessModes": list(access), "resources": {"requests": {"storage": size}}, "volumeMode": mode}
    if class_name is not None:
        spec["storageClassName"] = class_name
    if volume_name:
        spec["volumeName"] = volume_name
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def static_pv(name, path, class_name, mode="Filesystem", source="local", node="node-a"):
    spec = {
        "capacity": {"storage": "32Mi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": class_name,
        "volumeMode": mode, "persistentVolumeReclaimPolicy": "Retain", source: {"path": path},
    }
    if node:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": spec}


def vm_with_volumes(name, volumes, disks):
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name},
        "spec": {"runStrategy": "Always", "template": {"spec": {
            "hostname": name,
            "domain": {"memory": {"guest": "256Mi"}, "devices": {"disks": disks + [{"name": "seed", "disk": {"bus": "virtio"}}]}},
            "terminationGracePeriodSeconds": 5,
            "volumes": volumes + [{"name": "seed", "cloudInitNoCloud": {"userData": "#!/bin/sh\necho user-data-ran\n"}}],
        }}},
    }


def guest_raw(path):
    """The test guest's disk converted to raw at `path`."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    subprocess.run(["qemu-img", "convert", "-O", "raw", f"{GUEST}/disk.qcow2", path], check=True)


def get(d, path):
    r = d.request("GET", path)
    return r.json() if r.status_code == 200 else None


def events(d, reason):
    return [e for e in d.request("GET", EVENTS).json()["items"] if e.get("reason") == reason]


def loop_devices_over(path):
    """The loop devices whose backing file is `path` or under it, deleted or not (`losetup --list`)."""
    out = subprocess.run(["losetup", "--list", "--json", "--output", "NAME,BACK-FILE"], capture_output=True, text=True, check=True).stdout
    devices = json.loads(out)["loopdevices"] if out.strip() else []
    files = {dev["name"]: (dev.get("back-file") or "").removesuffix(" (deleted)") for dev in devices}
    return sorted(name for name, file in files.items() if file == path or file.startswith(path.rstrip("/") + "/"))


def qemu_command_lines(d):
    out = subprocess.run(["pgrep", "-a", "-f", "qemu-system-x86_64"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if d.data_dir in line]


def test_the_daemon_creates_the_local_default_class_and_the_shared_class(cluster):
    d = cluster
    local = get(d, f"{CLASSES}/local")
    assert local["provisioner"] == "swiftvirt.io/local"
    assert local["volumeBindingMode"] == "WaitForFirstConsumer"
    assert local["reclaimPolicy"] == "Delete"
    assert local["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    shared = get(d, f"{CLASSES}/shared")
    assert shared["provisioner"] == "swiftvirt.io/shared"
    assert shared["volumeBindingMode"] == "Immediate"
    assert "storageclass.kubernetes.io/is-default-class" not in shared["metadata"].get("annotations", {})
    out = d.kubectl("get", "storageclass").stdout
    assert "local (default)" in out and "swiftvirt.io/shared" in out

    # A shared claim is provisioned at once, without a consumer.
    assert d.request("POST", PVCS, pvc("rwx", class_name="shared", access=("ReadWriteMany",))).status_code == 201
    wait_for(lambda: get(d, f"{PVCS}/rwx")["status"].get("phase") == "Bound", 30, "the shared claim to bind")
    claim = get(d, f"{PVCS}/rwx")
    volume = get(d, f"{PVS}/{claim['spec']['volumeName']}")
    assert volume["spec"]["csi"] == {"driver": "swiftvirt.io/shared", "volumeHandle": claim["spec"]["volumeName"]}
    assert volume["status"]["phase"] == "Bound"


def test_a_vm_boots_from_a_filesystem_pvc_of_the_default_class(cluster):
    d = cluster
    volume_dir = os.path.join(d.data_dir, "static", "root")
    guest_raw(os.path.join(volume_dir, "disk.img"))
    assert d.request("POST", PVS, static_pv("static-root", volume_dir, "local")).status_code == 201
    assert d.request("POST", PVCS, pvc("root")).status_code == 201
    # The default class waits for its first consumer.
    wait_for(lambda: events(d, "WaitForFirstConsumer"), 30, "the WaitForFirstConsumer event")
    claim = get(d, f"{PVCS}/root")
    assert claim["spec"]["storageClassName"] == "local"
    assert claim["status"]["phase"] == "Pending"
    assert events(d, "WaitForFirstConsumer")[0]["message"] == "waiting for first consumer to be created before binding"

    volumes = [{"name": "root", "persistentVolumeClaim": {"claimName": "root"}}]
    assert d.request("POST", VMS, vm_with_volumes("pvc-vm", volumes, [{"name": "root", "disk": {"bus": "virtio"}}])).status_code == 201
    wait_for(lambda: "login:" in serial_log(d, "pvc-vm"), 180, "the guest's login prompt")
    claim = get(d, f"{PVCS}/root")
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["volumeName"] == "static-root"
    assert claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == "node-a"
    assert claim["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] == "yes"
    assert get(d, f"{PVS}/static-root")["status"]["phase"] == "Bound"
    assert vmi(d, "pvc-vm")["status"]["nodeName"] == "node-a"
    assert any(f"filename={volume_dir}/disk.img" in line for line in qemu_command_lines(d))

    # Retain: deleting the VM and then the claim releases the volume and keeps its data.
    assert d.request("DELETE", f"{VMS}/pvc-vm").status_code == 200
    wait_for(lambda: get(d, f"{VMIS}/pvc-vm") is None, 60, "the VMI to go")
    assert d.request("DELETE", f"{PVCS}/root").status_code == 200
    wait_for(lambda: get(d, f"{PVCS}/root") is None, 30, "the claim to go")
    wait_for(lambda: get(d, f"{PVS}/static-root")["status"]["phase"] == "Released", 30, "the volume to be Released")
    assert os.path.exists(os.path.join(volume_dir, "disk.img"))


def test_a_vm_boots_from_a_block_mode_volume_on_a_loop_device(cluster):
    d = cluster
    image = os.path.join(d.data_dir, "static", "block.raw")
    guest_raw(image)
    assert d.request("POST", PVS, static_pv("static-block", image, "", mode="Block", source="hostPath", node=None)).status_code == 201
    assert d.request("POST", PVCS, pvc("block-root", mode="Block", class_name="", volume_name="static-block")).status_code == 201
    wait_for(lambda: get(d, f"{PVCS}/block-root")["status"].get("phase") == "Bound", 30, "the Block claim to bind")

    volumes = [{"name": "root", "persistentVolumeClaim": {"claimName": "block-root"}}]
    assert d.request("POST", VMS, vm_with_volumes("block-vm", volumes, [{"name": "root", "disk": {"bus": "sata"}}])).status_code == 201
    wait_for(lambda: "login:" in serial_log(d, "block-vm"), 180, "the guest's login prompt")
    loops = subprocess.run(["losetup", "--associated", image], capture_output=True, text=True, check=True).stdout
    device = loops.split(":")[0]
    assert device.startswith("/dev/loop")
    assert any(f"driver=host_device,filename={device}" in line for line in qemu_command_lines(d))

    # Stopping the guest detaches the loop device.
    assert d.request("DELETE", f"{VMS}/block-vm").status_code == 200
    wait_for(lambda: get(d, f"{VMIS}/block-vm") is None, 60, "the VMI to go")
    wait_for(lambda: subprocess.run(["losetup", "--associated", image], capture_output=True, text=True).stdout == "", 30,
             "the loop device to be detached")
    assert loop_devices_over(image) == []


def test_a_provisioned_block_volume_leaves_no_loop_device_once_its_vm_and_claim_are_deleted(cluster):
    d = cluster
    assert d.request("POST", PVCS, pvc("block-data", mode="Block")).status_code == 201
    volumes = [{"name": "root", "containerDisk": {"image": f"{GUEST}/disk.qcow2"}},
               {"name": "data", "persistentVolumeClaim": {"claimName": "block-data"}}]
    disks = [{"name": "root", "disk": {"bus": "virtio"}, "bootOrder": 1}, {"name": "data", "disk": {"bus": "virtio"}}]
    assert d.request("POST", VMS, vm_with_volumes("block-data-vm", volumes, disks)).status_code == 201
    wait_for(lambda: "login:" in serial_log(d, "block-data-vm"), 180, "the guest's login prompt")
    claim = get(d, f"{PVCS}/block-data")
    name = claim["spec"]["volumeName"]
    image = os.path.join(d.data_dir, "volumes", get(d, f"{PVS}/{name}")["spec"]["csi"]["volumeHandle"], "disk.img")
    attached = loop_devices_over(image)
    assert len(attached) == 1
    assert any(f"driver=host_device,filename={attached[0]}" in line for line in qemu_command_lines(d))

    # The VMI goes first (its pod is released without it): then the claim, the volume and its file.
    assert d.request("DELETE", f"{VMS}/block-data-vm").status_code == 200
    wait_for(lambda: get(d, f"{VMIS}/block-data-vm") is None, 60, "the VMI to go")
    assert d.request("DELETE", f"{PVCS}/block-data").status_code == 200
    wait_for(lambda: get(d, f"{PVCS}/block-data") is None, 60, "the claim to go once its pod is gone")
    wait_for(lambda: get(d, f"{PVS}/{name}") is None, 30, "the provisioned volume to be deleted")
    assert not os.path.exists(image)
    assert loop_devices_over(image) == []


def test_a_provisioned_volume_is_protected_while_in_use_and_reclaimed_with_its_claim(cluster):
    d = cluster
    assert d.request("POST", PVCS, pvc("data", size="48Mi")).status_code == 201
    volumes = [{"name": "root", "containerDisk": {"image": f"{GUEST}/disk.qcow2"}},
               {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    # SeaBIOS boots the first hard disk it finds (the SCSI one, which is empty) unless told otherwise.
    disks = [{"name": "root", "disk": {"bus": "virtio"}, "bootOrder": 1},
             {"name": "data", "disk": {"bus": "scsi"}, "cache": "writethrough"}]
    assert d.request("POST", VMS, vm_with_volumes("data-vm", volumes, disks)).status_code == 201
    wait_for(lambda: "login:" in serial_log(d, "data-vm"), 180, "the guest's login prompt")

    claim = get(d, f"{PVCS}/data")
    name = claim["spec"]["volumeName"]
    assert name == f"pvc-{claim['metadata']['uid']}"
    assert claim["status"]["capacity"]["storage"] == "48Mi"
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    volume = get(d, f"{PVS}/{name}")
    assert volume["spec"]["csi"]["driver"] == "swiftvirt.io/local"
    assert volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["node-a"]
    image = os.path.join(d.data_dir, "volumes", name, "disk.img")
    assert os.path.getsize(image) == 48 << 20
    assert [e["message"] for e in events(d, "ProvisioningSucceeded")] == [f"Successfully provisioned volume {name}"]

    # In use: the claim is only marked for deletion.
    assert d.request("DELETE", f"{PVCS}/data").status_code == 200
    held = get(d, f"{PVCS}/data")
    assert held["metadata"].get("deletionTimestamp")
    assert held["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert "login:" in serial_log(d, "data-vm")
    assert vmi(d, "data-vm")["status"]["phase"] == "Running"

    # The VM goes, then the claim, then the volume and its files (reclaim policy Delete).
    assert d.request("DELETE", f"{VMS}/data-vm").status_code == 200
    wait_for(lambda: get(d, f"{PVCS}/data") is None, 90, "the claim to go once its pod is gone")
    wait_for(lambda: get(d, f"{PVS}/{name}") is None, 30, "the provisioned volume to be deleted")
    assert not os.path.exists(os.path.dirname(image))


def test_a_grown_claim_grows_the_disk_the_guest_sees_at_its_next_start(cluster):
    d = cluster
    assert d.request("POST", PVCS, pvc("grow", size="40Mi")).status_code == 201
    volumes = [{"name": "root", "containerDisk": {"image": f"{GUEST}/disk.qcow2"}},
               {"name": "data", "persistentVolumeClaim": {"claimName": "grow"}}]
    disks = [{"name": "root", "disk": {"bus": "virtio"}, "bootOrder": 1}, {"name": "data", "disk": {"bus": "virtio"}}]
    manifest = vm_with_volumes("grow-vm", volumes, disks)
    assert d.request("POST", VMS, manifest).status_code == 201
    wait_for(lambda: "login:" in serial_log(d, "grow-vm"), 180, "the guest's login prompt")
    name = get(d, f"{PVCS}/grow")["spec"]["volumeName"]
    image = os.path.join(d.data_dir, "volumes", name, "disk.img")
    assert os.path.getsize(image) == 40 << 20

    # Shrinking is refused; growing is accepted (the local class allows expansion) and reaches the volume.
    shrink = d.kubectl("patch", "pvc", "grow", "-p", '{"spec":{"resources":{"requests":{"storage":"20Mi"}}}}', check=False)
    assert shrink.returncode != 0
    assert "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity" in shrink.stderr
    d.kubectl("patch", "pvc", "grow", "-p", '{"spec":{"resources":{"requests":{"storage":"72Mi"}}}}')
    wait_for(lambda: get(d, f"{PVCS}/grow")["status"]["capacity"]["storage"] == "72Mi", 30, "the claim's capacity to grow")
    assert get(d, f"{PVS}/{name}")["spec"]["capacity"]["storage"] == "72Mi"
    assert [e["message"] for e in events(d, "VolumeResizeSuccessful")] == ["Resize volume succeeded"]

    # The running guest keeps its disk; the restarted one gets the grown disk.img.
    assert os.path.getsize(image) == 40 << 20
    assert d.swiftvirt("restart", "grow-vm").returncode == 0
    wait_for(lambda: os.path.getsize(image) == 72 << 20, 120, "disk.img to grow when the guest starts again")


def test_a_shared_volume_is_attached_to_two_vms_at_once_when_shareable(cluster):
    d = cluster
    assert d.request("POST", PVCS, pvc("both", class_name="shared", access=("ReadWriteMany",))).status_code == 201
    wait_for(lambda: get(d, f"{PVCS}/both")["status"].get("phase") == "Bound", 30, "the shared claim to bind")
    volumes = [{"name": "root", "containerDisk": {"image": f"{GUEST}/disk.qcow2"}},
               {"name": "data", "persistentVolumeClaim": {"claimName": "both"}}]
    disks = [{"name": "root", "disk": {"bus": "virtio"}, "bootOrder": 1},
             {"name": "data", "disk": {"bus": "virtio"}, "shareable": True}]
    for name in ("share-a", "share-b"):
        assert d.request("POST", VMS, vm_with_volumes(name, volumes, disks)).status_code == 201
    for name in ("share-a", "share-b"):
        wait_for(lambda: "login:" in serial_log(d, name), 180, f"{name}'s login prompt")
    volume = get(d, f"{PVCS}/both")["spec"]["volumeName"]
    image = os.path.join(d.data_dir, "shared-volumes", volume, "disk.img")
    lines = [line for line in qemu_command_lines(d) if f"filename={image}" in line]
    assert len(lines) == 2
    assert all("share-rw=on" in line for line in lines)
