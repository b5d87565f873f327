"""DataVolumes with CDI's `source.registry` on the real daemon under TCG: Debian's docker-registry on loopback
(plain HTTP; htpasswd basic auth for the password cases) holds the test guest as a containerDisk image
(pushed with skopeo); the node agent pulls it into its containerDisk cache with the DataVolume's secretRef,
swiftvirt-importer --file converts its /disk/disk.qcow2 into the volume, and a VM with the DataVolume as
its template boots it. A missing tag and a wrong password are retried, as CDI restarts its importer pod,
with the registry's own words in the DataVolume's Running condition, until the tag is pushed."""
import hashlib
import json
import os
import subprocess
import tempfile

from test_datavolume import DVS, PVCS, PVS, cluster, condition, dv_status, events, get  # noqa: F401 (fixture)
from test_registry import PASSWORD, USER, auth_registry, image_layout, registry  # noqa: F401 (fixtures)
from test_vms import GUEST, VMS, serial_log, wait_for

SECRETS = "/api/v1/namespaces/default/secrets"


def registry_dv(name, url, secret=None, size="64Mi", storage_class="shared"):
    source = {"url": url}
    if secret:
        source["secretRef"] = secret
    storage = {"resources": {"requests": {"storage": size}}}
    if storage_class:
        storage["storageClassName"] = storage_class
    return {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": name},
            "spec": {"source": {"registry": source}, "storage": storage}}


def vm_with_registry_template(name, url):
    template = registry_dv(f"{name}-root", url, storage_class=None)
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name},
        "spec": {
            "runStrategy": "Always",
            "dataVolumeTemplates": [{"metadata": template["metadata"], "spec": template["spec"]}],
            "template": {"spec": {
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


def manifest_digest(r, tag):
    creds = ["--creds", f"{USER}:{PASSWORD}"] if r.auth else []
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", *creds, f"docker://{r.host}/guest:{tag}"],
                         check=True, capture_output=True).stdout
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def volume_dir(d, claim_name):
    """The directory of the claim's volume: a local one's, or a shared one's."""
    claim = get(d, f"{PVCS}/{claim_name}")
    handle = get(d, f"{PVS}/{claim['spec']['volumeName']}")["spec"]["csi"]["volumeHandle"]
    for kind in ("volumes", "shared-volumes"):
        path = os.path.join(d.data_dir, kind, handle)
        if os.path.isdir(path):
            return path
    raise AssertionError(f"no directory for volume {handle}")


def credentials(d, name, password):
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
            "stringData": {"accessKeyId": USER, "secretKey": password}}
    assert d.request("POST", SECRETS, body).status_code == 201


def guest_bytes_in(path):
    """The guest disk as raw, and the volume's first bytes of the same length."""
    with tempfile.TemporaryDirectory() as scratch:
        converted = os.path.join(scratch, "guest.raw")
        subprocess.run(["qemu-img", "convert", "-O", "raw", os.path.join(GUEST, "disk.qcow2"), converted], check=True, capture_output=True)
        with open(converted, "rb") as f:
            raw = f.read()
    with open(path, "rb") as f:
        return raw, f.read(len(raw))


def test_a_vm_boots_from_a_registry_datavolume_and_a_digest_datavolume_reuses_the_pull(cluster, registry, image_layout):
    d = cluster
    layout, _ = image_layout
    layers = registry.push(layout, "v1")
    url = f"docker://{registry.host}/guest:v1"
    assert d.request("POST", VMS, vm_with_registry_template("regvm", url)).status_code == 201
    wait_for(lambda: dv_status(d, "regvm-root").get("phase") == "Succeeded", 240, "the registry DataVolume to succeed")
    status = dv_status(d, "regvm-root")
    assert status["progress"] == "100.0%"
    assert condition(d, "regvm-root", "Ready")["status"] == "True"
    claim = get(d, f"{PVCS}/regvm-root")
    annotations = claim["metadata"]["annotations"]
    assert annotations["cdi.kubevirt.io/storage.import.source"] == "registry"
    assert annotations["cdi.kubevirt.io/storage.import.endpoint"] == url
    image = os.path.join(volume_dir(d, "regvm-root"), "disk.img")
    with open(image + ".complete") as f:
        marker = json.load(f)
    assert marker["source"] == url and marker["format"] == "qcow2", marker
    assert os.path.getsize(image) == 64 * 1024 * 1024  # grown to the claim's size
    raw, head = guest_bytes_in(image)
    assert head == raw, "the volume holds the image's disk, converted to raw"
    wait_for(lambda: "login:" in serial_log(d, "regvm"), 240, "the guest's login prompt from the imported disk")

    # The same image by digest: its manifest is asked for, its layers come from the node's cache.
    digest = manifest_digest(registry, "v1")
    assert d.request("POST", DVS, registry_dv("bydigest", f"docker://{registry.host}/guest@{digest}")).status_code == 201
    wait_for(lambda: dv_status(d, "bydigest").get("phase") == "Succeeded", 120, "the DataVolume by digest to succeed")
    assert all(registry.blob_gets(layer) == 1 for layer in layers), "each layer was pulled once"
    raw, head = guest_bytes_in(os.path.join(volume_dir(d, "bydigest"), "disk.img"))
    assert head == raw


def test_a_missing_tag_is_retried_with_the_registrys_words_until_it_is_pushed(cluster, registry, image_layout):
    d = cluster
    layout, _ = image_layout
    registry.push(layout, "v1")
    assert d.request("POST", DVS, registry_dv("later", f"docker://{registry.host}/guest:later")).status_code == 201
    wait_for(lambda: dv_status(d, "later").get("restartCount", 0) >= 1, 90, "the import of a missing tag to be retried")
    status = dv_status(d, "later")
    assert status["phase"] == "ImportInProgress", status
    running = condition(d, "later", "Running")
    assert running["status"] == "False" and running["reason"] == "Error", running
    assert "MANIFEST_UNKNOWN" in running["message"] and "ImagePullFailed" in running["message"], running
    assert any("MANIFEST_UNKNOWN" in e["message"] for e in events(d, "Error"))

    registry.push(layout, "later")
    wait_for(lambda: dv_status(d, "later").get("phase") == "Succeeded", 180, "the retried import to succeed once the tag exists")
    assert condition(d, "later", "Running")["reason"] == "Completed"


def test_a_wrong_password_is_retried_with_401_and_the_right_one_imports(cluster, auth_registry, image_layout):
    d = cluster
    auth_registry.push(image_layout[0], "v1")
    url = f"docker://{auth_registry.host}/guest:v1"
    credentials(d, "wrong", "not-the-password")
    credentials(d, "right", PASSWORD)
    assert d.request("POST", DVS, registry_dv("denied", url, secret="wrong")).status_code == 201
    assert d.request("POST", DVS, registry_dv("anonymous", url)).status_code == 201
    assert d.request("POST", DVS, registry_dv("allowed", url, secret="right")).status_code == 201
    wait_for(lambda: dv_status(d, "denied").get("restartCount", 0) >= 1, 90, "the import with the wrong password to be retried")
    message = condition(d, "denied", "Running")["message"]
    assert "401 UNAUTHORIZED" in message and "refused the credentials of spec.source.registry.secretRef" in message, message
    assert dv_status(d, "denied")["phase"] == "ImportInProgress"
    wait_for(lambda: dv_status(d, "anonymous").get("restartCount", 0) >= 1, 90, "the import without credentials to be retried")
    assert "set spec.source.registry.secretRef" in condition(d, "anonymous", "Running")["message"]
    wait_for(lambda: dv_status(d, "allowed").get("phase") == "Succeeded", 180, "the import with the right password to succeed")
    raw, head = guest_bytes_in(os.path.join(volume_dir(d, "allowed"), "disk.img"))
    assert head == raw
