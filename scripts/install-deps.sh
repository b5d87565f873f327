#!/usr/bin/env bash
# Installs the Debian and Python packages SwiftVirt needs, only those that are missing.
set -euo pipefail
packages=(libsqlite3-dev qemu-system-x86 qemu-utils runc containernetworking-plugins iproute2 nftables
          busybox-static syslinux syslinux-common mtools genisoimage xorriso fdisk cpio xz-utils ovmf python3-pip
          docker-registry skopeo apache2-utils zstd mount xfsprogs gdb)
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
# Python packages for the tests, one word each, pinned with == where the tests depend on a version.
# Add a package by adding a word here.
# ansible bundles the kubevirt.core, kubernetes.core and ansible.posix collections test_ansible.py drives.
python_packages=(kubernetes pytest pyyaml openapi-spec-validator==0.9.0 schemathesis==4.32.5 ansible==12.3.0)
if ! "$py" - "${python_packages[@]}" 2>/dev/null <<'PY'
import sys, importlib.metadata as metadata
for requirement in sys.argv[1:]:
    name, _, version = requirement.partition("==")
    installed = metadata.version(name)  # raises when it is missing
    if version and installed != version:
        sys.exit(1)
PY
then
  echo "installing Python packages: ${python_packages[*]}"
  "$py" -m pip install -q --disable-pip-version-check "${python_packages[@]}" 2>/dev/null \
    || "$py" -m pip install -q --disable-pip-version-check --break-system-packages "${python_packages[@]}"
fi
