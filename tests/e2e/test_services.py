"""Services in front of masquerade VMs, as KubeVirt users reach them (`virtctl expose`): `swiftvirt expose`
makes a NodePort Service whose EndpointSlice the controllers keep from the launcher pod; the node's
nftables table carries the node port, from a test host on a veth, and the cluster IP, from another VM and
from the node, to the guest's httpd. The rules follow the VM when it restarts and go with the Service."""
import json
import os
import re
import socket
import subprocess
import time
import uuid

import pytest
import requests

from conftest import BIN
from test_multus import LanHost, sh
from test_vms import VMS, run_cluster, serial_log, vm, vmi, wait_for

SERVICES = "/api/v1/namespaces/default/services"
SLICES = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
TABLE = "swiftvirt_services_node_a"


@pytest.fixture
def svc_cluster():
    yield from run_cluster(["--emulation", "--node-name", "node-a"], "swiftvirt-svc-")


def labelled_vm(name, script=None):
    manifest = vm(name)
    manifest["spec"]["template"]["metadata"] = {"labels": {"kubevirt.io/domain": name}}
    if script:
        for volume in manifest["spec"]["template"]["spec"]["volumes"]:
            if volume["name"] == "seed":
                volume["cloudInitNoCloud"]["userData"] = script
    return manifest


def swiftvirt(d, *args, check=True):
    result = subprocess.run([os.path.join(BIN, "swiftvirt"), "--kubeconfig", d.kubeconfig, *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"swiftvirt {' '.join(args)}: {result.stderr}")
    return result


def slice_addresses(d, name):
    r = d.request("GET", f"{SLICES}/{name}")
    if r.status_code != 200:
        return []
    return [a for e in r.json().get("endpoints") or [] if e.get("conditions", {}).get("ready") for a in e["addresses"]]


def table():
    return sh("nft", "list", "table", "ip", TABLE, check=False).stdout


def pod_ip(d, name):
    return ((vmi(d, name) or {}).get("status", {}).get("interfaces") or [{}])[0].get("ipAddress")


def test_a_node_port_and_a_cluster_ip_reach_the_guest(svc_cluster):
    d = svc_cluster
    host = LanHost("s", "192.168.93.1")
    try:
        sh("ip", "addr", "add", "192.168.93.254/24", "dev", host.host_side)
        web = labelled_vm("web")
        # The guest's httpd port by name: the launcher pod carries it as a container port.
        web["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"] = [{"name": "default", "masquerade": {}, "ports": [{"name": "http", "port": 80}]}]
        web["spec"]["template"]["spec"]["networks"] = [{"name": "default", "pod": {}}]
        assert d.request("POST", VMS, web).status_code == 201
        wait_for(lambda: pod_ip(d, "web"), 180, "the VM's pod address")
        wait_for(lambda: "swiftvirt-guest: ready" in serial_log(d, "web"), 180, "the guest's services")

        # Refused without a label to select by, with the field to fix.
        assert d.request("POST", VMS, vm("plain", run_strategy="Halted")).status_code == 201
        refused = swiftvirt(d, "expose", "vm", "plain", "--port", "80", check=False)
        assert refused.returncode != 0 and "spec.template.metadata.labels" in refused.stderr, refused.stderr

        out = swiftvirt(d, "expose", "vm", "web", "--name", "web-np", "--port", "8080", "--target-port", "80", "--type", "NodePort").stdout
        assert "Service web-np successfully exposed for vm web" in out, out
        service = d.request("GET", f"{SERVICES}/web-np").json()
        assert service["spec"]["type"] == "NodePort" and service["spec"]["selector"] == {"kubevirt.io/domain": "web"}, service
        node_port = service["spec"]["ports"][0]["nodePort"]
        assert 30000 <= node_port <= 32767, service
        assert service["spec"]["clusterIP"].startswith("10.96."), service
        wait_for(lambda: slice_addresses(d, "web-np") == [pod_ip(d, "web")], 60, "the EndpointSlice to hold the pod")
        assert "web-np" in d.kubectl("get", "svc").stdout

        # From the test host, to the node's address on its segment; and on the node, on 127.0.0.1.
        wait_for(lambda: (host.fetch(f"http://192.168.93.254:{node_port}/counter") or "").isdigit(), 60, "the node port from the test host")
        assert requests.get(f"http://127.0.0.1:{node_port}/counter", timeout=5).text.strip().isdigit()

        # The cluster IP, from the node and from another VM.
        cluster = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-cip"},
                   "spec": {"selector": {"kubevirt.io/domain": "web"}, "ports": [{"port": 80, "targetPort": "http"}]}}
        r = d.request("POST", SERVICES, cluster)
        assert r.status_code == 201, r.text
        cluster_ip = r.json()["spec"]["clusterIP"]
        assert r.json()["spec"]["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": "http"}, r.json()
        wait_for(lambda: (d.request("GET", f"{SLICES}/web-cip").json().get("ports") or [{}])[0].get("port") == 80, 60,
                 "the named target port to resolve to the guest's 80")
        wait_for(lambda: cluster_ip in table(), 60, "the cluster IP's rule")
        wait_for(lambda: requests.get(f"http://{cluster_ip}/counter", timeout=3).text.strip().isdigit(), 60, "the cluster IP from the node")
        script = (f"#!/bin/sh\nfor i in $(seq 150); do wget -q -O /tmp/c http://{cluster_ip}/counter && "
                  "echo \"svc-counter: $(cat /tmp/c)\" && break; sleep 1; done\n")
        assert d.request("POST", VMS, labelled_vm("client", script)).status_code == 201
        wait_for(lambda: "svc-counter:" in serial_log(d, "client"), 240, "the other VM to fetch through the cluster IP")
        # Console lines interleave (the counter's own lines), so the marker is searched, not split out.
        assert re.search(r"svc-counter: \d+", serial_log(d, "client")), serial_log(d, "client")[-2000:]

        # The VM restarts with another pod address: the slice and the rules follow.
        before = pod_ip(d, "web")
        swiftvirt(d, "restart", "web")
        wait_for(lambda: pod_ip(d, "web") and pod_ip(d, "web") != before and
                 (vmi(d, "web") or {}).get("status", {}).get("phase") == "Running", 180, "the VM to run again")
        wait_for(lambda: slice_addresses(d, "web-np") == [pod_ip(d, "web")], 60, "the slice to follow the new pod")
        wait_for(lambda: "swiftvirt-guest: ready" in serial_log(d, "web"), 180, "the guest's services")
        wait_for(lambda: (host.fetch(f"http://192.168.93.254:{node_port}/counter") or "").isdigit(), 90, "the node port after the restart")

        # Gone with the Services.
        for name in ["web-np", "web-cip"]:
            assert d.request("DELETE", f"{SERVICES}/{name}").status_code == 200
        wait_for(lambda: cluster_ip not in table() and str(node_port) not in table(), 60, "the rules to go")
    finally:
        host.remove()


def test_bad_services_are_refused_with_the_field(svc_cluster):
    d = svc_cluster
    cases = [
        ({"ports": []}, "spec.ports"),
        ({"ports": [{"port": 0}]}, "spec.ports[0].port"),
        ({"ports": [{"port": 80, "protocol": "ICMP"}]}, "spec.ports[0].protocol"),
        ({"type": "Magic", "ports": [{"port": 80}]}, "spec.type"),
        ({"ports": [{"port": 80, "nodePort": 30001}]}, "spec.ports[0].nodePort"),
        ({"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}]}, "spec.ports[0].nodePort"),
        ({"clusterIP": "192.168.1.1", "ports": [{"port": 80}]}, "spec.clusterIP"),
        ({"ports": [{"port": 80}, {"port": 81}]}, "spec.ports[0].name"),
    ]
    for spec, field in cases:
        r = d.request("POST", SERVICES, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad"}, "spec": spec})
        assert r.status_code == 422, (spec, r.text)
        assert field in [c.get("field") for c in r.json()["details"]["causes"]], (field, r.json())
    assert d.request("GET", f"{SERVICES}/bad").status_code == 404


def test_a_service_without_endpoints_refuses_connections(svc_cluster):
    d = svc_cluster
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nobody"},
            "spec": {"type": "NodePort", "selector": {"kubevirt.io/domain": "nowhere"}, "ports": [{"port": 80}]}}
    r = d.request("POST", SERVICES, body)
    assert r.status_code == 201, r.text
    cluster_ip, node_port = r.json()["spec"]["clusterIP"], r.json()["spec"]["ports"][0]["nodePort"]
    wait_for(lambda: f"ip daddr {cluster_ip} tcp dport 80 reject" in table(), 60, "the refusing rule")

    def refused(address, port):
        started = time.monotonic()
        try:
            socket.create_connection((address, port), timeout=5).close()
        except ConnectionRefusedError:
            return time.monotonic() - started < 3
        except OSError:
            return False
        return False
    # Refused at once, as a closed port is, rather than left to time out (nothing answers 10.96.0.0/16
    # but this table). The node port is refused even with a listener of the node's own on it.
    assert refused(cluster_ip, 80)
    squatter = socket.create_server(("0.0.0.0", node_port))
    try:
        assert refused(sh("hostname", "-I").stdout.split()[0], node_port)
        assert refused("127.0.0.1", node_port)
    finally:
        squatter.close()
    assert d.request("DELETE", f"{SERVICES}/nobody").status_code == 200
    wait_for(lambda: cluster_ip not in table(), 60, "the rule to go")


def test_the_nodes_service_table_goes_with_the_agent():
    cluster = run_cluster(["--emulation", "--node-name", "node-gone"], "swiftvirt-svc-gone-")
    d = next(cluster)
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"ports": [{"port": 80}]}}
    assert d.request("POST", SERVICES, body).status_code == 201
    wait_for(lambda: sh("nft", "list", "table", "ip", "swiftvirt_services_node_gone", check=False).returncode == 0, 60, "the table")
    for _ in cluster:  # stops the daemon
        pass
    assert sh("nft", "list", "table", "ip", "swiftvirt_services_node_gone", check=False).returncode != 0


WHO_CGI = ("#!/bin/sh\nmkdir -p /www/cgi-bin\n"
           "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho \"$(hostname) $REMOTE_ADDR\"\\n' > /www/cgi-bin/who\n"
           "chmod +x /www/cgi-bin/who\necho who-ready\n")


def test_client_ip_affinity_and_the_local_traffic_policy(svc_cluster):
    """Two VMs behind one Service: with sessionAffinity ClientIP a client keeps getting the same one; with
    externalTrafficPolicy Local the node port keeps the client's own address (the guest's CGI says which
    address it saw)."""
    d = svc_cluster
    host = LanHost("a", "192.168.94.1")
    try:
        sh("ip", "addr", "add", "192.168.94.254/24", "dev", host.host_side)
        for name in ["pair-a", "pair-b"]:
            manifest = labelled_vm(name, WHO_CGI)
            manifest["spec"]["template"]["metadata"]["labels"]["app"] = "pair"
            assert d.request("POST", VMS, manifest).status_code == 201
        for name in ["pair-a", "pair-b"]:
            wait_for(lambda: "who-ready" in serial_log(d, name), 180, f"{name}'s CGI")
        body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "pair"},
                "spec": {"type": "NodePort", "selector": {"app": "pair"}, "sessionAffinity": "ClientIP", "externalTrafficPolicy": "Local",
                         "ports": [{"port": 80}]}}
        r = d.request("POST", SERVICES, body)
        assert r.status_code == 201, r.text
        spec = r.json()["spec"]
        assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}, spec
        cluster_ip, node_port = spec["clusterIP"], spec["ports"][0]["nodePort"]
        wait_for(lambda: len(slice_addresses(d, "pair")) == 2, 120, "both pods in the slice")
        wait_for(lambda: table().count("update @client-") >= 2, 60, "the affinity rules")

        def who(url):
            try:
                return requests.get(url, timeout=3).text.split()
            except requests.RequestException:
                return None
        # From the node, ten times: one guest answers every time (without affinity, both would, nearly surely).
        wait_for(lambda: who(f"http://{cluster_ip}/cgi-bin/who"), 60, "the cluster IP")
        answers = {who(f"http://{cluster_ip}/cgi-bin/who")[0] for _ in range(10)}
        assert len(answers) == 1 and answers <= {"pair-a", "pair-b"}, answers
        # Other Services come and go (the node's table changes each time): the client stays where it was.
        for i in range(3):
            other = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"other-{i}"},
                     "spec": {"selector": {"app": "pair"}, "ports": [{"port": 81 + i}]}}
            assert d.request("POST", SERVICES, other).status_code == 201
            wait_for(lambda: f"dport {81 + i} " in table(), 60, "the other Service's rule")
            assert who(f"http://{cluster_ip}/cgi-bin/who")[0] in answers

        # From the test host to the node port: the guest sees the test host's address, not the node's.
        def from_host():
            text = host.fetch(f"http://192.168.94.254:{node_port}/cgi-bin/who")
            return text.split() if text else None
        wait_for(from_host, 60, "the node port from the test host")
        # busybox httpd writes an IPv4 peer as [::ffff:a.b.c.d].
        seen = lambda: from_host()[1].removeprefix("[::ffff:").rstrip("]")
        assert seen() == "192.168.94.1", from_host()
        # From the node itself (127.0.0.1 too) it is masqueraded even so: the guest could not answer 127.0.0.1.
        assert who(f"http://127.0.0.1:{node_port}/cgi-bin/who")[0] in {"pair-a", "pair-b"}
        # With the Cluster policy the node masquerades it (the endpoint may be on another node).
        r = d.request("PATCH", f"{SERVICES}/pair", {"spec": {"externalTrafficPolicy": "Cluster"}}, content_type="application/merge-patch+json")
        assert r.status_code == 200, r.text
        assert wait_for(lambda: seen() != "192.168.94.1", 60, "the node port to masquerade")

        # Bad affinity settings are refused by field.
        bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad-affinity"},
               "spec": {"selector": {"app": "pair"}, "sessionAffinity": "ClientIP",
                        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}}, "ports": [{"port": 80}]}}
        r = d.request("POST", SERVICES, bad)
        assert r.status_code == 422 and "spec.sessionAffinityConfig.clientIP.timeoutSeconds" in r.text, r.text
        bad["spec"] = {"selector": {"app": "pair"}, "sessionAffinity": "Sticky", "ports": [{"port": 80}]}
        r = d.request("POST", SERVICES, bad)
        assert r.status_code == 422 and "spec.sessionAffinity" in r.text, r.text
    finally:
        host.remove()


CRAFTED_SYN = r'''
import socket, struct, sys, time
dev, src_mac, dst_mac, src_ip, dst_ip, port = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
mac = lambda text: bytes.fromhex(text.replace(":", ""))
src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
tcp = struct.pack("!HHIIBBHHH", 40000, port, 1, 0, 5 << 4, 0x02, 64240, 0, 0)
tcp = tcp[:16] + struct.pack("!H", checksum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind((dev, 0))
s.settimeout(0.2)
s.send(mac(dst_mac) + mac(src_mac) + b"\x08\x00" + ip + tcp)
'''


def test_a_pod_cannot_reach_the_nodes_loopback_through_the_bridge(svc_cluster):
    """route_localnet on the pod bridge (for node ports on 127.0.0.1) would let a pod's crafted frame for
    127.0.0.1 reach services the node keeps on its loopback; the table's guard drops it. Without the
    guard (taken out by hand at the end) the same frame is answered, so the check can tell."""
    d = svc_cluster
    bridge = "swiftvirt0"
    made_bridge = sh("ip", "link", "show", bridge, check=False).returncode != 0
    if made_bridge:  # the pod network's bridge appears with the first pod; the guard does not need one
        sh("ip", "link", "add", bridge, "type", "bridge")
        sh("ip", "link", "set", bridge, "up")
    netns, host_side = f"svt-lo-{uuid.uuid4().hex[:6]}", f"svtlo{uuid.uuid4().hex[:4]}"
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "any"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
        assert d.request("POST", SERVICES, body).status_code == 201
        sysctl = f"/proc/sys/net/ipv4/conf/{bridge}/route_localnet"
        wait_for(lambda: open(sysctl).read().strip() == "1" and "ip daddr 127.0.0.0/8" in table(), 60, "route_localnet and the guard")
        sh("ip", "netns", "add", netns)
        sh("ip", "link", "add", host_side, "type", "veth", "peer", "name", "eth0", "netns", netns)
        sh("ip", "link", "set", host_side, "master", bridge, "up")
        sh("ip", "-n", netns, "link", "set", "eth0", "up")
        sh("ip", "-n", netns, "addr", "add", "10.244.0.250/24", "dev", "eth0")
        pod_mac = json.loads(sh("ip", "-n", netns, "-j", "link", "show", "eth0").stdout)[0]["address"]
        bridge_mac = json.loads(sh("ip", "-j", "link", "show", bridge).stdout)[0]["address"]

        def syn():
            """Sends the frame; whether the node took the SYN: a half-open connection from the fake pod
            to the loopback listener (the SYN-ACK's way back does not matter)."""
            sh("ip", "netns", "exec", netns, "python3", "-c", CRAFTED_SYN, "eth0", pod_mac, bridge_mac, "10.244.0.250", "127.0.0.1", str(port))
            time.sleep(0.5)
            half_open = sh("ss", "-Htn", "state", "syn-recv", f"( sport = :{port} )").stdout
            return "SYN-ACK" if "10.244.0.250:40000" in half_open else "nothing"
        assert syn() == "nothing"
        # The control: the guard taken out by hand (of every Services table on the host), the same frame
        # is answered.
        table_name = None
        for line in sh("nft", "-a", "list", "ruleset").stdout.splitlines():
            if line.startswith("table ip "):
                table_name = line.split()[2]
            if "ip daddr 127.0.0.0/8" in line and table_name and table_name.startswith("swiftvirt_services_"):
                sh("nft", "delete", "rule", "ip", table_name, "filter-input", "handle", line.split("# handle ")[1].strip())
        assert syn() == "SYN-ACK"
    finally:
        listener.close()
        sh("ip", "netns", "del", netns, check=False)
        sh("ip", "link", "del", host_side, check=False)
        if made_bridge:
            sh("ip", "link", "del", bridge, check=False)


PEER_RECORDER = r'''
import socket, sys
server = socket.create_server((sys.argv[1], 9000))
server.settimeout(240)
connection, peer = server.accept()
connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n")
connection.close()
print(peer[0], flush=True)
'''


def test_a_pod_network_guest_reaches_out_masqueraded_behind_the_node(svc_cluster):
    """Outbound NAT for pods: a masquerade guest's request to a host off the pod network (a test host
    behind a veth of the node's) arrives from the node's address on that segment, not from the pod's."""
    d = svc_cluster
    host = LanHost("o", "192.168.95.1")
    try:
        sh("ip", "addr", "add", "192.168.95.254/24", "dev", host.host_side)
        recorder = subprocess.Popen(["ip", "netns", "exec", host.netns, "python3", "-c", PEER_RECORDER, "192.168.95.1"],
                                    stdout=subprocess.PIPE, text=True)
        script = ("#!/bin/sh\nfor i in $(seq 150); do wget -q -O /tmp/out http://192.168.95.1:9000/ && "
                  "echo \"outbound: $(cat /tmp/out)\" && break; sleep 1; done\n")
        assert d.request("POST", VMS, labelled_vm("out", script)).status_code == 201
        wait_for(lambda: "outbound: hello" in serial_log(d, "out"), 240, "the guest's request to the test host")
        peer = recorder.communicate(timeout=30)[0].strip()
        assert peer == "192.168.95.254", (peer, pod_ip(d, "out"))
        assert "masquerade" in sh("nft", "list", "table", "ip", "swiftvirt_pods_swiftvirt0").stdout
    finally:
        host.remove()
