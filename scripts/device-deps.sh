#!/usr/bin/env bash
# Downloads (here, where Debian's registry is reachable) the Debian 12
# packages that scripts/device-check.sh unpacks on the GPU machine, into the
# git-ignored .deps/ (about 17 MB; carried with each device call).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .deps && cd .deps
apt-get download librange-v3-dev doctest-dev libboost-program-options1.74-dev libboost-program-options1.74.0 \
  libboost1.74-dev libfmt-dev libfmt9 libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 \
  nlohmann-json3-dev libedit-dev libedit2 libbsd0 libmd0 \
  libcpp-httplib-dev libcpp-httplib0.11 libssl-dev zlib1g-dev libbrotli-dev libbrotli1
