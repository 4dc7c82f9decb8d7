# A nightly snapshot scheduled the way the README shows: pg_cron preloaded,
# cron.schedule_in_database() runs refuge.snapshot() as a DBA login in the
# refuge database.  One scheduled run is let happen (pg_cron 1.4 schedules
# by the minute) and its result checked against the live data.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'refuge, pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
});
$node->start;

$node->safe_psql('postgres', q{
	create extension pg_cron;
	create database refuge_db;
	create role refuge_dba_login login;
});
$node->safe_psql('refuge_db', q{
	set client_min_messages = warning;
	create extension refuge cascade;
	grant refuge_dba to refuge_dba_login;
	select refuge.create_operation('KEN', 'KEN', 'Kenya');
	select refuge.create_site('KEN', 'KAKUMA', 'Kakuma', 'CAMP');
	select refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'KAKUMA', 'registration_level', 'BASIC',
		'population_type', 'REF', 'members', jsonb_build_array(
			jsonb_build_object('relationship', 'PA', 'given_name', 'Head' || g, 'sex', 'F', 'date_of_birth', '1980-01-01'),
			jsonb_build_object('relationship', 'SON', 'given_name', 'Son' || g, 'sex', 'M', 'date_of_birth', '2012-01-01'))))
	  from generate_series(1, 20) g;
});
pass('pg_cron is preloaded and refuge installed in another database');

my $job = $node->safe_psql('postgres', q{
	select cron.schedule_in_database('refuge-nightly-snapshot', '* * * * *',
	    $$select refuge.snapshot(date_trunc('minute', now()), 'scheduled')$$, 'refuge_db', 'refuge_dba_login')
});
like($job, qr/^\d+$/, 'the snapshot job is scheduled in the refuge database as the DBA login');

# wait for one run (at most two minutes)
my $taken = 0;
for (1 .. 240)
{
	$taken = $node->safe_psql('refuge_db', 'select count(*) from refuge_warehouse.snapshot');
	last if $taken > 0;
	usleep(500_000);
}
ok($taken > 0, 'the scheduled job took a snapshot');
$node->safe_psql('postgres', "select cron.unschedule($job)");

my $status = '';
for (1 .. 60)
{
	$status = $node->safe_psql('postgres', q{
		select string_agg(distinct status, ',') from cron.job_run_details where status <> 'running'});
	last if $status ne '';
	usleep(500_000);
}
is($status, 'succeeded', 'pg_cron records the run as succeeded');
is($node->safe_psql('refuge_db', q{
		select individuals || ' ' || families || ' ' || label || ' ' || taken_by from refuge_warehouse.snapshot}),
	'40 20 scheduled refuge_dba_login', 'the snapshot holds the live population, taken by the DBA login');
is($node->safe_psql('refuge_db', q{
		select sum(individuals) from refuge_warehouse.population where snapshot_id = 1}),
	'40', 'analysts find it in the warehouse views');

$node->stop;
done_testing();
