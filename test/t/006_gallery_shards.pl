# A gallery sharded across three PostgreSQL servers, searched from HQ (the
# coordinator) through postgres_fdw: refuge.shard_candidates returns what one
# server holding every shard's people returns (same people, same distances,
# same order) for irises and fingers; each shard computes its own top-k
# (ORDER BY and LIMIT shipped) under an Append that runs the shards at once;
# a shard that is down refuses the search, never a partial answer; only a
# biometrics administrator searches, only a DBA registers a shard, and a
# server that would pull the gallery across the network is refused.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $conf = "shared_preload_libraries = 'refuge'\nmax_worker_processes = 16\n";
my %node;
for my $name ('hq', 's1', 's2', 's3')
{
	my $n = PostgreSQL::Test::Cluster->new($name);
	$n->init;
	$n->append_conf('postgresql.conf', $conf);
	$n->start;
	$node{$name} = $n;
}
my $hq = $node{hq};

# people 1..60: person g's gallery is on shard s(g % 3 + 1); the database
# 'whole' at HQ holds all of them, as one server would
my $people = 60;
sub load
{
	my ($n, $db, $filter) = @_;
	$n->safe_psql('postgres', "create database $db");
	$n->safe_psql($db, qq{
		set client_min_messages = warning;
		create extension refuge cascade;
		select refuge.create_operation('KEN', 'KEN', 'Kenya'), refuge.create_site('KEN', 'K1', 'Kakuma', 'CAMP');
		create temp table g as select g from generate_series(1, $people) g where $filter;
		select count(refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'K1', 'registration_level', 'BASIC',
		        'population_type', 'REF', 'origin_country', 'SSD', 'members', jsonb_build_array(
		        jsonb_build_object('relationship', 'PA', 'given_name', 'P' || g, 'family_name', 'Shard', 'sex', 'F',
		                           'date_of_birth', '1980-01-01'))))) from g;
		select count(refuge.enrol_biometrics(i.id, refuge.synthetic_templates(11, substr(i.given_name, 2)::int)))
		  from refuge.individual i;
		-- the login HQ's user mapping uses: reads the gallery, nothing else
		do \$\$ begin if not exists (select from pg_roles where rolname = 'gallery_reader') then
		    create role gallery_reader login; end if; end \$\$;
		grant refuge_gallery_reader to gallery_reader;
	});
}
load($node{"s$_"}, 'refuge', "g % 3 = " . ($_ - 1)) for 1 .. 3;
load($hq, 'whole', 'true');
is($hq->safe_psql('whole', 'select count(*) from refuge.biometric_iris'), 2 * $people, 'one server holds every eye');
is(join(',', map { $node{"s$_"}->safe_psql('refuge', 'select count(*) from refuge.biometric_iris') } 1 .. 3),
	'40,40,40', 'each shard holds a third');

# the coordinator: a server per shard, a user mapping for the extension's
# owner (the search runs as it), foreign tables of each shard's gallery
$hq->safe_psql('postgres', 'create database refuge');
$hq->safe_psql('refuge', 'set client_min_messages = warning; create extension refuge cascade; create extension postgres_fdw');
for my $i (1 .. 3)
{
	my $s = $node{"s$i"};
	my $host = $s->host;
	my $port = $s->port;
	$hq->safe_psql('refuge', qq{
		create server s$i foreign data wrapper postgres_fdw
		    options (host '$host', port '$port', dbname 'refuge', extensions 'refuge', async_capable 'true');
		create user mapping for refuge_owner server s$i options (user 'gallery_reader', password_required 'false');
		create user mapping for current_user server s$i options (user 'gallery_reader');
		create schema shard_s$i;
		import foreign schema refuge limit to (biometric_iris, biometric_finger) from server s$i into shard_s$i;
	});
}
# a server that does not ship refuge's operators is refused, naming the option
$hq->safe_psql('refuge', "alter server s3 options (drop extensions)");
my ($rc, $out, $err) = $hq->psql('refuge',
	"select refuge.add_gallery_shard('s3', 's3', 'shard_s3.biometric_iris', 'shard_s3.biometric_finger')");
like($err, qr/server: s3 does not list refuge in its option extensions/, 'a server without refuge among its extensions is refused');
$hq->safe_psql('refuge', "alter server s3 options (add extensions 'refuge')");
# the tables must be readable by the owner the search runs as
($rc, $out, $err) = $hq->psql('refuge',
	"select refuge.add_gallery_shard('s1', 's1', 'shard_s1.biometric_iris', 'shard_s1.biometric_finger')");
like($err, qr/refuge_owner may not read shard_s1.biometric_iris/, 'tables the search cannot read are refused');
($rc, $out, $err) = $hq->psql('refuge',
	"select refuge.add_gallery_shard('s1', 's1', 'shard_s1.biometric_finger', 'shard_s1.biometric_iris')");
like($err, qr/iris_table: .* must be the shard's refuge.biometric_iris/, 'tables swapped are refused');
for my $i (1 .. 3)
{
	$hq->safe_psql('refuge', qq{
		grant usage on schema shard_s$i to refuge_owner;
		grant select on all tables in schema shard_s$i to refuge_owner;
		select refuge.add_gallery_shard('s$i', 's$i', 'shard_s$i.biometric_iris', 'shard_s$i.biometric_finger');
	});
}
is($hq->safe_psql('refuge', 'select string_agg(name, \',\' order by name) from refuge.gallery_shard'), 's1,s2,s3',
	'three shards registered');

# who is who: individual ids of every database, by person number
my %who;
for my $pair ([ $hq, 'whole' ], map { [ $node{"s$_"}, 'refuge' ] } 1 .. 3)
{
	my ($n, $db) = @$pair;
	for my $line (split /\n/, $n->safe_psql($db, "select id || ' ' || given_name from refuge.individual"))
	{
		my ($id, $name) = split / /, $line;
		$who{$id} = $name;
	}
}

# searches through the coordinator and on the one server, for the second
# capture of several people: each eye, and fingers at three positions
my $same = 0;
my $searches = 0;
for my $g (1, 5, 10, 22, 37, 58)
{
	my $irises = "array[refuge.synthetic_iris(11, $g * 2, 1), refuge.synthetic_iris(11, $g * 2 + 1, 1)]";
	# (a synthetic template leaves its position open, as enrolment's input may)
	my $fingers = 'array[' . join(', ', map {
		"regexp_replace(refuge.synthetic_fingerprint(11, $g * 10 + $_ - 1, 1)::text, '^pos=0 ', 'pos=$_ ')::refuge.fingerprint"
	} (1, 2, 7)) . ']';
	my $coord = $hq->safe_psql('refuge', qq{
		select string_agg(modality || part || ':' || individual_id || ':' || round(distance::numeric, 6), ' '
		                  order by modality, part, rank)
		  from refuge.shard_candidates($fingers, $irises, 3)});
	my $whole = $hq->safe_psql('whole', qq{
		select string_agg(x.m || x.p || ':' || x.id || ':' || round(x.d::numeric, 6), ' ' order by x.m, x.p, x.rank)
		  from (select 'iris' as m, e as p, b.id, b.d, row_number() over (partition by e order by b.d, b.id) as rank
		          from generate_series(1, 2) e,
		               lateral (select i.individual_id as id, (i.template operator(refuge.<->) ($irises)[e])::float8 as d
		                          from refuge.biometric_iris i order by i.template operator(refuge.<->) ($irises)[e] limit 3) b
		        union all
		        select 'finger', refuge.fingerprint_position(f), b.id, b.d,
		               row_number() over (partition by refuge.fingerprint_position(f) order by b.d, b.id)
		          from unnest($fingers) f,
		               lateral (select x.individual_id as id, (x.template operator(refuge.<->) f)::float8 as d
		                          from refuge.biometric_finger x where x.position = refuge.fingerprint_position(f)
		                         order by x.template operator(refuge.<->) f limit 3) b) x});
	# ids differ between servers: compare who, at what distance, in what
	# order (those that do not match at all, distance 1, are in no order)
	s/([0-9a-f-]{36})/$who{$1}/g for ($coord, $whole);
	s/ ?\w+:P\d+:1\.000000//g for ($coord, $whole);
	$searches++;
	$same++ if $coord eq $whole && $coord =~ /^finger1:P$g:/;
	diag("person $g\ncoordinator: $coord\none server:  $whole") if $coord ne $whole;
}
is($same, $searches, 'the coordinator returns what one server holding everyone returns (6 probes, 2 eyes and 3 fingers each), the mate first');

# each shard computes its own top-k: ORDER BY and LIMIT shipped, the shards at once
my $plan = $hq->safe_psql('refuge', 'prepare q(refuge.iris) as ' . $hq->safe_psql('refuge',
	"select refuge.shard_search_sql('iris', 1, 3)") . qq{;
	explain (verbose, costs off) execute q(refuge.synthetic_iris(11, 2, 1))});
is(scalar(() = $plan =~ /Async Foreign Scan/g), 3, 'the three shards are scanned asynchronously');
is(scalar(() = $plan =~ /Remote SQL: .*ORDER BY .*LIMIT 3/g), 3, 'each shard sorts and limits on its side');
unlike($plan, qr/Merge Append/, 'no merge append (it would be synchronous)');

# the gallery reader reads the gallery and nothing else on the shard
($rc, $out, $err) = $node{s1}->psql('refuge', 'select count(*) from refuge.individual', extra_params => [ '-U', 'gallery_reader' ]);
like($err, qr/permission denied for table individual/, "the shard's gallery reader reads no records");
($rc, $out, $err) = $node{s1}->psql('refuge', 'select count(quality) from refuge.biometric_iris', extra_params => [ '-U', 'gallery_reader' ]);
like($err, qr/permission denied for table biometric_iris/, 'nor other columns of the gallery');

# a registered foreign table dropped: the search is refused, naming the shard
$hq->safe_psql('refuge', 'alter foreign table shard_s3.biometric_iris rename to biometric_iris_old;
	create foreign table shard_s3.biometric_iris (individual_id uuid, eye text, template refuge.iris) server s2
	    options (schema_name \'refuge\', table_name \'biometric_iris\')');
$hq->safe_psql('refuge', 'drop foreign table shard_s3.biometric_iris_old');
($rc, $out, $err) = $hq->psql('refuge', "select count(*) from refuge.shard_candidates('{}', array[refuge.synthetic_iris(11, 2, 1)], 3)");
like($err, qr/gallery_shard: the foreign tables of shard s3 are gone or belong to another server/, 'a shard whose table was dropped refuses the search');
$hq->safe_psql('refuge', qq{
	drop foreign table shard_s3.biometric_iris;
	import foreign schema refuge limit to (biometric_iris) from server s3 into shard_s3;
	grant select on all tables in schema shard_s3 to refuge_owner;
	select refuge.remove_gallery_shard('s3');
	select refuge.add_gallery_shard('s3', 's3', 'shard_s3.biometric_iris', 'shard_s3.biometric_finger');});
is($hq->safe_psql('refuge', "select count(*) from refuge.shard_candidates('{}', array[refuge.synthetic_iris(11, 2, 1)], 3)"),
	'3', 'registered again, it is searched');

# a shard down: the search is refused, never answered from the other two
$node{s2}->stop;
($rc, $out, $err) = $hq->psql('refuge',
	"select count(*) from refuge.shard_candidates('{}', array[refuge.synthetic_iris(11, 2, 1)], 3)");
like($err, qr/ERROR:  a gallery shard cannot be reached: the search is refused/, 'a shard down refuses the search');
like($err, qr/s2/, 'the error names the server');
$node{s2}->start;
is($hq->safe_psql('refuge', "select count(*) from refuge.shard_candidates('{}', array[refuge.synthetic_iris(11, 2, 1)], 3)"),
	'3', 'the shard back, the search runs again');

# roles: no staff role searches the shards directly (a search of who matches
# a biometric is a read that the API logs); only a DBA registers
$hq->safe_psql('refuge', qq{
	create role clerk; grant refuge_registration to clerk;
	create role bioadmin; grant refuge_biometrics_admin to bioadmin;
	create role dba; grant refuge_dba to dba;});
($rc, $out, $err) = $hq->psql('refuge',
	"set role clerk; select count(*) from refuge.shard_candidates('{}', array[refuge.synthetic_iris(11, 2, 1)], 3)");
like($err, qr/permission denied for function shard_candidates/, 'a clerk may not search the shards');
($rc, $out, $err) = $hq->psql('refuge',
	"set role bioadmin; select count(*) from refuge.shard_candidates('{}', array[refuge.synthetic_iris(11, 2, 1)], 3)");
like($err, qr/permission denied for function shard_candidates/, 'nor does a biometrics administrator');
is($hq->safe_psql('refuge', "set role bioadmin; select string_agg(name, ',' order by name) from refuge.gallery_shard"),
	's1,s2,s3', 'who reads which shards there are');
($rc, $out, $err) = $hq->psql('refuge', "set role bioadmin; select refuge.remove_gallery_shard('s1')");
like($err, qr/permission denied for function remove_gallery_shard/, 'only a DBA removes a shard');
($rc, $out, $err) = $hq->psql('refuge', "set role dba; select refuge.remove_gallery_shard('s9')");
like($err, qr/shard: no gallery shard s9/, 'an unknown shard is named');
# bad arguments: named, nothing searched
($rc, $out, $err) = $hq->psql('refuge', "select * from refuge.shard_candidates('{}', array[refuge.synthetic_iris(11, 2, 1)], 0)");
like($err, qr/per_search: between 1 and 1000/, 'per_search out of range is refused');

done_testing();
