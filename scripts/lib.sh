# Shared helpers for scripts/start and scripts/test: install only what is missing.

# A step's heading says how long the script has run so far (bash's SECONDS), so a
# slow step shows in any log of it (CI's included).
step() { printf '\n==> %s  [%dm%02ds]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

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

# The Python and JavaScript plugin toolchains, pinned, into target/tools:
# componentize-py (PyPI, in a venv) and jco with componentize-js (npm).
COMPONENTIZE_PY_VERSION=0.25.1
JCO_VERSION=1.15.4
COMPONENTIZE_JS_VERSION=0.19.3
ensure_plugin_tools() {
  ensure_apt python3:python3 node:nodejs npm:npm
  python3 -c 'import ensurepip, venv' 2>/dev/null || ensure_apt -:python3-venv
  local py=target/tools/py/bin/componentize-py
  if ! "$py" --version 2>/dev/null | grep -qF " $COMPONENTIZE_PY_VERSION"; then
    echo "installing componentize-py $COMPONENTIZE_PY_VERSION (PyPI, into target/tools/py)"
    python3 -m venv target/tools/py
    target/tools/py/bin/pip install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION"
  fi
  export COMPONENTIZE_PY="$PWD/$py"
  local have
  have=$(node -p 'require("./target/tools/node_modules/@bytecodealliance/componentize-js/package.json").version' 2>/dev/null || true)
  if [ "$have" != "$COMPONENTIZE_JS_VERSION" ]; then
    echo "installing jco $JCO_VERSION and componentize-js $COMPONENTIZE_JS_VERSION (npm, into target/tools)"
    mkdir -p target/tools
    npm install --prefix target/tools --no-audit --no-fund --silent \
      "@bytecodealliance/jco@$JCO_VERSION" "@bytecodealliance/componentize-js@$COMPONENTIZE_JS_VERSION"
  fi
  export JCO="$PWD/target/tools/node_modules/.bin/jco"
}

# Builds the web wallet into target/web (served by `amanat serve`) and the
# share viewer into target/viewer (served by `amanat relay`, exported by
# `amanat viewer export`; relative paths, so it works under any prefix): its
# page for Amanat shares, index.html, and beside it shl.html, which opens
# SMART Health Links too (Trunk empties its output directory, so that one is
# built apart and copied in).
build_web() {
  TRUNK_SKIP_VERSION_CHECK=true trunk build --locked
  TRUNK_SKIP_VERSION_CHECK=true trunk build --locked --dist target/viewer-shl --html-output shl.html --public-url ./ wallet-web/shl.html
  TRUNK_SKIP_VERSION_CHECK=true trunk build --locked --dist target/viewer --public-url ./ wallet-web/viewer.html
  cp target/viewer-shl/* target/viewer/
}
