#!/usr/bin/env bash
# Measure the extractor budget attacks of issue 8 on a release build: for each attack, the
# route's limits, the record's code, the wall time of `mailex extract` (one mail, one thread)
# and its peak RSS. The mails are generated here (nothing large is committed).
#
# Usage:  scripts/budget-attacks.sh            (builds `mailex` in release and the plugins)
# Needs:  python3, /usr/bin/time (GNU), the wasm32-wasip2 target
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --release --locked -p mailex-cli -p mailex-tests >&2
[[ -f target/plugins/acme_leads.wasm && -f target/plugins/hostile_host_loop.wasm ]] || bash scripts/build-plugins.sh >&2
mailex="$root/target/release/mailex"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import sys, os
work = sys.argv[1]
def mail(name, subject, ctype, body):
    head = (f"From: leads@acme.example\r\nTo: inbox@example.com\r\nSubject: {subject}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: {ctype}; charset=utf-8\r\n\r\n")
    with open(os.path.join(work, name), "wb") as f:
        f.write(head.encode() + body.encode())
# The issue's 25 MB mail of nested <div class=name> inside a lead card.
group = "<div class=name>" * 100 + "Jane Doe" + "</div>" * 100
html = "<html><body><div class=lead>"
html += group * ((25 * 2**20) // len(group)) + "</div></body></html>"
mail("nested-25mb.eml", "New lead", "text/html", html)
# 39 MB of text: lead-like ASCII lines, and non-ASCII text for a Unicode \b.
line = "Name: Jane Doe, Phone 202 555 0143, Message: call me after five please\n"
mail("text-39mb.eml", "loop", "text/plain", line * ((39 * 2**20) // len(line)))
mail("text-39mb-nonascii.eml", "loop", "text/plain", "é a " * ((39 * 2**20) // 5))
PY

plugins="$root/target/plugins"
cat > "$work/css.rules" <<'RULES'
version 1
profile "lead" {
  field names: text required = css("div.name").texts.join(",")
}
RULES
route() { # name extractor limits settings
    printf '[[route]]\nname = "%s"\nsender = "*@acme.example"\nrequire_auth = "none"\nextractor = "%s"\n' "$1" "$2"
    [[ -n "$4" ]] && printf '[route.settings]\n%s\n' "$4"
    printf '[route.limits]\n%s\n' "$3"
}
route acme "$plugins/acme_leads.wasm" $'deadline_ms = 100\nmemory_mib = 64' "" > "$work/acme.toml"
route rules "$work/css.rules" $'deadline_ms = 100\nmemory_mib = 64' "" > "$work/rules.toml"
route rules-default "$work/css.rules" "" "" > "$work/rules-default.toml"
route regex "$plugins/hostile_host_loop.wasm" $'deadline_ms = 100\nmemory_mib = 64' "" > "$work/regex.toml"
route regex-256 "$plugins/hostile_host_loop.wasm" $'deadline_ms = 100\nmemory_mib = 256' "" > "$work/regex-256.toml"
route pikevm-256 "$plugins/hostile_host_loop.wasm" $'deadline_ms = 100\nmemory_mib = 256' 'pattern = '"'"'(?:\b\w*){1,30}X'"'" > "$work/pikevm-256.toml"

printf '%-46s %-22s %-16s %8s %9s %9s\n' attack limits code wall_s extract_s peak_MiB
measure() { # label config mail limits
    local out="$work/out.json" err="$work/err.txt"
    /usr/bin/time -f '%e %M' -o "$work/time.txt" \
        "$mailex" extract --jobs 1 --stats --config "$work/$2" "$work/$3" > "$out" 2> "$err" || true
    read -r wall rss < "$work/time.txt"
    local code extract
    code="$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print((r.get("errors") or [{"code":r["status"]}])[0]["code"])' "$out")"
    # `--stats` prints the extractor's time ("max" column of its one line).
    extract="$(python3 -c 'import sys
lines=[l.split() for l in open(sys.argv[1]) if l.strip()]
row=lines[1] if len(lines) > 1 else []
print(row[-2] if row and row[-1] == "-" else (row[-3] if len(row) > 3 else "-"))' "$err")" || true
    printf '%-46s %-22s %-16s %8s %9s %9d\n' "$1" "$4" "$code" "$wall" "${extract:--}" "$((rss / 1024))"
}
measure "acme-leads, 25 MB nested divs" acme.toml nested-25mb.eml "100 ms, 64 MiB"
measure "rule css(..).texts.join, 25 MB nested divs" rules.toml nested-25mb.eml "100 ms, 64 MiB"
measure "rule css(..).texts.join, 25 MB nested divs" rules-default.toml nested-25mb.eml "1000 ms, 64 MiB"
measure "plugin regex_capture loop, 39 MB text" regex.toml text-39mb.eml "100 ms, 64 MiB"
measure "plugin regex_capture loop, 39 MB text" regex-256.toml text-39mb.eml "100 ms, 256 MiB"
measure "plugin PikeVM-only regex, 39 MB non-ASCII" pikevm-256.toml text-39mb-nonascii.eml "100 ms, 256 MiB"
