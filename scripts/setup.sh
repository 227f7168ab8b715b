# Sourced by run.sh and test.sh: installs what building, running and testing Parley needs on a
# Debian machine, skipping whatever is already there, so a second run costs seconds.
#   parley_setup run    the app: wasm32 target, cargo-leptos, wasm-bindgen, wasm-opt, PostgreSQL
#   parley_setup test   the above, plus sqlx-cli, cargo-deny, Chromium and the Playwright packages

parley_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

step() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

parley_setup() {
    local mode="$1" packages=()
    [ -x /usr/lib/postgresql/15/bin/initdb ] || packages+=(postgresql)
    command -v npm >/dev/null || packages+=(nodejs npm)
    if [ "$mode" = test ]; then
        [ -x /usr/bin/chromium ] || packages+=(chromium)
    fi
    if [ ${#packages[@]} -gt 0 ]; then
        step "installing Debian packages: ${packages[*]} (about a minute)"
        as_root apt-get update -q
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${packages[@]}"
    fi

    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        step "adding the wasm32-unknown-unknown Rust target"
        rustup target add wasm32-unknown-unknown
    fi

    if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos 0.3.7" ]; then
        # Built unoptimised: its release profile ends in a single-threaded fat-LTO link, and the
        # debug build installs in half the time (11.6 against ~24 minutes, TOOLCHAIN.md) while
        # building this project to the same bytes (each build ~15 % slower).
        step "installing cargo-leptos 0.3.7 (once per machine; about 12 minutes on 2 cores)"
        cargo install cargo-leptos --version 0.3.7 --locked --debug
    fi

    # cargo-leptos needs wasm-bindgen at exactly the version in Cargo.lock (it would otherwise
    # try to download it from GitHub). Its own lockfile is stale, hence no --locked.
    local wbg
    wbg="$(grep -A1 '^name = "wasm-bindgen"$' "$parley_root/Cargo.lock" | sed -n 's/^version = "\(.*\)"$/\1/p')"
    if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ]; then
        step "installing wasm-bindgen-cli $wbg (once per machine; about 3 minutes)"
        cargo install wasm-bindgen-cli --version "$wbg" --force
    fi

    # Debian's binaryen (wasm-opt 108) silently breaks the release WASM; npm's 132 works.
    if [ ! -x "$parley_root/.tools/node_modules/.bin/wasm-opt" ]; then
        step "installing wasm-opt (binaryen 132 from npm)"
        npm install --silent --no-audit --no-fund --prefix "$parley_root/.tools" binaryen@132.0.0
    fi
    export PATH="$parley_root/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

    if [ "$mode" = test ]; then
        if ! cargo sqlx --version 2>/dev/null | grep -q " 0\.9\.0$"; then
            step "installing sqlx-cli 0.9.0 (once per machine; about 3 minutes)"
            cargo install sqlx-cli --no-default-features --features postgres,rustls --version 0.9.0 --locked
        fi
        # cargo-deny checks the dependency graph against deny.toml (and RustSec advisories when
        # a local copy is given): scripts/test.sh. 0.20.2 builds on rustc 1.95.
        if [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny 0.20.2" ]; then
            step "installing cargo-deny 0.20.2 (once per machine; 4 to 9 minutes on 2 cores)"
            cargo install cargo-deny --version 0.20.2 --locked
        fi
        local e2e="$parley_root/end2end"
        if [ ! -d "$e2e/node_modules/@playwright/test" ] || [ "$e2e/package-lock.json" -nt "$e2e/node_modules/.package-lock.json" ]; then
            step "installing the Playwright packages (browsers come from Debian, not downloads)"
            (cd "$e2e" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
        fi
    fi
}
