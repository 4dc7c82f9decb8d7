# Demo scene (sourced by demo.sh): the record over a refugee's life.  The
# case workflows above changed people's legal standing and closed departed
# families; here the status history shows it, a refugee ID card is issued
# with its signed QR code, the code is read back from the PDF and verified
# by the server and offline with only the public key.

log "the record over a refugee's life: status that followed the decisions, and a refugee ID card with a signed QR code"
psql -qX -P pager=off <<'SQL'
\echo '== Status and population type changed by case decisions (refuge.status_history, source CASE)'
select h.reason ~ '^(recognised|complementary)' as recognition, h.status, h.population_type, h.legal_basis,
       count(*) as people, count(h.approved_by) as approved_by_a_second_person
  from refuge.status_history h where h.source = 'CASE'
 group by 1, 2, 3, 4 order by 5 desc;
\echo '== A person recognised in RSD: the period before and the one in force (refuge.status_history, refuge.status_on)'
select (select p.population_type from refuge.status_history p where p.individual_id = h.individual_id and p.id <> h.id
          and p.valid_to = h.valid_from order by p.recorded_at desc limit 1) as before,
       refuge.status_on(h.individual_id, current_date) ->> 'population_type' as now,
       refuge.status_on(h.individual_id, current_date) ->> 'legal_basis' as legal_basis,
       refuge.status_on(h.individual_id, current_date) ->> 'changed_by' as decided_by,
       refuge.status_on(h.individual_id, current_date) ->> 'approved_by' as approved_by
  from refuge.status_history h where h.source = 'CASE' and h.reason ~ '^recognised' and h.valid_to is null
 order by (select p.population_type from refuge.status_history p where p.individual_id = h.individual_id and p.id <> h.id
             and p.valid_to = h.valid_from order by p.recorded_at desc limit 1) = 'ASY' desc nulls last, h.recorded_at limit 1;
SQL

# the operation's signing key: a file only the server reads, named by a superuser-only setting
KEYDIR="$REFUGE_CLUSTER/document-keys"
as_owner mkdir -p "$KEYDIR"
as_owner chmod 700 "$KEYDIR"
[ -s "$KEYDIR/KEN.pem" ] || as_owner openssl genpkey -algorithm ed25519 -out "$KEYDIR/KEN.pem" 2>/dev/null \
    || die "could not make the document signing key"
as_owner chmod 600 "$KEYDIR/KEN.pem"
psql -qX -c "alter system set refuge.document_key_dir = '$KEYDIR'" -c "select pg_reload_conf()" >/dev/null \
    || die "document key set-up failed"
psql -qXAt -c "select refuge.register_document_key('KEN') ->> 'key_id'" > "$OUTDIR/KEN.key_id" || die "key registration failed"
psql -qXAt -c "select refuge.document_public_key_pem('KEN')" > "$OUTDIR/KEN.pub.pem"
PERSON=$(psql -XAt -c "select i.id from refuge.individual i join refuge.site s on s.id = i.site_id
                        where s.code = 'KAKUMA' and i.status = 'ACTIVE' and i.population_type = 'REF'
                          and i.date_of_birth < current_date - interval '18 years'
                          and exists (select 1 from refuge.individual_name n where n.individual_id = i.id and n.kind = 'ORIGINAL_SCRIPT')
                        order by i.number limit 1")
[ -n "$PERSON" ] || PERSON=$(psql -XAt -c "select i.id from refuge.individual i join refuge.site s on s.id = i.site_id
                        where s.code = 'KAKUMA' and i.status = 'ACTIVE' and i.population_type = 'REF'
                          and i.date_of_birth < current_date - interval '18 years' order by i.number limit 1")
DOC=$(PGUSER=clerk_kakuma psql -qXAt -c "select refuge.issue_document('$PERSON', 'REFUGEE_ID')") || die "issuing the card failed"
DOC_ID=$(echo "$DOC" | python3 -c "import json,sys; print(json.load(sys.stdin)['document_id'])")
PGUSER=clerk_kakuma psql -qXAt -c "select encode(refuge.document_pdf('$DOC_ID'), 'base64')" | base64 -d > "$OUTDIR/refugee_id.pdf" \
    || die "printing the card failed"
rm -f "$OUTDIR"/refugee_id-*.png
pdftoppm -png -r 300 "$OUTDIR/refugee_id.pdf" "$OUTDIR/refugee_id" 2>/dev/null
SCANNED=$(zbarimg --raw -q "$OUTDIR"/refugee_id-2.png 2>/dev/null | head -1)
echo "== A refugee ID card: $OUTDIR/refugee_id.pdf ($(pdfinfo "$OUTDIR/refugee_id.pdf" | sed -n 's/^Page size: *//p'), 2 sides)"
pdftotext -layout "$OUTDIR/refugee_id.pdf" - 2>/dev/null | grep -v '^\s*$' | head -12
echo "$DOC" | python3 -c "import json,sys; d = json.load(sys.stdin); print('serial', d['serial'], 'valid', d['valid_from'], 'to', d['valid_to'], 'key', d['key_id'])"
if [ -n "$SCANNED" ]; then
    echo "== Its QR code, read back from the PDF with zbarimg ($(printf %s "$SCANNED" | wc -c) characters), checked by the server:"
    PGUSER=desk_kakuma psql -qXAt -c "select refuge.verify_document('$SCANNED') - 'photo_digest'"
    echo "== ... and offline with only the public key ($OUTDIR/KEN.pub.pem, test/verify_document.sh):"
    bash test/verify_document.sh "$OUTDIR/KEN.pub.pem" "$SCANNED"
    echo "== A forged copy (one character of the birth date changed in the body):"
    FORGED=$(python3 - "$SCANNED" <<'PY'
import base64, sys
v, body, sig = sys.argv[1].split('.')
b = base64.urlsafe_b64decode(body + '=' * (-len(body) % 4)).decode()
f = b.split('|'); f[7] = (str(int(f[7][:4]) + 10) + f[7][4:]) if f[7] else '1999-01-01'
print(v + '.' + base64.urlsafe_b64encode('|'.join(f).encode()).decode().rstrip('=') + '.' + sig)
PY
)
    PGUSER=desk_kakuma psql -qXAt -c "select refuge.verify_document('$FORGED') ->> 'reason'"
    bash test/verify_document.sh "$OUTDIR/KEN.pub.pem" "$FORGED"
else
    echo "(zbarimg could not read the QR code back; the payload is: $(echo "$DOC" | python3 -c "import json,sys; print(json.load(sys.stdin)['payload'])"))"
fi
