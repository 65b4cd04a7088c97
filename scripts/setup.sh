#!/usr/bin/env bash
# Idempotent set-up: installs what a fresh machine lacks and does nothing when all is there.
#  - Debian packages: chromium (the probe's browser), prometheus (+ promtool), alertmanager, pushgateway,
#    libnss3-tools (certutil: Chromium's NSS database, for a TLS-inspecting proxy's CA)
#  - npm packages (npm ci when node_modules is missing or older than package-lock.json)
#  - the Keycloak server distribution (Maven Central zip), cached outside the repo
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

# --- Debian packages ---------------------------------------------------------
apt_pkgs=(chromium prometheus prometheus-alertmanager prometheus-pushgateway unzip libnss3-tools)
missing=()
for p in "${apt_pkgs[@]}"; do
  # Installed, not merely known (a removed package keeps its config files and a dpkg entry).
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # The Debian packages start their services on install; this project starts its own, on loopback.
  for s in prometheus prometheus-alertmanager prometheus-pushgateway prometheus-node-exporter; do
    $SUDO systemctl disable --now "$s" >/dev/null 2>&1 || $SUDO service "$s" stop >/dev/null 2>&1 || true
  done
else
  say "Debian packages present"
fi

# --- npm packages --------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm packages present"
fi

# --- Keycloak ------------------------------------------------------------------
kc_version=$(node -p 'require("./package.json").config.keycloakVersion')
cache="${BUP_CACHE_DIR:-$HOME/.cache/bulk-upload-probe}"
kc_home="$cache/keycloak-$kc_version"
if [ ! -x "$kc_home/bin/kc.sh" ]; then
  say "fetching Keycloak $kc_version from Maven Central into $cache"
  mkdir -p "$cache"
  if [ ! -f "$cache/keycloak-quarkus-dist-$kc_version.zip" ]; then
    mvn -q -B dependency:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$kc_version:zip" \
      -DoutputDirectory="$cache"
  fi
  tmp=$(mktemp -d "$cache/unzip.XXXXXX")
  unzip -q "$cache/keycloak-quarkus-dist-$kc_version.zip" -d "$tmp"
  rm -rf "$kc_home"
  mv "$tmp/keycloak-$kc_version" "$kc_home"
  rm -rf "$tmp"
else
  say "Keycloak $kc_version present in $kc_home"
fi
say "ready"
