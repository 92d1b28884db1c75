# Shared helpers for scripts/start and scripts/test: install only what is missing.

step() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_apt command:package ... installs the packages whose command is missing.
ensure_apt() {
  local missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]} (apt)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_rust_targets() {
  local installed
  installed=$(rustup target list --installed)
  for t in wasm32-unknown-unknown wasm32-wasip2; do
    grep -qx "$t" <<<"$installed" || rustup target add "$t"
  done
  local components
  components=$(rustup component list --installed)
  grep -q '^clippy' <<<"$components" || rustup component add clippy
  grep -q '^rustfmt' <<<"$components" || rustup component add rustfmt
}
