"""The pod network, as a node runs it by default (`--pod-network cni`): each launcher pod gets a network
namespace with eth0 on the node bridge (the CNI bridge plugin, host-local addresses from the Node's
podCIDR); a masquerade interface's guest gets its address by DHCP from the agent, reaches out through the
pod's address and is reachable on it, on every port or on the listed `ports` only."""
import http.server
import os
import socket
import subprocess
import threading

import pytest
import requests

from test_vms import VMS, run_cluster, serial_log, vm, vmi, wait_for

NODE_BRIDGE = "swiftvirt0"


@pytest.fixture
def net_cluster():
    """The all-in-one daemon with the default pod network."""
    yield from run_cluster(["--emulation", "--node-name", "node-a"], "swiftvirt-net-")


@pytest.fixture
def user_mode_cluster():
    yield from run_cluster(["--emulation", "--node-name", "node-a", "--pod-network", "user"], "swiftvirt-usernet-")


def pod_namespaces(node="node-a"):
    directory = f"/run/swiftvirt/{node}/netns"
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def bridge_ports():
    out = subprocess.run(["ip", "-o", "link", "show", "master", NODE_BRIDGE], capture_output=True, text=True).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if line.strip()]


def allocated_addresses(d):
    directory = os.path.join(d.data_dir, "cni", "networks", "swiftvirt-pod-network")
    if not os.path.isdir(directory):
        return []
    return sorted(name for name in os.listdir(directory) if name[0].isdigit())


def get(url):
    """GET with retries while the guest's forwarding or httpd comes up; the last error is raised."""
    last = None
    for _ in range(40):
        try:
            return requests.get(url, timeout=3)
        except requests.RequestException as error:
            last = error
    raise AssertionError(f"GET {url}: {last}")


def with_user_data(manifest, script):
    for volume in manifest["spec"]["template"]["spec"]["volumes"]:
        if volume["name"] == "seed":
            volume["cloudInitNoCloud"]["userData"] = script
    return manifest


class Recorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        Recorder.seen.append((self.client_address[0], self.path))
        body = b"hello guest\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_masquerade_guest_gets_its_lease_reaches_out_and_serves_on_the_pod_ip(net_cluster):
    d = net_cluster
    # The guest calls a server on the node (the bridge's gateway address, where pods reach the node) and
    # serves a second port besides httpd's 80.
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    Recorder.seen = []
    script = ("#!/bin/sh\nhttpd -p 8080 -h /www\n"
              f"for i in $(seq 60); do wget -q -O /tmp/hello http://10.244.0.1:{port}/from-guest && break; sleep 1; done\n"
              "echo fetched: $(cat /tmp/hello)\n")
    try:
        before = set(bridge_ports())
        assert d.request("POST", VMS, with_user_data(vm("web"), script)).status_code == 201
        wait_for(lambda: "dhcp lease on eth0" in serial_log(d, "web"), 180, "the guest's DHCP lease")
        log = serial_log(d, "web")
        assert "dhcp lease on eth0: 10.0.2.2/24 router=10.0.2.1" in log, log[-2000:]

        wait_for(lambda: (vmi(d, "web")["status"].get("interfaces") or [{}])[0].get("ipAddress"), 60, "the VMI's IP address")
        status = vmi(d, "web")["status"]
        interface = status["interfaces"][0]
        ip = interface["ipAddress"]
        assert ip.startswith("10.244.0.") and interface["ipAddresses"] == [ip], status
        assert interface["name"] == "default" and interface.get("podInterfaceName") == "eth0", interface
        pods = d.request("GET", "/api/v1/namespaces/default/pods", None).json()["items"]
        pod = next(p for p in pods if p["metadata"]["name"].startswith("virt-launcher-web-"))
        assert pod["status"]["podIP"] == ip and pod["status"]["podIPs"] == [{"ip": ip}], pod["status"]
        assert allocated_addresses(d) == [ip]
        assert len(pod_namespaces()) == 1
        assert len(set(bridge_ports()) - before) == 1, "one veth on the node bridge for the pod"

        # Every port goes to the guest when the interface lists none.
        wait_for(lambda: "swiftvirt-guest: ready" in serial_log(d, "web"), 120, "the guest's services")
        r = get(f"http://{ip}/counter")
        assert r.status_code == 200 and r.text.strip().isdigit(), r.text
        wait_for(lambda: "user-data-ran" in serial_log(d, "web") or "fetched:" in serial_log(d, "web"), 120, "the user-data")
        r = get(f"http://{ip}:8080/counter")
        assert r.status_code == 200 and r.text.strip().isdigit(), r.text

        # Out: the guest's request leaves from the pod's address (masqueraded behind it).
        wait_for(lambda: "fetched: hello guest" in serial_log(d, "web"), 120, "the guest's request to the node")
        assert (ip, "/from-guest") in Recorder.seen, Recorder.seen
    finally:
        server.shutdown()

    # Gone with the VM: the namespace, the address, the veth.
    assert d.request("DELETE", f"{VMS}/web").status_code == 200
    wait_for(lambda: not pod_namespaces() and not allocated_addresses(d) and set(bridge_ports()) <= before, 90,
             "the pod's network to be released")


def test_listed_ports_and_vm_network_cidr(net_cluster):
    d = net_cluster
    manifest = with_user_data(vm("listed"), "#!/bin/sh\nhttpd -p 8080 -h /www\necho second-httpd-started\n")
    spec = manifest["spec"]["template"]["spec"]
    spec["domain"]["devices"]["interfaces"] = [{"name": "default", "masquerade": {}, "ports": [{"name": "http", "port": 80}]}]
    spec["networks"] = [{"name": "default", "pod": {"vmNetworkCIDR": "10.11.12.0/24"}}]
    assert d.request("POST", VMS, manifest).status_code == 201
    wait_for(lambda: "second-httpd-started" in serial_log(d, "listed") and "swiftvirt-guest: ready" in serial_log(d, "listed"),
             180, "the guest's user-data")
    log = serial_log(d, "listed")
    assert "dhcp lease on eth0: 10.11.12.2/24 router=10.11.12.1" in log, log[-2000:]
    wait_for(lambda: (vmi(d, "listed")["status"].get("interfaces") or [{}])[0].get("ipAddress"), 60, "the VMI's IP address")
    ip = vmi(d, "listed")["status"]["interfaces"][0]["ipAddress"]
    r = get(f"http://{ip}/counter")
    assert r.status_code == 200 and r.text.strip().isdigit(), r.text
    # 8080 is not listed: it reaches the pod itself, where nothing listens.
    with pytest.raises(OSError):
        socket.create_connection((ip, 8080), timeout=5).close()


def test_bad_network_fields_are_refused_with_the_field(net_cluster):
    d = net_cluster
    cases = [
        ({"ports": [{"port": 0}]}, None, "spec.template.spec.domain.devices.interfaces[0].ports[0].port"),
        ({"ports": [{"port": 80, "protocol": "SCTP"}]}, None, "spec.template.spec.domain.devices.interfaces[0].ports[0].protocol"),
        ({"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]}, None, "spec.template.spec.domain.devices.interfaces[0].ports[1].name"),
        ({"dhcpOptions": {"privateOptions": [{"option": 12, "value": "x"}]}}, None,
         "spec.template.spec.domain.devices.interfaces[0].dhcpOptions.privateOptions[0].option"),
        ({}, "10.0.2.0/31", "spec.template.spec.networks[0].pod.vmNetworkCIDR"),
        ({}, "not-a-cidr", "spec.template.spec.networks[0].pod.vmNetworkCIDR"),
    ]
    for extra, cidr, field in cases:
        manifest = vm("bad")
        spec = manifest["spec"]["template"]["spec"]
        spec["domain"]["devices"]["interfaces"] = [{"name": "default", "masquerade": {}, **extra}]
        spec["networks"] = [{"name": "default", "pod": {"vmNetworkCIDR": cidr} if cidr else {}}]
        r = d.request("POST", VMS, manifest)
        assert r.status_code == 422, (extra, cidr, r.text)
        fields = [c.get("field") for c in r.json()["details"]["causes"]]
        assert field in fields, (field, r.json())
    assert d.request("GET", f"{VMS}/bad").status_code == 404


def test_a_user_mode_node_says_which_fields_need_the_pod_network(user_mode_cluster):
    d = user_mode_cluster
    manifest = vm("forwarded")
    manifest["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"] = [
        {"name": "default", "masquerade": {}, "ports": [{"port": 80}]}]
    manifest["spec"]["template"]["spec"]["networks"] = [{"name": "default", "pod": {}}]
    assert d.request("POST", VMS, manifest).status_code == 201

    def synchronized():
        for c in (vmi(d, "forwarded") or {}).get("status", {}).get("conditions", []):
            if c["type"] == "Synchronized" and c["status"] == "False":
                return c
        return None

    wait_for(synchronized, 60, "the VMI's Synchronized condition")
    message = synchronized()["message"]
    assert "spec.domain.devices.interfaces[0].ports" in message and "--pod-network cni" in message, message
