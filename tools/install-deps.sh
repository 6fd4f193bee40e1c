#!/usr/bin/env bash
# Installs the system packages zonealloc needs to build and test: libzbd's development files and
# pkg-config. Debian and Ubuntu get them through apt-get; other systems get instructions.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libzbd; } \
    && [ ! -f /usr/include/libzbd/zbd.h ]; then
    missing+=(libzbd-dev)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    cat >&2 <<MSG
zonealloc needs libzbd (headers and library, version 2.x) and pkg-config, and this system has no
apt-get to install them. Install them with your package manager, for example:
  Fedora/RHEL:  dnf install libzbd-devel pkgconf-pkg-config
  Arch:         pacman -S libzbd pkgconf
  from source:  https://github.com/westerndigitalcorporation/libzbd (./autogen.sh && ./configure && make install)
then run this command again.
MSG
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "zonealloc: installing ${missing[*]} needs root; run 'apt-get install -y ${missing[*]}' as root" >&2
        exit 1
    fi
fi
echo "zonealloc: installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
