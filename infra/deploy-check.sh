#!/usr/bin/env bash
# `make deploy-check`: build the stack as `make deploy` would, without deploying it.
#
#   1. the AWS SAM CLI in its own virtualenv, .venv-sam (its dependencies conflict with the
#      project's lock file), at the version pinned below;
#   2. sam validate --lint;
#   3. sam build (arm64 / python3.13: shared/Makefile compiles the layer with Python 3.13);
#   4. infra/deploy_check.py on what it built: the layer's unzipped size under its budget,
#      its bytecode, every handler importable from it with Python 3.13, each handler's cold
#      import time merged into out/bench.json (key "deploy_check").
#
# Python 3.13: python3.13 on the PATH, else pyenv's (`pyenv prefix 3.13`), else
# DEPLOY_CHECK_PYTHON=/path/to/python3.13; without one it says so and exits 2. On a machine
# that is not arm64 the built layer's compiled extensions cannot load: the imports then run
# from a copy of the same layer built for this machine (shared/Makefile, PLATFORMS=), under
# .aws-sam/deploy-check/.
set -euo pipefail

SAM_CLI_VERSION="${SAM_CLI_VERSION:-1.170.0}"
# Measured: 88.2 MB unzipped (sam build, SAM CLI 1.170.0, 2026); the budget leaves ~10 %.
LAYER_BUDGET_MB="${LAYER_BUDGET_MB:-97}"

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
venv="$root/.venv-sam"
work="$root/.aws-sam/deploy-check"
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-ca-central-1}"  # lint's region only

python="${DEPLOY_CHECK_PYTHON:-}"
if [ -z "$python" ]; then
  if command -v python3.13 >/dev/null 2>&1 && python3.13 -c "" >/dev/null 2>&1; then
    python="$(command -v python3.13)"
  elif prefix="$(pyenv prefix 3.13 2>/dev/null)" && [ -x "$prefix/bin/python3.13" ]; then
    python="$prefix/bin/python3.13"
  fi
fi
if [ -z "$python" ] || ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
  echo "deploy-check: no Python 3.13 found (python3.13 on the PATH, pyenv's 3.13, or" \
       "DEPLOY_CHECK_PYTHON=/path/to/python3.13): sam build compiles the Lambda layer with" \
       "Lambda's Python 3.13. Install one (pyenv install 3.13) and run it again." >&2
  exit 2
fi
# sam build's makefile builder and shared/Makefile find this python3.13 on the PATH.
PATH="$(dirname "$python"):$PATH"
export PATH

echo "== AWS SAM CLI $SAM_CLI_VERSION (.venv-sam) =="
if ! "$venv/bin/sam" --version 2>/dev/null | grep -qx "SAM CLI, version $SAM_CLI_VERSION"; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "aws-sam-cli==$SAM_CLI_VERSION"
fi
"$venv/bin/sam" --version

echo "== sam validate --lint =="
"$venv/bin/sam" validate --lint --template template.yaml

echo "== sam build =="
"$venv/bin/sam" build --config-file infra/samconfig.toml --template template.yaml

import_layer=()
case "$(uname -m)" in
  aarch64|arm64) ;;
  *)
    echo "== the layer again, for $(uname -m), to import the handlers here =="
    # The pinned dependencies for this machine, installed once per requirements.txt.
    stamp="$("$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()[:16])' shared/requirements.txt)"
    deps="$work/dependencies-$(uname -m)-$stamp"
    if [ ! -d "$deps" ]; then
      rm -rf "$work"/dependencies-*
      "$python" -m pip install --quiet --disable-pip-version-check --no-compile \
        --target "$deps.partial" -r shared/requirements.txt
      mv "$deps.partial" "$deps"
    fi
    make --no-print-directory -s -C shared build-SharedLayer PLATFORMS= \
      PYTHON="$python" DEPS_FROM="$deps" ARTIFACTS_DIR="$work/layer"
    import_layer=(--import-layer "$work/layer/python")
    ;;
esac

echo "== the built artifact =="
"$venv/bin/python" infra/deploy_check.py --build-dir .aws-sam/build --python "$python" \
  --budget-mb "$LAYER_BUDGET_MB" --bench out/bench.json "${import_layer[@]}"
