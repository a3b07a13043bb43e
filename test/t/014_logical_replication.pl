# L001 published-table-change with a real publisher and subscriber (two clusters on this
# machine, wal_level = logical): what the rule warns about happens, and the order its finding
# gives works.
#
# The publisher has the extension and publishes `items` (FOR TABLE) and, later, schema public
# (FOR TABLES IN SCHEMA; not FOR ALL TABLES, which would publish the extension's own tables in
# schema migrate too); the subscriber, without the extension, subscribes to both.
#
# 1. ADD COLUMN. lint() and apply() report L001 (a warning naming the publication, "subscribers
#    first"). Applied on the publisher first, the next insert stops replication (the
#    subscriber's log: "missing replicated column"; the row does not arrive) until the
#    subscriber adds the column; then the row arrives. In the hinted order (the subscriber
#    first) rows arrive at once, with the new column's value.
# 2. DROP COLUMN ("here first"). Dropped on the subscriber first, replication stops at the next
#    insert until the column is back there. In the hinted order (the publisher first, then the
#    subscriber) rows keep arriving.
# 3. CREATE TABLE under a FOR TABLES IN SCHEMA publication ("subscribers first"): created on the
#    publisher only, its first row stops replication; created on the subscriber too (and the
#    subscription refreshed), rows arrive.
# 4. REPLICA IDENTITY NOTHING on a table whose publication publishes UPDATE is an error finding,
#    and apply() refuses it; PostgreSQL then indeed refuses the UPDATE.
#
# Run as a non-root OS user with PostgreSQL::Test from PGXS (see test/run_all.sh --suite tap).

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->start;
my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init;
$sub->append_conf('postgresql.conf', "wal_retrieve_retry_interval = 200ms\n");
$sub->start;

my $table = 'CREATE TABLE items (id bigint PRIMARY KEY, name text)';
$pub->safe_psql('postgres', "CREATE EXTENSION migrations_schema; $table;");
$sub->safe_psql('postgres', $table);
$pub->safe_psql('postgres',
	q{CREATE PUBLICATION pub_items FOR TABLE items; INSERT INTO items VALUES (1, 'one')});
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION sub_items CONNECTION '$connstr' PUBLICATION pub_items");
$sub->wait_for_subscription_sync($pub, 'sub_items');
is($sub->safe_psql('postgres', 'SELECT id, name FROM items'), '1|one', 'initial sync');

# Rows of the subscriber's items with id >= $from, as "id|name|..." lines.
sub rows_from
{
	my ($from, $cols) = @_;
	return $sub->safe_psql('postgres',
		"SELECT $cols FROM items WHERE id >= $from ORDER BY id");
}

# An insert on the publisher and the subscriber has it (caught up).
sub arrives
{
	my ($sql, $from, $cols, $want, $name) = @_;
	$pub->safe_psql('postgres', $sql);
	$pub->wait_for_catchup('sub_items');
	is(rows_from($from, $cols), $want, $name);
}

# An insert on the publisher that stops replication: the subscriber's log names the missing
# column or table, and the row does not arrive.
sub stops
{
	my ($sql, $log_re, $check, $name) = @_;
	my $offset = -s $sub->logfile;
	$pub->safe_psql('postgres', $sql);
	$sub->wait_for_log($log_re, $offset);
	is($sub->safe_psql('postgres', $check), '0', "$name: the row did not arrive");
	return;
}

# ---- 1. ADD COLUMN

my $add = 'ALTER TABLE items ADD COLUMN price numeric';
my $lint = $pub->safe_psql('postgres',
	"SELECT severity, rule_id, rule, message, safe_alternative FROM migrate.lint('$add') WHERE rule_id = 'L001'");
like($lint, qr/^warning\|L001\|published-table-change\|ADD COLUMN price on items, published by publication pub_items: /,
	'add column: lint reports L001 naming the publication');
like($lint, qr/\|subscribers first: add the column on every subscriber, then here/,
	'add column: the order is subscribers first');
my ($ret, $out, $err) = $pub->psql('postgres',
	"SELECT migrate.apply('001', '$add', 'ALTER TABLE items DROP COLUMN price', 'price')");
is($out, 'applied', 'add column: applied on the publisher first (a warning does not refuse)');
like($err, qr/warning L001 published-table-change: ADD COLUMN price on items/,
	'add column: apply reports the finding');
stops(q{INSERT INTO items VALUES (2, 'two', 2.5)},
	qr/logical replication target relation "public.items" is missing replicated column: "?price"?/,
	'SELECT count(*) FROM items WHERE id = 2', 'add column, publisher first');
$sub->safe_psql('postgres', $add);
$pub->wait_for_catchup('sub_items');
is(rows_from(2, 'id, name, price'), '2|two|2.5',
	'add column: the row arrives once the subscriber has the column');

$sub->safe_psql('postgres', 'ALTER TABLE items ADD COLUMN qty int');
$pub->safe_psql('postgres',
	q{SELECT migrate.apply('002', 'ALTER TABLE items ADD COLUMN qty int', 'ALTER TABLE items DROP COLUMN qty', 'qty')});
arrives(q{INSERT INTO items VALUES (3, 'three', 3, 30)}, 3, 'id, name, price, qty', '3|three|3|30',
	'add column, subscribers first (the hinted order): the row arrives');

# ---- 2. DROP COLUMN

$lint = $pub->safe_psql('postgres',
	q{SELECT severity, rule_id, safe_alternative FROM migrate.lint('ALTER TABLE items DROP COLUMN qty') WHERE rule_id = 'L001'});
like($lint, qr/^warning\|L001\|here first, on the subscribers after they have caught up/,
	'drop column: lint says the publisher first');
$sub->safe_psql('postgres', 'ALTER TABLE items DROP COLUMN qty');
stops(q{INSERT INTO items VALUES (4, 'four', 4, 40)},
	qr/logical replication target relation "public.items" is missing replicated column: "?qty"?/,
	'SELECT count(*) FROM items WHERE id = 4', 'drop column, subscriber first');
$sub->safe_psql('postgres', 'ALTER TABLE items ADD COLUMN qty int');
$pub->wait_for_catchup('sub_items');
is(rows_from(4, 'id, qty'), '4|40', 'drop column: the row arrives once the column is back');

$pub->safe_psql('postgres',
	q{SELECT migrate.apply('003', 'ALTER TABLE items DROP COLUMN qty', 'ALTER TABLE items ADD COLUMN qty int', 'no qty',
	                    allow => ARRAY['drop-column -- the test drops it'])});
arrives(q{INSERT INTO items VALUES (5, 'five', 5)}, 5, q{id, name, coalesce(qty, -1)}, '5|five|-1',
	'drop column, publisher first (the hinted order): the row arrives, qty NULL');
$sub->safe_psql('postgres', 'ALTER TABLE items DROP COLUMN qty');
arrives(q{INSERT INTO items VALUES (6, 'six', 6)}, 6, 'id, name, price', '6|six|6',
	'drop column: then dropped on the subscriber, rows keep arriving');

# ---- 3. CREATE TABLE under FOR TABLES IN SCHEMA

$pub->safe_psql('postgres', 'CREATE PUBLICATION pub_public FOR TABLES IN SCHEMA public');
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION sub_all CONNECTION '$connstr' PUBLICATION pub_public WITH (copy_data = false)");
$sub->wait_for_subscription_sync($pub, 'sub_all');
$lint = $pub->safe_psql('postgres',
	q{SELECT severity, rule_id, message, safe_alternative FROM migrate.lint('CREATE TABLE tags (id int PRIMARY KEY)') WHERE rule_id = 'L001'});
like($lint, qr/^warning\|L001\|CREATE TABLE tags, published by publication pub_public: the new table is published at once.*\|subscribers first: create the table on every subscriber/,
	'create table: lint reports L001 for a FOR TABLES IN SCHEMA publication');
my $offset = -s $sub->logfile;
$pub->safe_psql('postgres',
	q{SELECT migrate.apply('004', 'CREATE TABLE tags (id int PRIMARY KEY)', 'DROP TABLE tags', 'tags');
	  INSERT INTO tags VALUES (1)});
$sub->wait_for_log(qr/logical replication target relation "public.tags" does not exist/, $offset);
pass('create table, publisher first: replication stops at its first row');
$sub->safe_psql('postgres', 'CREATE TABLE tags (id int PRIMARY KEY)');
$pub->wait_for_catchup('sub_all');
$sub->safe_psql('postgres', 'ALTER SUBSCRIPTION sub_all REFRESH PUBLICATION WITH (copy_data = false)');
$sub->wait_for_subscription_sync($pub, 'sub_all');
$pub->safe_psql('postgres', 'INSERT INTO tags VALUES (2)');
$pub->wait_for_catchup('sub_all');
is($sub->safe_psql('postgres', 'SELECT id FROM tags WHERE id = 2'), '2',
	'create table: once the subscriber has it (and refreshed), rows arrive');

# ---- 4. REPLICA IDENTITY NOTHING

$lint = $pub->safe_psql('postgres',
	q{SELECT severity, rule_id, message FROM migrate.lint('ALTER TABLE items REPLICA IDENTITY NOTHING') WHERE rule_id = 'L001'});
like($lint, qr/^error\|L001\|REPLICA IDENTITY NOTHING on items, published by publications pub_items, pub_public: UPDATE and DELETE of the table fail here/,
	'replica identity nothing: an error finding naming both publications');
($ret, $out, $err) = $pub->psql('postgres',
	q{SELECT migrate.apply('005', 'ALTER TABLE items REPLICA IDENTITY NOTHING', 'ALTER TABLE items REPLICA IDENTITY DEFAULT')});
like($err, qr/error L001 published-table-change/, 'replica identity nothing: apply refuses it');
($ret, $out, $err) = $pub->psql('postgres',
	q{BEGIN; ALTER TABLE items REPLICA IDENTITY NOTHING; UPDATE items SET name = 'x' WHERE id = 1; ROLLBACK});
like($err, qr/cannot update table "items" because it does not have a replica identity and publishes updates/,
	'replica identity nothing: PostgreSQL then refuses UPDATE, as the finding says');

# ---- nothing crashed

for my $node ($pub, $sub)
{
	unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC/, $node->name . ': no crash');
}
$sub->stop;
$pub->stop;
done_testing();
