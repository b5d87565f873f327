"""Multus networks through the real CNI plugins, with VMs bound to them by `bridge`: a Linux bridge NAD
(static and host-local addresses), a macvlan NAD and a host-device NAD, each reaching a "test host" (a
network namespace this test makes, joined to the node by a veth pair, standing in for a machine on that
L2 segment). The guest takes its pod interface's MAC and address by DHCP from the agent. A missing
NetworkAttachmentDefinition or a plugin that fails leaves the VMI waiting with a condition that says why,
and nothing of a deleted VM's networks is left behind."""
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import uuid

import pytest

from test_network import Recorder, pod_namespaces
from test_vms import VMS, run_cluster, serial_log, vm, vmi, wait_for

NADS = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
PODS = "/api/v1/namespaces/default/pods"


def sh(*args, check=True):
    result = subprocess.run(list(args), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: {result.stderr or result.stdout}")
    return result


def links(kind=None, netns=None):
    command = ["ip"] + (["-n", netns] if netns else []) + ["-j", "link", "show"] + (["type", kind] if kind else [])
    return [link["ifname"] for link in json.loads(sh(*command).stdout or "[]")]


def bridge_ports(bridge):
    return [link["ifname"] for link in json.loads(sh("ip", "-j", "link", "show", "master", bridge).stdout or "[]")]


class LanHost:
    """A network namespace with `eth0` (the peer of `host_side`, which stays on the node) at `address`,
    serving `/counter` over HTTP on port 8000."""

    def __init__(self, tag, address):
        self.netns = f"svt-{tag}-{uuid.uuid4().hex[:6]}"
        self.host_side = f"svt{tag}{uuid.uuid4().hex[:4]}"
        self.address = address
        self.www = tempfile.mkdtemp(prefix="swiftvirt-testhost-")
        with open(os.path.join(self.www, "counter"), "w") as f:
            f.write("4242\n")
        sh("ip", "netns", "add", self.netns)
        sh("ip", "link", "add", self.host_side, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        sh("ip", "-n", self.netns, "addr", "add", address + "/24", "dev", "eth0")
        sh("ip", "-n", self.netns, "link", "set", "eth0", "up")
        sh("ip", "-n", self.netns, "link", "set", "lo", "up")
        sh("ip", "link", "set", self.host_side, "up")
        self.server = subprocess.Popen(["ip", "netns", "exec", self.netns, "python3", "-m", "http.server", "8000", "--bind", address,
                                        "--directory", self.www], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run(self, *args, check=False):
        return sh("ip", "netns", "exec", self.netns, *args, check=check)

    def ping(self, address):
        return self.run("busybox", "ping", "-c", "1", "-W", "2", address).returncode == 0

    def fetch(self, url):
        code = f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=3).read().decode().strip())"
        result = self.run("python3", "-c", code)
        return result.stdout.strip() if result.returncode == 0 else None

    def remove(self):
        self.server.kill()
        self.server.wait()
        sh("ip", "netns", "del", self.netns, check=False)
        sh("ip", "link", "del", self.host_side, check=False)


@pytest.fixture
def multus_cluster():
    yield from run_cluster(["--emulation", "--node-name", "node-a"], "swiftvirt-multus-")


def create_nad(d, name, config):
    body = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition", "metadata": {"name": name},
            "spec": {"config": json.dumps(config)}}
    r = d.request("POST", NADS, body)
    assert r.status_code == 201, r.text


def bridged_vm(name, network, script, mac=None):
    """A VM whose only NIC is bridged onto the multus network `network`; `script` runs at boot."""
    manifest = vm(name)
    spec = manifest["spec"]["template"]["spec"]
    interface = {"name": "lan", "bridge": {}}
    if mac:
        interface["macAddress"] = mac
    spec["domain"]["devices"]["interfaces"] = [interface]
    spec["networks"] = [{"name": "lan", "multus": {"networkName": network}}]
    for volume in spec["volumes"]:
        if volume["name"] == "seed":
            volume["cloudInitNoCloud"]["userData"] = script
    return manifest


def probe_script(targets):
    """User-data that fetches each URL of `targets` (label → URL) until it answers and prints `label: body`."""
    lines = ["#!/bin/sh"]
    for label, url in targets.items():
        lines.append(f"(for i in $(seq 150); do wget -q -O /tmp/{label} {url} && echo \"{label}: $(cat /tmp/{label})\" && break; sleep 1; done) &")
    return "\n".join(lines) + "\nwait\n"


def launcher_pod(d, name):
    pods = d.request("GET", PODS).json()["items"]
    return next(p for p in pods if p["metadata"]["name"].startswith(f"virt-launcher-{name}-"))


def lan_status(d, name):
    status = (vmi(d, name) or {}).get("status", {})
    return next((i for i in status.get("interfaces") or [] if i.get("name") == "lan"), {})


def waiting_condition(d, name):
    for c in (vmi(d, name) or {}).get("status", {}).get("conditions", []):
        if c["type"] == "Synchronized" and c["status"] == "False":
            return c
    return None


def host_local_allocations(network):
    directory = f"/var/lib/cni/networks/{network}"
    return sorted(n for n in os.listdir(directory) if n[0].isdigit()) if os.path.isdir(directory) else []


def test_vms_on_a_bridge_network_reach_each_other_and_a_test_host(multus_cluster):
    d = multus_cluster
    bridge = f"svbr{uuid.uuid4().hex[:6]}"
    pool = f"pool-{uuid.uuid4().hex[:6]}"
    sh("ip", "link", "add", bridge, "type", "bridge")
    sh("ip", "link", "set", bridge, "up")
    host = LanHost("b", "192.168.77.1")
    try:
        sh("ip", "link", "set", host.host_side, "master", bridge)
        # One VM with a static address, one from a host-local pool of one address; macspoofchk holds each
        # pod to the MAC its guest took over.
        create_nad(d, "lan-static", {"cniVersion": "1.0.0", "name": "lan-static", "type": "bridge", "bridge": bridge, "macspoofchk": True,
                                     "ipam": {"type": "static", "addresses": [{"address": "192.168.77.10/24"}]}})
        create_nad(d, "lan-pool", {"cniVersion": "1.0.0", "name": pool, "type": "bridge", "bridge": bridge,
                                   "ipam": {"type": "host-local", "ranges": [[{"subnet": "192.168.77.0/24", "rangeStart": "192.168.77.100",
                                                                               "rangeEnd": "192.168.77.100"}]]}})
        targets = {"host-counter": "http://192.168.77.1:8000/counter"}
        first = bridged_vm("lan-a", "lan-static", probe_script({**targets, "peer-counter": "http://192.168.77.100/counter"}))
        second = bridged_vm("lan-b", "default/lan-pool", probe_script({**targets, "peer-counter": "http://192.168.77.10/counter"}),
                            mac="02:5e:00:00:00:0b")
        assert d.request("POST", VMS, first).status_code == 201
        assert d.request("POST", VMS, second).status_code == 201

        for name, address in [("lan-a", "192.168.77.10"), ("lan-b", "192.168.77.100")]:
            wait_for(lambda: f"dhcp lease on eth0: {address}/24" in serial_log(d, name), 240, f"{name}'s DHCP lease")
        for name in ["lan-a", "lan-b"]:
            wait_for(lambda: "peer-counter:" in serial_log(d, name) and "host-counter:" in serial_log(d, name), 240,
                     f"{name} to fetch its peer's and the test host's /counter")
            log = serial_log(d, name)
            assert "host-counter: 4242" in log, log[-2000:]
            # Console lines interleave (the counter's own lines), so the marker is searched, not split out.
            assert re.search(r"peer-counter: \d+", log), log[-2000:]

        # The test host reaches both guests.
        for address in ["192.168.77.10", "192.168.77.100"]:
            assert wait_for(lambda: host.ping(address), 60, f"the test host to ping {address}")
            assert wait_for(lambda: (host.fetch(f"http://{address}/counter") or "").isdigit(), 60, f"the test host to fetch {address}")

        # status.interfaces and the pod's network-status name the pod interface, the MAC and the address.
        wait_for(lambda: lan_status(d, "lan-a").get("ipAddress"), 60, "lan-a's reported address")
        a = lan_status(d, "lan-a")
        assert a["ipAddress"] == "192.168.77.10" and a["podInterfaceName"] == "net1", a
        assert "multus-status" in a.get("infoSource", ""), a
        network_status = json.loads(launcher_pod(d, "lan-a")["metadata"]["annotations"]["k8s.v1.cni.cncf.io/network-status"])
        net1 = next(entry for entry in network_status if entry["interface"] == "net1")
        assert net1["name"] == "default/lan-static" and net1["ips"] == ["192.168.77.10"], network_status
        assert net1["mac"] == a["mac"], (net1, a)
        assert network_status[0]["interface"] == "eth0" and network_status[0].get("default") is True, network_status
        wait_for(lambda: lan_status(d, "lan-b").get("ipAddress"), 60, "lan-b's reported address")
        assert lan_status(d, "lan-b")["mac"] == "02:5e:00:00:00:0b", lan_status(d, "lan-b")
        assert host_local_allocations(pool) == ["192.168.77.100"]

        assert len(bridge_ports(bridge)) == 3, bridge_ports(bridge)  # the test host's veth and one per pod
    finally:
        for name in ["lan-a", "lan-b"]:
            d.request("DELETE", f"{VMS}/{name}")
        wait_for(lambda: not d.request("GET", PODS).json()["items"], 90, "the pods to go", fail=False)
        remaining = bridge_ports(bridge)
        allocations = host_local_allocations(pool)
        nat = [line for line in sh("iptables", "-t", "nat", "-S").stdout.splitlines() if "virt-launcher-lan-" in line]
        spoof = [line for line in sh("nft", "list", "ruleset").stdout.splitlines() if "virt-launcher-lan-" in line]
        host.remove()
        sh("ip", "link", "del", bridge, check=False)
        shutil.rmtree(f"/var/lib/cni/networks/{pool}", ignore_errors=True)
    # Nothing of the pods is left: no veth on the bridge besides the test host's, no address, no namespace.
    assert remaining == [host.host_side], remaining
    assert allocations == [], allocations
    assert nat == [] and spoof == [], (nat, spoof)  # no masquerade rule, no macspoofchk chain
    assert pod_namespaces() == []


def test_a_vm_on_the_pod_network_and_a_multus_network_uses_both(multus_cluster):
    """The usual KubeVirt shape: eth0 masqueraded on the pod network (default route, DHCP 10.0.2.2) and a
    second NIC bridged onto a Linux bridge NAD. The guest configures both by DHCP from the agent; it
    reaches the node through the pod network and the test host through the bridge, and is reached on
    each; status.interfaces reports both, each with its pod interface and address."""
    d = multus_cluster
    bridge = f"svbr{uuid.uuid4().hex[:6]}"
    sh("ip", "link", "add", bridge, "type", "bridge")
    sh("ip", "link", "set", bridge, "up")
    host = LanHost("d", "192.168.79.1")
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Recorder.seen = []
    try:
        sh("ip", "link", "set", host.host_side, "master", bridge)
        create_nad(d, "lan-second", {"cniVersion": "1.0.0", "name": "lan-second", "type": "bridge", "bridge": bridge,
                                     "ipam": {"type": "static", "addresses": [{"address": "192.168.79.20/24"}]}})
        manifest = vm("dual")
        spec = manifest["spec"]["template"]["spec"]
        spec["domain"]["devices"]["interfaces"] = [{"name": "default", "masquerade": {}}, {"name": "lan", "bridge": {}}]
        spec["networks"] = [{"name": "default", "pod": {}}, {"name": "lan", "multus": {"networkName": "lan-second"}}]
        port = server.server_address[1]
        script = probe_script({"host-counter": "http://192.168.79.1:8000/counter", "node-hello": f"http://10.244.0.1:{port}/from-dual"})
        for volume in spec["volumes"]:
            if volume["name"] == "seed":
                volume["cloudInitNoCloud"]["userData"] = script
        assert d.request("POST", VMS, manifest).status_code == 201
        # A second VM on a definition without IPAM: its networkData (cloud-init network-config v2) sets the
        # bridge NIC's address, found by the MAC the VMI gives it.
        create_nad(d, "lan-noipam", {"cniVersion": "1.0.0", "name": "lan-noipam", "type": "bridge", "bridge": bridge})
        other = vm("dual-static")
        other_spec = other["spec"]["template"]["spec"]
        other_spec["domain"]["devices"]["interfaces"] = [{"name": "default", "masquerade": {}},
                                                         {"name": "lan", "bridge": {}, "macAddress": "02:5e:00:00:00:21"}]
        other_spec["networks"] = [{"name": "default", "pod": {}}, {"name": "lan", "multus": {"networkName": "lan-noipam"}}]
        for volume in other_spec["volumes"]:
            if volume["name"] == "seed":
                volume["cloudInitNoCloud"]["networkData"] = (
                    "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"
                    "  lan:\n    match:\n      macaddress: '02:5e:00:00:00:21'\n    addresses: [192.168.79.21/24]\n")
        assert d.request("POST", VMS, other).status_code == 201

        wait_for(lambda: "dhcp lease on eth1:" in serial_log(d, "dual"), 240, "the second NIC's DHCP lease")
        log = serial_log(d, "dual")
        assert "dhcp lease on eth0: 10.0.2.2/24 router=10.0.2.1" in log, log[-3000:]
        assert "dhcp lease on eth1: 192.168.79.20/24" in log, log[-3000:]
        assert "ip[eth1]=192.168.79.20" in log, log[-3000:]
        wait_for(lambda: "host-counter:" in serial_log(d, "dual") and "node-hello:" in serial_log(d, "dual"), 240,
                 "the guest to reach the test host and the node")
        log = serial_log(d, "dual")
        assert "host-counter: 4242" in log and "node-hello: hello guest" in log, log[-3000:]

        # Both interfaces in status, in spec order, each on its own pod interface.
        def reported():
            interfaces = (vmi(d, "dual") or {}).get("status", {}).get("interfaces") or []
            return len(interfaces) == 2 and all(i.get("ipAddress") for i in interfaces)
        wait_for(reported, 60, "both interfaces' addresses")
        interfaces = vmi(d, "dual")["status"]["interfaces"]
        default, lan = interfaces
        assert default["name"] == "default" and default["podInterfaceName"] == "eth0", interfaces
        assert default["ipAddress"].startswith("10.244.0."), interfaces
        assert lan["name"] == "lan" and lan["podInterfaceName"] == "net1" and lan["ipAddress"] == "192.168.79.20", interfaces
        assert default["mac"] != lan["mac"], interfaces
        # The node's request came masqueraded from the pod address, not over the bridge.
        assert (default["ipAddress"], "/from-dual") in Recorder.seen, Recorder.seen

        # Reached on each: the node on the pod IP (masquerade forwards every port), the test host on the bridge.
        code = f"import urllib.request; print(urllib.request.urlopen('http://{default['ipAddress']}/counter', timeout=3).read().decode().strip())"
        assert wait_for(lambda: sh("python3", "-c", code, check=False).stdout.strip().isdigit(), 60, "the node to fetch over the pod network")
        assert wait_for(lambda: (host.fetch("http://192.168.79.20/counter") or "").isdigit(), 60, "the test host to fetch over the bridge")

        wait_for(lambda: "ip[eth1]=192.168.79.21" in serial_log(d, "dual-static"), 240, "the static second NIC")
        log = serial_log(d, "dual-static")
        assert "network iface=eth1 mode=static config=network-config-v2" in log, log[-3000:]
        assert "dhcp lease on eth0: 10.0.2.2/24" in log, log[-3000:]
        assert wait_for(lambda: (host.fetch("http://192.168.79.21/counter") or "").isdigit(), 60, "the test host to fetch the static NIC")
        assert len(bridge_ports(bridge)) == 3, bridge_ports(bridge)  # the test host's veth and one per pod
    finally:
        server.shutdown()
        d.request("DELETE", f"{VMS}/dual")
        d.request("DELETE", f"{VMS}/dual-static")
        wait_for(lambda: not d.request("GET", PODS).json()["items"], 90, "the pod to go", fail=False)
        remaining = bridge_ports(bridge)
        host.remove()
        sh("ip", "link", "del", bridge, check=False)
    assert remaining == [host.host_side], remaining
    assert pod_namespaces() == []


def test_a_vm_on_a_macvlan_network_reaches_the_test_host(multus_cluster):
    d = multus_cluster
    host = LanHost("m", "192.168.78.1")
    try:
        create_nad(d, "mv", {"cniVersion": "1.0.0", "name": "mv", "type": "macvlan", "master": host.host_side, "mode": "bridge",
                             "ipam": {"type": "static", "addresses": [{"address": "192.168.78.10/24"}]}})
        assert d.request("POST", VMS, bridged_vm("mv-a", "mv", probe_script({"host-counter": "http://192.168.78.1:8000/counter"}))).status_code == 201
        wait_for(lambda: "dhcp lease on eth0: 192.168.78.10/24" in serial_log(d, "mv-a"), 240, "the guest's DHCP lease")
        wait_for(lambda: "host-counter:" in serial_log(d, "mv-a"), 240, "the guest to fetch the test host's /counter")
        assert "host-counter: 4242" in serial_log(d, "mv-a")
        assert wait_for(lambda: host.ping("192.168.78.10"), 60, "the test host to ping the guest")
        assert wait_for(lambda: (host.fetch("http://192.168.78.10/counter") or "").isdigit(), 60, "the test host to fetch the guest's /counter")
        # The guest took the macvlan's own MAC (a macvlan takes in only frames for it).
        status = json.loads(launcher_pod(d, "mv-a")["metadata"]["annotations"]["k8s.v1.cni.cncf.io/network-status"])
        net1 = next(entry for entry in status if entry["interface"] == "net1")
        wait_for(lambda: lan_status(d, "mv-a").get("mac"), 60, "the reported MAC")
        assert lan_status(d, "mv-a")["mac"] == net1["mac"], (status, lan_status(d, "mv-a"))
    finally:
        d.request("DELETE", f"{VMS}/mv-a")
        wait_for(lambda: not d.request("GET", PODS).json()["items"], 90, "the pods to go", fail=False)
        leftover = links("macvlan")
        host.remove()
    assert leftover == [], leftover
    assert pod_namespaces() == []


def test_a_host_device_network_moves_a_nic_into_the_vms_pod(multus_cluster):
    d = multus_cluster
    host = LanHost("d", "192.168.79.1")
    try:
        create_nad(d, "nic", {"cniVersion": "1.0.0", "name": "nic", "type": "host-device", "device": host.host_side,
                              "ipam": {"type": "static", "addresses": [{"address": "192.168.79.10/24"}]}})
        assert d.request("POST", VMS, bridged_vm("hd-a", "nic", probe_script({"host-counter": "http://192.168.79.1:8000/counter"}))).status_code == 201
        wait_for(lambda: "dhcp lease on eth0: 192.168.79.10/24" in serial_log(d, "hd-a"), 240, "the guest's DHCP lease")
        # The NIC left the node for the pod.
        assert host.host_side not in links()
        wait_for(lambda: "host-counter:" in serial_log(d, "hd-a"), 240, "the guest to fetch the test host's /counter")
        assert "host-counter: 4242" in serial_log(d, "hd-a")
        assert wait_for(lambda: (host.fetch("http://192.168.79.10/counter") or "").isdigit(), 60, "the test host to fetch the guest's /counter")
    finally:
        d.request("DELETE", f"{VMS}/hd-a")
        wait_for(lambda: not d.request("GET", PODS).json()["items"], 90, "the pods to go", fail=False)
        back = host.host_side in links()
        host.remove()
    # DEL gave the NIC back to the node.
    assert back, "the host device did not come back from the pod"
    assert pod_namespaces() == []


def test_a_missing_definition_or_a_failing_plugin_says_why_and_recovers(multus_cluster):
    d = multus_cluster
    assert d.request("POST", VMS, bridged_vm("lost", "nowhere", "#!/bin/sh\n")).status_code == 201
    wait_for(lambda: waiting_condition(d, "lost"), 90, "the VMI's Synchronized=False condition")
    message = waiting_condition(d, "lost")["message"]
    assert "NetworkAttachmentDefinition default/nowhere does not exist" in message, message
    assert pod_namespaces() == [], "nothing is set up for a network that cannot be had"

    create_nad(d, "broken", {"cniVersion": "1.0.0", "name": "broken", "type": "no-such-plugin"})
    assert d.request("POST", VMS, bridged_vm("broken-vm", "broken", "#!/bin/sh\n")).status_code == 201
    wait_for(lambda: waiting_condition(d, "broken-vm"), 90, "the second VMI's Synchronized=False condition")
    message = waiting_condition(d, "broken-vm")["message"]
    assert "no-such-plugin" in message, message

    # The definition appears: the first VM starts without being touched.
    bridge = f"svbr{uuid.uuid4().hex[:6]}"
    sh("ip", "link", "add", bridge, "type", "bridge")
    try:
        create_nad(d, "nowhere", {"cniVersion": "1.0.0", "type": "bridge", "bridge": bridge})
        wait_for(lambda: (vmi(d, "lost") or {}).get("status", {}).get("phase") == "Running", 180, "the VM to start")
        assert waiting_condition(d, "lost") is None
    finally:
        for name in ["lost", "broken-vm"]:
            d.request("DELETE", f"{VMS}/{name}")
        wait_for(lambda: not d.request("GET", PODS).json()["items"], 90, "the pods to go", fail=False)
        sh("ip", "link", "del", bridge, check=False)
    assert pod_namespaces() == []
