# Query helpers for psql sessions started with PostgreSQL::Test::Cluster->background_psql,
# shared by the TAP tests. They feed psql's stdin themselves (no trailing ";" line as
# BackgroundPsql::query adds: psql would send it as an empty query, which would then be the
# session's "last query" in pg_stat_activity), and clear stderr, which this PG15 BackgroundPsql
# does not. Each query is followed by a banner echoed on stdout and stderr, which marks its end.
package MsQuery;

use strict;
use warnings;

use Exporter 'import';
our @EXPORT = qw(start_query finish_query run_query query_ok);

my $seq = 0;

sub start_query
{
	my ($s, $sql) = @_;
	$seq++;
	my $banner = "ms_query_done_$seq";
	$s->{stdout} = '';
	$s->{stderr} = '';
	$s->{timeout}->start;
	$s->{stdin} .= "$sql\n\\echo '$banner'\n\\warn '$banner'\n";
	$s->{run}->pump_nb;
	return $banner;
}

# Waits for the query started with $banner; returns (stdout, stderr).
sub finish_query
{
	my ($s, $banner) = @_;
	my $match = qr/$banner\r?\n/;
	$s->{run}->pump
	  until ($s->{stdout} =~ $match && $s->{stderr} =~ $match)
	  || $s->{timeout}->is_expired;
	die "query timed out: stdout '$s->{stdout}', stderr '$s->{stderr}'"
	  if $s->{timeout}->is_expired;
	my ($out, $err) = ($s->{stdout}, $s->{stderr});
	$out =~ s/\r?\n?$banner\r?\n//;
	$err =~ s/$banner\r?\n//;
	$s->{stdout} = '';
	$s->{stderr} = '';
	return ($out, $err);
}

sub run_query
{
	my ($s, $sql) = @_;
	return finish_query($s, start_query($s, $sql));
}

sub query_ok
{
	my ($s, $sql) = @_;
	my ($out, $err) = run_query($s, $sql);
	die "query failed: $sql\n$err" if $err ne '';
	return $out;
}

1;
