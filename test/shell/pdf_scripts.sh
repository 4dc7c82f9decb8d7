#!/usr/bin/env bash
# Printed documents in every script (extension/pdf.c, pdf_text.c): names in
# Latin, Arabic, Amharic, Tigrinya and Cyrillic are extractable from an A4
# attestation and from an ID-1 card, with embedded Noto fonts; Arabic is
# shaped (contextual forms) and reordered; QR codes decode to their exact
# payload; the limits (QR payload, pages, the card's two sides) are errors
# with their SQLSTATE; a Latin-only document embeds no font and stays small;
# a missing font prints "?" with a warning instead of failing.
set -u
source "$(dirname "$0")/../lib/tap.sh"
DB=refuge_pdf_scripts
TMP=$(mktemp -d /tmp/refuge-pdf-scripts.XXXXXX)
fresh_db $DB
q $DB "create extension refuge cascade" >/dev/null 2>&1

LATIN="Nyakim Gatdet"
ARABIC="أحمد عثمان"
AMHARIC="አበበ ከበደ"
TIGRINYA="ብርሃነ ገብረመድህን"
CYRILLIC="Иван Петрович Сидоров"
PAYLOAD="REFUGE:KEN-26-000123-01|OSMAN Ahmed|1988-04-02"

# pdf FILE SQL-ARRAY-OF-LINES: render as the superuser
pdf() {
    q $DB "select encode(refuge.render_pdf('Test document', $2, array[]::bytea[]), 'base64')" | base64 -d > "$1"
}
# sqlstate SQL: the SQLSTATE of the error SQL raises (empty if none)
sqlstate() {
    psql -X -At -d $DB -v VERBOSITY=sqlstate -c "$1" 2>&1 >/dev/null | sed -n 's/^ERROR:  //p'
}
# arabic_in TEXT-FILE NAME: "logical" or "visual" if NAME's letters are in the
# text after NFKC (presentation forms back to letters) without bidi controls
arabic_in() {
    python3 - "$1" "$2" <<'PY'
import sys, unicodedata
strip = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
text = unicodedata.normalize("NFKC", open(sys.argv[1], encoding="utf-8").read()).translate(strip)
name = unicodedata.normalize("NFKC", sys.argv[2])
print("logical" if name in text else "visual" if name[::-1] in text else "missing")
PY
}
# qr FILE PAGE: the payload of the QR code on that page
qr() {
    pdftoppm -png -r 300 -f "$2" -l "$2" -singlefile "$1" "$TMP/qr" 2>/dev/null
    zbarimg --raw -q "$TMP/qr.png" 2>/dev/null
}

# --- an A4 attestation --------------------------------------------------------
A4=$TMP/a4.pdf
pdf "$A4" "array[E'TITLE\tAttestation of registration', E'SUB\tCase KEN-26-000123',
  E'SECTION\tMembers', E'MEMBER\t$LATIN', E'PHOTO\t0',
  E'FIELD\tName (Arabic)\t$ARABIC', E'FIELD\tName (Amharic)\t$AMHARIC', E'FIELD\tName (Tigrinya)\t$TIGRINYA',
  E'FIELD\tName (Cyrillic)\t$CYRILLIC',
  E'TEXT\tالسلام عليكم ورحمة الله وبركاته، هذه شهادة تسجيل باسم $ARABIC.',
  E'QR\t$PAYLOAD']"
pdfinfo "$A4" > "$TMP/info" 2>&1
ok $? "an A4 document in five scripts opens with pdfinfo"
grep -q "^Page size: *595.* x 841.* pts (A4)" "$TMP/info"
ok $? "it is A4"
pdftotext "$A4" "$TMP/a4.txt" 2> "$TMP/a4.err"
is "$(cat "$TMP/a4.err")" "" "pdftotext reads it without a warning (the fonts' ToUnicode maps are valid)"
for name in "$LATIN" "$AMHARIC" "$TIGRINYA" "$CYRILLIC"; do
    grep -qF "$name" "$TMP/a4.txt"
    ok $? "pdftotext extracts $name"
done
order=$(arabic_in "$TMP/a4.txt" "$ARABIC")
echo "# Arabic is extracted in $order order (pdftotext reorders the visual runs back)"
[ "$order" = logical ] || [ "$order" = visual ]
ok $? "pdftotext extracts $ARABIC (after NFKC)"
grep -qF "ﺃﺣﻤﺪ" "$TMP/a4.txt" || grep -qF "ﺪﻤﺣﺃ" "$TMP/a4.txt"
ok $? "Arabic is shaped: initial, medial and final forms (U+FE83 U+FEA3 U+FEE4 U+FEAA)"
fonts=$(pdffonts "$A4" 2>/dev/null)
for f in NotoSans-Regular NotoSans-Bold NotoSansArabic-Regular NotoSansEthiopic-Regular; do
    echo "$fonts" | grep -E "\+$f(,Bold)? .* yes +yes +yes" -q
    ok $? "pdffonts lists $f embedded (subset, with a ToUnicode map)"
done
echo "$fonts" | grep -q "Helvetica"
ok $(( ! $? )) "no text is left to the unembedded Helvetica"
is "$(qr "$A4" 1)" "$PAYLOAD" "the QR code on A4 decodes to exactly its payload"

# --- an ID-1 card -------------------------------------------------------------
CARD=$TMP/card.pdf
pdf "$CARD" "array[E'PAGE\tCARD', E'TITLE\tREFUGEE IDENTITY CARD', E'PHOTO\t0',
  E'FIELD\tName\t$LATIN', E'FIELD\tName (Arabic)\t$ARABIC', E'FIELD\tName (Amharic)\t$AMHARIC',
  E'FIELD\tName (Tigrinya)\t$TIGRINYA', E'FIELD\tName (Cyrillic)\t$CYRILLIC',
  E'BACK', E'QR\t$PAYLOAD', E'TEXT\tIf found, return this card to the nearest UNHCR office.']"
pdfinfo "$CARD" > "$TMP/info" 2>&1
ok $? "a card opens with pdfinfo"
is "$(sed -n 's/^Pages: *//p' "$TMP/info")" "2" "it has a front and a back"
is "$(sed -n 's/^Page size: *\([0-9.]*\) x \([0-9.]*\) pts.*/\1 \2/p' "$TMP/info" \
      | awk '{printf "%.1f x %.1f mm", $1 / 72 * 25.4, $2 / 72 * 25.4}')" "85.6 x 54.0 mm" \
   "its page size is ID-1, 85.6 x 54 mm"
pdftotext -f 1 -l 1 "$CARD" "$TMP/card.txt" 2>/dev/null
for name in "$LATIN" "$AMHARIC" "$TIGRINYA" "$CYRILLIC"; do
    grep -qF "$name" "$TMP/card.txt"
    ok $? "the card's front has $name"
done
order=$(arabic_in "$TMP/card.txt" "$ARABIC")
[ "$order" = logical ] || [ "$order" = visual ]
ok $? "the card's front has $ARABIC (after NFKC)"
is "$(qr "$CARD" 2)" "$PAYLOAD" "the QR code on the card's back decodes to exactly its payload"
pdftotext -f 2 -l 2 "$CARD" - 2>/dev/null | grep -q "return this card"
ok $? "the back carries its text"
echo "# card with Arabic, Amharic, Tigrinya, Cyrillic: $(stat -c %s "$CARD") bytes"

# a name too long for the card shrinks, then is cut with an ellipsis
LONG="$ARABIC $ARABIC $ARABIC $ARABIC $ARABIC $ARABIC $ARABIC $ARABIC $ARABIC $ARABIC $ARABIC $ARABIC $ARABIC $ARABIC"
pdf "$TMP/long.pdf" "array[E'PAGE\tCARD', E'FIELD\tName\t$LONG', E'FIELD\tName\t$(printf 'Wolfeschlegelsteinhausenbergerdorff %.0s' 1 2 3 4 5)']"
pdftotext "$TMP/long.pdf" "$TMP/long.txt" 2>/dev/null
is "$(grep -c '…' "$TMP/long.txt")" "2" "names that do not fit on the card end with an ellipsis"

# --- limits -------------------------------------------------------------------
is "$(sqlstate "select refuge.render_pdf('x', array[E'QR\t' || repeat('x', 1201)], null)")" "54000" \
   "a QR payload over 1200 bytes is refused (program_limit_exceeded)"
pdf "$TMP/max.pdf" "array[E'QR\t' || repeat('0123456789', 120)]"
is "$(qr "$TMP/max.pdf" 1)" "$(printf '0123456789%.0s' $(seq 120))" "a 1200-byte payload decodes exactly"
is "$(sqlstate "select refuge.render_pdf('x', array[E'PAGE\tCARD', E'TEXT\t' || repeat('far too long for a card ', 100)], null)")" \
   "54000" "text that does not fit on a card is an error, not dropped"
is "$(sqlstate "select refuge.render_pdf('x', array[E'BACK'], null)")" "22023" "BACK is for cards only"
is "$(sqlstate "select refuge.render_pdf('x', array[E'TEXT\tx', E'PAGE\tCARD'], null)")" "22023" \
   "PAGE is the first line or nothing"

# 2000 lines in five scripts render (pages capped); one endless paragraph stops at the cap
pdf "$TMP/big.pdf" "array(select case i % 4
      when 0 then E'TEXT\tLine ' || i || ' $ARABIC — $AMHARIC — $CYRILLIC'
      when 1 then E'FIELD\tName ' || i || E'\t$TIGRINYA / $LATIN'
      when 2 then E'NOTE\tNote ' || i || E'\tالسلام عليكم ورحمة الله ' || repeat('وبركاته ', 5)
      else E'TEXT\t' || repeat('mixed текст نص ጽሑፍ ', 6) end from generate_series(1, 2000) i)"
pages=$(pdfinfo "$TMP/big.pdf" 2>/dev/null | sed -n 's/^Pages: *//p')
[ -n "$pages" ] && [ "$pages" -gt 1 ] && [ "$pages" -le 300 ]
ok $? "2000 lines of mixed-script text render ($pages pages)"
is "$(sqlstate "select refuge.render_pdf('x', array[E'TEXT\t' || repeat('word سلام ', 200000)], null)")" "54000" \
   "a paragraph longer than 300 pages is refused at the page cap"
is "$(q $DB "select 1")" "1" "and the server is still there"

# --- sizes and fonts ----------------------------------------------------------
pdf "$TMP/latin.pdf" "array[E'TITLE\tResettlement Registration Form', E'MEMBER\tGATDET, Nyakim', E'FIELD\tDate of birth\t1988-04-02',
  E'TEXT\t' || repeat('Résumé of the interview, in Latin-1 only. ', 30)]"
size=$(stat -c %s "$TMP/latin.pdf")
[ "$size" -lt 10000 ]
ok $? "a Latin-only A4 document stays small ($size bytes, under 10 kB: measured 1.7 kB)"
pdffonts "$TMP/latin.pdf" 2>/dev/null | grep -q " yes "
ok $(( ! $? )) "and embeds no font (standard Helvetica)"

PGOPTIONS="-c refuge.font_dir=$TMP/no-fonts" psql -X -At -d $DB \
    -c "select encode(refuge.render_pdf('x', array[E'TEXT\t$ARABIC $CYRILLIC Ivan'], null), 'base64')" \
    2> "$TMP/warn" | base64 -d > "$TMP/nofont.pdf"
grep -q 'WARNING:  no Arabic font in refuge.font_dir' "$TMP/warn"
ok $? "a missing font is a warning naming refuge.font_dir"
pdftotext "$TMP/nofont.pdf" - 2>/dev/null | grep -q "???? ????.*Ivan"
ok $? "and its characters print as '?' in a document that still renders"
psql -X -q -d $DB -c "do \$\$ begin if not exists (select 1 from pg_roles where rolname = 'pdf_scripts_clerk') then create role pdf_scripts_clerk; end if; end \$\$"
is "$(PGOPTIONS="-c role=pdf_scripts_clerk" sqlstate "set refuge.font_dir = '/tmp'")" "42501" \
   "only a superuser sets refuge.font_dir"

# --- documents issued to refugees (refuge.document_pdf): a card with an Arabic
# name and an attestation with an Amharic name; their QR codes verify --------
KEYDIR=$(q $DB "select current_setting('data_directory')")
q $DB "copy (select unnest(array['-----BEGIN PRIVATE KEY-----', 'MC4CAQAwBQYDK2VwBCIEIIH1UftouTI45jokusAD/SOv56slunap+DaBfO4lDdQs',
       '-----END PRIVATE KEY-----'])) to '$KEYDIR/KEN.pem'" >/dev/null
chmod 600 "$KEYDIR/KEN.pem" 2>/dev/null
export PGOPTIONS="-c refuge.document_key_dir=$KEYDIR"
psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null <<SQL
set client_min_messages = warning;
select refuge.create_operation('KEN', 'KEN', 'Kenya');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
select refuge.register_document_key('KEN');
select refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "REF",
  "members": [{"relationship": "PA", "given_name": "Ahmad", "family_name": "Othman", "sex": "M", "date_of_birth": "1985-03-01",
               "names": [{"kind": "ORIGINAL_SCRIPT", "script": "Arab", "given_name": "أحمد", "family_name": "عثمان"}]},
              {"relationship": "SBM", "given_name": "Abebe", "family_name": "Kebede", "sex": "M", "date_of_birth": "1990-01-01",
               "names": [{"kind": "ORIGINAL_SCRIPT", "script": "Ethi", "given_name": "አበበ", "family_name": "ከበደ"}]}]}');
create table public.docs as
select i.given_name, d.* from refuge.individual i,
       lateral jsonb_to_record(refuge.issue_document(i.id, case i.given_name when 'Ahmad' then 'REFUGEE_ID' else 'ATTESTATION' end))
           as d(document_id uuid, serial text, payload text);
SQL
q $DB "select encode(refuge.document_pdf(document_id), 'base64') from public.docs where given_name = 'Ahmad'" | base64 -d > "$TMP/card.pdf"
q $DB "select encode(refuge.document_pdf(document_id), 'base64') from public.docs where given_name = 'Abebe'" | base64 -d > "$TMP/attestation.pdf"
pdfinfo "$TMP/card.pdf" | grep -q "^Page size: *242.65 x 153.07 pts" && pdfinfo "$TMP/card.pdf" | grep -q "^Pages: *2"
ok $? "the refugee ID card is an ID-1 card with two sides"
pdftotext "$TMP/card.pdf" "$TMP/card.txt" 2>/dev/null
is "$(arabic_in "$TMP/card.txt" "أحمد عثمان")" "logical" "the card carries the Arabic name, shaped and extractable (pdftotext, NFKC)"
grep -q "Ahmad Othman" "$TMP/card.txt"
ok $? "and the name in Latin script"
pdftotext "$TMP/attestation.pdf" "$TMP/attestation.txt" 2>/dev/null
grep -q "አበበ ከበደ" "$TMP/attestation.txt"
ok $? "the attestation carries the Amharic name (pdftotext)"
card_qr=$(qr "$TMP/card.pdf" 2)
is "$card_qr" "$(q $DB "select payload from public.docs where given_name = 'Ahmad'")" "the card's QR code (back) is the signed payload"
is "$(q $DB "select refuge.verify_document('$card_qr') ->> 'valid'")" "true" "and it verifies"
is "$(qr "$TMP/attestation.pdf" 1)" "$(q $DB "select payload from public.docs where given_name = 'Abebe'")" \
   "the attestation's QR code is its signed payload"
unset PGOPTIONS
rm -f "$KEYDIR/KEN.pem"

rm -rf "$TMP"
q postgres "drop database $DB" >/dev/null
q postgres "drop role if exists pdf_scripts_clerk" >/dev/null
exit 0
