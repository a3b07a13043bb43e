# File helpers shared by the TAP tests that write migration folders (010, 011, 012): files
# written and read byte for byte (CRLF stays CRLF, no encoding layer).
package MsFiles;

use strict;
use warnings;

use Exporter 'import';
use File::Path qw(make_path);
our @EXPORT = qw(put slurp_file_raw);

# put(PATH, TEXT): replaces PATH with TEXT, making its directory first.
sub put
{
	my ($path, $text) = @_;
	(my $dir = $path) =~ s{/[^/]+$}{};
	make_path($dir);
	open(my $f, '>:raw', $path) or die "$path: $!";
	print $f $text;
	close $f or die "$path: $!";
	return;
}

# slurp_file_raw(PATH): the bytes of PATH.
sub slurp_file_raw
{
	my ($path) = @_;
	open(my $f, '<:raw', $path) or die "$path: $!";
	local $/;
	my $t = <$f>;
	close $f;
	return $t;
}

1;
