"""The node agent as a user meets it: the accelerator a daemon picks by default, every volume type the
README lists booting in a real guest (writable ones written by the guest and read back after a restart),
the firmware UUID kept across restarts, and why a VM does not start shown on the VM itself."""
import os
import uuid

import pytest

from test_vms import GUEST, SUB, VMIS, VMS, cluster, phase, printable, qemu_pids, run_cluster, serial_log, vm, vmi, wait_for  # noqa: F401

# KubeVirt's namespace for firmware UUIDs: a VM's guests get uuid5(this, VM name).
FIRMWARE_NAMESPACE = uuid.UUID("6a1a24a1-4061-4607-8bf4-a3963d0c5895")


@pytest.fixture
def default_cluster():
    """The all-in-one daemon as `make run` starts it: no --emulation, so the node agent probes KVM itself."""
    yield from run_cluster(["--node-name", "node-default"], "swiftvirt-default-")


def test_the_default_daemon_picks_an_accelerator_that_really_runs_guests(default_cluster):
    d = default_cluster
    node = d.request("GET", "/api/v1/nodes/node-default").json()
    kvm = [c for c in node["status"]["conditions"] if c["type"] == "KVMAvailable"][0]
    # Whatever it chose, it says why; KVM only when a guest kernel really booted under it.
    assert kvm["message"]
    if kvm["status"] == "True":
        assert "booted under KVM" in kvm["message"]
    else:
        assert "TCG" in kvm["message"]
    assert d.request("POST", VMS, vm("plain")).status_code == 201
    wait_for(lambda: phase(d, "plain") == "Running", 120, "the VMI to run")
    # Running means a guest that boots: its login prompt on the serial console, and nobody paused it.
    wait_for(lambda: "login:" in serial_log(d, "plain"), 180, "the login prompt")
    conditions = vmi(d, "plain")["status"].get("conditions", [])
    assert not [c for c in conditions if c["type"] == "Paused"]
    log = open(d.log_path).read()
    assert "no nodes available" not in log.lower()


PROBE_SCRIPT = """#!/bin/sh
echo "probe-uuid: $(cat /sys/class/dmi/id/product_uuid)"
echo "probe-mac: $(cat /sys/class/net/eth0/address)"
for b in /sys/block/vd*; do
  d=${b##*/}
  echo "probe-size $d $(cat $b/size)"
  case $(cat $b/size) in 81920) n=empty ;; 98304) n=hostdisk ;; 131072) n=created ;; *) continue ;; esac
  old=$(dd if=/dev/$d bs=32 count=1 2>/dev/null | tr -cd 'a-z0-9-')
  echo "probe-disk $n had [$old]"
  echo "mark-$n-$(cut -c1-8 /proc/sys/kernel/random/boot_id)" | dd of=/dev/$d bs=32 count=1 conv=sync,notrunc 2>/dev/null
done
sync
echo probe-done
"""


def volumes_vm(name, data_dir):
    manifest = vm(name)
    spec = manifest["spec"]["template"]["spec"]
    spec["domain"]["devices"]["disks"] = [
        {"name": "root", "disk": {"bus": "virtio"}},
        {"name": "scratch", "disk": {"bus": "virtio"}},
        {"name": "kept", "disk": {"bus": "virtio"}},
        {"name": "made", "disk": {"bus": "virtio"}},
        {"name": "seed", "disk": {"bus": "virtio"}},
    ]
    spec["volumes"] = [
        {"name": "root", "containerDisk": {"image": f"{GUEST}/disk.qcow2"}},
        {"name": "scratch", "emptyDisk": {"capacity": "40Mi"}},
        {"name": "kept", "hostDisk": {"path": os.path.join(data_dir, "kept.img"), "type": "Disk"}},
        {"name": "made", "hostDisk": {"path": os.path.join(data_dir, "made.img"), "type": "DiskOrCreate", "capacity": "64Mi"}},
        {"name": "seed", "cloudInitNoCloud": {"userData": PROBE_SCRIPT}},
    ]
    return manifest


def probe_lines(text):
    """The script's lines, wherever they fell on the console (the login prompt can land before one)."""
    return [line[line.index("probe-"):].strip() for line in text.splitlines() if "probe-" in line]


def test_every_volume_type_boots_and_host_disks_keep_what_the_guest_wrote(cluster):
    d = cluster
    with open(os.path.join(d.data_dir, "kept.img"), "wb") as f:
        f.truncate(48 << 20)
    assert d.request("POST", VMS, volumes_vm("disks", d.data_dir)).status_code == 201
    drive = vm("drive")
    drive["spec"]["template"]["spec"]["volumes"][1] = {
        "name": "seed", "cloudInitConfigDrive": {"userData": "#!/bin/sh\necho configdrive-user-data-ran\n"}}
    assert d.request("POST", VMS, drive).status_code == 201

    wait_for(lambda: "probe-done" in serial_log(d, "disks"), 240, "the guest to write its disks")
    first = probe_lines(serial_log(d, "disks"))
    expected_uuid = str(uuid.uuid5(FIRMWARE_NAMESPACE, "disks"))
    assert f"probe-uuid: {expected_uuid}" in first
    for disk in ("empty", "hostdisk", "created"):
        assert f"probe-disk {disk} had []" in first, "\n".join(first)
    wait_for(lambda: "configdrive-user-data-ran" in serial_log(d, "drive"), 240, "the config drive's user data")
    old_uid = vmi(d, "disks")["metadata"]["uid"]

    assert d.request("PUT", f"{SUB}/disks/restart").status_code in (200, 202)
    wait_for(lambda: (vmi(d, "disks") or {}).get("metadata", {}).get("uid") not in (None, old_uid) and phase(d, "disks") == "Running",
             180, "the restarted VMI to run")
    wait_for(lambda: "probe-done" in serial_log(d, "disks"), 240, "the restarted guest to read its disks")
    second = probe_lines(serial_log(d, "disks"))
    # The same machine to the guest, and the host disks kept what the first boot wrote; the empty disk is new.
    assert f"probe-uuid: {expected_uuid}" in second
    macs = [line for line in first + second if line.startswith("probe-mac: ")]
    assert len(macs) == 2 and macs[0] == macs[1], macs
    assert "probe-disk empty had []" in second
    kept = [line for line in second if line.startswith("probe-disk hostdisk had [mark-hostdisk-")]
    made = [line for line in second if line.startswith("probe-disk created had [mark-created-")]
    assert kept and made, "\n".join(second)

    # And the host sees the guest's writes in the files themselves.
    assert d.request("PATCH", f"{VMS}/disks", {"spec": {"runStrategy": "Halted"}},
                     content_type="application/merge-patch+json").status_code == 200
    wait_for(lambda: vmi(d, "disks") is None, 120, "the VM to stop")
    with open(os.path.join(d.data_dir, "made.img"), "rb") as f:
        assert f.read(32).startswith(b"mark-created-")
    assert os.path.getsize(os.path.join(d.data_dir, "made.img")) == 64 << 20


def test_an_image_the_node_cannot_have_shows_on_the_vm_with_the_reason(cluster):
    d = cluster
    quickstart = vm("quickstart")
    quickstart["spec"]["template"]["spec"]["volumes"][0] = {
        "name": "root", "containerDisk": {"image": "127.0.0.1:1/kubevirt/cirros-container-disk-demo"}}
    assert d.request("POST", VMS, quickstart).status_code == 201
    wait_for(lambda: printable(d, "quickstart") in ("ErrImagePull", "ImagePullBackOff"), 60, "ErrImagePull")
    synchronized = [c for c in vmi(d, "quickstart")["status"]["conditions"] if c["type"] == "Synchronized"][0]
    assert synchronized["status"] == "False" and "cannot reach the registry 127.0.0.1:1" in synchronized["message"]
    wait_for(lambda: printable(d, "quickstart") == "ImagePullBackOff", 60, "ImagePullBackOff")
    described = d.kubectl("describe", "vm", "quickstart").stdout
    assert "cannot reach the registry" in described
    events = d.kubectl("get", "events", "--field-selector", "involvedObject.kind=VirtualMachineInstance").stdout
    assert "cannot reach the registry" in events
    assert phase(d, "quickstart") == "Scheduled"
    assert not qemu_pids(d.data_dir)


def endpoint_answer(d, certfile=None, keyfile=None):
    """What the node agent's endpoint answers a client with this certificate (None: no certificate)."""
    import socket
    import ssl
    node = d.request("GET", "/api/v1/nodes/node-a").json()
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    assert port > 0, "the Node appears with its endpoint's port"
    context = ssl.create_default_context(cafile=d.ca_path)
    context.check_hostname = False
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw) as tls:
            tls.sendall(b"PUT /v1/namespaces/default/virtualmachineinstances/nothing/pause HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                        b"Connection: close\r\n\r\n")
            answer = b""
            while True:
                chunk = tls.recv(4096)
                if not chunk:
                    return answer
                answer += chunk


def test_the_node_endpoint_admits_only_the_api_server(cluster):
    d = cluster
    pki = os.path.join(d.data_dir, "pki")
    # The API server's certificate (issued by the cluster CA for client use) gets an answer: a Status.
    answer = endpoint_answer(d, os.path.join(pki, "server.crt"), os.path.join(pki, "server.key"))
    assert answer.startswith(b"HTTP/1.1 404") and b'"kind":"Status"' in answer, answer
    # No certificate, or a node's own serving certificate, gets no answer at all.
    node_pki = os.path.join(d.data_dir, "node-pki")
    for cert, key in ((None, None), (os.path.join(node_pki, "node.crt"), os.path.join(node_pki, "node.key"))):
        try:
            answer = endpoint_answer(d, cert, key)
        except (OSError, ConnectionError):
            continue
        assert not answer.startswith(b"HTTP/"), answer
