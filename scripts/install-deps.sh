#!/usr/bin/env bash
# Installs the Debian and Python packages SwiftVirt needs, only those that are missing.
set -euo pipefail
packages=(libsqlite3-dev qemu-system-x86 qemu-utils runc containernetworking-plugins iproute2 nftables
          busybox-static syslinux syslinux-common mtools genisoimage xorriso fdisk cpio xz-utils ovmf python3-pip)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} — run 'make deps' as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
py=${PYTHON:-python3}
if ! "$py" -c 'import kubernetes, pytest, yaml' 2>/dev/null; then
  echo "installing Python packages: kubernetes pytest pyyaml"
  "$py" -m pip install -q --disable-pip-version-check kubernetes pytest pyyaml 2>/dev/null \
    || "$py" -m pip install -q --disable-pip-version-check --break-system-packages kubernetes pytest pyyaml
fi
# Ansible, for the e2e test that drives VMs with the kubevirt.core collection: the `ansible` package bundles
# it (kubevirt.core 2.2.3, kubernetes.core 6.2.0, ansible.posix 2.1.0 in 12.3.0).
if ! "$py" -c 'import ansible_collections.kubevirt.core, ansible_collections.ansible.posix' 2>/dev/null; then
  echo "installing Python packages: ansible==12.3.0"
  "$py" -m pip install -q --disable-pip-version-check ansible==12.3.0 2>/dev/null \
    || "$py" -m pip install -q --disable-pip-version-check --break-system-packages ansible==12.3.0
fi
