#!/usr/bin/env bash
# Publish the help site built by `make docs` (out/docs/en, out/docs/fr) to an S3 bucket,
# as /en/ and /fr/ (the language switcher links between the two). Serve the bucket through
# CloudFront or as a static website, and set the stack's DocsBaseUrl to that address.
#
#   infra/publish-docs.sh BUCKET [PREFIX]
#
# Needs the AWS CLI and credentials allowed to s3:ListBucket, s3:PutObject and
# s3:DeleteObject on the bucket.
set -euo pipefail

bucket="${1:?usage: infra/publish-docs.sh BUCKET [PREFIX]}"
prefix="${2:-}"
prefix="${prefix%/}"
root="$(cd "$(dirname "$0")/.." && pwd)"
target="s3://${bucket}${prefix:+/$prefix}"

command -v aws >/dev/null 2>&1 || { echo "publish-docs: the AWS CLI (aws) is needed" >&2; exit 2; }
for lang in en fr; do
  [ -f "$root/out/docs/$lang/index.html" ] || {
    echo "publish-docs: out/docs/$lang is missing; run 'make docs' first" >&2; exit 2; }
done

for lang in en fr; do
  # Pages change with every release: short cache; static assets keep their default.
  aws s3 sync --delete --only-show-errors "$root/out/docs/$lang" "$target/$lang" \
    --exclude "*.html" --exclude ".buildinfo" --exclude ".doctrees/*"
  aws s3 sync --delete --only-show-errors "$root/out/docs/$lang" "$target/$lang" \
    --exclude "*" --include "*.html" --content-type "text/html; charset=utf-8" \
    --cache-control "max-age=300"
done
echo "published: $target/en/index.html and $target/fr/index.html"
