#!/usr/bin/env bash
# Installs what zkx's black-box test suite (test/) needs on a Debian 12 machine:
#   zookeeper              Apache ZooKeeper 3.8 server + zkCli.sh (/usr/share/zookeeper/bin)
#   zookeeper-bin          the C client (cli_mt)
#   python3-kazoo          kazoo for /usr/bin/python3 (test/kazoo)
#   libcurator-recipes-java Curator jars (/usr/share/java/curator-*.jar)
#   nats-server            NATS server for the NATS notifier plugin's test (plugins/nats)
#   iptables               network partitions between ensemble members on loopback (test/ensemble)
# Idempotent: packages already installed are left alone and apt is not touched at all when
# nothing is missing. Must run as root (CI does). Prints what it does.
set -euo pipefail

PACKAGES=(zookeeper zookeeper-bin python3-kazoo libcurator-recipes-java nats-server iptables)

log() { printf 'install-test-deps: %s\n' "$*"; }

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg -s "$pkg" 2>/dev/null || true)
	if [[ $status == *$'\nStatus: install ok installed'* ]]; then
		log "$pkg: already installed ($(dpkg-query -W -f='${Version}' "$pkg"))"
	else
		log "$pkg: missing"
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} == 0)); then
	log "nothing to install"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	log "must run as root to install: ${missing[*]}" >&2
	exit 1
fi

log "running apt-get update"
apt-get update
log "installing: ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"

# Check the files the tests use really are there now.
for f in /usr/share/java/zookeeper.jar /usr/share/zookeeper/bin/zkCli.sh /usr/lib/zookeeper/bin/cli_mt /usr/sbin/nats-server /usr/sbin/iptables; do
	if [[ ! -e $f ]]; then
		log "expected $f after install, but it is missing" >&2
		exit 1
	fi
done
if ! /usr/bin/python3 -c 'import kazoo' 2>/dev/null; then
	log "kazoo is not importable from /usr/bin/python3 after install" >&2
	exit 1
fi
log "done"
