# What any caller may send must not crash, hang or bloat a backend: corrupt
# and oversized images at enrolment, a corrupt image that reached the vault
# before images were checked, huge texts on the printed form, thirteen
# oversized images in one capture.  Through all of it the postmaster never
# restarts (no backend died), and each backend's peak memory stays bounded.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Compress::Zlib qw(compress crc32);
use MIME::Base64 qw(encode_base64 decode_base64);
use Time::HiRes qw(time);

my $node = PostgreSQL::Test::Cluster->new('hostile');
$node->init;
my $key = $node->data_dir . '/vault.key';
open(my $kf, '>', $key) or die;
print $kf '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
close $kf;
chmod 0600, $key;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'refuge'
refuge.vault_key_file = '$key'
max_worker_processes = 16
log_min_error_statement = error
log_statement = none
});
$node->start;
my $started = $node->safe_psql('postgres', 'select pg_postmaster_start_time()');

# --- images, made here ---
sub chunk
{
	my ($type, $data) = @_;
	return pack('N', length $data) . $type . $data . pack('N', crc32($type . $data));
}
my $sig = "\x89PNG\r\n\x1a\n";
sub png
{
	my ($w, $h, %o) = @_;
	my $raw = join('', map { "\0" . ("\x40\x80\xc0" x $w) } 1 .. $h);
	my $ihdr = pack('NNCCCCC', $w, $h, 8, 2, 0, 0, 0);
	my $ihdr_chunk = chunk('IHDR', $ihdr);
	substr($ihdr_chunk, -4) = pack('N', 0x12345678) if $o{bad_crc};
	return $sig . $ihdr_chunk . chunk('IDAT', compress($raw, 9)) . chunk('IEND', '');
}
# 20,000 x 20,000 one-bit pixels: 49 KB on the wire, 400 megapixels decoded
my $bomb_rows = ("\0" . ("\0" x 2500)) x 20000;
my $bomb = $sig . chunk('IHDR', pack('NNCCCCC', 20000, 20000, 1, 0, 0, 0, 0))
  . chunk('IDAT', compress($bomb_rows, 9)) . chunk('IEND', '');
undef $bomb_rows;
my $good_png = png(16, 16);
my $bad_crc_png = png(16, 16, bad_crc => 1);
# a real 16 x 16 JPEG, and the same with a frame header that says 30,000 x 30,000
my $small_jpeg = decode_base64('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDn7ex6cVp29j04rSt7HpxWnb2PTiqq4sMvx22p/9k=');
my $huge_jpeg = $small_jpeg;
my $sof = index($huge_jpeg, "\xff\xc0");
substr($huge_jpeg, $sof + 5, 4) = pack('nn', 30000, 30000);
# noise that does not compress: a PNG about as large as its pixels
sub png_noise
{
	my ($w, $h) = @_;
	my $raw = join('', map { "\0" . join('', map { chr(int(rand(256))) } 1 .. 3 * $w) } 1 .. $h);
	return $sig . chunk('IHDR', pack('NNCCCCC', $w, $h, 8, 2, 0, 0, 0)) . chunk('IDAT', compress($raw, 0))
	  . chunk('IEND', '');
}
sub b64 { my $s = encode_base64($_[0], ''); return $s; }

$node->safe_psql('postgres', q{
	set client_min_messages = warning;
	create extension refuge cascade;
	create role officer login;
	create role operator login;
	grant refuge_resettlement, refuge_supervisor to officer;
	grant refuge_biometrics to operator;
	select refuge.create_operation('KEN', 'KEN', 'Kenya');
	select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
	select refuge.assign_staff(r, 'KEN') from unnest(array['officer', 'operator']) r;
	select refuge.register_group('{"operation": "KEN", "site": "KAKUMA", "registration_level": "BASIC",
	  "population_type": "REF", "origin_country": "SSD", "members": [
	    {"relationship": "PA", "given_name": "Nyakim", "family_name": "Gatdet", "sex": "F", "date_of_birth": "1988-04-02"},
	    {"relationship": "SON", "given_name": "Deng", "family_name": "Gatdet", "sex": "M", "date_of_birth": "2012-07-01"}]}');
});

sub enrol_with_images
{
	my ($who, $images) = @_;
	my $file = "$PostgreSQL::Test::Utils::tmp_check/images.json";
	open(my $f, '>', $file) or die;
	print $f $images;
	close $f;
	chmod 0644, $file;
	return $node->psql('postgres', qq{
		create temp table img as select pg_read_file('$file')::jsonb as j;
		grant select on img to operator;
		set role operator;
		select refuge.enrol_biometrics(i.id, refuge.synthetic_templates(5, 1) || jsonb_build_object('images', (select j from img)))
		  from refuge.individual i where i.given_name = '$who'});
}

# 1. a corrupt PNG (bad IHDR CRC) is refused at enrolment, naming the field
my ($ret, $out, $err) = enrol_with_images('Nyakim',
	'[{"part": "face", "media_type": "image/png", "data": "' . b64($bad_crc_png) . '"}]');
isnt($ret, 0, 'a PNG with a wrong IHDR CRC is refused at enrolment');
like($err, qr/templates\.images\[0\]\.data: not a valid image\/png image: IHDR: CRC error/, '... with the field and the problem named');

# 2. a decompression bomb is refused from its header, cheaply
my $t0 = time;
($ret, $out, $err) = enrol_with_images('Nyakim',
	'[{"part": "face", "media_type": "image/png", "data": "' . b64($bomb) . '"}]');
isnt($ret, 0, 'a 20,000 x 20,000 PNG is refused');
like($err, qr/20000 x 20000 pixels is more than refuge.max_image_pixels/, '... because of its dimensions');
($ret, $out, $err) = enrol_with_images('Nyakim',
	'[{"part": "face", "media_type": "image/jpeg", "data": "' . b64($huge_jpeg) . '"}]');
like($err, qr/30000 x 30000 pixels is more than refuge.max_image_pixels/, 'so is a JPEG whose header says 30,000 x 30,000');
# a 1 KB progressive JPEG claiming 4,000 x 4,000 pixels: libjpeg would keep 96 MB of
# coefficients outside PostgreSQL's accounting; refused from its header
sub jseg { my ($m, $p) = @_; return pack('nn', $m, length($p) + 2) . $p; }
my $progressive = "\xff\xd8" . jseg(0xFFDB, "\x00" . ("\x01" x 64))
  . jseg(0xFFC2, pack('CnnC', 8, 4000, 4000, 3) . join('', map { pack('CCC', $_, 0x11, 0) } 1 .. 3))
  . jseg(0xFFC4, "\x00" . "\x01" . ("\x00" x 15) . "\x00")
  . jseg(0xFFDA, "\x03" . join('', map { pack('CC', $_, 0) } 1 .. 3) . "\x00\x00\x00") . "\xff\xd9";
($ret, $out, $err) = enrol_with_images('Nyakim',
	'[{"part": "face", "media_type": "image/jpeg", "data": "' . b64($progressive) . '"}]');
like($err, qr/a progressive JPEG of 4000 x 4000 pixels needs 9\d MB to decode/, 'a progressive JPEG whose coefficients would take 96 MB is refused');
($ret, $out, $err) = enrol_with_images('Nyakim',
	'[{"part": "face", "media_type": "image/jpeg", "data": "' . b64($good_png) . '"}]');
like($err, qr/the media type says image\/jpeg but the bytes are image\/png/, 'a PNG labelled as JPEG is refused');

# 3. thirteen 7 MB images: refused before decoding, memory bounded
my $backend = $node->background_psql('postgres', on_error_stop => 0);
my $pid = $backend->query_safe('select pg_backend_pid()');
my $seven = b64('x' x (7 * 1024 * 1024));
my $file13 = "$PostgreSQL::Test::Utils::tmp_check/images13.json";
{
	open(my $f, '>', $file13) or die;
	print $f '[' . join(',', map {
			'{"part": "' . ($_ <= 10 ? "finger_$_" : $_ == 11 ? 'iris_right' : $_ == 12 ? 'iris_left' : 'face')
			  . '", "media_type": "image/png", "data": "' . $seven . '"}' } 1 .. 13) . ']';
	close $f;
	chmod 0644, $file13;
}
undef $seven;
$backend->query(qq{
	create temp table img as select pg_read_file('$file13')::jsonb as j;
	grant select on img to operator;
	set role operator;
	select refuge.enrol_biometrics(i.id, refuge.synthetic_templates(5, 2) || jsonb_build_object('images', (select j from img)))
	  from refuge.individual i where i.given_name = 'Deng'});
like($backend->{stderr}, qr/templates\.images\[0\]\.data: about \d+ bytes is more than the \d+ an image may have/,
	'thirteen 7 MB images: the first is refused by size before it is decoded');

# twelve images of 1.6 MB each (19 MB, under the capture's 20 MB): accepted,
# and the backend's peak memory while enrolling them stays bounded
srand(7);
my $noise = png_noise(730, 730);
my $file12 = "$PostgreSQL::Test::Utils::tmp_check/images12.json";
{
	open(my $f, '>', $file12) or die;
	my $b = b64($noise);
	print $f '[' . join(',', map {
			'{"part": "' . ($_ <= 10 ? "finger_$_" : $_ == 11 ? 'iris_right' : 'face')
			  . '", "media_type": "image/png", "data": "' . $b . '"}' } 1 .. 12) . ']';
	close $f;
	chmod 0644, $file12;
}
$backend->query("reset role; drop table img; create temp table img as select pg_read_file('$file12')::jsonb as j; grant select on img to operator");
# the peak from here on (clear_refs 5 resets VmHWM)
if (open(my $cr, '>', "/proc/$pid/clear_refs")) { print $cr "5"; close $cr; }
my $res = $backend->query(q{
	set role operator;
	select refuge.enrol_biometrics(i.id, refuge.synthetic_templates(5, 2) || jsonb_build_object('images', (select j from img))) ->> 'decision'
	  from refuge.individual i where i.given_name = 'Deng'});
is($res, 'enrolled', sprintf('twelve images of %.1f MB are enrolled', length($noise) / 1048576));
my $hwm = 0;
if (open(my $st, '<', "/proc/$pid/status"))
{
	while (<$st>) { $hwm = $1 if /^VmHWM:\s+(\d+)\s+kB/; }
	close $st;
}
ok($hwm > 0 && $hwm < 400 * 1024, "the backend's peak memory while enrolling them stays bounded (${hwm} kB)");
$backend->quit;

# 4. a corrupt PNG already in the vault (sealed before images were checked)
#    and a 1 MB justification: the printed form is made, the photo left out
$node->safe_psql('postgres', qq{
	set client_min_messages = warning;
	select refuge.enrol_biometrics(id, refuge.synthetic_templates(5, 1)) from refuge.individual where given_name = 'Nyakim';
	insert into refuge.biometric_vault (id, capture_id, individual_id, part, media_type, key_id, sealed)
	select v.id, c.id, c.individual_id, 'face', 'image/png', refuge.vault_key_id(),
	       refuge.vault_seal(decode('@{[ b64($bad_crc_png) ]}', 'base64'), format('%s|%s|face', v.id, c.individual_id))
	  from refuge.biometric_capture c join refuge.individual i on i.id = c.individual_id and i.given_name = 'Nyakim',
	       (select gen_random_uuid() as id) v;
	select refuge.define_agreement('{"code": "RST-CAN", "title": "Resettlement to Canada", "party_kind": "RESETTLEMENT_STATE",
	    "country": "CAN", "party_name": "IRCC", "purposes": ["RESETTLEMENT_SUBMISSION"], "fields": ["RRF"], "legal_basis": "CONSENT",
	    "valid_from": "2026-01-01", "valid_until": "2030-12-31", "security_terms": "s", "signed_by": "s", "signed_on": "2026-01-01"}');
	set role officer;
	select refuge.open_case('RESETTLEMENT', i.id, array(select individual_id from refuge.group_membership where group_id = gm.group_id))
	  from refuge.individual i join refuge.group_membership gm on gm.individual_id = i.id where i.given_name = 'Nyakim';
	select refuge.record_consent(id, 'RESETTLEMENT_SUBMISSION', 'WRITTEN') from refuge.individual where given_name = 'Nyakim';
	select refuge.transition_case(id, 'ASSESS', jsonb_build_object('needs_assessment', repeat('Threats from the clan. ', 46000)))
	  from refuge.process_case;
});
$t0 = time;
($ret, $out, $err) = $node->psql('postgres',
	"set role officer; select length(refuge.rrf_pdf(id, 'RST-CAN')) > 1000 from refuge.process_case");
is($ret, 0, 'the form of a family whose vault photo is a corrupt PNG is printed') or diag($err);
my $pdf_seconds = time - $t0;
($ret, $out, $err) = $node->psql('postgres',
	"set role officer; set statement_timeout = '100ms'; select length(refuge.rrf_pdf(id, 'RST-CAN')) from refuge.process_case");
ok($ret == 0 || $err =~ /canceling statement due to statement timeout/,
	"statement_timeout is honoured while the form is laid out (1 MB of text printed in ${pdf_seconds}s)");

# 5. the vault key file's path is hidden from other roles from the server's
#    start (refuge is preloaded, so the setting is defined before any session)
$node->safe_psql('postgres', 'create role stranger login');
($ret, $out, $err) = $node->psql('postgres', 'show refuge.vault_key_file', extra_params => [ '-U', 'stranger' ]);
like($err, qr/must be superuser or have privileges of pg_read_all_settings/,
	'a login without any refuge role cannot SHOW refuge.vault_key_file in a fresh session');
is($node->safe_psql('postgres', q{select count(*) from pg_settings where name = 'refuge.vault_key_file'},
		extra_params => [ '-U', 'stranger' ]), '0', 'nor find it in pg_settings');
my $plain = PostgreSQL::Test::Cluster->new('not_preloaded');
$plain->init;
$plain->append_conf('postgresql.conf', "refuge.vault_key_file = '$key'\n");
$plain->start;
$plain->safe_psql('postgres', 'set client_min_messages = warning; create extension refuge cascade; create role stranger login');
is($plain->safe_psql('postgres', 'show refuge.vault_key_file', extra_params => [ '-U', 'stranger' ]), $key,
	'(without the preload, a fresh session shows the path: why the vault requires it)');
($ret, $out, $err) = $plain->psql('postgres', 'select refuge.vault_key_id()');
like($err, qr/the vault needs refuge in shared_preload_libraries/, 'and the vault refuses to open there');
$plain->stop;

# 6. a failed call does not put what it carried into the server log
#    (log_min_error_statement = error, PostgreSQL's default)
$node->safe_psql('postgres', q{
	create role protector login;
	grant refuge_protection to protector;
	select refuge.assign_staff('protector', 'KEN');
	set role protector;
	select refuge.record_consent(id, 'SGBV') from refuge.individual where given_name = 'Deng';
	select refuge.open_case('SGBV', id) from refuge.individual where given_name = 'Deng';
});
($ret, $out, $err) = $node->psql('postgres', q{
	set role protector;
	select refuge.record_gbv_incident(c.id, '{"violence_type": "NOT_A_TYPE", "consent_services": true,
	    "consent_sharing": false, "narrative": "SURVIVOR-NARRATIVE-7731 taken behind the clinic"}')
	  from refuge.process_case c where c.module = 'SGBV'});
like($err, qr/incident\.violence_type: "NOT_A_TYPE" is not a GBVIMS type/, 'the caller gets the error, naming the field');
ok(!$node->log_contains('SURVIVOR-NARRATIVE-7731'), 'the narrative does not reach the server log');
# the ways that do not name refuge in the statement: search_path, a prepared statement, a json
# argument that fails to parse (its context quotes the text), a uuid that fails to parse
($ret, $out, $err) = $node->psql('postgres', q{
	set role protector;
	set search_path = refuge, public;
	select record_gbv_incident(c.id, '{"narrative": "SURVIVOR-JSON-5520 at block 4", }') from process_case c where c.module = 'SGBV'});
like($err, qr/invalid input syntax for type json/, 'a narrative in malformed json: the caller gets the error');
($ret, $out, $err) = $node->psql('postgres', q{
	set role protector;
	prepare q(uuid, jsonb) as select refuge.record_gbv_incident($1, $2);
	execute q(gen_random_uuid(), '{"narrative": "SURVIVOR-PREPARED-6631"}');});
($ret, $out, $err) = $node->psql('postgres', q{
	set role protector;
	select refuge.read_case_note('SURVIVOR-UUID-7742 was here', 'x')});
like($err, qr/invalid input syntax for type uuid \(value withheld\)/, 'an input error does not echo the value');
ok(!$node->log_contains('SURVIVOR-(JSON|PREPARED|UUID)'), 'none of them reaches the server log: statement, context, detail or message');
# a document number singles a person out: a duplicate names it in the detail only
$node->safe_psql('postgres', q{
	select refuge.add_document(id, '{"type": "NATIONAL_ID", "number": "DOCNUM-LOG-5501", "issuing_country": "SSD"}')
	  from refuge.individual where given_name = 'Nyakim'});
($ret, $out, $err) = $node->psql('postgres', q{
	select refuge.add_document(id, '{"type": "NATIONAL_ID", "number": "docnum log 5501", "issuing_country": "SSD"}')
	  from refuge.individual where given_name = 'Deng'});
like($err, qr/documents?\.number: this NATIONAL_ID issued by SSD is already recorded\nDETAIL:  number docnum log 5501/,
	'a duplicate document: the caller gets the number in the detail');
ok(!$node->log_contains('(?i)docnum.log.5501'), '... and the server log does not (message without the number, detail withheld)');
($ret, $out, $err) = $node->psql('postgres', q{select 1/0, 'UNRELATED-STATEMENT-4412'});
ok(!$node->log_contains('UNRELATED-STATEMENT-4412'), 'a failed statement outside refuge is not logged either (which statement concerns refuge cannot be told)');
($ret, $out, $err) = $node->psql('postgres', q{set refuge.log_error_detail = on; select 1/0, 'DEBUGGING-STATEMENT-8813'});
ok($node->log_contains('DEBUGGING-STATEMENT-8813'), 'refuge.log_error_detail = on (superuser) logs statements again');
($ret, $out, $err) = $node->psql('postgres', q{set role protector; set refuge.log_error_detail = on});
like($err, qr/permission denied to set parameter "refuge.log_error_detail"/, '... and no one else may set it');

# 7. nothing crashed: the postmaster is the one that started
is($node->safe_psql('postgres', 'select pg_postmaster_start_time()'), $started, 'the postmaster never restarted');
ok(!$node->log_contains('terminated by signal|server process .* was terminated|all server processes terminated'),
	'no backend died');

$node->stop;
done_testing();
