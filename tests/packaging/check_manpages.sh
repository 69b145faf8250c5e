#!/usr/bin/env bash
# The generated manual pages render without a groff warning (what lintian
# checks) and have the sections NAME, SYNOPSIS, DESCRIPTION and OPTIONS.
#
#   check_manpages.sh MAN_DIR
set -euo pipefail
DIR=$1
status=0
for page in "$DIR"/*.1.gz; do
    name=$(basename "$page" .1.gz)
    warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null || true)
    if [ -n "$warnings" ]; then
        echo "FAIL: $name: $warnings"
        status=1
    fi
    text=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
    for section in NAME SYNOPSIS DESCRIPTION OPTIONS; do
        grep -q "^$section" <<<"$text" || { echo "FAIL: $name: no $section"; status=1; }
    done
    echo "ok: $name.1 ($(wc -l <<<"$text") lines)"
done
exit $status
