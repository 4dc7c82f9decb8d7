# A streaming standby replays both biometric index methods (refuge_iris,
# refuge_fingerprint: generic WAL): after inserts, deletes and VACUUM on the
# primary, the standby's index scans return exactly the primary's results,
# and the standby's indexes verify against its tables.  The pattern of
# contrib/bloom's t/001_wal.pl.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'refuge'\nmax_worker_processes = 16\n");
$primary->start;
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->append_conf('postgresql.conf', "shared_preload_libraries = 'refuge'\nmax_worker_processes = 16\n");
$standby->start;

# the searches: the ten nearest of several probes, through each index
my $queries = q{
	set enable_seqscan = off;
	set enable_bitmapscan = off;
	select string_agg(x.id::text, ',' order by x.p, x.rank) from (
	    select p, id, row_number() over (partition by p order by d, id) as rank from (
	        select p, e.id, (e.code operator(refuge.<->) refuge.synthetic_iris(7, p, 1)) as d
	          from generate_series(1, 400, 37) p,
	               lateral (select id, code from eyes
	                         order by code operator(refuge.<->) refuge.synthetic_iris(7, p, 1) limit 10) e) y) x;
	select string_agg(x.id::text, ',' order by x.p, x.rank) from (
	    select p, id, row_number() over (partition by p order by d, id) as rank from (
	        select p, f.id, (f.fp operator(refuge.<->) refuge.synthetic_fingerprint(7, p, 1)) as d
	          from generate_series(1, 400, 37) p,
	               lateral (select id, fp from fingers
	                         order by fp operator(refuge.<->) refuge.synthetic_fingerprint(7, p, 1) limit 10) f) y) x;
	select count(*) from eyes where code operator(refuge.%) refuge.synthetic_iris(7, 5, 1);
	select count(*) from fingers where fp operator(refuge.%) refuge.synthetic_fingerprint(7, 5, 1);
};

sub same_on_both
{
	my ($what) = @_;
	$primary->wait_for_catchup($standby);
	my $on_primary = $primary->safe_psql('postgres', $queries);
	my $on_standby = $standby->safe_psql('postgres', $queries);
	is($on_standby, $on_primary, "$what: the standby's index scans return the primary's results");
	is($standby->safe_psql('postgres', "select refuge.iris_index_verify('eyes_code') = (select count(*) from eyes)"), 't',
		"$what: the standby's iris index verifies against its table");
	is($standby->safe_psql('postgres', "select refuge.fingerprint_index_verify('fingers_fp') = (select count(*) from fingers)"), 't',
		"$what: so does its fingerprint index");
	return $on_primary;
}

$primary->safe_psql('postgres', q{
	set client_min_messages = warning;
	create extension refuge cascade;
	create table eyes (id int primary key, code refuge.iris);
	create table fingers (id int primary key, fp refuge.fingerprint);
	insert into eyes select g, refuge.synthetic_iris(7, g, 0) from generate_series(1, 300) g;
	insert into fingers select g, refuge.synthetic_fingerprint(7, g, 0) from generate_series(1, 300) g;
	create index eyes_code on eyes using refuge_iris (code);
	create index fingers_fp on fingers using refuge_fingerprint (fp);
});
my $first = same_on_both('after the indexes are built');
like($first, qr/^1,/, 'the searches find their people (a probe of person 1 ranks person 1 first)');

$primary->safe_psql('postgres', q{
	insert into eyes select g, refuge.synthetic_iris(7, g, 0) from generate_series(301, 450) g;
	insert into fingers select g, refuge.synthetic_fingerprint(7, g, 0) from generate_series(301, 450) g;
});
same_on_both('after inserts');

$primary->safe_psql('postgres', q{
	delete from eyes where id % 3 = 0;
	delete from fingers where id % 4 = 0;
	vacuum eyes;
	vacuum fingers;
});
same_on_both('after deletes and VACUUM');
is($standby->safe_psql('postgres', q{
	set enable_seqscan = off;
	select (select count(*) from generate_series(3, 300, 3) p,
	               lateral (select id from eyes order by code operator(refuge.<->) refuge.synthetic_iris(7, p, 1) limit 1) e
	         where e.id = p) || ' ' ||
	       (select count(*) from generate_series(4, 300, 4) p,
	               lateral (select id from fingers order by fp operator(refuge.<->) refuge.synthetic_fingerprint(7, p, 1) limit 1) f
	         where f.id = p)}), '0 0', 'on the standby, deleted people are no longer found (a probe of each finds someone else)');

$primary->safe_psql('postgres', q{
	insert into eyes select g, refuge.synthetic_iris(7, g, 0) from generate_series(451, 500) g;
	insert into fingers select g, refuge.synthetic_fingerprint(7, g, 0) from generate_series(451, 500) g;
});
same_on_both('after inserts into pages VACUUM freed');

# the standby, promoted, serves and takes writes through the replayed indexes
$standby->promote;
$standby->safe_psql('postgres', q{
	insert into eyes values (9001, refuge.synthetic_iris(7, 9001, 0));
	insert into fingers values (9001, refuge.synthetic_fingerprint(7, 9001, 0));
});
is($standby->safe_psql('postgres', q{
	set enable_seqscan = off;
	select (select id from eyes order by code operator(refuge.<->) refuge.synthetic_iris(7, 9001, 1) limit 1) || ' ' ||
	       (select id from fingers order by fp operator(refuge.<->) refuge.synthetic_fingerprint(7, 9001, 1) limit 1)}),
	'9001 9001', 'the promoted standby inserts into the replayed indexes and finds the new person');

$standby->stop;

# a damaged metapage is reported as corruption, the location in the detail
my $path = $primary->data_dir . '/' . $primary->safe_psql('postgres', "select pg_relation_filepath('eyes_code')");
$primary->stop;
open(my $fh, '+<', $path) or die "cannot open $path: $!";
binmode $fh;
seek($fh, 24, 0);
print $fh "\0\0\0\0";
close $fh;
$primary->start;
my ($ret, $out, $err) = $primary->psql('postgres', q{
	\set VERBOSITY verbose
	select refuge.iris_index_verify('eyes_code')});
like($err, qr/XX002: refuge_iris index "eyes_code" has a metapage this library does not read/,
	'a damaged metapage: index_corrupted, naming the index');
like($err, qr/DETAIL:  Block 0 has magic 00000000/, '... and where, in the detail');
$primary->stop;
done_testing();
