"""DataVolumes (cdi.kubevirt.io/v1beta1) on the real daemon under TCG: a loopback HTTP server serves the test
guest as qcow2 and as .qcow2.gz; the DataVolume controller makes the claim, the node agent runs
swiftvirt-importer into the volume, and a VM with a dataVolumeTemplate goes Provisioning → Running and
boots the imported disk. A 404 fails the DataVolume with the HTTP status and no QEMU ever starts; a blank
DataVolume is an empty disk.img of its size."""
import base64
import functools
import gzip
import http.server
import os
import shutil
import tempfile
import threading

import pytest

from test_storage import loop_devices_over
from test_vms import GUEST, VMS, run_cluster, serial_log, wait_for, qemu_pids, printable

DVS = "/apis/cdi.kubevirt.io/v1beta1/namespaces/default/datavolumes"
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
PVS = "/api/v1/persistentvolumes"
EVENTS = "/api/v1/namespaces/default/events"


@pytest.fixture
def cluster():
    yield from run_cluster(["--emulation", "--node-name", "node-a"], "swiftvirt-dv-")


class FlakyHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files; a path under /flaky/ answers 503 twice before it serves the file; one under /held/ waits
    until the test sets `release`."""
    failures = {}
    lock = threading.Lock()
    release = threading.Event()

    def do_GET(self):
        if self.path.startswith("/held/"):
            self.release.wait(120)
            self.path = self.path[len("/held"):]
        if self.path.startswith("/private/"):
            if self.headers.get("Authorization") != "Basic " + base64.b64encode(b"importer:s3cret").decode():
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="images"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.path = self.path[len("/private"):]
        if self.path.startswith("/flaky/"):
            with self.lock:
                count = self.failures.get(self.path, 0)
                self.failures[self.path] = count + 1
            if count < 2:
                self.send_error(503, "Service Unavailable")
                return
            self.path = self.path[len("/flaky"):]
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def images():
    """A loopback HTTP server over a directory holding the guest as disk.qcow2 and disk.qcow2.gz."""
    root = tempfile.mkdtemp(prefix="swiftvirt-dv-images-")
    shutil.copy(f"{GUEST}/disk.qcow2", os.path.join(root, "disk.qcow2"))
    with open(f"{GUEST}/disk.qcow2", "rb") as src, gzip.open(os.path.join(root, "disk.qcow2.gz"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    FlakyHandler.release.clear()
    handler = functools.partial(FlakyHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    FlakyHandler.release.set()
    server.shutdown()
    shutil.rmtree(root, ignore_errors=True)


def get(d, path):
    r = d.request("GET", path)
    return r.json() if r.status_code == 200 else None


def dv_status(d, name):
    obj = get(d, f"{DVS}/{name}")
    return (obj or {}).get("status", {})


def condition(d, name, kind):
    return next((c for c in dv_status(d, name).get("conditions", []) if c["type"] == kind), None)


def events(d, reason):
    return [e for e in d.request("GET", EVENTS).json()["items"] if e.get("reason") == reason]


def dv_spec(source, size="64Mi"):
    return {"source": source, "storage": {"resources": {"requests": {"storage": size}}}}


def vm_with_template(name, url, volume_mode=None, secret=None):
    spec = dv_spec({"http": {"url": url}})
    if volume_mode:
        spec["storage"]["volumeMode"] = volume_mode
    if secret:
        spec["source"]["http"]["secretRef"] = secret
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name},
        "spec": {
            "runStrategy": "Always",
            "dataVolumeTemplates": [{"metadata": {"name": f"{name}-root"}, "spec": spec}],
            "template": {"spec": {
                "hostname": name,
                "domain": {"memory": {"guest": "256Mi"}, "devices": {"disks": [
                    {"name": "root", "disk": {"bus": "virtio"}}, {"name": "seed", "disk": {"bus": "virtio"}}]}},
                "terminationGracePeriodSeconds": 5,
                "volumes": [
                    {"name": "root", "dataVolume": {"name": f"{name}-root"}},
                    {"name": "seed", "cloudInitNoCloud": {"userData": "#!/bin/sh\necho user-data-ran\n"}},
                ],
            }},
        },
    }


def volume_dir(d, claim_name):
    claim = get(d, f"{PVCS}/{claim_name}")
    handle = get(d, f"{PVS}/{claim['spec']['volumeName']}")["spec"]["csi"]["volumeHandle"]
    return os.path.join(d.data_dir, "volumes", handle)


@pytest.mark.parametrize("image", ["disk.qcow2", "disk.qcow2.gz"])
def test_a_vm_with_a_datavolume_template_is_provisioned_then_boots_the_imported_disk(cluster, images, image):
    d = cluster
    # The server holds the download until the test has seen the import in progress and the VM provisioning.
    assert d.request("POST", VMS, vm_with_template("dv-vm", f"{images}/held/{image}")).status_code == 201
    wait_for(lambda: get(d, f"{DVS}/dv-vm-root"), 30, "the VM to create its DataVolume")
    dv = get(d, f"{DVS}/dv-vm-root")
    assert dv["metadata"]["ownerReferences"][0]["kind"] == "VirtualMachine"
    wait_for(lambda: dv_status(d, "dv-vm-root").get("phase") == "ImportInProgress", 60, "phase ImportInProgress")
    assert condition(d, "dv-vm-root", "Running")["status"] == "True"
    assert condition(d, "dv-vm-root", "Bound")["status"] == "True"
    wait_for(lambda: printable(d, "dv-vm") == "Provisioning", 30, "printableStatus Provisioning")
    assert qemu_pids(d.data_dir) == []
    FlakyHandler.release.set()

    wait_for(lambda: dv_status(d, "dv-vm-root").get("phase") == "Succeeded", 180, "the DataVolume to succeed")
    status = dv_status(d, "dv-vm-root")
    assert status["progress"] == "100.0%"
    assert status["claimName"] == "dv-vm-root"
    assert condition(d, "dv-vm-root", "Ready")["status"] == "True"
    assert condition(d, "dv-vm-root", "Bound")["reason"] == "Bound"
    assert condition(d, "dv-vm-root", "Running")["reason"] == "Completed"
    assert events(d, "ImportSucceeded")[0]["message"] == "Successfully imported into PVC dv-vm-root"

    claim = get(d, f"{PVCS}/dv-vm-root")
    assert claim["metadata"]["ownerReferences"][0]["kind"] == "DataVolume"
    assert claim["metadata"]["annotations"]["cdi.kubevirt.io/storage.import.endpoint"] == f"{images}/held/{image}"
    assert claim["metadata"]["annotations"]["cdi.kubevirt.io/storage.import.source"] == "http"
    assert claim["metadata"]["annotations"]["cdi.kubevirt.io/storage.pod.phase"] == "Succeeded"
    directory = volume_dir(d, "dv-vm-root")
    assert os.path.exists(os.path.join(directory, "disk.img.complete"))
    assert os.path.getsize(os.path.join(directory, "disk.img")) == 64 * 1024 * 1024

    wait_for(lambda: "login:" in serial_log(d, "dv-vm"), 240, "the guest's login prompt")
    wait_for(lambda: printable(d, "dv-vm") == "Running", 30, "printableStatus Running")
    vmi_conditions = get(d, f"/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances/dv-vm")["status"]["conditions"]
    assert {"type": "DataVolumesReady", "status": "True", "reason": "AllDVsReady"}.items() <= next(
        c for c in vmi_conditions if c["type"] == "DataVolumesReady").items()
    table = d.kubectl("get", "dv", "dv-vm-root").stdout.split("\n")
    assert table[0].split() == ["NAME", "PHASE", "PROGRESS", "RESTARTS", "AGE"]
    assert table[1].split()[:4] == ["dv-vm-root", "Succeeded", "100.0%", "0"]

    # The VM owns its DataVolume, which owns its claim: deleting the VM takes them along.
    assert d.request("DELETE", f"{VMS}/dv-vm").status_code == 200
    wait_for(lambda: get(d, f"{DVS}/dv-vm-root") is None and get(d, f"{PVCS}/dv-vm-root") is None, 90, "the DataVolume and its claim to go")


def test_a_404_fails_the_datavolume_with_the_http_status_and_no_qemu_starts(cluster, images):
    d = cluster
    assert d.request("POST", VMS, vm_with_template("bad-vm", f"{images}/missing.qcow2")).status_code == 201
    wait_for(lambda: dv_status(d, "bad-vm-root").get("phase") == "Failed", 120, "the DataVolume to fail")
    running = condition(d, "bad-vm-root", "Running")
    assert running["status"] == "False"
    assert running["reason"] == "Error"
    assert "404" in running["message"]
    assert condition(d, "bad-vm-root", "Ready")["status"] == "False"
    assert any("404" in e["message"] for e in events(d, "ImportFailed"))
    wait_for(lambda: printable(d, "bad-vm") == "DataVolumeError", 30, "printableStatus DataVolumeError")
    assert qemu_pids(d.data_dir) == []
    assert "login:" not in serial_log(d, "bad-vm")


def test_a_blank_datavolume_is_an_empty_disk_of_its_size(cluster):
    d = cluster
    # The shared class binds at once: no consumer is needed for the import.
    body = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "blank"},
            "spec": {"source": {"blank": {}}, "storage": {"storageClassName": "shared", "resources": {"requests": {"storage": "48Mi"}}}}}
    assert d.request("POST", DVS, body).status_code == 201
    wait_for(lambda: dv_status(d, "blank").get("phase") == "Succeeded", 60, "the blank DataVolume to succeed")
    claim = get(d, f"{PVCS}/blank")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["metadata"]["annotations"]["cdi.kubevirt.io/storage.import.source"] == "blank"
    handle = get(d, f"{PVS}/{claim['spec']['volumeName']}")["spec"]["csi"]["volumeHandle"]
    image = os.path.join(d.data_dir, "shared-volumes", handle, "disk.img")
    assert os.path.getsize(image) == 48 * 1024 * 1024
    assert os.path.exists(image + ".complete")
    assert dv_status(d, "blank")["progress"] == "100.0%"


def test_a_datavolume_of_the_default_class_waits_for_its_first_consumer(cluster, images):
    d = cluster
    body = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "lonely"},
            "spec": dv_spec({"http": {"url": f"{images}/disk.qcow2"}})}
    assert d.request("POST", DVS, body).status_code == 201
    wait_for(lambda: dv_status(d, "lonely").get("phase") == "WaitForFirstConsumer", 30, "phase WaitForFirstConsumer")
    assert dv_status(d, "lonely")["progress"] == "N/A"
    assert condition(d, "lonely", "Bound")["reason"] == "Pending"


def test_an_import_that_may_be_retried_is_retried_until_the_server_recovers(cluster, images):
    d = cluster
    body = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "flaky"},
            "spec": {"source": {"http": {"url": f"{images}/flaky/disk.qcow2"}},
                     "storage": {"storageClassName": "shared", "resources": {"requests": {"storage": "64Mi"}}}}}
    assert d.request("POST", DVS, body).status_code == 201
    wait_for(lambda: dv_status(d, "flaky").get("phase") == "Succeeded", 120, "the retried import to succeed")
    assert dv_status(d, "flaky")["restartCount"] == 2
    retries = events(d, "Error")
    assert retries and "503" in retries[0]["message"]
    assert condition(d, "flaky", "Running")["reason"] == "Completed"


def test_the_legacy_form_a_pvc_annotated_with_an_endpoint_is_filled_too(cluster, images):
    d = cluster
    body = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "legacy", "annotations": {"cdi.kubevirt.io/storage.import.endpoint": f"{images}/disk.qcow2.gz"}},
            "spec": {"storageClassName": "shared", "accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "64Mi"}}}}
    assert d.request("POST", PVCS, body).status_code == 201
    wait_for(lambda: get(d, f"{PVCS}/legacy")["metadata"]["annotations"].get("cdi.kubevirt.io/storage.pod.phase") == "Succeeded",
             120, "the annotated claim to be filled")
    claim = get(d, f"{PVCS}/legacy")
    assert claim["metadata"]["annotations"]["cdi.kubevirt.io/storage.populator.progress"] == "100.0%"
    handle = get(d, f"{PVS}/{claim['spec']['volumeName']}")["spec"]["csi"]["volumeHandle"]
    image = os.path.join(d.data_dir, "shared-volumes", handle, "disk.img")
    assert os.path.exists(image + ".complete")
    assert os.path.getsize(image) == 64 * 1024 * 1024


def test_a_block_datavolume_with_basic_auth_boots_its_vm(cluster, images):
    d = cluster
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "image-creds"},
              "stringData": {"accessKeyId": "importer", "secretKey": "s3cret"}}
    assert d.request("POST", "/api/v1/namespaces/default/secrets", secret).status_code == 201
    body = vm_with_template("block-dv-vm", f"{images}/private/disk.qcow2", volume_mode="Block", secret="image-creds")
    assert d.request("POST", VMS, body).status_code == 201
    wait_for(lambda: dv_status(d, "block-dv-vm-root").get("phase") == "Succeeded", 180, "the DataVolume to succeed")
    assert get(d, f"{PVCS}/block-dv-vm-root")["spec"]["volumeMode"] == "Block"
    wait_for(lambda: "login:" in serial_log(d, "block-dv-vm"), 240, "the guest's login prompt")
    image = os.path.join(volume_dir(d, "block-dv-vm-root"), "disk.img")
    assert len(loop_devices_over(image)) == 1

    # The VM takes its DataVolume and claim with it; then the volume goes, and no loop device is left over its file.
    name = get(d, f"{PVCS}/block-dv-vm-root")["spec"]["volumeName"]
    assert d.request("DELETE", f"{VMS}/block-dv-vm").status_code == 200
    wait_for(lambda: get(d, f"{PVCS}/block-dv-vm-root") is None, 90, "the claim to go with its VM")
    wait_for(lambda: get(d, f"{PVS}/{name}") is None, 30, "the provisioned volume to be deleted")
    assert loop_devices_over(image) == []


def test_a_wrong_password_fails_the_import_with_401(cluster, images):
    d = cluster
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "wrong-creds"},
              "stringData": {"accessKeyId": "importer", "secretKey": "nope"}}
    assert d.request("POST", "/api/v1/namespaces/default/secrets", secret).status_code == 201
    body = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "denied"},
            "spec": {"source": {"http": {"url": f"{images}/private/disk.qcow2", "secretRef": "wrong-creds"}},
                     "storage": {"storageClassName": "shared", "resources": {"requests": {"storage": "64Mi"}}}}}
    assert d.request("POST", DVS, body).status_code == 201
    wait_for(lambda: dv_status(d, "denied").get("phase") == "Failed", 60, "the DataVolume to fail")
    assert "401" in condition(d, "denied", "Running")["message"]
