#!/usr/bin/env bash
# Regenerates docs/screenshots/: the HTML page of a blocked app, an approved
# app and an iOS app, and a batch index, each as headless Chromium shows it
# in a 1400x900 window (what a reviewer sees without scrolling). Built from
# the project's own samples only. Needs `chromium` (Debian: apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --quiet
appvet=target/debug/appvet
mkdir -p "$out"
"$appvet" scan samples/datahungry.apk --policy nl-aivd --format html -o "$work/blocked.html"
"$appvet" scan samples/benign.apk --format html -o "$work/approved.html"
"$appvet" scan samples/demo-tracker.ipa --policy nl-aivd --format html -o "$work/ios.html"
"$appvet" scan samples/ --policy nl-aivd -q --db "$work/run.sqlite"
"$appvet" report --db "$work/run.sqlite" -o "$work/index" 2>/dev/null
shot() {
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --user-data-dir="$work/profile-$2" --window-size=1400,900 \
    --screenshot="$out/$2.png" "file://$1" 2>/dev/null
}
shot "$work/blocked.html" blocked
shot "$work/approved.html" approved
shot "$work/ios.html" ios
shot "$work/index/index.html" batch-index
# The same page as a PDF is one flag away:
#   chromium --headless --no-sandbox --print-to-pdf=report.pdf file://$PWD/report.html
ls -l "$out"
