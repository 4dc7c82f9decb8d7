#!/usr/bin/env bash
# pg_dump / pg_restore keeps every row of every refuge table exactly: data,
# who/when columns, the audit trail, local vocabulary codes, the number sequence.
set -u
source "$(dirname "$0")/../lib/tap.sh"
DUMP=$(mktemp /tmp/refuge-dump.XXXXXX)
KEY=$(mktemp /tmp/refuge-vault-key.XXXXXX)
test_vault_key "$KEY"

fresh_db refuge_dump_src
fresh_db refuge_dump_dst
q refuge_dump_src "create extension refuge cascade" >/dev/null 2>&1
psql -X -q -v ON_ERROR_STOP=1 -v key="$KEY" -d refuge_dump_src >/dev/null <<'SQL'
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'dump_clerk') then create role dump_clerk; end if;
end $$;
grant refuge_registration to dump_clerk;
select refuge.create_operation('KEN', 'KEN', 'Kenya', '{"type":"Polygon","coordinates":[[[34,-4],[41,-4],[41,4],[34,4],[34,-4]]]}');
select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP', 34.85, 3.72);
select refuge.assign_staff('dump_clerk', 'KEN');
insert into refuge.ethnicity (code, label) values ('LOC1', 'A local ethnicity code');
set role dump_clerk;
select refuge.register_group('{"request_id": "00000000-0000-4000-8000-00000000d001", "operation": "KEN", "site": "KAKUMA",
  "registration_level": "BASIC", "population_type": "REF", "origin_country": "SSD",
  "flight_legs": [{"place": "Bor", "country": "SSD", "location": {"lon": 31.5, "lat": 6.2}, "reasons": ["ARMED_CONFLICT"]}],
  "members": [
    {"relationship": "PA", "given_name": "Nyakim", "family_name": "Gatdet", "sex": "F", "date_of_birth": "1988-04-02",
     "ethnicity": "LOC1", "names": [{"kind": "ORIGINAL_SCRIPT", "script": "Arab", "given_name": "نياكيم"}],
     "nationalities": ["SSD"], "languages": ["nus"], "documents": [{"type": "PASSPORT", "number": "R1", "issuing_country": "SSD"}],
     "addresses": [{"type": "CoA", "country": "KEN", "location": {"lon": 34.8, "lat": 3.7}}],
     "specific_needs": ["SP-PT"], "photo": {"uri": "vault://p1"}},
    {"relationship": "SON", "given_name": "Deng", "family_name": "Gatdet", "sex": "M", "date_of_birth": "2012-07-01"}]}');
select refuge.update_individual(id, '{"marital_status": "WD"}') from refuge.individual where given_name = 'Nyakim';
select refuge.close_specific_need(id, 'resolved') from refuge.specific_need;
reset role;
-- a user table with iris codes (0.2.0)
create table public.eyes (id int primary key, code refuge.iris);
insert into public.eyes select i, refuge.iris_from_bytes(
    decode(string_agg(md5(i::text || j), '' order by j), 'hex'), decode(repeat('ff', 256), 'hex'), 8, 128, 2)
  from generate_series(1, 3) i, generate_series(1, 16) j group by i;
create index eyes_code on public.eyes using refuge_iris (code);
-- and one with fingerprints under a refuge_fingerprint index (0.3.0)
create table public.prints (id int primary key, fp refuge.fingerprint);
insert into public.prints select i, refuge.synthetic_fingerprint(5, i, 0) from generate_series(1, 40) i;
create index prints_fp on public.prints using refuge_fingerprint (fp);
-- identity management (0.4.0): an enrolment with a sealed face image, a
-- blocked duplicate, a verification, an assistance plan and a collection
set refuge.vault_key_file = :'key';
select refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC", "population_type": "REF",
  "members": [{"relationship": "PA", "given_name": "Again", "sex": "F", "date_of_birth": "1988-04-02"}]}');
select refuge.enrol_biometrics(id, jsonb_set(refuge.synthetic_templates(9, 1), '{images}',
    '[{"part": "face", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDn7ex6cVp29j04rSt7HpxWnb2PTiqq4sMvx22p/9k="}]')) from refuge.individual where given_name = 'Nyakim';
select refuge.enrol_biometrics(id, refuge.synthetic_templates(9, 1, 1)) from refuge.individual where given_name = 'Again';
select refuge.verify(id, refuge.synthetic_templates(9, 1, 2)) from refuge.individual where given_name = 'Nyakim';
select refuge.create_assistance_plan('{"operation": "KEN", "code": "GFD", "name": "Food", "ration": {"maize_kg": 9},
    "population_types": ["REF"]}') as plan_id \gset
select refuge.open_assistance_cycle(:'plan_id', current_date, current_date + 14) ->> 'cycle_id' as cycle_id \gset
select refuge.open_distribution(:'cycle_id', 'KAKUMA') as dist_id \gset
select refuge.collect(:'dist_id', m.group_id, m.individual_id, refuge.synthetic_templates(9, 1, 3))
  from refuge.group_membership m join refuge.individual i on i.id = m.individual_id where i.given_name = 'Nyakim';
-- case management (0.5.0): an RSD case moved and approved, a confidential
-- note, a referral, and the audit trail sealed
select refuge.open_case('RSD', id, '{}', '{"application_type": "NEW"}') ->> 'case_id' as rsd from refuge.individual where given_name = 'Nyakim' \gset
select refuge.transition_case(:'rsd', 'ASSIGN_MODALITY', '{"modality": "SIMPLIFIED"}');
select refuge.add_case_note(:'rsd', 'Confidential: detained twice at the border', true, 'INTERVIEW_TRANSCRIPT');
select refuge.create_partner('HIAS', 'HIAS');
select refuge.define_agreement('{"code": "HIAS-2026", "title": "HIAS legal aid", "party_kind": "PARTNER", "partner": "HIAS",
    "party_name": "HIAS", "purposes": ["REFERRAL"], "fields": ["CASE"], "legal_basis": "CONSENT", "valid_from": "2026-01-01",
    "valid_until": "2030-12-31", "security_terms": "need-to-know", "signed_by": "Representative", "signed_on": "2026-01-01"}');
select refuge.record_consent(id, 'REFERRAL', 'WRITTEN', agreement => 'HIAS-2026') from refuge.individual where given_name = 'Nyakim';
select refuge.refer_case(:'rsd', 'HIAS', array['CASE'], 'legal representation', agreement => 'HIAS-2026');
select refuge.verify_audit() ->> 'intact';
-- the warehouse (0.6.0): a frozen snapshot
set client_min_messages = warning;
select refuge.snapshot(now(), 'before the dump');
SQL

pg_dump -Fc -f "$DUMP" refuge_dump_src
ok $? "pg_dump of a database with refuge data"
pg_restore -d refuge_dump_dst "$DUMP" 2> /tmp/refuge_restore.err
ok $? "pg_restore into an empty database"
[ -s /tmp/refuge_restore.err ] && head -5 /tmp/refuge_restore.err | sed 's/^/# /'

tables=$(q refuge_dump_src "select relname from pg_class where relnamespace = 'refuge'::regnamespace and relkind = 'r'
                              and relname <> 'audit_bulk_load' order by 1")
for t in $tables; do
    sig="select count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '-') from refuge.$t x"
    is "$(q refuge_dump_dst "$sig")" "$(q refuge_dump_src "$sig")" "refuge.$t restored row for row"
done
# the restore is itself on record: one bulk load per table it filled, by the role that restored
is "$(q refuge_dump_dst "select count(*) filter (where table_name = 'individual' and rows = (select count(*) from refuge.individual))
                           || ' ' || count(*) filter (where table_name = 'audit_log') from refuge.audit_bulk_load where actor = current_user")" \
   "1 1" "the restore's loads are recorded in refuge.audit_bulk_load (individuals, the audit trail itself)"
is "$(q refuge_dump_dst "select count(*) from refuge.audit_log where table_name = 'individual' and new_data ->> 'given_name' = 'Nyakim'")" \
   "$(q refuge_dump_src "select count(*) from refuge.audit_log where table_name = 'individual' and new_data ->> 'given_name' = 'Nyakim'")" \
   "restored rows are not audited a second time"
is "$(q refuge_dump_dst "select created_by || '/' || updated_by from refuge.individual where given_name = 'Nyakim'")" \
   "dump_clerk/dump_clerk" "who/when columns keep the original author"
is "$(q refuge_dump_dst "select count(*) from refuge.ethnicity where code = 'LOC1' and not shipped")" "1" "a local vocabulary code survives"
is "$(q refuge_dump_dst "select count(*) from refuge.ethnicity")" "$(q refuge_dump_src "select count(*) from refuge.ethnicity")" \
   "shipped codes are not duplicated"
# numbers keep counting after the restore: a new family does not reuse one
q refuge_dump_dst "select refuge.register_group('{\"operation\": \"KEN\", \"site\": \"KAKUMA\", \"registration_level\": \"BASIC\",
  \"population_type\": \"REF\", \"members\": [{\"relationship\": \"PA\", \"given_name\": \"After\", \"sex\": \"M\"}]}')" >/dev/null
is "$(q refuge_dump_dst "select count(*) = count(distinct number) from (select number from refuge.individual union all select number from refuge.registration_group) n")" \
   "t" "readable numbers stay unique after the restore"
is "$(q refuge_dump_dst "select count(*) from refuge.audit_log where new_data ->> 'given_name' = 'After'")" "1" "the restored database audits new writes"
is "$(q refuge_dump_dst "select md5(string_agg(code::text, ',' order by id)) from public.eyes")" \
   "$(q refuge_dump_src "select md5(string_agg(code::text, ',' order by id)) from public.eyes")" "iris values survive dump and restore"
is "$(q refuge_dump_dst "select refuge.iris_index_verify('public.eyes_code') || ' ' || refuge.fingerprint_index_verify('public.prints_fp')")" \
   "3 40" "both biometric indexes are rebuilt by the restore and verify"
is "$(PGOPTIONS='-c enable_seqscan=off' q refuge_dump_dst "select id from public.prints order by fp operator(refuge.<->) refuge.synthetic_fingerprint(5, 17, 1) limit 1")" \
   "17" "a new impression finds its finger through the restored fingerprint index"
# binary COPY exercises iris_send and iris_recv
psql -X -q -d refuge_dump_src -c "\copy public.eyes to '$DUMP.bin' with (format binary)"
psql -X -q -d refuge_dump_dst -c "create table public.eyes2 (like public.eyes)" \
     -c "\copy public.eyes2 from '$DUMP.bin' with (format binary)"
is "$(q refuge_dump_dst "select count(*) from public.eyes e join public.eyes2 f using (id) where e.code::text = f.code::text and refuge.iris_distance(e.code, f.code) = 0")" \
   "3" "iris values survive binary COPY (send and receive)"
# identity management after the restore: the gallery is searchable, the vault opens with the same key
is "$(q refuge_dump_dst "select string_agg(decision || ':' || count, ' ' order by decision) from (select decision, count(*) from refuge.biometric_capture group by 1) d")" \
   "blocked:1 enrolled:1" "enrolment decisions survive"
is "$(q refuge_dump_dst "select refuge.iris_index_verify('refuge.biometric_iris_search') || ' ' || refuge.fingerprint_index_verify('refuge.biometric_finger_search_2')")" \
   "2 1" "the gallery indexes are rebuilt by the restore and verify"
is "$(PGOPTIONS="-c refuge.vault_key_file=$KEY" q refuge_dump_dst "select translate(encode(refuge.vault_image(id, 'restore check'), 'base64'), E'\\n', '') from refuge.biometric_vault")" \
   "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDn7ex6cVp29j04rSt7HpxWnb2PTiqq4sMvx22p/9k=" "a vault image sealed before the dump opens after the restore"
# per-person keys (0.13.0): the wrapped keys come with the dump, the sealed audit values open again
is "$(PGOPTIONS="-c refuge.vault_key_file=$KEY" q refuge_dump_dst "select (refuge.audit_values(a)).new_data ->> 'date_of_birth' from refuge.audit_log a
       where a.table_name = 'individual' and a.action = 'I' and a.new_data ? '\$sealed'")" \
   "1988-04-02" "an audit value sealed under a person's key before the dump opens after the restore"
q refuge_dump_dst "select refuge.register_group('{\"operation\": \"KEN\", \"site\": \"KAKUMA\", \"registration_level\": \"BASIC\",
  \"population_type\": \"REF\", \"members\": [{\"relationship\": \"PA\", \"given_name\": \"Third\", \"sex\": \"F\"}]}')" >/dev/null
is "$(q refuge_dump_dst "select refuge.enrol_biometrics(id, refuge.synthetic_templates(9, 1, 4)) ->> 'decision' from refuge.individual where given_name = 'Third'")" \
   "blocked" "a third registration of the same person is blocked against the restored gallery"
is "$(q refuge_dump_dst "select count(*) from refuge.collection where outcome = 'COLLECTED'")" "1" "collections survive"
# case management after the restore: the chain verifies, the sealed note opens, work goes on and is sealed
is "$(q refuge_dump_dst "select (v ->> 'intact') || ' ' || ((v ->> 'sealed_rows')::bigint > 50) from refuge.verify_audit() v")" \
   "true true" "the audit chain verifies after the restore"
is "$(PGOPTIONS="-c refuge.vault_key_file=$KEY" q refuge_dump_dst "select refuge.read_case_note(id, 'restore check') from refuge.case_note")" \
   "Confidential: detained twice at the border" "a confidential note sealed before the dump opens after the restore"
is "$(q refuge_dump_dst "select refuge.transition_case(id, 'SCHEDULE_INTERVIEW', '{\"interview_date\": \"2030-01-01\"}') ->> 'state' from refuge.process_case")" \
   "INTERVIEW_SCHEDULED" "the restored case moves on"
is "$(q refuge_dump_dst "select (v ->> 'intact') || ' ' || ((v ->> 'sealed_now')::bigint > 0) from refuge.verify_audit() v")" \
   "true true" "new audit rows are sealed onto the restored chain"
# the vault key rotated on the restored database (0.13.0): the old key as
# previous, batches until nothing remains, then only the new key opens all
NEWKEY=$(mktemp /tmp/refuge-vault-key.XXXXXX)
printf '%s' 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f > "$NEWKEY"
chmod 600 "$NEWKEY"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$NEWKEY"; fi
rot="-c refuge.vault_key_file=$NEWKEY -c refuge.vault_previous_key_file=$KEY"
is "$(PGOPTIONS="$rot" q refuge_dump_dst "select (r -> 'done' ->> 'person_keys')::int + (r -> 'done' ->> 'images')::int
       + (r -> 'done' ->> 'notes')::int from refuge.rotate_vault_key(1) r")" "3" "a batch of one rotates one value of each kind"
is "$(PGOPTIONS="$rot" q refuge_dump_dst "select r -> 'remaining' from refuge.rotate_vault_key() r")" \
   '{"notes": 0, "images": 0, "documents": 0, "incidents": 0, "person_keys": 0}' "a rotation of the vault key leaves nothing under the old key"
is "$(PGOPTIONS="-c refuge.vault_key_file=$NEWKEY" q refuge_dump_dst "select refuge.read_case_note(id, 'rotation check') from refuge.case_note")" \
   "Confidential: detained twice at the border" "the confidential note opens with the new key alone"
is "$(PGOPTIONS="-c refuge.vault_key_file=$NEWKEY" q refuge_dump_dst "select length(refuge.vault_image(id, 'rotation check')) > 0 from refuge.biometric_vault")" \
   "t" "so does the image"
is "$(PGOPTIONS="-c refuge.vault_key_file=$NEWKEY" q refuge_dump_dst "select (refuge.audit_values(a)).new_data ->> 'date_of_birth' from refuge.audit_log a
       where a.table_name = 'individual' and a.action = 'I' and a.new_data ? '\$sealed' order by a.id limit 1")" \
   "1988-04-02" "and the audit trail's sealed values"
is "$(q refuge_dump_dst "select refuge.verify_audit() ->> 'intact'")" "true" "the audit chain verifies after the rotation"
rm -f "$NEWKEY"
# the warehouse after the restore: the snapshot's facts, still frozen, pseudonyms unchanged
sig="select count(*) || ' ' || md5(string_agg(person::text || sex || age_bracket, ',' order by person)) from refuge_warehouse.individual_fact"
is "$(q refuge_dump_dst "$sig")" "$(q refuge_dump_src "$sig")" "a snapshot's facts survive the restore"
q refuge_dump_dst "update refuge_warehouse.individual_fact set sex = 'M'" >/dev/null 2>&1
ok $(( ! $? )) "the restored snapshot is still frozen"
after=$(q refuge_dump_dst "select refuge.snapshot(now(), 'after') ->> 'snapshot_id'" 2>/dev/null)
is "$(q refuge_dump_dst "select count(*) from refuge_warehouse.individual_fact a join refuge_warehouse.individual_fact b
       on a.person = b.person and b.snapshot_id = $after where a.snapshot_id = 1")" \
   "$(q refuge_dump_src "select count(*) from refuge_warehouse.individual_fact")" \
   "a new snapshot after the restore keeps the same pseudonyms"
is "$(q refuge_dump_dst "select string_agg(number, ',') from refuge.process_case")" \
   "$(q refuge_dump_src "select string_agg(number, ',') from refuge.process_case")" "case numbers survive"
rm -f "$DUMP" "$DUMP.bin" "$KEY"
q postgres "drop database refuge_dump_src" >/dev/null
q postgres "drop database refuge_dump_dst" >/dev/null
exit 0
