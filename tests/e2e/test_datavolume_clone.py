"""DataVolume clones (cdi.kubevirt.io/v1beta1 `source.pvc`, and `sourceRef` to a DataSource) on the real daemon
under TCG: the DataVolume controller checks the source and makes the target claim with `k8s.io/CloneRequest`,
the node agent holding both volumes copies the source's disk.img (FICLONE where the filesystem shares extents,
else a copy), grows it to the target's size and marks it complete; a VM boots the clone to its login prompt.
A DataSource is Ready once its PVC is populated, and a DataVolume naming a DataSource that does not exist yet
waits for it; a target smaller than its source fails with CDI's message."""
import hashlib
import json
import os

import pytest

from test_vms import VMS, run_cluster, serial_log, wait_for, printable
from test_datavolume import DVS, PVCS, PVS, images, get, dv_status, condition, events  # noqa: F401 (fixture)

DAS = "/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datasources"


@pytest.fixture
def cluster():
    yield from run_cluster(["--emulation", "--node-name", "node-a"], "swiftvirt-clone-")


def image_path(d, claim_name):
    claim = get(d, f"{PVCS}/{claim_name}")
    volume = get(d, f"{PVS}/{claim['spec']['volumeName']}")
    handle = volume["spec"]["csi"]["volumeHandle"]
    top = "shared-volumes" if volume["spec"]["csi"]["driver"] == "swiftvirt.io/shared" else "volumes"
    return os.path.join(d.data_dir, top, handle, "disk.img")


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_volume(name, source=None, source_ref=None, size=None, storage_class=None):
    storage = {}
    if size:
        storage["resources"] = {"requests": {"storage": size}}
    if storage_class:
        storage["storageClassName"] = storage_class
    spec = {"storage": storage}
    if source_ref:
        spec["sourceRef"] = source_ref
    else:
        spec["source"] = source
    return {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": name}, "spec": spec}


def golden_blank(d, name="golden", size="16Mi"):
    """A populated source on the shared class: a blank DataVolume with a pattern written into its disk.img."""
    assert d.request("POST", DVS, data_volume(name, {"blank": {}}, size=size, storage_class="shared")).status_code == 201
    wait_for(lambda: dv_status(d, name).get("phase") == "Succeeded", 60, f"the DataVolume {name} to succeed")
    path = image_path(d, name)
    with open(path, "r+b") as f:
        f.seek(1 << 20)
        f.write(b"golden-pattern" * 64)
    return path


def test_a_clone_of_an_imported_datavolume_boots_its_vm(cluster, images):
    d = cluster
    # The source: the guest imported over HTTP into the shared class (binds at once, no consumer needed).
    source = data_volume("golden", {"http": {"url": f"{images}/disk.qcow2"}}, size="64Mi", storage_class="shared")
    assert d.request("POST", DVS, source).status_code == 201
    wait_for(lambda: dv_status(d, "golden").get("phase") == "Succeeded", 180, "the source DataVolume to succeed")

    # A VM whose root disk clones it; the template names no size (CDI takes the source's) and no class
    # (the default local class, bound once the VM's pod is scheduled).
    vm = {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "clone-vm"},
        "spec": {
            "runStrategy": "Always",
            "dataVolumeTemplates": [{"metadata": {"name": "clone-vm-root"},
                                     "spec": {"source": {"pvc": {"namespace": "default", "name": "golden"}}, "storage": {}}}],
            "template": {"spec": {
                "domain": {"memory": {"guest": "256Mi"}, "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}]}},
                "terminationGracePeriodSeconds": 5,
                "volumes": [{"name": "root", "dataVolume": {"name": "clone-vm-root"}}],
            }},
        },
    }
    assert d.request("POST", VMS, vm).status_code == 201
    wait_for(lambda: dv_status(d, "clone-vm-root").get("phase") == "Succeeded", 180, "the clone to succeed")
    status = dv_status(d, "clone-vm-root")
    assert status["progress"] == "100.0%"
    assert condition(d, "clone-vm-root", "Ready")["status"] == "True"
    assert condition(d, "clone-vm-root", "Running")["reason"] == "Completed"
    assert events(d, "CloneSucceeded")[0]["message"] == "Successfully cloned from default/golden into clone-vm-root"

    claim = get(d, f"{PVCS}/clone-vm-root")
    assert claim["metadata"]["annotations"]["k8s.io/CloneRequest"] == "default/golden"
    assert "cdi.kubevirt.io/storage.import.source" not in claim["metadata"]["annotations"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "64Mi"
    target, original = image_path(d, "clone-vm-root"), image_path(d, "golden")
    assert target != original
    assert os.path.exists(target + ".complete")
    assert os.path.getsize(target) == 64 * 1024 * 1024

    wait_for(lambda: "login:" in serial_log(d, "clone-vm"), 240, "the guest's login prompt")
    wait_for(lambda: printable(d, "clone-vm") == "Running", 30, "printableStatus Running")

    # The clone is a local volume on node-a used by the running VM: a clone of it waits (CloneSourceInUse)
    # until the VM stops, then its claim is placed on the source's node at once (no consumer needed).
    second = data_volume("second", {"pvc": {"namespace": "default", "name": "clone-vm-root"}})
    assert d.request("POST", DVS, second).status_code == 201
    wait_for(lambda: dv_status(d, "second").get("phase") == "CloneScheduled", 30, "the clone to wait for the source's pod")
    assert condition(d, "second", "Running")["reason"] == "CloneSourceInUse"
    in_use = events(d, "CloneSourceInUse")
    assert in_use and in_use[0]["message"].startswith("pod default/virt-launcher-clone-vm")
    assert in_use[0]["message"].endswith("using PersistentVolumeClaim clone-vm-root")
    assert get(d, f"{PVCS}/second") is None
    patch = d.request("PATCH", f"{VMS}/clone-vm", {"spec": {"runStrategy": "Halted"}}, content_type="application/merge-patch+json")
    assert patch.status_code == 200, patch.text
    wait_for(lambda: dv_status(d, "second").get("phase") == "Succeeded", 120, "the second clone to succeed once the VM stopped")
    claim = get(d, f"{PVCS}/second")
    assert claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == "node-a"
    assert claim["metadata"]["annotations"]["k8s.io/CloneRequest"] == "default/clone-vm-root"
    assert digest(image_path(d, "second")) == digest(image_path(d, "clone-vm-root"))


def test_a_sourceref_datavolume_waits_for_its_datasource_then_clones_its_pvc(cluster):
    d = cluster
    original = golden_blank(d)
    # The DataSource does not exist yet: the DataVolume waits, and says for what.
    body = data_volume("from-das", source_ref={"kind": "DataSource", "name": "fedora"}, storage_class="shared")
    assert d.request("POST", DVS, body).status_code == 201
    wait_for(lambda: (condition(d, "from-das", "Running") or {}).get("reason") == "CloneWithoutSource", 30, "the DataVolume to wait")
    assert dv_status(d, "from-das")["phase"] == "Pending"
    assert "DataSource default/fedora not found" in condition(d, "from-das", "Running")["message"]
    assert get(d, f"{PVCS}/from-das") is None

    dsource = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataSource", "metadata": {"name": "fedora"},
               "spec": {"source": {"pvc": {"namespace": "default", "name": "golden"}}}}
    assert d.request("POST", DAS, dsource).status_code == 201

    def ready():
        conditions = (get(d, f"{DAS}/fedora") or {}).get("status", {}).get("conditions", [])
        return next((c for c in conditions if c["type"] == "Ready"), {}).get("status") == "True"
    wait_for(ready, 30, "the DataSource to be Ready")
    das = get(d, f"{DAS}/fedora")
    assert das["status"]["source"] == {"pvc": {"namespace": "default", "name": "golden"}}
    assert next(c for c in das["status"]["conditions"] if c["type"] == "Ready")["reason"] == "Ready"
    table = d.kubectl("get", "das", "fedora").stdout.split("\n")
    assert table[0].split() == ["NAME", "READY", "AGE"]
    assert table[1].split()[:2] == ["fedora", "True"]

    wait_for(lambda: dv_status(d, "from-das").get("phase") == "Succeeded", 60, "the sourceRef clone to succeed")
    target = image_path(d, "from-das")
    assert os.path.getsize(target) == 16 * 1024 * 1024
    assert digest(target) == digest(original)
    assert os.path.exists(target + ".complete")

    # A DataSource of a PVC that does not exist is not Ready.
    missing = dict(dsource, metadata={"name": "nothing"}, spec={"source": {"pvc": {"namespace": "default", "name": "absent"}}})
    assert d.request("POST", DAS, missing).status_code == 201

    def not_found():
        conditions = (get(d, f"{DAS}/nothing") or {}).get("status", {}).get("conditions", [])
        return next((c for c in conditions if c["type"] == "Ready"), {}).get("reason") == "NotFound"
    wait_for(not_found, 30, "the DataSource to say NotFound")


def test_a_block_clone_is_the_file_behind_the_block_volume_grown_to_its_size(cluster):
    d = cluster
    original = golden_blank(d)
    body = data_volume("block-copy", {"pvc": {"namespace": "default", "name": "golden"}}, size="32Mi", storage_class="shared")
    body["spec"]["storage"]["volumeMode"] = "Block"
    assert d.request("POST", DVS, body).status_code == 201
    wait_for(lambda: dv_status(d, "block-copy").get("phase") == "Succeeded", 60, "the Block clone to succeed")
    assert get(d, f"{PVCS}/block-copy")["spec"]["volumeMode"] == "Block"
    target = image_path(d, "block-copy")
    assert os.path.getsize(target) == 32 * 1024 * 1024
    with open(target, "rb") as copied, open(original, "rb") as source:
        assert copied.read(16 << 20) == source.read()
        assert copied.read() == b"\0" * (16 << 20)
    with open(target + ".complete") as f:
        marker = json.load(f)
    assert marker["source"] == "pvc://default/golden"
    assert marker["method"] in ("reflink", "copy")
    assert marker["virtualSize"] == 32 * 1024 * 1024


def test_a_clone_from_another_namespace(cluster):
    d = cluster
    assert d.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "images"}}).status_code == 201
    team_dvs = DVS.replace("/namespaces/default/", "/namespaces/images/")
    body = data_volume("base", {"blank": {}}, size="16Mi", storage_class="shared")
    assert d.request("POST", team_dvs, body).status_code == 201
    wait_for(lambda: ((get(d, f"{team_dvs}/base") or {}).get("status") or {}).get("phase") == "Succeeded", 60, "the source in images to succeed")
    body = data_volume("copied", {"pvc": {"namespace": "images", "name": "base"}}, storage_class="shared")
    assert d.request("POST", DVS, body).status_code == 201
    wait_for(lambda: dv_status(d, "copied").get("phase") == "Succeeded", 60, "the cross-namespace clone to succeed")
    claim = get(d, f"{PVCS}/copied")
    assert claim["metadata"]["annotations"]["k8s.io/CloneRequest"] == "images/base"
    assert claim["spec"]["resources"]["requests"]["storage"] == "16Mi"
    assert os.path.exists(image_path(d, "copied") + ".complete")


def test_a_target_smaller_than_its_source_fails_with_a_clear_message(cluster):
    d = cluster
    golden_blank(d)
    body = data_volume("small", {"pvc": {"namespace": "default", "name": "golden"}}, size="8Mi", storage_class="shared")
    assert d.request("POST", DVS, body).status_code == 201
    wait_for(lambda: dv_status(d, "small").get("phase") == "Failed", 30, "the clone to fail")
    running = condition(d, "small", "Running")
    assert running["reason"] == "CloneValidationFailed"
    assert "target resources requests storage size is smaller than the source: 8Mi < 16Mi" in running["message"]
    assert get(d, f"{PVCS}/small") is None
    assert events(d, "CloneValidationFailed")


@pytest.mark.parametrize("spec, field", [
    ({"source": {}}, "spec.source.pvc"),
    ({"source": {"pvc": {"namespace": "default", "name": ""}}}, "spec.source.pvc.name"),
    ({"source": {"snapshot": {"namespace": "default", "name": "snap"}}}, "spec.source.snapshot"),
])
def test_a_datasource_without_a_pvc_is_refused_naming_the_field(cluster, spec, field):
    d = cluster
    body = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataSource", "metadata": {"name": "bad"}, "spec": spec}
    r = d.request("POST", DAS, body)
    assert r.status_code == 422, r.text
    assert field in [c.get("field") for c in r.json()["details"]["causes"]]
