#!/usr/bin/env bash
# Debian packages the tests and the engine use (haproxy: the e2e test of two replicas behind a load balancer;
# tmux: the tests that run the CLI and the proxy on a real terminal, test/cli/terminal.test.ts;
# --bench: also what `npm run bench` compares against).
# Idempotent: installs only what is missing.
set -euo pipefail
PKGS="qemu-utils libnbd-bin zstd tar gzip coreutils util-linux e2fsprogs docker-compose haproxy tmux"
[ "${1:-}" = --bench ] && PKGS="$PKGS wrk nginx-light time"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then echo "install-deps: missing Debian packages:$missing (run as root)" >&2; exit 1; fi
echo "install-deps: installing$missing"
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/tmp/stx-install-deps.log 2>&1; }
apt_install || { apt-get update -q >/dev/null 2>&1 && apt_install; } || { tail -20 /tmp/stx-install-deps.log; exit 1; }
