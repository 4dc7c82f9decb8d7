# Scheduling with pg_cron exactly as the README says: its three recipe
# blocks (postgresql.conf, the postgres database, the refuge database) are
# read from README.md and run as they are.  Then the every-minute job (the
# audit seal) is let run under pg_cron, and the commands of the other two
# jobs (the overdue sweep, the nightly snapshot) are run as the scheduler's
# login to show it may run them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $readme = $ENV{REFUGE_README} // '';
plan skip_all => 'README.md not given (REFUGE_README)' unless -r $readme;

# the fenced block after each <!-- recipe: NAME --> marker
my %recipe;
{
	open(my $f, '<', $readme) or die "$readme: $!";
	my ($name, $in) = (undef, 0);
	while (my $line = <$f>)
	{
		if ($line =~ /^<!-- recipe: (\S+) -->/) { $name = $1; next; }
		if (defined $name && !$in && $line =~ /^```/) { $in = 1; $recipe{$name} = ''; next; }
		if ($in && $line =~ /^```/) { $in = 0; $name = undef; next; }
		$recipe{$name} .= $line if $in;
	}
	close $f;
}
ok(exists $recipe{$_}, "the README has the recipe block $_") for qw(cron.conf cron.postgres.sql cron.refuge_db.sql);

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', $recipe{'cron.conf'});
$node->start;

$node->safe_psql('postgres', 'create database refuge_db');
$node->safe_psql('refuge_db', q{
	set client_min_messages = warning;
	create extension refuge cascade;
	select refuge.create_operation('KEN', 'KEN', 'Kenya');
	select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
	select refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'KAKUMA', 'registration_level', 'BASIC',
		'population_type', 'REF', 'members', jsonb_build_array(
			jsonb_build_object('relationship', 'PA', 'given_name', 'Head' || g, 'sex', 'F', 'date_of_birth', '1980-01-01'),
			jsonb_build_object('relationship', 'SON', 'given_name', 'Son' || g, 'sex', 'M', 'date_of_birth', '2012-01-01'))))
	  from generate_series(1, 20) g;
	-- registered yesterday, so that tonight's snapshot (of midnight) holds them
	alter table refuge.individual disable trigger stamp;
	alter table refuge.registration_group disable trigger stamp;
	alter table refuge.group_membership disable trigger stamp;
	update refuge.individual set created_at = created_at - interval '1 day';
	update refuge.registration_group set created_at = created_at - interval '1 day';
	update refuge.group_membership set valid_from = valid_from - interval '1 day';
	alter table refuge.individual enable always trigger stamp;
	alter table refuge.registration_group enable always trigger stamp;
	alter table refuge.group_membership enable always trigger stamp;
});
$node->safe_psql('postgres', $recipe{'cron.postgres.sql'});
pass('the postgres database\'s recipe runs as written');
$node->safe_psql('refuge_db', $recipe{'cron.refuge_db.sql'});
pass('the refuge database\'s recipe runs as written');

is($node->safe_psql('postgres', q{
		select string_agg(jobname || '@' || database || '/' || username, ' ' order by jobname) from cron.job}),
	'refuge-nightly-snapshot@refuge_db/scheduler refuge-overdue@refuge_db/scheduler refuge-seal-audit@refuge_db/scheduler',
	'three jobs are scheduled in the refuge database as the scheduler login');

# the every-minute seal runs under pg_cron (at most two minutes; a run is 'starting',
# then 'running', then 'succeeded' or 'failed')
my $status = '';
for (1 .. 240)
{
	$status = $node->safe_psql('postgres', q{
		select string_agg(distinct d.status, ',') from cron.job_run_details d join cron.job j using (jobid)
		 where j.jobname = 'refuge-seal-audit' and d.status not in ('starting', 'running')});
	last if $status ne '';
	usleep(500_000);
}
is($status, 'succeeded', 'pg_cron ran the audit seal and records it as succeeded');
cmp_ok($node->safe_psql('refuge_db', 'select count(*) from refuge.audit_seal'), '>', 0, 'the chain has seals');

# the other jobs' commands, run as the scheduler's login
for my $job ('refuge-overdue', 'refuge-nightly-snapshot')
{
	my $command = $node->safe_psql('postgres', "select command from cron.job where jobname = '$job'");
	my ($ret, $out, $err) = $node->psql('refuge_db', $command, extra_params => [ '-U', 'scheduler' ]);
	is($ret, 0, "the scheduler login may run $job") or diag($err);
}
is($node->safe_psql('refuge_db', q{
		select individuals || ' ' || families || ' ' || label || ' ' || taken_by from refuge_warehouse.snapshot}),
	'40 20 nightly scheduler', 'the snapshot holds the live population, taken by the scheduler');
is($node->safe_psql('refuge_db', q{
		select individuals from refuge_warehouse.population_trend where snapshot_id = 1}),
	'40', 'analysts find it in the warehouse views');

$node->stop;
done_testing();
