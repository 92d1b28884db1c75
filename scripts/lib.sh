# Shared helpers for scripts/start and scripts/test: install only what is missing.

step() { printf '\n==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_apt command:package ... installs the packages whose command is missing
# (`-:package` checks for the package itself, for packages without a command).
ensure_apt() {
  local missing=()
  for pair in "$@"; do
    local cmd=${pair%%:*} pkg=${pair#*:}
    if [ "$cmd" = - ]; then
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    else
      command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    fi
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

# ensure_cargo_tool BIN VERSION CRATE [cargo install flags...] installs a crates.io
# tool unless BIN --version already reports VERSION.
ensure_cargo_tool() {
  local bin=$1 version=$2 crate=$3
  shift 3
  if ! "$bin" --version 2>/dev/null | grep -qF " $version"; then
    echo "installing $crate $version (cargo install; a few minutes, once)"
    cargo install --quiet --force "$crate" --version "$version" "$@"
  fi
}

# cargo-deb, which builds the Debian package (scripts/package).
ensure_cargo_deb() {
  export PATH="$HOME/.cargo/bin:$PATH"
  ensure_cargo_tool cargo-deb 3.8.0 cargo-deb --locked
}

# The web wallet's build tools, at the versions Trunk.toml names: Trunk itself,
# wasm-bindgen-cli matching Cargo.lock's wasm-bindgen, and binaryen's wasm-opt
# from npm (Debian's binaryen 108 miscompiles Leptos apps). Nothing is downloaded
# by Trunk at build time.
ensure_web_tools() {
  ensure_apt node:nodejs npm:npm
  export PATH="$HOME/.cargo/bin:$PWD/target/tools/node_modules/.bin:$PATH"
  ensure_cargo_tool trunk 0.21.14 trunk --locked
  # Not --locked: its lock file names a webpki-roots version the registry no longer serves.
  ensure_cargo_tool wasm-bindgen 0.2.130 wasm-bindgen-cli
  if ! wasm-opt --version 2>/dev/null | grep -q "version 130"; then
    echo "installing binaryen 130 (npm, into target/tools)"
    mkdir -p target/tools
    npm install --prefix target/tools --no-audit --no-fund --silent binaryen@130.0.0
  fi
}

# Builds the web wallet into target/web (served by `amanat serve`).
build_web() {
  TRUNK_SKIP_VERSION_CHECK=true trunk build --locked
}
