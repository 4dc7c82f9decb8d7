# The biometric indexes (refuge_iris, refuge_fingerprint) under an immediate
# stop during concurrent inserts: after recovery every commit the server
# acknowledged is in the table (none lost), the verify functions pass and
# each row is found through its index (rows without an iris included); then
# several sessions insert at once and the indexes stay complete.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "fsync = on\nsynchronous_commit = on\nfull_page_writes = on\nshared_preload_libraries = 'refuge'\n");
$node->start;

$node->safe_psql('postgres', q{
	set client_min_messages = warning;
	create extension refuge cascade;
	create table eyes (id bigint primary key, code refuge.iris);
	create table fingers (id bigint primary key, fp refuge.fingerprint);
	insert into eyes select i, refuge.synthetic_iris(7, i) from generate_series(1, 100) i;
	insert into fingers select i, refuge.synthetic_fingerprint(7, i, 0) from generate_series(1, 100) i;
	create index eyes_code on eyes using refuge_iris (code);
	create index fingers_fp on fingers using refuge_fingerprint (fp);
	checkpoint;
});
pass('tables and both indexes are created');

# sessions inserting one committed row at a time, irises and fingers
# each session inserts its own ids one transaction at a time; psql prints an
# id once the server acknowledged its commit; every 25th iris is missing (null)
my %acked;
sub inserter
{
	my ($session, $count) = @_;
	my $sql = '';
	for my $i (1 .. $count)
	{
		my $id = $session * 100000 + $i;
		my $code = $i % 25 == 0 ? 'null' : "refuge.synthetic_iris(7, $id)";
		$sql .= "insert into eyes values ($id, $code) returning id;\n";
		$sql .= "insert into fingers values ($id, refuge.synthetic_fingerprint(7, $id, 0));\n";
	}
	my $file = "$PostgreSQL::Test::Utils::tmp_check/insert_$session.sql";
	PostgreSQL::Test::Utils::append_to_file($file, $sql);
	$acked{$session} = '';
	my $err = '';
	return IPC::Run::start(
		[ 'psql', '-X', '-q', '-At', '-d', $node->connstr('postgres'), '-f', $file ],
		'>', \$acked{$session}, '2>', \$err);
}

my @sessions = map { inserter($_, 20000) } (1 .. 3);
sleep 3;
$node->stop('immediate');
# the sessions lose their connection: that is the point, not a failure
eval { $_->finish } for @sessions;
$node->start;
pass('the server recovers from an immediate stop taken during the inserts');

my @acked = map { grep { /^\d+$/ } split /\n/, $acked{$_} } (1 .. 3);
cmp_ok(scalar(@acked), '>', 30, 'the stop came while the sessions were inserting (' . scalar(@acked) . ' commits acknowledged)');
my $list = join(',', @acked);
is($node->safe_psql('postgres', "select count(*) from unnest('{$list}'::bigint[]) a(id) where not exists (select 1 from eyes e where e.id = a.id)"),
	'0', 'no acknowledged commit is lost');

my $eyes = $node->safe_psql('postgres', 'select count(*) from eyes');
my $fingers = $node->safe_psql('postgres', 'select count(*) from fingers');
cmp_ok($eyes, '>', 100, "irises were committed before the stop ($eyes rows)");
is($node->safe_psql('postgres', "select refuge.iris_index_verify('eyes_code')"), $eyes,
	'refuge.iris_index_verify passes: every row is in the index');
is($node->safe_psql('postgres', "select refuge.fingerprint_index_verify('fingers_fp')"), $fingers,
	"refuge.fingerprint_index_verify passes: every row is in the index ($fingers rows)");

# every committed row is found first through the index by its own value
my $search = q{
	set search_path = public, refuge;
	set enable_seqscan = off;
	select count(*) from eyes e
	 where e.id > 100000 and e.code is not null and e.id = (select id from eyes order by code <-> e.code limit 1);
};
is($node->safe_psql('postgres', $search),
	$node->safe_psql('postgres', 'select count(*) from eyes where id > 100000 and code is not null'),
	'every iris committed during the run is found first through refuge_iris');
$search = q{
	set search_path = public, refuge;
	set enable_seqscan = off;
	select count(*) from (select id from fingers where id > 100000 order by id desc limit 25) f
	 where f.id = (select id from fingers order by fp <-> refuge.synthetic_fingerprint(7, f.id, 1) limit 1);
};
is($node->safe_psql('postgres', $search),
	$node->safe_psql('postgres', 'select least(count(*), 25) from fingers where id > 100000'),
	'the last fingers committed before the stop are found from new impressions through refuge_fingerprint');

# several sessions at once, to completion
@sessions = map { inserter($_, 150) } (4 .. 6);
$_->finish for @sessions;
is($node->safe_psql('postgres', 'select count(*) from eyes where id >= 400000'), '450', 'three sessions inserted 450 irises at once');
is($node->safe_psql('postgres', q{
	set search_path = public, refuge;
	set enable_seqscan = off;
	select count(*) = (select count(*) from eyes) from (select id from eyes order by code <-> refuge.synthetic_iris(7, 5)) s}), 't',
	'an index scan returns every row of the table, those without an iris included');
is($node->safe_psql('postgres', "select refuge.iris_index_verify('eyes_code') = (select count(*) from eyes)"), 't',
	'refuge_iris is complete after concurrent inserts');
is($node->safe_psql('postgres', "select refuge.fingerprint_index_verify('fingers_fp') = (select count(*) from fingers)"), 't',
	'refuge_fingerprint is complete after concurrent inserts');

$node->stop;
done_testing();
