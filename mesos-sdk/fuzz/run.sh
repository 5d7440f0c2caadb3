#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer) on the stable toolchain: RUSTC_BOOTSTRAP=1 lets
# stable rustc take the `-Z` flags cargo-fuzz passes (sanitizers, coverage passes).
# See docs/fuzzing.md.
#
#   run.sh install               install cargo-fuzz from crates.io unless it is there
#   run.sh list                  the targets
#   run.sh build [TARGET]        build every target (or one)
#   run.sh smoke [SECONDS]       run every target for SECONDS each (default 5),
#                                from a dev build (what CI runs)
#   run.sh run TARGET [ARG...]   run one target; ARGs go to libFuzzer, e.g.
#                                -runs=10000000 or -max_total_time=600
#   run.sh replay TARGET FILE    run one input (a crash artifact) once
#
# Environment: FUZZ_SANITIZER (default `none`; `address` for AddressSanitizer).
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.1
here=$(cd "$(dirname "$0")" && pwd)
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
sanitizer=${FUZZ_SANITIZER:-none}

install() {
  if cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
    return 0
  fi
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION from crates.io"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
}

targets() {
  (cd "$here/fuzz_targets" && ls -1 ./*.rs | sed 's|^\./||; s|\.rs$||')
}

fuzz() { # cargo fuzz SUBCOMMAND ..., from mesos-sdk/ (cargo-fuzz finds ./fuzz)
  (cd "$here/.." && cargo fuzz "$@")
}

# Seeds are committed (fuzz/seeds/TARGET); the corpus grows in fuzz/corpus/TARGET
# (git-ignored). libFuzzer writes new inputs to the first directory only.
dirs() {
  local target=$1
  mkdir -p "$here/corpus/$target"
  printf '%s\n' "$here/corpus/$target"
  if [ -d "$here/seeds/$target" ]; then printf '%s\n' "$here/seeds/$target"; fi
}

cmd=${1:-}
shift || true
case $cmd in
  install) install ;;
  list) targets ;;
  build)
    install
    if [ $# -gt 0 ]; then
      fuzz build --sanitizer "$sanitizer" "$1"
    else
      fuzz build --sanitizer "$sanitizer"
    fi
    ;;
  smoke)
    # A dev build (no optimisation, no debug info): it compiles in a fraction of the
    # time of the release build, and a few seconds per target need no speed.
    seconds=${1:-5}
    install
    export CARGO_PROFILE_DEV_DEBUG=false
    fuzz build --dev --sanitizer "$sanitizer"
    for target in $(targets); do
      echo "== fuzz smoke: $target (${seconds}s) =="
      mapfile -t corpus < <(dirs "$target")
      fuzz run --dev --sanitizer "$sanitizer" "$target" "${corpus[@]}" -- \
        -max_total_time="$seconds" -print_final_stats=1
    done
    ;;
  run)
    target=${1:?usage: run.sh run TARGET [LIBFUZZER-ARG...]}
    shift
    install
    mapfile -t corpus < <(dirs "$target")
    fuzz run --sanitizer "$sanitizer" "$target" "${corpus[@]}" -- -print_final_stats=1 "$@"
    ;;
  replay)
    target=${1:?usage: run.sh replay TARGET FILE}
    file=${2:?usage: run.sh replay TARGET FILE}
    install
    fuzz run --sanitizer "$sanitizer" "$target" "$(realpath "$file")"
    ;;
  *)
    sed -n '2,16p' "$0"
    exit 2
    ;;
esac
