# Field sites on PostgreSQL's logical replication: HQ and two field clusters
# (sites K1 and K2 of operation KEN) on loopback.  Deployment in the
# documented order (HQ adds each site before the site's cluster exists, the
# site joins), then: an HQ outage through which both sites register, enrol,
# verify and move cases; the same person enrolled offline at both sites; HQ
# and a site changing the same person while cut off; a field site crashing
# while it sends and HQ restarting while it applies; a site away past its
# slot's retention, detected and re-seeded; a field clerk's view under RLS.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use IO::Select;
use POSIX ();
use IO::Socket::INET;
use IO::Socket::UNIX;

my $conf = "shared_preload_libraries = 'refuge'\nmax_worker_processes = 24\n"
  . "max_logical_replication_workers = 8\nmax_sync_workers_per_subscription = 4\n"
  . "wal_retrieve_retry_interval = '500ms'\nwal_sender_timeout = '10s'\nwal_receiver_timeout = '10s'\n";
# every node holds the vault key (as a site that captures images must):
# audit values are sealed under per-person keys everywhere
my $key = PostgreSQL::Test::Utils::tempdir() . '/vault.key';
open(my $kf, '>', $key) or die;
print $kf 'c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf';
close $kf;
chmod 0600, $key;
$conf .= "refuge.vault_key_file = '$key'\n";
my %node;
for my $name ('hq', 'k1', 'k2')
{
	my $n = PostgreSQL::Test::Cluster->new($name);
	$n->init(allows_streaming => 'logical');
	$n->append_conf('postgresql.conf', $conf);
	$n->start;
	$n->safe_psql('postgres', 'create database refuge');
	$n->safe_psql('refuge', 'set client_min_messages = warning; create extension refuge cascade');
	$node{$name} = $n;
}
my ($hq, $k1, $k2) = @node{ 'hq', 'k1', 'k2' };
# a connection string as an SQL literal
sub conninfo { my $c = $_[0]->connstr('refuge'); $c =~ s/'/''/g; return "'$c'"; }

# A site that can only dial out (README, Field sites): K2's server is reached
# from HQ through a reverse tunnel that K2 opens, as `ssh -R` or a VPN would.
# relay (at HQ): agents dial in on $agent_port, HQ's subscription connects
# to $client_port, each client is paired with an idle agent.  agent (at the
# site): keeps two idle connections out to the relay; a paired one connects
# to the site's server (its unix socket) and carries the bytes both ways.
sub pump
{
	my ($sel, $peer, $fh) = @_;
	my $buf;
	my $n = sysread($fh, $buf, 65536);
	my $other = $peer->{$fh};
	if (!$n)
	{
		for my $s ($fh, $other) { $sel->remove($s); delete $peer->{$s}; close $s; }
		return;
	}
	my $off = 0;
	while ($off < $n)
	{
		my $w = syswrite($other, $buf, $n - $off, $off);
		return unless defined $w;
		$off += $w;
	}
	return;
}

sub start_relay
{
	my ($agent_port, $client_port) = @_;
	my $pid = fork();
	return $pid if $pid;
	my $la = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $agent_port, Listen => 16, ReuseAddr => 1) or POSIX::_exit(1);
	my $lb = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $client_port, Listen => 16, ReuseAddr => 1) or POSIX::_exit(1);
	my $sel = IO::Select->new($la, $lb);
	my (@idle, @waiting, %peer);
	while (1)
	{
		for my $fh ($sel->can_read)
		{
			if ($fh == $la) { push @idle, scalar $la->accept; }
			elsif ($fh == $lb) { push @waiting, scalar $lb->accept; }
			elsif ($peer{$fh}) { pump($sel, \%peer, $fh); }
			else { $sel->remove($fh); close $fh; @idle = grep { $_ != $fh } @idle; }
			while (@idle && @waiting)
			{
				my ($a, $c) = (shift @idle, shift @waiting);
				syswrite($a, 'G');
				$peer{$a} = $c;
				$peer{$c} = $a;
				$sel->add($a, $c);
			}
			# idle agents are watched too, to see them go
			$sel->add($_) for @idle;
		}
	}
}

sub start_agent
{
	my ($relay_port, $socket_path) = @_;
	my $pid = fork();
	return $pid if $pid;
	my $sel = IO::Select->new;
	my (%idle, %peer);
	my $dial = sub {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $relay_port) or return 0;
		$idle{$s} = 1;
		$sel->add($s);
		return 1;
	};
	while (1)
	{
		while (keys %idle < 2) { last unless $dial->(); }
		for my $fh ($sel->can_read(0.5))
		{
			if ($idle{$fh})
			{
				delete $idle{$fh};
				my $go;
				if (!sysread($fh, $go, 1)) { $sel->remove($fh); close $fh; next; }
				my $db = IO::Socket::UNIX->new(Peer => $socket_path) or do { $sel->remove($fh); close $fh; next; };
				$peer{$fh} = $db;
				$peer{$db} = $fh;
				$sel->add($db);
			}
			elsif ($peer{$fh}) { pump($sel, \%peer, $fh); }
		}
	}
}

my ($agent_port, $client_port) = (PostgreSQL::Test::Cluster::get_free_port(), PostgreSQL::Test::Cluster::get_free_port());
my @tunnel = (start_relay($agent_port, $client_port), start_agent($agent_port, $k2->host . '/.s.PGSQL.' . $k2->port));
END { kill 'KILL', @tunnel if @tunnel; }
my %reach = (K1 => conninfo($k1), K2 => "'host=127.0.0.1 port=$client_port dbname=refuge'");

# The deployment order: HQ first, then each field site.
$hq->safe_psql('refuge', q{
	select refuge.create_operation('KEN', 'KEN', 'Kenya'), refuge.create_operation('UGA', 'UGA', 'Uganda');
	select refuge.create_site('KEN', 'K1', 'Kakuma', 'CAMP'), refuge.create_site('KEN', 'K2', 'Kalobeyei', 'CAMP'),
	       refuge.create_site('UGA', 'NAKIVALE', 'Nakivale', 'CAMP');
	select refuge.set_nearby_operations('KEN', array['UGA']);
});
for my $s ([ 'K1', $k1 ], [ 'K2', $k2 ])
{
	my $r = $hq->safe_psql('refuge', "select refuge.add_field_site('$s->[0]', $reach{$s->[0]}) ->> 'series'");
	ok($r =~ /^[A-Z]$/, "add_field_site($s->[0]) at HQ before the site joins: series $r");
}
is($hq->safe_psql('refuge', "select string_agg(site || ':' || up_state, ',' order by site) from refuge.field_sites()") ne '', 1,
	'field_sites() lists them');
my $err;
$k1->psql('refuge', "select refuge.join_hq('HQ', " . conninfo($hq, 'x') . ")", stderr => \$err);
like($err, qr/cannot name a field site/, 'join_hq refuses to make a field site called HQ');

# HQ holds people already: one KEN, one UGA (a nearby operation).
sub family
{
	my ($n, $site, $seed, $members, $op) = @_;
	$op //= 'KEN';
	my $m = join(', ', map { "jsonb_build_object('relationship', '" . ($_ == 1 ? 'PA' : 'DAU') . "', 'given_name', 'P$seed-$_', 'sex', 'F', 'date_of_birth', '" . ($_ == 1 ? '1985-05-05' : '2015-01-01') . "')" } 1 .. $members);
	return $n->safe_psql('refuge', "select refuge.register_group(jsonb_build_object('operation', '$op', 'site', '$site', 'registration_level', 'BASIC', 'population_type', 'REF', 'members', jsonb_build_array($m))) -> 'members' -> 0 ->> 'individual_id'");
}
sub enrol
{
	my ($n, $id, $person) = @_;
	return $n->safe_psql('refuge', "select refuge.enrol_biometrics('$id', refuge.synthetic_templates(15, $person)) ->> 'decision'");
}
my $hq_ken = family($hq, 'K1', 1, 2);
is(enrol($hq, $hq_ken, 1), 'enrolled', 'HQ enrols a KEN person');
my $hq_uga = family($hq, 'NAKIVALE', 2, 1, 'UGA');
is(enrol($hq, $hq_uga, 2), 'enrolled', 'HQ enrols a UGA person');

for my $s ([ 'K1', $k1 ], [ 'K2', $k2 ])
{
	my $r = $s->[1]->safe_psql('refuge', "select refuge.join_hq('$s->[0]', " . conninfo($hq, 'refuge_down_' . lc $s->[0]) . ") ->> 'node'");
	is($r, $s->[0], "join_hq($s->[0]) on the field cluster");
}
sub synced
{
	# field -> HQ, then HQ -> both fields (HQ's decisions on what arrived)
	for my $f ($k1, $k2) { $f->wait_for_catchup('refuge_up_' . ($f == $k1 ? 'k1' : 'k2')); }
	# HQ's background worker searches what arrived
	$hq->poll_query_until('refuge', "select count(*) = 0 from refuge.biometric_capture b where b.sync_owner <> 'HQ'
	                                   and not exists (select 1 from refuge.global_check g where g.capture_id = b.id)")
	  or die 'global checks still pending at HQ';
	for my $f ('refuge_down_k1', 'refuge_down_k2') { $hq->wait_for_catchup($f); }
	return;
}
$k1->wait_for_subscription_sync($hq, 'refuge_down_k1', 'refuge');
$k2->wait_for_subscription_sync($hq, 'refuge_down_k2', 'refuge');
for my $s ([ 'k1', $k1 ], [ 'k2', $k2 ])
{
	$s->[1]->poll_query_until('refuge', "select count(*) = 1 from pg_stat_replication where application_name = 'refuge_up_$s->[0]'")
	  or die "HQ does not read from $s->[0]";
}
synced();
is($k1->safe_psql('refuge', 'select refuge.local_series()'), 'A', 'K1 issues numbers with its letter once its copy arrived');
is($k1->safe_psql('refuge', "select count(*) from refuge.individual"), '2', 'K1 holds its operation\'s people (not UGA\'s)');
is($k1->safe_psql('refuge', "select count(*) from refuge.biometric_enrolment"), '2',
	'K1 holds the templates of its operation and of the nearby one');
is($k1->safe_psql('refuge', "select count(*) from refuge.biometric_vault"), '0', 'no images leave HQ');
is($k1->safe_psql('refuge', "select count(*) from refuge.sync_status()"), '2', 'sync_status on a field site');
is($hq->safe_psql('refuge', "select count(*) filter (where connected) || '/' || count(*) from refuge.sync_status()"), '4/4',
	'HQ: both directions of both sites are connected');
is($k2->safe_psql('refuge', "select count(*) from pg_stat_replication where application_name = 'refuge_up_k2' and client_addr is null"), '1',
	'HQ reads K2 through the tunnel K2 dialled out (its walsender serves a local connection)');

# 1. The same person offline at the nearby operation: the field blocks at once.
my $again = family($k1, 'K1', 3, 1);
is(enrol($k1, $again, 2), 'blocked', 'K1 blocks, offline, a person enrolled in the nearby operation (templates only)');

# 2. HQ down: both sites keep working.
$hq->stop('immediate');
my (@k1_fams, @k2_fams);
for my $i (1 .. 6)
{
	push @k1_fams, family($k1, 'K1', 100 + $i, 3);
	push @k2_fams, family($k2, 'K2', 200 + $i, 4);
	is(enrol($k1, $k1_fams[-1], 100 + $i), 'enrolled', "K1 enrols family $i offline") if $i <= 3;
	is(enrol($k2, $k2_fams[-1], 200 + $i), 'enrolled', "K2 enrols family $i offline") if $i <= 3;
}
# the same person at both sites, offline
my $twin1 = family($k1, 'K1', 300, 1);
my $twin2 = family($k2, 'K2', 301, 1);
is(enrol($k1, $twin1, 300), 'enrolled', 'person 300 enrols at K1 offline');
is(enrol($k2, $twin2, 300), 'enrolled', 'the same person enrols at K2 offline (K2 cannot know)');
is($k1->safe_psql('refuge', "select refuge.global_decision('$twin1')"), 'pending', 'global_decision: pending until HQ searched');
is($k1->safe_psql('refuge', "select refuge.verify('$k1_fams[0]', refuge.synthetic_templates(15, 101, 1)) ->> 'match'"), 'true',
	'K1 verifies a person 1:1 offline');
my $case = $k2->safe_psql('refuge', "select refuge.open_case('RSD', '$k2_fams[0]') ->> 'case_id'");
ok($case ne '', 'K2 opens an RSD case offline');
$k2->safe_psql('refuge', "select refuge.transition_case('$case', 'ASSIGN_MODALITY', '{\"modality\": \"REGULAR\"}')");
my $k2_case_state = $k2->safe_psql('refuge', "select state from refuge.process_case where id = '$case'");
$hq->start;
synced();

for my $t ('registration_group', 'individual', 'group_membership', 'individual_name', 'biometric_capture',
	'biometric_enrolment', 'biometric_finger', 'biometric_verification', 'process_case', 'case_event', 'case_member')
{
	my $q = "select count(*) || ' ' || md5(coalesce(string_agg((to_jsonb(t) - 'seq' - 'sync_shared')::text, '|' order by (to_jsonb(t) - 'seq' - 'sync_shared')::text), '')) from refuge.$t t where sync_owner = ";
	for my $s ([ 'K1', $k1 ], [ 'K2', $k2 ])
	{
		is($hq->safe_psql('refuge', "$q'$s->[0]'"), $s->[1]->safe_psql('refuge', "$q'$s->[0]'"),
			"$t: $s->[0]'s rows arrived at HQ, equal (count and checksum)");
	}
}
is($hq->safe_psql('refuge', "select count(*) - count(distinct number) from refuge.individual"), '0',
	'readable numbers are unique across HQ and both sites');
is($hq->safe_psql('refuge', "select count(*) from refuge.individual"),
	$hq->safe_psql('refuge', "select count(distinct id) from refuge.individual"), 'nothing is duplicated');
is($hq->safe_psql('refuge', "select state from refuge.process_case where id = '$case'"), $k2_case_state,
	'the case moved offline arrived in its new state');

# 3. The twins: one identity, one blocked or queued enrolment, once; both sites know.
my $decisions = $hq->safe_psql('refuge', "select string_agg(d, ',' order by d) from (select refuge.global_decision(x) d from unnest(array['$twin1', '$twin2']::uuid[]) x) y");
like($decisions, qr/^(adjudication|blocked),enrolled$/, "HQ: one twin enrolled, the other $decisions");
is($hq->safe_psql('refuge', "select count(*) from refuge.global_check where individual_id in ('$twin1', '$twin2') and decision <> 'enrolled'"),
	'1', 'caught exactly once');
is($hq->safe_psql('refuge', "select count(*) from refuge.biometric_enrolment where individual_id in ('$twin1', '$twin2')"), '1',
	'HQ keeps one of them in the gallery');
is($k1->safe_psql('refuge', "select refuge.global_decision('$twin1') || ',' || refuge.global_decision('$twin2')"),
	$hq->safe_psql('refuge', "select refuge.global_decision('$twin1') || ',' || refuge.global_decision('$twin2')"),
	'K1 learns both outcomes');
is($k2->safe_psql('refuge', "select refuge.global_decision('$twin1') || ',' || refuge.global_decision('$twin2')"),
	$hq->safe_psql('refuge', "select refuge.global_decision('$twin1') || ',' || refuge.global_decision('$twin2')"),
	'K2 learns both outcomes');
is($k2->safe_psql('refuge', "select count(*) from refuge.biometric_enrolment where individual_id in ('$twin1', '$twin2')"),
	'1', 'and the duplicate leaves the field galleries too');
is($hq->safe_psql('refuge', "select count(*) from refuge.global_check where decision = 'enrolled'"),
	$hq->safe_psql('refuge', "select count(*) from refuge.biometric_capture where sync_owner <> 'HQ' and decision = 'enrolled'") - 1,
	'every other field enrolment has its global decision: enrolled');

# 4. HQ and K1 change the same person while cut off from each other.
$hq->safe_psql('refuge', 'alter subscription refuge_up_k1 disable');
$k1->safe_psql('refuge', 'alter subscription refuge_down_k1 disable');
my $p = $k1_fams[1];
$hq->safe_psql('refuge', "select refuge.update_individual('$p', '{\"given_name\": \"HQ-Name\", \"place_of_birth\": \"Juba\"}')");
$k1->safe_psql('refuge', "select refuge.update_individual('$p', '{\"given_name\": \"Field-Name\", \"middle_name\": \"Ayen\"}')");
$hq->safe_psql('refuge', 'alter subscription refuge_up_k1 enable');
$k1->safe_psql('refuge', 'alter subscription refuge_down_k1 enable');
synced();
synced();
is($k1->safe_psql('refuge', "select given_name || ',' || coalesce(middle_name, '') || ',' || coalesce(place_of_birth, '') from refuge.individual where id = '$p'"),
	'Field-Name,Ayen,Juba', 'K1 (the owner): its change kept, HQ\'s non-overlapping change applied');
is($hq->safe_psql('refuge', "select given_name || ',' || coalesce(middle_name, '') || ',' || coalesce(place_of_birth, '') from refuge.individual where id = '$p'"),
	'Field-Name,Ayen,Juba', 'HQ converges on the owner\'s row');
is($k1->safe_psql('refuge', "select kind || ':' || (lost_values ->> 'given_name') || ':' || (kept_values ->> 'given_name') from refuge.sync_conflict where table_name = 'individual' and status = 'OPEN'"),
	'concurrent_change:HQ-Name:Field-Name', 'the overlapping change is recorded for review (what was kept, what was not)');
is($hq->safe_psql('refuge', "select count(*) from refuge.sync_conflict where kind = 'concurrent_change'"), '1',
	'and HQ sees the conflict too');
is($hq->safe_psql('refuge', "select count(*) from pg_stat_subscription where subname like 'refuge_%' and pid is not null"), '2',
	'apply never stopped');

# 4b. A field server tampered with cannot write others' records at HQ: K1's
# superuser takes over an HQ-owned person in its copy (sent up as a new row
# of K1's), then gives it back (sent up as a delete).
my $hq_name = $hq->safe_psql('refuge', "select given_name from refuge.individual where id = '$hq_ken'");
$k1->safe_psql('refuge', "set session_replication_role = replica; update refuge.individual set sync_owner = 'K1', given_name = 'Forged' where id = '$hq_ken'");
$k1->wait_for_catchup('refuge_up_k1');
is($hq->safe_psql('refuge', "select given_name || ' ' || sync_owner from refuge.individual where id = '$hq_ken'"), "$hq_name HQ",
	'HQ keeps its own row when a field site sends it as its own');
$k1->safe_psql('refuge', "set session_replication_role = replica; update refuge.individual set sync_owner = 'HQ', given_name = '$hq_name' where id = '$hq_ken'");
$k1->wait_for_catchup('refuge_up_k1');
is($hq->safe_psql('refuge', "select count(*) from refuge.individual where id = '$hq_ken'"), '1',
	'and when the site sends a delete of it');
is($hq->safe_psql('refuge', "select count(*) from refuge.sync_conflict where kind = 'forbidden_row' and from_node = 'K1' and error like 'field site K1 may only send rows it owns%' and kept_values is null"),
	'2', 'both are recorded as forbidden rows (their key, not HQ\'s values); apply goes on');

# Nor move its own rows to another operation, nor have HQ apply a forged
# request to a table or column no request may change.
my $forbidden = $hq->safe_psql('refuge', "select count(*) from refuge.sync_conflict where kind = 'forbidden_row' and from_node = 'K1'");
my $forged_checks = $k1->safe_psql('refuge', "select count(*) from refuge.global_check where decision <> 'enrolled'");
my $before = $hq->safe_psql('refuge', "select count(*) || '/' || string_agg(decision, ',' order by capture_id) from refuge.global_check");
$k1->safe_psql('refuge', qq{set session_replication_role = replica;
	update refuge.individual set operation_id = (select id from refuge.operation where code = 'UGA') where id = '$k1_fams[2]';
	insert into refuge.sync_change (target_node, table_name, row_key, action, old_values, new_values, operation_id)
	select 'HQ', 'global_check', jsonb_build_object('capture_id', g.capture_id), 'UPDATE', '{}'::jsonb, '{"decision": "enrolled"}'::jsonb, g.operation_id
	  from refuge.global_check g where g.decision <> 'enrolled'
	union all
	select 'HQ', 'audit_log', '{"id": 1}', 'DELETE', null::jsonb, null::jsonb, (select id from refuge.operation where code = 'KEN')
	union all
	select 'HQ', 'individual', jsonb_build_object('id', '$hq_ken'), 'UPDATE', '{}', '{"sync_owner": "K1"}', (select id from refuge.operation where code = 'KEN');});
$k1->wait_for_catchup('refuge_up_k1');
is($hq->safe_psql('refuge', "select o.code from refuge.individual i join refuge.operation o on o.id = i.operation_id where i.id = '$k1_fams[2]'"),
	'KEN', 'HQ keeps a site\'s row in its operation when the site moves it to another');
is($hq->safe_psql('refuge', "select count(*) || '/' || string_agg(decision, ',' order by capture_id) from refuge.global_check"),
	$before, 'a forged request cannot rewrite HQ\'s global checks');
cmp_ok($hq->safe_psql('refuge', "select count(*) from refuge.audit_log where id = 1"), '==', 1, 'nor delete its audit trail');
is($hq->safe_psql('refuge', "select sync_owner from refuge.individual where id = '$hq_ken'"), 'HQ', 'nor take over a row');
is($hq->safe_psql('refuge', "select count(*) from refuge.sync_conflict where kind = 'forbidden_row' and from_node = 'K1'"),
	$forbidden + 1 + $forged_checks + 2, 'each is recorded as forbidden');
$k1->safe_psql('refuge', "set session_replication_role = replica; update refuge.individual set operation_id = (select id from refuge.operation where code = 'KEN') where id = '$k1_fams[2]'");
# nor block another operation's person by sending a capture in their name, nor erase
# its own append-only records at HQ
$forbidden = $hq->safe_psql('refuge', "select count(*) from refuge.sync_conflict where kind = 'forbidden_row' and from_node = 'K1'");
my $ids_at_hq = $hq->safe_psql('refuge', "select count(*) from refuge.biometric_identification where sync_owner = 'K1'");
$k1->safe_psql('refuge', qq{begin; set local session_replication_role = replica;
	insert into refuge.biometric_capture (id, individual_id, operation_id, site_id, captured_at, fingers, irises, gallery_size,
	                                      target_fpir, block_fpir, gallery_seq, decision, result, sync_owner)
	select gen_random_uuid(), '$hq_uga', c.operation_id, c.site_id, now(), c.fingers, c.irises, c.gallery_size, 0, 0,
	       c.gallery_seq, 'enrolled', '{}', 'K1'
	  from refuge.biometric_capture c where c.sync_owner = 'K1' limit 1;
	set local refuge.sync_purging = on;
	delete from refuge.biometric_identification where sync_owner = 'K1';
	commit;});
$k1->wait_for_catchup('refuge_up_k1');
is($hq->safe_psql('refuge', "select count(*) from refuge.biometric_enrolment where individual_id = '$hq_uga'"), '1',
	'a capture a site sends in the name of another operation\'s person blocks no one at HQ');
is($hq->safe_psql('refuge', "select count(*) from refuge.biometric_identification where sync_owner = 'K1'"), $ids_at_hq,
	'a site cannot erase its own append-only records at HQ');
is($hq->safe_psql('refuge', "select count(*) from refuge.sync_conflict where kind = 'forbidden_row' and from_node = 'K1'"),
	$forbidden + 1 + $ids_at_hq, 'both recorded as forbidden');
# nor swap a person's templates for someone else's after HQ's check, nor clear a pair
# with another operation's person, nor take a capture out of HQ's queue
my $fingers_at_hq = $hq->safe_psql('refuge', "select md5(string_agg(template::text, '' order by position)) from refuge.biometric_finger where individual_id = '$k1_fams[0]'");
$k1->safe_psql('refuge', qq{begin; set local session_replication_role = replica;
	update refuge.biometric_finger f set template = u.template from refuge.biometric_finger u
	 where u.individual_id = '$hq_uga' and u.position = f.position and f.individual_id = '$k1_fams[0]';
	insert into refuge.dedup_cleared_pair (individual_a, individual_b, case_id, cleared_by, sync_operation)
	values (least('$k1_fams[1]'::uuid, '$hq_uga'::uuid), greatest('$k1_fams[1]'::uuid, '$hq_uga'::uuid), gen_random_uuid(), 'x',
	        (select id from refuge.operation where code = 'KEN'));
	insert into refuge.sync_conflict (kind, table_name, row_key, operation_id, from_node, error)
	select 'global_check', 'biometric_capture', jsonb_build_object('id', c.id), c.operation_id, 'K1', 'x'
	  from refuge.biometric_capture c where c.individual_id = '$k1_fams[2]';
	commit;});
$k1->wait_for_catchup('refuge_up_k1');
is($hq->safe_psql('refuge', "select md5(string_agg(template::text, '' order by position)) from refuge.biometric_finger where individual_id = '$k1_fams[0]'"),
	$fingers_at_hq, 'a site cannot swap a person\'s templates at HQ after the global check');
is($hq->safe_psql('refuge', "select count(*) from refuge.dedup_cleared_pair where '$hq_uga' in (individual_a, individual_b)"), '0',
	'nor clear a pair with another operation\'s person');
is($hq->safe_psql('refuge', "select count(*) from refuge.sync_conflict where kind = 'global_check' and sync_owner = 'K1'"), '0',
	'nor file a conflict that would take a capture out of HQ\'s queue');
$k1->safe_psql('refuge', qq{begin; set local session_replication_role = replica;
	update refuge.biometric_finger f set template = u.template from refuge.biometric_capture c, unnest(c.fingers) u(template)
	 where c.id = f.capture_id and f.individual_id = '$k1_fams[0]' and refuge.fingerprint_position(u.template) = f.position;
	commit;});
my $capture_at_hq = $hq->safe_psql('refuge', "select md5(fingers::text) from refuge.biometric_capture where individual_id = '$k1_fams[0]'");
$k1->safe_psql('refuge', qq{begin; set local session_replication_role = replica;
	update refuge.biometric_capture c set fingers = (select array_agg(u.template order by u.position)
	       from refuge.biometric_finger u where u.individual_id = '$hq_uga') where c.individual_id = '$k1_fams[0]';
	commit;});
$k1->wait_for_catchup('refuge_up_k1');
is($hq->safe_psql('refuge', "select md5(fingers::text) from refuge.biometric_capture where individual_id = '$k1_fams[0]'"),
	$capture_at_hq, 'nor rewrite a capture after HQ searched it');
$k1->safe_psql('refuge', qq{begin; set local session_replication_role = replica;
	update refuge.biometric_capture c set fingers = (select array_agg(f.template order by f.position)
	       from refuge.biometric_finger f where f.individual_id = '$k1_fams[0]') where c.individual_id = '$k1_fams[0]';
	commit;});

$hq->psql('refuge', "select refuge.add_field_site('K1', 'host=x dbname=''refuge''password=secret')", stderr => \$err);
like($err, qr/must not hold a password/, 'a connection string with a password is refused');
$hq->psql('refuge', "select refuge.add_field_site('K1', 'postgresql://x/refuge?%70assword=secret')", stderr => \$err);
like($err, qr/must not hold a password/, 'also percent-encoded');
unlike($err, qr/secret/, 'and the error does not repeat it');

# 5. K1 crashes in the middle of sending; HQ restarts in the middle of applying.
my $script = join('', map { "select refuge.register_group(jsonb_build_object('operation', 'KEN', 'site', 'K1', 'registration_level', 'BASIC', 'population_type', 'REF', 'members', jsonb_build_array(jsonb_build_object('relationship', 'PA', 'given_name', 'Crash$_', 'sex', 'M', 'date_of_birth', '1990-01-01'))));\n" } 1 .. 400);
my $file = PostgreSQL::Test::Utils::tempdir() . '/crash.sql';
PostgreSQL::Test::Utils::append_to_file($file, $script);
my $h = IPC::Run::start([ 'psql', '-X', '-q', '-d', $k1->connstr('refuge'), '-f', $file ], '>', '/dev/null', '2>', '/dev/null');
$k1->poll_query_until('refuge', "select count(*) >= 40 from refuge.individual where given_name like 'Crash%'");
$k1->stop('immediate');
$h->finish;
$k1->start;
my $committed = $k1->safe_psql('refuge', "select count(*) from refuge.individual where given_name like 'Crash%'");
ok($committed >= 40 && $committed < 400, "K1 crashed after committing $committed of 400 registrations");
for my $i (1 .. 30) { family($k2, 'K2', 400 + $i, 2); }
$hq->stop('immediate');
$hq->start;
synced();
is($hq->safe_psql('refuge', "select count(*) from refuge.individual where given_name like 'Crash%'"), $committed,
	'every registration K1 committed before its crash arrived at HQ, once');
is($hq->safe_psql('refuge', "select count(*) from refuge.individual where sync_owner = 'K2'"),
	$k2->safe_psql('refuge', "select count(*) from refuge.individual where sync_owner = 'K2'"),
	'HQ restarted while applying K2\'s registrations and has them all');

# 6. K1 away past its slot's retention: detected and re-seeded.
$hq->safe_psql('refuge', 'alter subscription refuge_up_k1 disable');
$k1->safe_psql('refuge', "alter system set max_slot_wal_keep_size = '1MB'; select pg_reload_conf()");
for my $i (1 .. 4)
{
	family($k1, 'K1', 500 + $i, 2);
	$k1->safe_psql('refuge', "select pg_switch_wal(); create table wal_filler$i as select g, repeat('x', 200) from generate_series(1, 20000) g; checkpoint;");
}
$k1->poll_query_until('refuge', "select state = 'slot lost' from refuge.sync_status() where direction = 'up'")
  or diag($k1->safe_psql('refuge', 'select * from refuge.sync_status()'));
is($k1->safe_psql('refuge', "select state from refuge.sync_status() where direction = 'up'"), 'slot lost',
	'K1 reports its slot to HQ as lost');
$k1->safe_psql('refuge', "alter system reset max_slot_wal_keep_size; select pg_reload_conf()");
is($k1->safe_psql('refuge', "select refuge.join_hq('K1', " . conninfo($hq, 'refuge_down_k1') . ") ->> 'rejoined'"), 'true',
	'K1 re-joins (a new slot, a fresh copy from HQ)');
$k1->wait_for_subscription_sync($hq, 'refuge_down_k1', 'refuge');
$hq->safe_psql('refuge', "select refuge.reseed_field_site('K1')");
$hq->wait_for_subscription_sync($k1, 'refuge_up_k1', 'refuge');
synced();
for my $t ('individual', 'registration_group', 'biometric_enrolment')
{
	my $q = "select count(*) || ' ' || md5(coalesce(string_agg(id::text, ',' order by id), '')) from refuge.$t where sync_owner = 'K1'";
	$q =~ s/\bid\b/individual_id/g if $t eq 'biometric_enrolment';
	is($hq->safe_psql('refuge', $q), $k1->safe_psql('refuge', $q), "after the re-seed HQ holds every $t row of K1");
}
is($k1->safe_psql('refuge', "select count(*) from refuge.individual"), $hq->safe_psql('refuge', "select count(*) from refuge.individual i join refuge.operation o on o.id = i.operation_id where o.code = 'KEN'"),
	'and K1 holds its operation again');

# 7. A field clerk sees what a clerk at HQ would.
for my $n ($hq, $k1)
{
	$n->safe_psql('refuge', q{create role clerk_ken login; grant refuge_registration to clerk_ken;
	                          select refuge.assign_staff('clerk_ken', 'KEN');});
}
my $view = q{set role clerk_ken; select (select count(*) from refuge.individual) || '/' || (select count(*) from refuge.biometric_enrolment) || '/' || (select count(*) from refuge.individual i join refuge.operation o on o.id = i.operation_id where o.code = 'UGA')};
is($k1->safe_psql('refuge', $view), $hq->safe_psql('refuge', $view), 'a KEN clerk at K1 sees what a KEN clerk at HQ sees');
is($k1->safe_psql('refuge', "select count(*) from refuge.biometric_enrolment e join refuge.operation o on o.id = e.operation_id where o.code = 'UGA'"),
	'1', 'K1 holds the nearby operation\'s templates');
is($k1->safe_psql('refuge', "set role clerk_ken; select count(*) from refuge.biometric_enrolment e join refuge.operation o on o.id = e.operation_id where o.code = 'UGA'"),
	'0', 'but its clerk does not see them');
$k1->psql('refuge', "set role clerk_ken; select refuge.join_hq('K9', 'host=x')", stderr => \$err);
like($err, qr/permission denied for function join_hq|only a superuser/, 'a clerk cannot re-join the cluster');
$k1->psql('refuge', "set role clerk_ken; update refuge.operation set name = 'x'", stderr => \$err);
like($err, qr/permission denied|reference data/, 'nor change reference data at a field site');

# 7a. Consents follow the person's record: recorded at K1, they gate HQ's
# work; withdrawn at HQ, the site knows at once it syncs.
my $consenting = family($k1, 'K1', 790, 1);
$k1->safe_psql('refuge', "select refuge.record_consent('$consenting', 'REFERRAL', 'WRITTEN')");
synced();
is($hq->safe_psql('refuge', "select count(*) from refuge.consent where individual_id = '$consenting' and withdrawn_at is null"), '1',
	'a consent recorded at K1 is at HQ');
$hq->safe_psql('refuge', "select refuge.withdraw_consent('$consenting', 'REFERRAL', 'changed her mind')");
synced();
$k1->poll_query_until('refuge', "select count(*) = 1 from refuge.consent where individual_id = '$consenting' and withdrawn_at is not null")
  or diag('the withdrawal did not reach K1');
is($k1->safe_psql('refuge', "select count(*) from refuge.consent where individual_id = '$consenting' and withdrawn_at is not null"), '1',
	'withdrawn at HQ, it is withdrawn at K1');

# 7b. Erasure at the owner reaches HQ: the person's data goes there too,
# and HQ's own key of the person (which sealed HQ's audit rows of them) is
# destroyed when the erasure arrives.
my $gone = family($k1, 'K1', 800, 1);
synced();
# (HQ records a document of hers: HQ owns that row)
$hq->safe_psql('refuge', "select refuge.add_document('$gone', '{\"type\": \"NATIONAL_ID\", \"number\": \"HQDOC8001\", \"issuing_country\": \"SSD\"}')");
synced();
is($k1->safe_psql('refuge', "select count(*) from refuge.document where number = 'HQDOC8001'"), '1', 'HQ\'s document of her is at K1');
is($hq->safe_psql('refuge', "select count(*) from refuge.audit_log where new_data ->> '\$subject' = '$gone' and new_data ? '\$sealed'") > 0,
	1, 'HQ seals its own audit rows of a person registered at K1');
is($hq->safe_psql('refuge', "select (refuge.audit_values(a)).new_data ->> 'given_name' from refuge.audit_log a
                              where a.table_name = 'individual' and a.row_id = '$gone' and a.action = 'I'"),
	'P800-1', 'and opens them with its key');
$hq->psql('refuge', "select refuge.erase_individual('$gone', 'request of the person')", stderr => \$err);
like($err, qr/owned by node K1; erase it there/, 'HQ does not erase a record K1 owns');
is($k1->safe_psql('refuge', "select refuge.erase_individual('$gone', 'request of the person') ->> 'tombstone'"), 'true',
	'K1 erases the person');
synced();
is($hq->safe_psql('refuge', "select status || ' ' || coalesce(given_name, '-') || ' ' || coalesce(date_of_birth::text, '-')
                              from refuge.individual where id = '$gone'"),
	'ERASED - -', 'HQ holds the tombstone');
is($hq->safe_psql('refuge', "select count(*) from refuge.document where number = 'HQDOC8001'")
   . $k1->safe_psql('refuge', "select count(*) from refuge.document where number = 'HQDOC8001'"),
	'00', 'the document HQ recorded of her is gone at HQ and at K1');
is($hq->safe_psql('refuge', "select count(*) from refuge.person_key where individual_id = '$gone' and wrapped is null"), '1',
	'the erasure destroyed HQ\'s key of the person');
is($hq->safe_psql('refuge', "select string_agg(distinct coalesce((refuge.audit_values(a)).new_data ->> '\$erased', 'readable'), ',')
                              from refuge.audit_log a where a.new_data ->> '\$subject' = '$gone'"),
	'true', 'HQ\'s audit rows of the person are unreadable');
is($hq->safe_psql('refuge', "select count(*) from refuge.audit_log a where a::text ~ 'P800-1|HQDOC8001'")
   . $k1->safe_psql('refuge', "select count(*) from refuge.audit_log a where a::text ~ 'P800-1|HQDOC8001'"),
	'00', 'no audit row at HQ or K1 names her in clear');
is($hq->safe_psql('refuge', "select count(*) from refuge.sync_change c where c::text ~ 'HQDOC8001'")
   . $k1->safe_psql('refuge', "select count(*) from refuge.sync_change c where c::text ~ 'HQDOC8001'"),
	'00', 'nor any replication request');
is($hq->safe_psql('refuge', "select refuge.verify_audit() ->> 'intact'") . $k1->safe_psql('refuge', "select refuge.verify_audit() ->> 'intact'"),
	'truetrue', 'both audit chains still verify');

# leave_hq, and HQ's record of it
is($k2->safe_psql('refuge', "select refuge.leave_hq() ->> 'left'"), 'true', 'leave_hq on K2');
is($k2->safe_psql('refuge', "select count(*) from pg_subscription"), '0', 'K2 no longer subscribes');

is($hq->safe_psql('refuge', "select refuge.remove_field_site('K2') ->> 'removed'"), 'true', 'remove_field_site(K2) at HQ');
is($hq->safe_psql('refuge', "select count(*) from pg_replication_slots where slot_name = 'refuge_down_k2'"), '0',
	'HQ no longer keeps WAL for K2');

# 8. The upgrade order: HQ first.  An update may add a column to a replicated
# table (as ALTER EXTENSION refuge UPDATE would, here by hand): with HQ
# updated, K1's rows keep arriving; HQ's changes wait in HQ's slot until K1
# is updated, then arrive.
$hq->safe_psql('refuge', 'alter table refuge.individual add column upgrade_probe text');
$hq->safe_psql('refuge', "select refuge.update_individual('$hq_ken', '{\"middle_name\": \"Upgraded\"}')");
my $after = family($k1, 'K1', 700, 1);
$k1->wait_for_catchup('refuge_up_k1');
is($hq->safe_psql('refuge', "select count(*) from refuge.individual where id = '$after'"), '1',
	'HQ updated first: the site\'s new registrations still arrive');
$k1->poll_query_until('refuge', "select count(*) > 0 from pg_stat_subscription where subname = 'refuge_down_k1' and pid is null or latest_end_time < now() - interval '1 second'");
is($k1->safe_psql('refuge', "select coalesce(middle_name, '') from refuge.individual where id = '$hq_ken'"), '',
	'HQ\'s change waits while the site is not updated');
$k1->safe_psql('refuge', 'alter table refuge.individual add column upgrade_probe text');
$hq->wait_for_catchup('refuge_down_k1');
is($k1->safe_psql('refuge', "select middle_name from refuge.individual where id = '$hq_ken'"), 'Upgraded',
	'once the site is updated, HQ\'s change arrives');

done_testing();
