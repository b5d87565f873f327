"""CDI uploads: `swiftvirt image-upload dv NAME` creates a DataVolume with source.upload on the default
(WaitForFirstConsumer) class, which is bound at once; the DataVolume goes UploadScheduled → UploadReady; the
image streams through the API server's upload proxy into the node agent's importer, and the DataVolume is
Succeeded with the guest's disk, which a VM then boots. The upload paths take only a valid upload token
(401 otherwise, also for plain curl), and an upload cut off halfway leaves the DataVolume not Succeeded and
ready for a second upload, which succeeds."""
import hashlib
import json
import os
import socket
import ssl
import subprocess
import urllib.parse

from test_datavolume import DVS, PVCS, cluster, condition, dv_status, events, get, volume_dir  # noqa: F401
from test_vms import GUEST, VMS, printable, serial_log, wait_for

IMAGE = f"{GUEST}/disk.qcow2"
TOKENS = "/apis/upload.cdi.kubevirt.io/v1beta1/namespaces/default/uploadtokenrequests"


def upload_dv(d, name, size="64Mi"):
    """A DataVolume to upload into, force-bound (the default class binds on first consumer), once UploadReady."""
    body = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
            "metadata": {"name": name, "annotations": {"cdi.kubevirt.io/storage.bind.immediate.requested": "true"}},
            "spec": {"source": {"upload": {}}, "storage": {"resources": {"requests": {"storage": size}}}}}
    assert d.request("POST", DVS, body).status_code == 201
    wait_for(lambda: dv_status(d, name).get("phase") == "UploadReady", 60, "phase UploadReady")


def token_for(d, claim):
    r = d.request("POST", TOKENS, {"apiVersion": "upload.cdi.kubevirt.io/v1beta1", "kind": "UploadTokenRequest",
                                   "metadata": {"name": claim}, "spec": {"pvcName": claim}})
    assert r.status_code == 201, r.text
    return r.json()["status"]["token"]


def curl_upload(d, token, path="/v1beta1/upload", extra=(), image=IMAGE):
    """POSTs an image (the guest's by default) with plain curl; returns (HTTP status, body)."""
    args = ["curl", "-sS", "--cacert", d.ca_path, "-o", "-", "-w", "\n%{http_code}", "-X", "POST",
            "-H", "Content-Type: application/octet-stream", "--data-binary", f"@{image}", *extra]
    if token is not None:
        args += ["-H", f"Authorization: Bearer {token}"]
    result = subprocess.run(args + [d.server + path], capture_output=True, text=True, timeout=300)
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def test_image_upload_of_the_guest_fills_a_datavolume_that_a_vm_boots(cluster):
    d = cluster
    result = d.swiftvirt("image-upload", "dv", "up-root", "--image-path", IMAGE, "--size", "64Mi", timeout=300)
    out = result.stdout
    assert "binds on first consumer" in out, out
    assert "ready to receive" in out, out
    # Not a terminal: a plain line per 10%, ending at 100%.
    assert " 50.00%" in out and "100.00%" in out and " 55.00%" not in out, out
    assert "completed successfully" in out, out

    status = dv_status(d, "up-root")
    assert status["phase"] == "Succeeded"
    assert status["progress"] == "100.0%"
    assert condition(d, "up-root", "Ready")["status"] == "True"
    assert events(d, "UploadReady") and events(d, "UploadSucceeded")
    assert events(d, "UploadSucceeded")[0]["message"] == "Successfully uploaded into PVC up-root"
    claim = get(d, f"{PVCS}/up-root")
    annotations = claim["metadata"]["annotations"]
    assert annotations["cdi.kubevirt.io/storage.upload.target"] == ""
    assert annotations["cdi.kubevirt.io/storage.pod.phase"] == "Succeeded"
    assert claim["spec"]["storageClassName"] == "local"
    directory = volume_dir(d, "up-root")
    assert os.path.exists(os.path.join(directory, "disk.img.complete"))
    assert os.path.getsize(os.path.join(directory, "disk.img")) == 64 * 1024 * 1024
    # The qcow2 was converted: the volume holds the guest's raw disk (the leading bytes of the raw image).
    with open(os.path.join(directory, "disk.img"), "rb") as f, open(f"{GUEST}/disk.raw", "rb") as raw:
        assert f.read(1 << 20) == raw.read(1 << 20)

    # A second upload into a complete DataVolume is refused with a reason.
    again = d.swiftvirt("image-upload", "dv", "up-root", "--image-path", IMAGE, "--size", "64Mi", check=False)
    assert again.returncode != 0 and "already" in again.stderr, again.stderr

    vm = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "up-vm"},
          "spec": {"runStrategy": "Always", "template": {"spec": {
              "domain": {"memory": {"guest": "256Mi"}, "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}]}},
              "terminationGracePeriodSeconds": 5,
              "volumes": [{"name": "root", "dataVolume": {"name": "up-root"}}]}}}}
    assert d.request("POST", VMS, vm).status_code == 201
    wait_for(lambda: "login:" in serial_log(d, "up-vm"), 240, "the guest's login prompt")
    wait_for(lambda: printable(d, "up-vm") == "Running", 30, "printableStatus Running")


def test_the_upload_paths_take_only_a_valid_upload_token(cluster):
    d = cluster
    upload_dv(d, "tok")
    status, body = curl_upload(d, "not-a-token")
    assert status == 401, body
    assert json.loads(body)["code"] == 401 and "upload token is not valid" in json.loads(body)["message"]
    status, body = curl_upload(d, None)
    assert status == 401, body
    # The cluster's own token is not an upload token either.
    status, body = curl_upload(d, d.token)
    assert status == 401, body
    # An altered token does not open it.
    token = token_for(d, "tok")
    payload, _, mac = token.partition(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    assert curl_upload(d, forged)[0] == 401
    assert dv_status(d, "tok")["phase"] == "UploadReady"
    # The form variant takes multipart/form-data only.
    status, body = curl_upload(d, token, "/v1beta1/upload-form")
    assert status == 415, body

    # curl asks with Expect: 100-continue: a refused upload is answered before it sends the image, an accepted
    # one is told to go on.
    def verbose(token):
        return subprocess.run(["curl", "-sS", "-v", "--cacert", d.ca_path, "-o", "/dev/null", "-H", "Expect: 100-continue",
                               "-H", f"Authorization: Bearer {token}", "--data-binary", f"@{IMAGE}", d.server + "/v1beta1/upload"],
                              capture_output=True, text=True, timeout=300).stderr
    refused = verbose("not-a-token")
    assert "< HTTP/1.1 401" in refused and "100 Continue" not in refused, refused
    # kubectl creates one too (discovery lists the kind for create only), and its token opens the claim.
    made = d.kubectl("create", "-o", "json", "-f", "-", input=json.dumps({
        "apiVersion": "upload.cdi.kubevirt.io/v1beta1", "kind": "UploadTokenRequest", "metadata": {"name": "tok"},
        "spec": {"pvcName": "tok"}}))
    token = json.loads(made.stdout)["status"]["token"]
    accepted = verbose(token)
    assert "< HTTP/1.1 100 Continue" in accepted and "< HTTP/1.1 200" in accepted, accepted
    wait_for(lambda: dv_status(d, "tok").get("phase") == "Succeeded", 60, "the DataVolume to succeed")
    assert os.path.exists(os.path.join(volume_dir(d, "tok"), "disk.img.complete"))


def test_the_form_path_takes_the_image_as_a_multipart_file(cluster):
    d = cluster
    upload_dv(d, "form")
    token = token_for(d, "form")
    result = subprocess.run(["curl", "-sS", "--cacert", d.ca_path, "-o", "-", "-w", "\n%{http_code}", "-H", f"Authorization: Bearer {token}",
                             "-F", f"file=@{IMAGE}", d.server + "/v1beta1/upload-form"], capture_output=True, text=True, timeout=300)
    assert result.stdout.endswith("\n200"), result.stdout + result.stderr
    wait_for(lambda: dv_status(d, "form").get("phase") == "Succeeded", 60, "the DataVolume to succeed")
    with open(os.path.join(volume_dir(d, "form"), "disk.img"), "rb") as f, open(f"{GUEST}/disk.raw", "rb") as raw:
        assert f.read(1 << 20) == raw.read(1 << 20)


def test_an_upload_cut_off_halfway_leaves_the_datavolume_ready_for_another(cluster):
    d = cluster
    upload_dv(d, "cut")
    token = token_for(d, "cut")
    size = os.path.getsize(IMAGE)
    url = urllib.parse.urlparse(d.server)
    context = ssl.create_default_context(cafile=d.ca_path)
    with socket.create_connection((url.hostname, url.port)) as raw:
        with context.wrap_socket(raw, server_hostname=url.hostname) as tls:
            tls.sendall((f"POST /v1beta1/upload HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {token}\r\n"
                         f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n").encode())
            with open(IMAGE, "rb") as f:
                tls.sendall(f.read(size // 2))
    # The agent reports the broken upload; the DataVolume is not Succeeded and no marker was written.
    wait_for(lambda: get(d, f"{PVCS}/cut")["metadata"]["annotations"].get("cdi.kubevirt.io/storage.pod.restarts") == "1",
             60, "the cut-off upload to be reported")
    assert dv_status(d, "cut")["phase"] == "UploadReady"
    assert dv_status(d, "cut")["restartCount"] == 1
    assert not os.path.exists(os.path.join(volume_dir(d, "cut"), "disk.img.complete"))

    result = d.swiftvirt("image-upload", "dv", "cut", "--no-create", "--image-path", IMAGE, "--uploadproxy-url", d.server,
                         "--insecure", timeout=300)
    assert "completed successfully" in result.stdout, result.stdout
    assert dv_status(d, "cut")["phase"] == "Succeeded"
    assert os.path.exists(os.path.join(volume_dir(d, "cut"), "disk.img.complete"))


def test_image_upload_says_what_to_fix(cluster):
    d = cluster
    missing = d.swiftvirt("image-upload", "dv", "nothing", "--image-path", "/nonexistent.qcow2", "--size", "1Gi", check=False)
    assert missing.returncode != 0 and "--image-path" in missing.stderr, missing.stderr
    body = {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "http-dv"},
            "spec": {"source": {"blank": {}}, "storage": {"resources": {"requests": {"storage": "16Mi"}}}}}
    assert d.request("POST", DVS, body).status_code == 201
    other = d.swiftvirt("image-upload", "dv", "http-dv", "--image-path", IMAGE, "--size", "16Mi", check=False)
    assert other.returncode != 0 and "source.blank, not source.upload" in other.stderr, other.stderr
    absent = d.swiftvirt("image-upload", "dv", "absent", "--image-path", IMAGE, "--no-create", check=False)
    assert absent.returncode != 0 and "--no-create" in absent.stderr, absent.stderr


def test_an_image_larger_than_the_servers_body_limit_streams_through(cluster, tmp_path):
    """The API server collects ordinary request bodies up to 64 MiB (413 beyond); an upload is streamed
    through to the node agent instead, so an 80 MiB raw image arrives whole."""
    d = cluster
    upload_dv(d, "big", size="128Mi")
    image = tmp_path / "big.raw"
    block = hashlib.sha256(b"swiftvirt").digest() * (1 << 15)  # 1 MiB that is not zeros (no holes to skip)
    with open(image, "wb") as f:
        for i in range(80):
            f.write(i.to_bytes(4, "big") + block[4:])
    status, body = curl_upload(d, token_for(d, "big"), "/v1beta1/upload-async", image=str(image))
    assert status == 200, body
    wait_for(lambda: dv_status(d, "big").get("phase") == "Succeeded", 120, "the DataVolume to succeed")
    disk = os.path.join(volume_dir(d, "big"), "disk.img")
    assert os.path.getsize(disk) == 128 * 1024 * 1024
    with open(disk, "rb") as f, open(image, "rb") as src:
        assert hashlib.sha256(f.read(80 << 20)).digest() == hashlib.sha256(src.read()).digest()


def test_image_upload_pvc_fills_a_claim_without_a_datavolume(cluster):
    d = cluster
    result = d.swiftvirt("image-upload", "pvc", "bare", "--image-path", IMAGE, "--size", "64Mi", "--access-mode", "ReadWriteOnce",
                         "--volume-mode", "filesystem", timeout=300)
    assert "completed successfully" in result.stdout, result.stdout
    claim = get(d, f"{PVCS}/bare")
    annotations = claim["metadata"]["annotations"]
    assert annotations["cdi.kubevirt.io/storage.upload.target"] == ""
    assert annotations["cdi.kubevirt.io/storage.pod.phase"] == "Succeeded"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"] and claim["spec"]["volumeMode"] == "Filesystem"
    assert get(d, f"{DVS}/bare") is None
    assert os.path.exists(os.path.join(volume_dir(d, "bare"), "disk.img.complete"))
