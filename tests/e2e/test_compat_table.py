"""The README's table of KubeVirt, CDI, Multus and nmstate kinds says what the server really serves: every
kind marked served or stored only is in discovery under its group/version, every kind marked not served is
not, and every kind discovery lists in those groups has a row."""
import os
import re

from conftest import ROOT

GROUPS = ("kubevirt.io", "cdi.kubevirt.io", "k8s.cni.cncf.io", "nmstate.io")


def table_rows():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text.split("## Which kinds are served", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or "/" not in cells[0] or cells[0].startswith("-") or cells[0] == "group/version":
            continue
        group_version, kinds, verdict = cells
        for kind in re.split(r",\s*", kinds):
            rows.append((group_version, kind, verdict))
    return rows


def served_kinds(daemon):
    kinds = set()
    for group in daemon.request("GET", "/apis").json()["groups"]:
        if not group["name"].endswith(GROUPS):
            continue
        for version in group["versions"]:
            listed = daemon.request("GET", f"/apis/{version['groupVersion']}").json()
            for resource in listed["resources"]:
                if "/" not in resource["name"]:
                    kinds.add((version["groupVersion"], resource["kind"]))
    return kinds


def test_the_readme_table_matches_discovery(daemon):
    rows = table_rows()
    assert len(rows) > 30, rows
    served = served_kinds(daemon)
    for group_version, kind, verdict in rows:
        if verdict.startswith("not served"):
            assert (group_version, kind) not in served, f"{group_version} {kind} is served, the README says not"
        else:
            assert verdict.startswith(("served", "stored only")), verdict
            assert (group_version, kind) in served, f"{group_version} {kind}: the README says {verdict!r}, discovery lacks it"
    listed = {(gv, kind) for gv, kind, _ in rows}
    missing = sorted(served - listed)
    assert not missing, f"served but not in the README's table: {missing}"
