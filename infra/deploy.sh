#!/usr/bin/env bash
# Deploy Balance Guard and publish its help site (`make deploy` runs this):
#
#   1. make docs                      the help site, out/docs/en and out/docs/fr
#   2. sam build                      the functions and the layer (arm64, python3.13)
#   3. sam deploy                     the stack; --guided the first time (no saved parameters)
#   4. aws s3 sync out/docs s3://<DocsBucket>/ --delete
#   5. aws cloudfront create-invalidation --distribution-id <DistributionId> --paths '/*'
#
# The bucket and the distribution come from the stack's outputs (DocsBucket,
# DistributionId). Options:
#
#   infra/deploy.sh              all five steps
#   infra/deploy.sh --docs-only  steps 1, 4 and 5: publish the site of an existing stack
#   infra/deploy.sh --guided     force `sam deploy --guided`
#
# Needs the AWS SAM CLI (`make deploy-check` installs one into .venv-sam, used when there is
# no `sam` on the PATH), the AWS CLI, a python3.13 for `sam build` (on the PATH, or pyenv's),
# and credentials for the target account. STACK_NAME and AWS_REGION override samconfig.toml.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
config=infra/samconfig.toml

docs_only=no
guided=no
for arg in "$@"; do
  case "$arg" in
    --docs-only) docs_only=yes ;;
    --guided) guided=yes ;;
    *) echo "deploy: unknown option $arg (--docs-only, --guided)" >&2; exit 2 ;;
  esac
done

say() { printf '\n== %s ==\n' "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "deploy: $1 is needed - $2" >&2; exit 2; }; }

# sam: the one on the PATH, else the one `make deploy-check` installed.
if ! command -v sam >/dev/null 2>&1 && [ -x "$root/.venv-sam/bin/sam" ]; then
  PATH="$root/.venv-sam/bin:$PATH"
fi
need aws "install the AWS CLI (https://docs.aws.amazon.com/cli/)"
[ "$docs_only" = yes ] || need sam "run 'make deploy-check' (installs it into .venv-sam) or install the AWS SAM CLI"

# A saved setting of samconfig.toml (stack_name, region), from the deploy section or the
# global one.
setting() {
  python3 - "$config" "$1" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    config = tomllib.load(f).get("default", {})
for section in ("deploy", "global"):
    value = config.get(section, {}).get("parameters", {}).get(sys.argv[2])
    if value:
        print(value)
        break
PY
}

say "1/5 help site (make docs)"
make docs
[ -f out/docs/en/index.html ] && [ -f out/docs/fr/index.html ] || {
  echo "deploy: make docs left no out/docs/en or out/docs/fr" >&2; exit 1; }

if [ "$docs_only" = no ]; then
  # sam build compiles the layer with Python 3.13 (shared/Makefile): pyenv's when none is on
  # the PATH.
  if ! command -v python3.13 >/dev/null 2>&1; then
    prefix="$(pyenv prefix 3.13 2>/dev/null || true)"
    [ -n "$prefix" ] && [ -x "$prefix/bin/python3.13" ] && PATH="$prefix/bin:$PATH"
  fi
  need python3.13 "sam build compiles the layer with Python 3.13 (pyenv install 3.13, or sam build --use-container)"

  say "2/5 sam build"
  sam build --config-file "$config"

  say "3/5 sam deploy"
  if [ "$guided" = yes ] || ! grep -q '^parameter_overrides' "$config"; then
    # First deployment: asks for the parameters and saves them in samconfig.toml.
    sam deploy --config-file "$config" --guided
  else
    sam deploy --config-file "$config"
  fi
fi

stack="${STACK_NAME:-$(setting stack_name)}"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(setting region)}}"
region_args=()
[ -n "$region" ] && region_args=(--region "$region")
output() {
  aws cloudformation describe-stacks "${region_args[@]}" --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
bucket="$(output DocsBucket)"
distribution="$(output DistributionId)"
url="$(output DocsUrl)"
[ -n "$bucket" ] && [ "$bucket" != None ] && [ -n "$distribution" ] && [ "$distribution" != None ] || {
  echo "deploy: stack $stack has no DocsBucket / DistributionId output (deployed from this template?)" >&2
  exit 1; }

# The site's not-found page (the distribution shows it for a missing page), in both languages.
cat > out/docs/404.html <<'HTML'
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Page not found - Page introuvable</title></head>
<body>
<h1>Page not found</h1><p><a href="/en/">Balance Guard help</a></p>
<h1 lang="fr">Page introuvable</h1><p lang="fr"><a href="/fr/">Aide de Balance Guard</a></p>
</body></html>
HTML

say "4/5 aws s3 sync out/docs s3://$bucket/ --delete"
# Three passes, each deleting what is gone within its own files: pages (5 minutes in caches:
# they change with every release), /<lang>/_static/ (a week in browsers, a year at the edge:
# DocsStaticCachePolicy) and the rest (search index, sources, objects.inv).
sync() { aws s3 sync "${region_args[@]}" --delete --only-show-errors out/docs "s3://$bucket/" \
  --exclude ".buildinfo" --exclude "*/.buildinfo" --exclude "*/.doctrees/*" "$@"; }
sync --exclude "*" --include "*.html" --content-type "text/html; charset=utf-8" \
  --cache-control "public, max-age=300"
sync --exclude "*" --include "*/_static/*" --cache-control "public, max-age=604800"
sync --exclude "*.html" --exclude "*/_static/*" --cache-control "public, max-age=300"

say "5/5 aws cloudfront create-invalidation --paths '/*'"
aws cloudfront create-invalidation --distribution-id "$distribution" --paths '/*' \
  --query Invalidation.Id --output text

echo
echo "help site: $url/en/ and $url/fr/ (the invalidation takes a few minutes)"
