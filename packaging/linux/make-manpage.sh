#!/bin/sh
# Writes a manual page (roff, section 1) from a program's own --help output
# and a short hand-written part, so the page never drifts from --help:
#
#   make-manpage.sh NAME VERSION PAGE.in OUTPUT.1 PROGRAM [ARGS...]
#
# PAGE.in: first line, the one-line summary for NAME; then sections, each
# opened by a line "[SECTION NAME]" and written in roff. [DESCRIPTION] comes
# before the options taken from --help, every other section after them.
# PROGRAM ARGS --help is run as is (ccs-admin needs QT_QPA_PLATFORM=offscreen
# only if it opens a display; it does not for --help).
set -eu
[ $# -ge 5 ] || { echo "usage: $0 NAME VERSION PAGE.in OUTPUT.1 PROGRAM [ARGS...]" >&2; exit 2; }
name=$1 version=$2 page=$3 output=$4
shift 4

help=$(mktemp)
trap 'rm -f "$help" "$output.tmp"' EXIT
"$@" --help >"$help"

# roff-safe text: backslashes, hyphens as minus signs, a leading dot or quote.
esc='{ gsub(/\\/, "\\e"); gsub(/-/, "\\-"); if ($0 ~ /^[.\047]/) $0 = "\\&" $0 }'

{
    printf '.TH %s 1 "" "%s %s" "User Commands"\n' "$(echo "$name" | tr a-z A-Z)" "$name" "$version"
    printf '.SH NAME\n%s \\- %s\n' "$(echo "$name" | sed 's/-/\\-/g')" "$(head -n 1 "$page")"
    # SYNOPSIS from the "Usage:" line, with the program's path cut to its name.
    printf '.SH SYNOPSIS\n'
    sed -n 's/^Usage: [^ ]* \(.*\)$/\1/p' "$help" | awk -v n="$name" "$esc"' { printf ".B %s\n%s\n", n, $0 }'
    # The hand-written DESCRIPTION, then the program's own description.
    printf '.SH DESCRIPTION\n'
    awk '/^\[/ { s = $0; next } s == "[DESCRIPTION]"' "$page"
    printf '.PP\n'
    awk '/^Usage:/ { on = 1; next } /^(Options|Arguments):$/ { exit } on' "$help" \
        | awk "$esc"' /^$/ { print ".PP"; next } { print }'
    # OPTIONS and ARGUMENTS: "  TAG   text" opens an item; indented lines continue it.
    awk "$esc"'
        /^Options:$/   { print ".SH OPTIONS"; on = 1; next }
        /^Arguments:$/ { print ".SH ARGUMENTS"; on = 1; next }
        !on || /^$/    { next }
        /^  [^ ]/ {
            line = substr($0, 3)
            if (match(line, /   +/)) { tag = substr(line, 1, RSTART - 1); text = substr(line, RSTART + RLENGTH) }
            else { tag = line; text = "" }
            printf ".TP\n.B %s\n", tag
            if (text != "") print text
            next
        }
        { sub(/^ +/, ""); print }
    ' "$help"
    awk '/^\[/ { s = $0; if (s != "[DESCRIPTION]") print ".SH " substr(s, 2, length(s) - 2); next }
         s != "" && s != "[DESCRIPTION]"' "$page"
} >"$output.tmp"
mv "$output.tmp" "$output"
trap - EXIT
rm -f "$help"
