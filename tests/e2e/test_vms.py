"""VMs really run: the all-in-one daemon (API server, controllers, scheduler, node agent) with runc pods and
QEMU under TCG, booting the project's test guest."""
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, Daemon

GUEST = "/var/lib/swiftvirt/guest"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
SUB = "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachines"


@pytest.fixture(scope="session", autouse=True)
def guest_image():
    subprocess.run([os.path.join(ROOT, "guest", "build.sh"), GUEST], check=True, capture_output=True)


def qemu_pids(data_dir):
    """QEMU processes whose disks live under this daemon's data directory."""
    out = subprocess.run(["pgrep", "-f", "qemu-system-x86_64"], capture_output=True, text=True).stdout.split()
    pids = []
    for pid in out:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if data_dir.encode() in f.read():
                    pids.append(int(pid))
        except OSError:
            pass
    return sorted(pids)


def run_cluster(args, prefix, listen="127.0.0.1:0"):
    """An all-in-one daemon with `args` on a fresh data directory, once its node registered; afterwards its
    VMs are stopped, then the daemon, then whatever is left of them."""
    data_dir = tempfile.mkdtemp(prefix=prefix)
    d = Daemon(data_dir, args, role="all").start(listen=listen)
    node = args[args.index("--node-name") + 1]
    if not wait_for(lambda: d.request("GET", f"/api/v1/nodes/{node}").status_code == 200, 60, "the node to register", fail=False):
        report = d.diagnostics()
        d.stop()
        raise AssertionError(f"timed out after 60s waiting for the node to register\n{report}")
    yield d
    # VMs first, so the agent shuts their QEMUs down; then the daemon; then anything left (also when the
    # daemon died in the test).
    try:
        d.request("DELETE", VMS)
        wait_for(lambda: not qemu_pids(data_dir), 60, "QEMU to stop", fail=False)
        # The agent releases a pod (its network too) before its finalizer lets it go.
        wait_for(lambda: not d.request("GET", "/api/v1/pods").json()["items"], 60, "the pods to go", fail=False)
    except Exception:
        pass
    d.stop()
    for pid in qemu_pids(data_dir):
        os.kill(pid, signal.SIGKILL)
    runc_root = os.path.join(data_dir, "pods", ".runc")
    listed = subprocess.run(["runc", "--root", runc_root, "list", "-q"], capture_output=True, text=True).stdout.split()
    for container in listed:
        subprocess.run(["runc", "--root", runc_root, "delete", "--force", container], capture_output=True)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def cluster():
    yield from run_cluster(["--emulation", "--node-name", "node-a"], "swiftvirt-vm-")


def wait_for(predicate, timeout, what, fail=True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except Exception:
            pass
        time.sleep(0.25)
    if fail:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")
    return False


def vm(name, run_strategy="Always", memory="256Mi", hostname=None):
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": name},
        "spec": {
            "runStrategy": run_strategy,
            "template": {"spec": {
                "hostname": hostname or name,
                "domain": {
                    "memory": {"guest": memory},
                    "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}},
                                          {"name": "seed", "disk": {"bus": "virtio"}}]},
                },
                "terminationGracePeriodSeconds": 5,
                "volumes": [
                    {"name": "root", "containerDisk": {"image": f"{GUEST}/disk.qcow2"}},
                    {"name": "seed", "cloudInitNoCloud": {"userData": "#!/bin/sh\necho user-data-ran\n"}},
                ],
            }},
        },
    }


def vmi(d, name):
    r = d.request("GET", f"{VMIS}/{name}")
    return r.json() if r.status_code == 200 else None


def phase(d, name):
    obj = vmi(d, name)
    return obj and obj.get("status", {}).get("phase")


def printable(d, name):
    return d.request("GET", f"{VMS}/{name}").json().get("status", {}).get("printableStatus")


def serial_log(d, name):
    logs = glob.glob(os.path.join(d.data_dir, "pods", f"default_virt-launcher-{name}-*", "state", "serial.log"))
    text = ""
    for path in logs:
        with open(path, errors="replace") as f:
            text += f.read()
    return text


def counters(text):
    return [int(line.split()[-1]) for line in text.splitlines() if line.startswith("counter: ") and line.split()[-1].isdigit()]


def test_vm_runs_stops_starts_and_restarts(cluster):
    d = cluster
    assert d.request("POST", VMS, vm("demo", hostname="demo-host")).status_code == 201
    wait_for(lambda: phase(d, "demo") == "Running", 90, "the VMI to run")
    assert printable(d, "demo") == "Running"
    status = vmi(d, "demo")["status"]
    assert status["nodeName"] == "node-a"
    assert [p["phase"] for p in status["phaseTransitionTimestamps"]][-1] == "Running"
    assert len(qemu_pids(d.data_dir)) == 1
    # The guest boots, reads its NoCloud seed and offers a login on the serial console.
    wait_for(lambda: "login:" in serial_log(d, "demo"), 120, "the guest's login prompt")
    log = serial_log(d, "demo")
    assert "hostname=demo-host" in log
    assert "user-data-ran" in log

    first_uid = vmi(d, "demo")["metadata"]["uid"]
    assert d.request("PUT", f"{SUB}/demo/stop").status_code == 202
    wait_for(lambda: printable(d, "demo") == "Stopped", 60, "the VM to stop")
    wait_for(lambda: not qemu_pids(d.data_dir), 30, "QEMU to exit")
    assert vmi(d, "demo") is None

    assert d.request("PUT", f"{SUB}/demo/start").status_code == 202
    wait_for(lambda: phase(d, "demo") == "Running", 90, "the VMI to run again")
    second_uid = vmi(d, "demo")["metadata"]["uid"]
    assert second_uid != first_uid

    assert d.request("PUT", f"{SUB}/demo/restart").status_code == 202
    wait_for(lambda: (vmi(d, "demo") or {}).get("metadata", {}).get("uid") not in (None, second_uid)
             and phase(d, "demo") == "Running", 90, "a new VMI after restart")
    assert len(qemu_pids(d.data_dir)) == 1

    events = d.request("GET", "/api/v1/namespaces/default/events").json()["items"]
    reasons = {e["reason"] for e in events}
    assert {"SuccessfulCreate", "Scheduled"} <= reasons


def test_killed_qemu_comes_back_with_always_and_stays_failed_with_manual(cluster):
    d = cluster
    d.request("POST", VMS, vm("always"))
    manual = vm("manual", run_strategy="Manual")
    d.request("POST", VMS, manual)
    assert d.request("PUT", f"{SUB}/manual/start").status_code == 202
    wait_for(lambda: phase(d, "always") == "Running" and phase(d, "manual") == "Running", 120, "both VMIs to run")
    uids = {name: vmi(d, name)["metadata"]["uid"] for name in ("always", "manual")}
    for pid in qemu_pids(d.data_dir):
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: phase(d, "manual") == "Failed", 60, "the Manual VMI to fail")
    wait_for(lambda: vmi(d, "always") and vmi(d, "always")["metadata"]["uid"] != uids["always"]
             and phase(d, "always") == "Running", 120, "the Always VM to come back")
    time.sleep(3)
    assert phase(d, "manual") == "Failed"
    assert vmi(d, "manual")["metadata"]["uid"] == uids["manual"]
    assert len(qemu_pids(d.data_dir)) == 1


def test_daemon_restart_readopts_running_vms(cluster):
    d = cluster
    for name in ("one", "two"):
        d.request("POST", VMS, vm(name))
    wait_for(lambda: phase(d, "one") == "Running" and phase(d, "two") == "Running", 120, "both VMIs to run")
    wait_for(lambda: len(counters(serial_log(d, "one"))) > 2 and len(counters(serial_log(d, "two"))) > 2, 120, "the guests' counters")
    before = {name: (vmi(d, name)["metadata"]["uid"], max(counters(serial_log(d, name)))) for name in ("one", "two")}
    pids = qemu_pids(d.data_dir)
    assert len(pids) == 2
    d.kill9()
    time.sleep(2)
    assert qemu_pids(d.data_dir) == pids, "QEMU must outlive the daemon"
    d.start()
    time.sleep(8)
    for name, (uid, count) in before.items():
        assert vmi(d, name)["metadata"]["uid"] == uid
        assert phase(d, name) == "Running"
        wait_for(lambda: max(counters(serial_log(d, name))) > count + 3, 60, f"{name}'s counter to keep rising")
        assert serial_log(d, name).count("swiftvirt-guest: booting") == 1, "the guest must not have rebooted"
    assert qemu_pids(d.data_dir) == pids, "no duplicate QEMU"


def test_bad_specs_fail_with_the_field_or_an_unschedulable_condition(cluster):
    d = cluster
    no_volume = vm("novol")
    no_volume["spec"]["template"]["spec"]["volumes"] = no_volume["spec"]["template"]["spec"]["volumes"][:1]
    r = d.request("POST", VMS, no_volume)
    assert r.status_code == 422 and "spec.template.spec.domain.devices.disks[1].name" in r.text
    r = d.request("POST", VMS, vm("weird", run_strategy="Sometimes"))
    assert r.status_code == 422 and "spec.runStrategy" in r.text
    assert d.request("POST", VMS, vm("huge", memory="4096Gi")).status_code == 201
    wait_for(lambda: printable(d, "huge") == "ErrorUnschedulable", 60, "ErrorUnschedulable")
    conditions = vmi(d, "huge")["status"]["conditions"]
    scheduled = [c for c in conditions if c["type"] == "PodScheduled"]
    assert scheduled and scheduled[0]["status"] == "False" and scheduled[0]["reason"] == "Unschedulable"
    assert "Insufficient memory" in scheduled[0]["message"]
    assert not qemu_pids(d.data_dir)


def paused_condition(d, name):
    conditions = (vmi(d, name) or {}).get("status", {}).get("conditions", [])
    return any(c["type"] == "Paused" and c["status"] == "True" for c in conditions)


def test_pause_unpause_and_softreboot_are_visible_in_the_guest(cluster):
    d = cluster
    vmi_sub = "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances"
    spec = vm("pausable")
    # An empty CD-ROM drive (a cdrom disk with no volume) rides along: KubeVirt accepts it, so it must run.
    spec["spec"]["template"]["spec"]["domain"]["devices"]["disks"].append({"name": "empty-cd", "cdrom": {"bus": "sata"}})
    assert d.request("POST", VMS, spec).status_code == 201
    wait_for(lambda: phase(d, "pausable") == "Running", 90, "the VMI to run")
    wait_for(lambda: len(counters(serial_log(d, "pausable"))) > 2, 120, "the guest's counter")
    assert d.request("PUT", f"{vmi_sub}/pausable/unpause").status_code == 409
    # The verb answers once the guest is paused, and the VMI already says so.
    assert d.request("PUT", f"{vmi_sub}/pausable/pause").status_code == 200
    assert paused_condition(d, "pausable")
    time.sleep(1)
    frozen = max(counters(serial_log(d, "pausable")))
    time.sleep(4)
    assert max(counters(serial_log(d, "pausable"))) == frozen, "a paused guest must not count"
    assert d.request("PUT", f"{vmi_sub}/pausable/pause").status_code == 409
    assert d.request("PUT", f"{vmi_sub}/pausable/unpause").status_code == 200
    assert not paused_condition(d, "pausable")
    wait_for(lambda: max(counters(serial_log(d, "pausable"))) > frozen + 2, 60, "the counter to move again")
    assert serial_log(d, "pausable").count("swiftvirt-guest: booting") == 1
    assert d.request("PUT", f"{vmi_sub}/pausable/softreboot").status_code == 200
    wait_for(lambda: serial_log(d, "pausable").count("swiftvirt-guest: booting") == 2, 120, "the guest to reboot")
    assert phase(d, "pausable") == "Running"
    assert len(qemu_pids(d.data_dir)) == 1


# A second node agent on the same host hangs its pods on a bridge of its own: each node's bridge is its pods'
# gateway on that node's podCIDR, as on separate hosts.
NODE_B_BRIDGE = "svnodeb0"


def test_a_second_node_agent_joins_and_runs_the_vms_bound_to_it(cluster):
    """`swiftvirtd --role node --server URL --kubeconfig PATH` on its own: it registers node-b, and a VM
    whose nodeSelector picks node-b runs under that agent, in its own data directory; its console, VNC,
    exec and pause go through the API server to node-b's endpoint."""
    d = cluster
    node_dir = tempfile.mkdtemp(prefix="swiftvirt-node-b-")
    agent = subprocess.Popen(
        [d.bin("swiftvirtd"), "--role", "node", "--server", d.server, "--kubeconfig", d.kubeconfig,
         "--data-dir", node_dir, "--node-name", "node-b", "--emulation", "--pod-bridge", NODE_B_BRIDGE],
        stdout=open(os.path.join(node_dir, "log"), "w"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: d.request("GET", "/api/v1/nodes/node-b").status_code == 200, 30, "node-b to register")
        wait_for(lambda: d.request("GET", "/api/v1/nodes/node-b").json()["status"].get("daemonEndpoints", {}).get("kubeletEndpoint", {}).get("Port", 0) > 0,
                 60, "node-b's endpoint")
        node = d.request("GET", "/api/v1/nodes/node-b").json()
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "node-b"
        spec = vm("far")
        spec["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "node-b"}
        assert d.request("POST", VMS, spec).status_code == 201
        if not wait_for(lambda: phase(d, "far") == "Running", 90, "the VMI to run on node-b", fail=False):
            with open(os.path.join(node_dir, "log")) as f:
                agent_log = f.read()[-6000:]
            with open(d.log_path) as f:
                daemon_log = f.read()[-6000:]
            pods = d.request("GET", "/api/v1/namespaces/default/pods").json()
            raise AssertionError(f"the VMI did not run on node-b: {vmi(d, 'far')}\npods: {pods}\n"
                                 f"node-b's log:\n{agent_log}\nthe daemon's log:\n{daemon_log}")
        assert vmi(d, "far")["status"]["nodeName"] == "node-b"
        assert len(qemu_pids(node_dir)) == 1, "QEMU runs under node-b's agent"
        assert not qemu_pids(d.data_dir), "node-a runs nothing"
        # The API server reaches node-b's agent over its HTTPS endpoint (a certificate from the cluster CA,
        # issued through a CertificateSigningRequest when it registered): console, VNC, exec and pause.
        csrs = d.kubectl("get", "csr").stdout
        assert "swiftvirt.io/node-serving" in csrs and "Approved" in csrs, csrs
        from test_console_exec import launcher_pod, open_ws, read_until
        console = open_ws(d, "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances/far/console")
        console.send_binary(b"\n")
        read_until(console, b"login:", 120)
        console.close()
        vnc = open_ws(d, "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances/far/vnc")
        assert read_until(vnc, b"RFB 003.0", 30).startswith(b"RFB 003.0")
        vnc.close()
        pod = launcher_pod(d, "far")
        out = d.kubectl("exec", pod, "--", "qemu-img", "--version").stdout
        assert "qemu-img version" in out
        vmi_sub = "/apis/subresources.kubevirt.io/v1/namespaces/default/virtualmachineinstances"
        assert d.request("PUT", f"{vmi_sub}/far/pause").status_code == 200
        assert paused_condition(d, "far")
        assert d.request("PUT", f"{vmi_sub}/far/unpause").status_code == 200
        assert not paused_condition(d, "far")
        assert d.request("PUT", f"{SUB}/far/stop").status_code == 202
        wait_for(lambda: printable(d, "far") == "Stopped", 60, "the VM to stop")
        wait_for(lambda: not qemu_pids(node_dir), 30, "node-b's QEMU to exit")
    finally:
        agent.terminate()
        try:
            agent.wait(15)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
        for pid in qemu_pids(node_dir):
            os.kill(pid, signal.SIGKILL)
        runc_root = os.path.join(node_dir, "pods", ".runc")
        for container in subprocess.run(["runc", "--root", runc_root, "list", "-q"], capture_output=True, text=True).stdout.split():
            subprocess.run(["runc", "--root", runc_root, "delete", "--force", container], capture_output=True)
        shutil.rmtree(node_dir, ignore_errors=True)
        subprocess.run(["ip", "link", "del", NODE_B_BRIDGE], capture_output=True)


def test_a_node_agent_without_credentials_says_what_to_pass():
    node_dir = tempfile.mkdtemp(prefix="swiftvirt-node-")
    try:
        result = subprocess.run([Daemon.bin("swiftvirtd"), "--role", "node", "--data-dir", node_dir],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode != 0
        assert "--kubeconfig PATH" in result.stderr, result.stderr
    finally:
        shutil.rmtree(node_dir, ignore_errors=True)
