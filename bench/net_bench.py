#!/usr/bin/env python3
"""VM-to-VM TCP throughput, each figure next to its baseline measured in the same run.

Two guests, one sending `dd if=/dev/zero | nc` to the other's `nc -l` (busybox in the test guest), the rate
as the sender's dd reports it (best of --rounds):
1. SwiftVirt, both VMs bridged (`bridge: {}`) onto a Linux bridge NetworkAttachmentDefinition.
2. SwiftVirt, both VMs on the pod network with masquerade (the client sends to the server's pod IP).
3. Baseline: the same two QEMU command lines started by hand, each with a tap of its own on the same
   bridge (no pod, no namespace, no NAT).
All under TCG (`--emulation`, as the baseline), with static addresses from cloud-init network-config.

Usage: bench/net_bench.py [--binary .build/release/swiftvirtd] [--mib 64] [--rounds 3]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import requests
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
GUEST = "/var/lib/swiftvirt/guest"
VMIS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachineinstances"
NADS = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"


def sh(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


class Cluster:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="swiftvirt-netbench-")
        self.proc = subprocess.Popen([binary, "--role", "all", "--data-dir", self.dir, "--listen", "127.0.0.1:0",
                                      "--emulation", "--node-name", "netbench"],
                                     stdout=open(os.path.join(self.dir, "log"), "w"), stderr=subprocess.STDOUT)
        kubeconfig = os.path.join(self.dir, "kubeconfig")
        for _ in range(600):
            if os.path.exists(kubeconfig) and os.path.getsize(kubeconfig):
                break
            time.sleep(0.05)
        cfg = yaml.safe_load(open(kubeconfig))
        self.server = cfg["clusters"][0]["cluster"]["server"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + cfg["users"][0]["user"]["token"]
        self.session.verify = os.path.join(self.dir, "pki", "ca.crt")
        self.session.trust_env = False
        wait(lambda: self.get("/api/v1/nodes/netbench").status_code == 200, 60, "the node")

    def get(self, path):
        return self.session.get(self.server + path, timeout=30)

    def post(self, path, body):
        r = self.session.post(self.server + path, json=body, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()

    def delete(self, path):
        self.session.delete(self.server + path, timeout=30)

    def qemu_argv(self, name):
        """The QEMU command line of VMI `name` and its state directory."""
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                argv = [a.decode() for a in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:-1]]
            except OSError:
                continue
            if argv and argv[0].startswith("qemu-system") and self.dir in " ".join(argv) and f"virt-launcher-{name}-" in " ".join(argv):
                state = next(a for a in argv if "/state/" in a)
                return argv, state[state.index("/"):state.index("/state/") + len("/state")]
        return None, None

    def serial(self, name):
        _, state = self.qemu_argv(name)
        try:
            return open(os.path.join(state, "serial.log"), errors="replace").read() if state else ""
        except OSError:
            return ""

    def close(self):
        self.delete(VMIS)
        wait(lambda: not self.get(VMIS).json()["items"], 120, "the VMIs to go", fail=False)
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait(predicate, timeout, what, fail=True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return True
        except Exception:
            pass
        time.sleep(0.5)
    if fail:
        raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
    return False


def guest(name, script, networks, interfaces, address=None):
    volumes = [{"name": "root", "containerDisk": {"image": f"{GUEST}/disk.qcow2"}},
               {"name": "seed", "cloudInitNoCloud": {"userData": script}}]
    if address:
        volumes[1]["cloudInitNoCloud"]["networkData"] = (
            "version: 2\nethernets:\n  eth0:\n    match: {name: eth0}\n"
            f"    addresses: [{address}/24]\n")
    return {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": name},
            "spec": {"domain": {"memory": {"guest": "256Mi"},
                                "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}, {"name": "seed", "disk": {"bus": "virtio"}}],
                                            "interfaces": interfaces}},
                     "networks": networks, "terminationGracePeriodSeconds": 0, "volumes": volumes}}


# User-data runs in the background already; a loop of its own would be ended with the script.
# busybox nc ends a connection at the end of its standard input: the server's is a FIFO that a sleeping
# writer keeps open, so it never ends and each nc goes as soon as its peer closes.
SERVER = ("#!/bin/sh\nmkfifo /tmp/hold\nsleep 1000000 > /tmp/hold &\necho bench-server-ready\n"
          "while true; do nc -l -p 5001 < /tmp/hold > /dev/null; done\n")


def client(target, mib, rounds):
    """Sends `mib` MiB `rounds` times (each retried while the server is not listening yet) and prints the
    guest's uptime around each send: busybox dd prints no rate."""
    count = mib * 16
    return f"""#!/bin/sh
for i in $(seq 300); do ping -c1 -W1 {target} >/dev/null 2>&1 && break; sleep 1; done
sleep 2
for r in $(seq {rounds}); do
  for attempt in $(seq 30); do
    t0=$(cut -d' ' -f1 /proc/uptime)
    dd if=/dev/zero bs=65536 count={count} 2>/dev/null | nc {target} 5001 && break
    sleep 2
  done
  t1=$(cut -d' ' -f1 /proc/uptime)
  echo "bench-dd $r: {count * 65536} bytes from $t0 to $t1"
  sleep 2
done
echo bench-done
"""


def rates(log):
    """MB/s of each `bench-dd` line: the bytes over the guest's uptime difference."""
    found = []
    for match in re.finditer(r"bench-dd \d+: (\d+) bytes from ([0-9.]+) to ([0-9.]+)", log):
        print("  " + match.group(0), file=sys.stderr)
        seconds = float(match.group(3)) - float(match.group(2))
        if seconds > 0:
            found.append(int(match.group(1)) / seconds / 1e6)
    return found


def run_pair(cluster, server, client_vmi, server_name, client_name, timeout):
    cluster.post(VMIS, server)
    cluster.post(VMIS, client_vmi)
    wait(lambda: "bench-done" in cluster.serial(client_name), timeout, f"{client_name} to finish")
    return rates(cluster.serial(client_name))


def raw_pair(argvs, bridge, timeout):
    """The two captured QEMU command lines (with copies of their disks) by hand, each on a host tap of its
    own on `bridge`."""
    procs, works = [], []
    try:
        for i, (argv, state, disks) in enumerate(argvs):
            work = tempfile.mkdtemp(prefix="raw-netbench-")
            shutil.copytree(disks, os.path.join(work, "disks"))
            tap = f"svnbt{i}{uuid.uuid4().hex[:4]}"
            sh("ip", "tuntap", "add", "dev", tap, "mode", "tap")
            sh("ip", "link", "set", tap, "master", bridge, "up")
            args = [re.sub(r"ifname=tap\d+", f"ifname={tap}", a.replace(state, work)) for a in argv]
            procs.append((subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), tap))
            works.append(work)
        log = lambda: open(os.path.join(works[1], "serial.log"), errors="replace").read() if os.path.exists(os.path.join(works[1], "serial.log")) else ""
        wait(lambda: "bench-done" in log(), timeout, "the raw client to finish")
        return rates(log())
    finally:
        for proc, tap in procs:
            proc.kill()
            proc.wait()
            sh("ip", "link", "del", tap, check=False)
        for work in works:
            shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "swiftvirtd"))
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()
    subprocess.run([os.path.join(ROOT, "guest", "build.sh"), GUEST], check=True, capture_output=True)
    bridge = f"svnb{uuid.uuid4().hex[:6]}"
    sh("ip", "link", "add", bridge, "type", "bridge")
    sh("ip", "link", "set", bridge, "up")
    cluster = Cluster(args.binary)
    try:
        cluster.post(NADS, {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition", "metadata": {"name": "bench-lan"},
                            "spec": {"config": json.dumps({"cniVersion": "1.0.0", "name": "bench-lan", "type": "bridge", "bridge": bridge})}})
        lan = [{"name": "lan", "multus": {"networkName": "bench-lan"}}]
        bridged = [{"name": "lan", "bridge": {}}]
        bridge_rates = run_pair(cluster, guest("nb-server", SERVER, lan, bridged, "192.168.96.10"),
                                guest("nb-client", client("192.168.96.10", args.mib, args.rounds), lan, bridged, "192.168.96.11"),
                                "nb-server", "nb-client", args.timeout)
        argvs = [cluster.qemu_argv("nb-server"), cluster.qemu_argv("nb-client")]
        saved = []
        for argv, state in argvs:
            copy = tempfile.mkdtemp(prefix="netbench-state-")
            shutil.copytree(os.path.join(state, "disks"), os.path.join(copy, "disks"))
            saved.append((argv, state, copy))
        cluster.delete(VMIS)
        wait(lambda: not cluster.get(VMIS).json()["items"], 120, "the bridged VMIs to go")

        # The baseline: the same command lines (their disks as they were) on host taps on the same bridge.
        raw_rates = raw_pair([(argv, state, os.path.join(copy, "disks")) for argv, state, copy in saved], bridge, args.timeout)
        for _, _, copy in saved:
            shutil.rmtree(copy, ignore_errors=True)

        pod = [{"name": "default", "pod": {}}]
        masq = [{"name": "default", "masquerade": {}}]
        cluster.post(VMIS, guest("nm-server", SERVER, pod, masq))
        wait(lambda: (cluster.get(f"{VMIS}/nm-server").json().get("status", {}).get("interfaces") or [{}])[0].get("ipAddress"), 300,
             "the server's pod IP")
        server_ip = cluster.get(f"{VMIS}/nm-server").json()["status"]["interfaces"][0]["ipAddress"]
        cluster.post(VMIS, guest("nm-client", client(server_ip, args.mib, args.rounds), pod, masq))
        wait(lambda: "bench-done" in cluster.serial("nm-client"), args.timeout, "the masquerade client to finish")
        masq_rates = rates(cluster.serial("nm-client"))
    finally:
        cluster.close()
        sh("ip", "link", "del", bridge, check=False)

    best = lambda values: max(values) if values else float("nan")
    spread = lambda values: f"runs {', '.join(f'{v:.1f}' for v in values)}"
    print(f"VM-to-VM TCP throughput, {args.mib} MiB per round, best of {args.rounds}, TCG")
    print(f"  baseline, raw QEMU on host taps on one bridge: {best(raw_rates):.1f} MB/s ({spread(raw_rates)})")
    print(f"  SwiftVirt, bridge NAD:                         {best(bridge_rates):.1f} MB/s ({spread(bridge_rates)})"
          f"  = {best(bridge_rates) / best(raw_rates):.2f}x the baseline (target >= 0.9x)")
    print(f"  SwiftVirt, pod network with masquerade:        {best(masq_rates):.1f} MB/s ({spread(masq_rates)})"
          f"  = {best(masq_rates) / best(raw_rates):.2f}x the baseline (target >= 0.9x)")
    if not (bridge_rates and raw_rates and masq_rates):
        sys.exit(1)


if __name__ == "__main__":
    main()
