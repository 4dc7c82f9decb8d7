#!/usr/bin/env bash
# Reference offline verifier of a Refuge document's QR payload, with nothing
# but the operation's public key (refuge.document_public_key_pem) and OpenSSL 3.
#   usage: verify_document.sh PUBLIC_KEY.pem 'RF1.<body>.<signature>'
# Prints the fields and "valid", or the reason, and exits 0 only when valid.
# (Revocation needs the registry: refuge.verify_document checks it online.)
set -u
pem=$1 payload=$2
b64url() { local s; s=$(printf %s "$1" | tr -- '-_' '+/'); while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
           printf %s "$s" | base64 -d 2>/dev/null; }
[[ $payload =~ ^RF1\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$ ]] || { echo "malformed"; exit 1; }
body=${BASH_REMATCH[1]} sig=${BASH_REMATCH[2]} tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf %s "RF1.$body" > "$tmp/msg"; b64url "$sig" > "$tmp/sig"
IFS='|' read -r key_id serial kind number given family original dob sex from to photo < <(b64url "$body"; echo)
[ "$(wc -c < "$tmp/sig")" -eq 64 ] || { echo "malformed"; exit 1; }
# the key id is the start of SHA-256 of the raw 32-byte key (the last 32 bytes of the DER)
kid=$(openssl pkey -pubin -in "$pem" -outform DER 2>/dev/null | tail -c 32 | sha256sum | cut -c1-16)
[ "$kid" = "$key_id" ] || { echo "unknown key ($key_id)"; exit 1; }
openssl pkeyutl -verify -pubin -inkey "$pem" -rawin -in "$tmp/msg" -sigfile "$tmp/sig" >/dev/null 2>&1 \
    || { echo "bad signature"; exit 1; }
printf 'serial=%s kind=%s number=%s name=%s %s original=%s born=%s sex=%s valid=%s..%s photo=%s\n' \
    "$serial" "$kind" "$number" "$given" "$family" "$original" "$dob" "$sex" "$from" "$to" "$photo"
[ "$(date -u +%F)" \> "$to" ] && { echo "expired"; exit 1; }
[ "$from" \> "$(date -u +%F)" ] && { echo "not yet valid"; exit 1; }
echo "valid"
