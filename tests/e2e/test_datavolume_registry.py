"""DataVolumes with CDI's `source.registry` on the real daemon under TCG: Debian's docker-registry on loopback
(plain HTTP; htpasswd basic auth for the password cases) holds the test guest as a containerDisk image
(pushed with skopeo); the node agent pulls it into its containerDisk cache with the DataVolume's secretRef,
swiftvirt-importer --file converts its /disk/disk.qcow2 into the volume, and a VM with the DataVolume as
its template boots it. A TLS-only registry with a CA of its own is trusted through certConfigMap. A missing
tag and a wrong password are retried, as CDI restarts its importer pod,
with the registry's own words in the DataVolume's Running condition, until the tag is pushed; an image
without a /disk fails at once."""
import gzip
import hashlib
import json
import os
import subprocess
import tempfile

import pytest

from test_datavolume import DVS, PVCS, PVS, cluster, condition, dv_status, events, get  # noqa: F401 (fixture)
from test_registry import PASSWORD, USER, Registry, auth_registry, free_port, image_layout, registry, tar_layer  # noqa: F401 (fixtures)
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


class TLSRegistry(Registry):
    """A docker-registry on loopback that speaks only TLS, with a certificate for 127.0.0.1 from a CA of its own."""

    def __init__(self):  # noqa: super().__init__ starts a plain-HTTP registry; this one is configured from scratch
        self.dir = tempfile.mkdtemp(prefix="swiftvirt-tls-registry-")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.auth = False
        self.log_path = os.path.join(self.dir, "registry.log")
        self.ca_pem = self.make_certificates()
        config = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": False}},
            "storage": {"filesystem": {"rootdirectory": os.path.join(self.dir, "storage")}},
            "http": {"addr": self.host, "secret": "swiftvirt-e2e",
                     "tls": {"certificate": os.path.join(self.dir, "server.pem"), "key": os.path.join(self.dir, "server.key")}},
        }
        with open(os.path.join(self.dir, "config.yml"), "w") as f:
            json.dump(config, f)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", os.path.join(self.dir, "config.yml")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.answers, 30, "docker-registry (TLS) to listen")

    def make_certificates(self):
        def openssl(*args):
            subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=self.dir)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=swiftvirt e2e registry CA", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
        with open(os.path.join(self.dir, "server.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
                "-days", "2", "-extfile", "server.ext")
        with open(os.path.join(self.dir, "ca.pem")) as f:
            return f.read()


@pytest.fixture
def tls_registry():
    r = TLSRegistry()
    yield r
    r.stop()


def test_a_tls_registry_is_trusted_through_the_cert_config_map(cluster, tls_registry, image_layout):
    d = cluster
    tls_registry.push(image_layout[0], "v1")
    url = f"docker://{tls_registry.host}/guest:v1"
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "registry-ca"}, "data": {"ca.pem": tls_registry.ca_pem}}
    assert d.request("POST", "/api/v1/namespaces/default/configmaps", configmap).status_code == 201
    trusted = registry_dv("trusted", url)
    trusted["spec"]["source"]["registry"]["certConfigMap"] = "registry-ca"
    assert d.request("POST", DVS, trusted).status_code == 201
    assert d.request("POST", DVS, registry_dv("untrusted", url)).status_code == 201
    wait_for(lambda: dv_status(d, "trusted").get("phase") == "Succeeded", 180, "the import trusting the ConfigMap's CA to succeed")
    raw, head = guest_bytes_in(os.path.join(volume_dir(d, "trusted"), "disk.img"))
    assert head == raw
    wait_for(lambda: dv_status(d, "untrusted").get("restartCount", 0) >= 1, 90, "the import without the CA to be retried")
    assert dv_status(d, "untrusted")["phase"] == "ImportInProgress"
    message = condition(d, "untrusted", "Running")["message"]
    assert "ImagePullFailed" in message and "CERTIFICATE_VERIFY_FAILED" in message and "spec.source.registry.certConfigMap" in message, message


def layout_without_disk(directory):
    """An OCI layout tagged v1 whose one layer holds /etc but no /disk."""
    blobs = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    layer = tar_layer([("etc/", None), ("etc/os-release", b"ID=nodisk\n")])
    layers = [dict(put(gzip.compress(layer, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]
    config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"]}}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": layers,
                "config": dict(put(json.dumps(config).encode()), mediaType="application/vnd.oci.image.config.v1+json")}
    descriptor = dict(put(json.dumps(manifest).encode()), mediaType="application/vnd.oci.image.manifest.v1+json",
                      annotations={"org.opencontainers.image.ref.name": "v1"})
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [descriptor]}, f)
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def test_an_image_without_a_disk_fails_the_datavolume_and_says_so(cluster, registry):
    d = cluster
    with tempfile.TemporaryDirectory() as directory:
        layout_without_disk(directory)
        registry.push(directory, "nodisk")
    assert d.request("POST", DVS, registry_dv("nodisk", f"docker://{registry.host}/guest:nodisk")).status_code == 201
    wait_for(lambda: dv_status(d, "nodisk").get("phase") == "Failed", 120, "the DataVolume of an image without a disk to fail")
    running = condition(d, "nodisk", "Running")
    assert running["status"] == "False" and running["reason"] == "Error", running
    assert "UnsupportedImage" in running["message"] and "holds no disk: /disk is empty or missing" in running["message"], running
    assert dv_status(d, "nodisk").get("restartCount", 0) == 0
    assert any("holds no disk" in e["message"] for e in events(d, "ImportFailed"))
