#!/usr/bin/env bash
# The container engine for `pnpm test:swarm`: Debian's docker.io (dockerd 20.10) started with
# its own data root, exec root, socket and pidfile, all under one work directory, so it never
# touches a system-wide engine and is stopped by its pid alone.
#
#   deploy/swarm/test/engine.sh start|stop|env
#
# FLUXEL_SWARM_WORK (default /var/tmp/fluxel-swarm) is the work directory. `start` installs
# docker.io and debootstrap with apt-get when missing, saves the host's iptables rules and
# ip_forward and starts dockerd (the swarm itself runs on nodes inside it: nodes.mjs). `stop`
# leaves a swarm if the engine is in one (earlier versions made it a one-node swarm), stops
# dockerd by its pidfile (TERM, then KILL after 30 s) and puts iptables and ip_forward back as
# they were. `env` prints the DOCKER_HOST line for the caller. Runs as root (dockerd does).
set -euo pipefail

work="${FLUXEL_SWARM_WORK:-/var/tmp/fluxel-swarm}"
engine="$work/engine"
sock="unix://$engine/docker.sock"
pidfile="$engine/dockerd.pid"
docker=(/usr/bin/docker --host "$sock")

log() { printf 'engine: %s\n' "$*" >&2; }

install_packages() {
  local missing=()
  [[ -x /usr/sbin/dockerd ]] || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if ((${#missing[@]})); then
    log "installing ${missing[*]} (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

running() { [[ -s "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
  [[ "$(id -u)" == 0 ]] || { log "must run as root (dockerd does)"; exit 2; }
  install_packages
  mkdir -p "$engine"
  if running; then
    log "dockerd already running (pid $(cat "$pidfile"))"
  else
    # What dockerd will change on the host, to put back at `stop`.
    iptables-save >"$engine/iptables.before"
    cat /proc/sys/net/ipv4/ip_forward >"$engine/ip_forward.before"
    log "starting dockerd (data root $engine/data)"
    # 10.213.0.0/16 for the bridges and overlays: away from the host's own networks.
    /usr/sbin/dockerd \
      --data-root "$engine/data" --exec-root "$engine/exec" \
      --host "$sock" --pidfile "$pidfile" \
      --bip 10.213.0.1/24 --default-address-pool base=10.213.0.0/16,size=24 \
      --no-new-privileges --log-level warn \
      >>"$engine/dockerd.log" 2>&1 &
    for _ in $(seq 1 60); do
      "${docker[@]}" info >/dev/null 2>&1 && break
      sleep 1
    done
    "${docker[@]}" info >/dev/null 2>&1 || { log "dockerd did not come up: see $engine/dockerd.log"; tail -20 "$engine/dockerd.log" >&2; exit 1; }
  fi
}

stop() {
  if running; then
    local pid
    pid="$(cat "$pidfile")"
    "${docker[@]}" swarm leave --force >/dev/null 2>&1 || true
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && { log "dockerd still running after 30 s: KILL"; kill -KILL "$pid"; }
  fi
  if [[ -f "$engine/iptables.before" ]]; then
    # dockerd leaves its chains and its FORWARD policy behind: back to the saved rules.
    for table in filter nat mangle raw; do
      iptables -t "$table" -F 2>/dev/null || true
      iptables -t "$table" -X 2>/dev/null || true
    done
    iptables -P FORWARD ACCEPT
    iptables-restore <"$engine/iptables.before"
    cat "$engine/ip_forward.before" >/proc/sys/net/ipv4/ip_forward
    rm -f "$engine/iptables.before" "$engine/ip_forward.before"
    log "iptables and ip_forward restored"
  fi
  # Interfaces dockerd created and may leave (bridge, gateway bridge).
  for link in docker0 docker_gwbridge; do ip link delete "$link" 2>/dev/null || true; done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) echo "DOCKER_HOST=$sock" ;;
  *) echo "usage: engine.sh start|stop|env" >&2; exit 2 ;;
esac
