"""containerDisk images from a real registry on loopback: Debian's docker-registry (plain HTTP, and htpasswd
basic auth for the password case), the test guest pushed to it with skopeo as a two-layer image (a gzip
layer with /disk/disk.qcow2 on a zstd one), pulled by the node agent under the --emulation daemon."""
import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time

import pytest

from test_vms import GUEST, VMS, cluster, guest_image, phase, printable, serial_log, vmi, wait_for  # noqa: F401 (fixtures)

USER, PASSWORD = "tester", "s3cret-pass"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    """One docker-registry process on a random loopback port with its own storage; `auth` adds htpasswd."""

    def __init__(self, auth=False):
        self.dir = tempfile.mkdtemp(prefix="swiftvirt-registry-")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.dir, "registry.log")
        config = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": False}},
            "storage": {"filesystem": {"rootdirectory": os.path.join(self.dir, "storage")}},
            "http": {"addr": self.host, "secret": "swiftvirt-e2e"},
        }
        if auth:
            htpasswd = os.path.join(self.dir, "htpasswd")
            hashed = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True, text=True).stdout
            with open(htpasswd, "w") as f:
                f.write(hashed)
            config["auth"] = {"htpasswd": {"realm": "swiftvirt-e2e", "path": htpasswd}}
        self.auth = auth
        with open(os.path.join(self.dir, "config.yml"), "w") as f:
            json.dump(config, f)  # YAML reads JSON
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", os.path.join(self.dir, "config.yml")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.answers, 30, "docker-registry to listen")

    def answers(self):
        if self.proc.poll() is not None:
            raise AssertionError("docker-registry exited: " + open(self.log_path).read())
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def push(self, layout, tag):
        creds = ["--dest-creds", f"{USER}:{PASSWORD}"] if self.auth else []
        subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", *creds, f"oci:{layout}:v1", f"docker://{self.host}/guest:{tag}"],
                       check=True, capture_output=True, text=True)
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", *[c.replace("dest-", "") for c in creds],
                              f"docker://{self.host}/guest:{tag}"], check=True, capture_output=True, text=True).stdout
        return [layer["digest"] for layer in json.loads(raw)["layers"]]

    def manifest_gets(self, reference):
        with open(self.log_path) as f:
            return len(re.findall(rf'"GET /v2/guest/manifests/{re.escape(reference)} HTTP/1.1" 200', f.read()))

    def blob_gets(self, digest):
        """How many times the registry served the blob (its access log: `"GET /v2/…/blobs/sha256:… HTTP/1.1" 200`)."""
        with open(self.log_path) as f:
            return len(re.findall(rf'"GET /v2/guest/blobs/{re.escape(digest)} HTTP/1.1" 200', f.read()))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def tar_layer(members):
    """An uncompressed tar of (name, bytes or None for a directory)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def containerdisk_layout(directory):
    """An OCI layout tagged v1 whose image holds the test guest as KubeVirt's containerDisks do: a zstd
    layer with a file outside /disk, then a gzip layer with /disk/disk.qcow2 (compressed layers, so that
    skopeo pushes them as they are). Returns the layer digests."""
    blobs = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    with open(os.path.join(GUEST, "disk.qcow2"), "rb") as f:
        disk = f.read()
    base = tar_layer([("etc/", None), ("etc/containerdisk-note", b"the disk is in the layer above\n")])
    top = tar_layer([("disk/", None), ("disk/disk.qcow2", disk)])
    zstd = subprocess.run(["zstd", "-q", "-c"], input=base, check=True, capture_output=True).stdout
    layers = [dict(put(zstd), mediaType="application/vnd.oci.image.layer.v1.tar+zstd"),
              dict(put(gzip.compress(top, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]
    config = {"architecture": "amd64", "os": "linux",
              "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(t).hexdigest()}" for t in (base, top)]}}
    config_descriptor = dict(put(json.dumps(config).encode()), mediaType="application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config_descriptor, "layers": layers}
    manifest_descriptor = dict(put(json.dumps(manifest).encode()), mediaType="application/vnd.oci.image.manifest.v1+json",
                               annotations={"org.opencontainers.image.ref.name": "v1"})
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [manifest_descriptor]}, f)
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return [layer["digest"] for layer in layers]


@pytest.fixture(scope="module")
def image_layout():
    directory = tempfile.mkdtemp(prefix="swiftvirt-containerdisk-")
    layout = os.path.join(directory, "layout")
    os.makedirs(layout)
    layers = containerdisk_layout(layout)
    yield layout, layers
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def registry():
    r = Registry()
    yield r
    r.stop()


@pytest.fixture
def auth_registry():
    r = Registry(auth=True)
    yield r
    r.stop()


def registry_vm(name, image, pull_secret=None, pull_policy=None):
    disk = {"image": image}
    if pull_secret:
        disk["imagePullSecret"] = pull_secret
    if pull_policy:
        disk["imagePullPolicy"] = pull_policy
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name},
        "spec": {"runStrategy": "Always", "template": {"spec": {
            "domain": {"memory": {"guest": "256Mi"},
                       "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}, {"name": "seed", "disk": {"bus": "virtio"}}]}},
            "terminationGracePeriodSeconds": 5,
            "volumes": [{"name": "root", "containerDisk": disk},
                        {"name": "seed", "cloudInitNoCloud": {"userData": "#!/bin/sh\necho user-data-ran\n"}}],
        }}},
    }


def synchronized(d, name):
    conditions = (vmi(d, name) or {}).get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == "Synchronized"), {})


def cached_files(d):
    found = []
    for root, _, files in os.walk(os.path.join(d.data_dir, "containerdisks")):
        found += [os.path.join(root, f) for f in files]
    return sorted(found)


def test_a_vm_boots_from_a_registry_image_and_a_second_vm_reuses_the_pull(cluster, registry, image_layout):
    d = cluster
    layout, built = image_layout
    layers = registry.push(layout, "v1")
    assert layers == built, "skopeo pushed the layers as they were built"
    assert d.request("POST", VMS, registry_vm("pulled", f"{registry.host}/guest:v1")).status_code == 201
    wait_for(lambda: phase(d, "pulled") == "Running", 180, "the VMI from the registry image to run")
    assert printable(d, "pulled") == "Running"
    wait_for(lambda: "login:" in serial_log(d, "pulled"), 180, "the guest's login prompt")
    assert "user-data-ran" in serial_log(d, "pulled")
    assert [registry.blob_gets(layer) for layer in layers] == [1, 1]
    cache = cached_files(d)
    assert any(path.endswith("/disk.qcow2") for path in cache), cache

    # The same image for a second VM, by tag with imagePullPolicy Always (the manifest is asked for
    # again) and then by digest: the disk comes from the node's cache, not one more blob from the registry.
    manifests = registry.manifest_gets("v1")
    assert d.request("POST", VMS, registry_vm("again", f"{registry.host}/guest:v1", pull_policy="Always")).status_code == 201
    wait_for(lambda: phase(d, "again") == "Running", 180, "the second VMI to run")
    assert registry.manifest_gets("v1") == manifests + 1
    digest_ref = subprocess.run(["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}", f"docker://{registry.host}/guest:v1"],
                                check=True, capture_output=True, text=True).stdout.strip()
    assert d.request("DELETE", f"{VMS}/again").status_code == 200
    wait_for(lambda: vmi(d, "again") is None, 120, "the second VM to go")
    assert d.request("POST", VMS, registry_vm("pinned", f"{registry.host}/guest@{digest_ref}")).status_code == 201
    wait_for(lambda: phase(d, "pinned") == "Running", 180, "the VMI pinned by digest to run")
    assert [registry.blob_gets(layer) for layer in layers] == [1, 1]
    assert cached_files(d) == cache


def test_a_missing_tag_or_repository_and_an_unreachable_registry_show_errimagepull_with_the_registrys_words(cluster, registry, image_layout):
    d = cluster
    registry.push(image_layout[0], "v1")
    cases = {
        "notag": (f"{registry.host}/guest:v2", "MANIFEST_UNKNOWN: manifest unknown"),
        # docker-registry 2.8 answers an unknown repository as an unknown manifest.
        "norepo": (f"{registry.host}/nothing:v1", "MANIFEST_UNKNOWN: manifest unknown"),
        "noregistry": ("127.0.0.1:1/guest:v1", "cannot reach the registry 127.0.0.1:1"),
    }
    for name, (image, _) in cases.items():
        assert d.request("POST", VMS, registry_vm(name, image)).status_code == 201
    for name, (image, words) in cases.items():
        wait_for(lambda: printable(d, name) in ("ErrImagePull", "ImagePullBackOff"), 90, f"{name}: ErrImagePull")
        message = synchronized(d, name).get("message", "")
        assert synchronized(d, name)["status"] == "False" and words in message, message
        assert f'failed to pull image "{image}"' in message, message
    wait_for(lambda: printable(d, "notag") == "ImagePullBackOff", 90, "ImagePullBackOff")
    described = d.kubectl("describe", "vm", "notag").stdout
    assert "manifest unknown" in described
    events = d.kubectl("get", "events", "--field-selector", "involvedObject.kind=VirtualMachineInstance").stdout
    assert "MANIFEST_UNKNOWN" in events
    for name in cases:
        assert phase(d, name) == "Scheduled"


def pull_secret(d, name, host, password):
    config = {"auths": {host: {"auth": base64.b64encode(f"{USER}:{password}".encode()).decode()}}}
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "kubernetes.io/dockerconfigjson",
              "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()}}
    assert d.request("POST", "/api/v1/namespaces/default/secrets", secret).status_code == 201


def test_a_wrong_password_shows_errimagepull_and_the_right_one_pulls(cluster, auth_registry, image_layout):
    d = cluster
    auth_registry.push(image_layout[0], "v1")
    image = f"{auth_registry.host}/guest:v1"
    pull_secret(d, "wrong", auth_registry.host, "not-the-password")
    pull_secret(d, "right", auth_registry.host, PASSWORD)
    assert d.request("POST", VMS, registry_vm("wrongpass", image, "wrong")).status_code == 201
    assert d.request("POST", VMS, registry_vm("nopass", image)).status_code == 201
    wait_for(lambda: printable(d, "wrongpass") in ("ErrImagePull", "ImagePullBackOff"), 90, "ErrImagePull for the wrong password")
    message = synchronized(d, "wrongpass")["message"]
    assert "401 UNAUTHORIZED: authentication required" in message and "refused the credentials of the imagePullSecret" in message, message
    wait_for(lambda: printable(d, "nopass") in ("ErrImagePull", "ImagePullBackOff"), 90, "ErrImagePull without credentials")
    assert "set containerDisk.imagePullSecret" in synchronized(d, "nopass")["message"]

    # The right password: the pod's image is pulled and the VM runs.
    assert d.request("DELETE", f"{VMS}/nopass").status_code == 200
    assert d.request("POST", VMS, registry_vm("rightpass", image, "right")).status_code == 201
    wait_for(lambda: phase(d, "rightpass") == "Running", 180, "the VMI pulled with the right password to run")
    assert printable(d, "wrongpass") in ("ErrImagePull", "ImagePullBackOff")
