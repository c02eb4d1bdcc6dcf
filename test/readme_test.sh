#!/usr/bin/env bash
# The README is a tested document: every ```sql block of README.md runs, in
# order, in one psql session on a fresh database with the extension created,
# as a reader pasting them into psql would.
#
#   - A block must succeed (psql with ON_ERROR_STOP), unless the line before
#     its opening fence is <!-- fails -->: then it must fail.
#   - A ```text block right after a ```sql block shows (part of) its output:
#     those lines must appear, in that order and next to each other, in what
#     psql printed for the block (trailing spaces ignored); "..." stands for
#     any text within a line (dates that depend on today).  Show NOTICEs and
#     ERRORs there too, as psql prints them.
#
# Each block counts as one test; the last line is "readme: N passed, M failed".
# Runs against $PGHOST/$PGPORT when test/run.sh has started a server, else
# starts a throwaway one with the built extension staged (run "make" first).
# Usage: bash test/readme_test.sh [markdown file]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
README=$(realpath "${1:-$REPO/README.md}")

own_server=
if [[ -z ${FS_WORK:-} || -z ${PGHOST:-} ]]; then
	own_server=1
	trap fs_stop_server EXIT
	fs_start_server
fi

# The examples make data relative to today and query relative to it: a run
# that straddles midnight would see two different todays, so start after it.
secs=$(psql -X -At -d postgres -c "SELECT ceil(extract(epoch FROM date_trunc('day', now()) + interval '1 day' - now()))")
if ((secs < 120)); then
	echo "waiting ${secs}s for midnight to pass (the examples are relative to today)"
	sleep $((secs + 1))
fi

db=readme_test
PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" || exit 1
psql -X -q -d "$db" -c "CREATE EXTENSION feature_store" || exit 1

# psql runs in a scratch directory: files the examples write (\copy) land there
scratch=$(mktemp -d /tmp/readme_test.XXXXXX)
trap 'rm -rf "$scratch"; [[ -n $own_server ]] && fs_stop_server' EXIT
cd "$scratch"

README="$README" DB="$db" perl - <<'PERL'
use strict;
use warnings;

my $readme = $ENV{README};
my ($file) = $readme =~ m{([^/]+)\z};
open(my $fh, "<", $readme) or die "$readme: $!";
my @lines = <$fh>;
close $fh;

# Blocks in order: { line, sql, fails, expect }.
my @blocks;
my ($in, $lang, $start, $marker, @body) = (0, "", 0, "");
my $prev = "";     # the last non-blank line outside fences, or FENCE/SQLFENCE
for my $i (0 .. $#lines) {
	my $l = $lines[$i];
	if (!$in) {
		if ($l =~ /^```(\w*)\s*$/) {
			($in, $lang, $start, $marker, @body) = (1, $1, $i + 1, $prev);
		} elsif ($l =~ /\S/) {
			$prev = $l;
		}
		next;
	}
	if ($l !~ /^```\s*$/) {
		push @body, $l;
		next;
	}
	$in = 0;
	if ($lang eq "sql") {
		push @blocks, { line => $start, sql => join("", @body),
						fails => ($marker =~ /^<!--\s*fails\s*-->\s*$/ ? 1 : 0) };
		$prev = "SQLFENCE";
	} else {
		$blocks[-1]{expect} = join("", @body) if $lang eq "text" && $prev eq "SQLFENCE";
		$prev = "FENCE";
	}
}
die "$readme: an unterminated code fence\n" if $in;
die "$readme: no sql blocks\n" unless @blocks;

# One psql session: each block between markers; ON_ERROR_STOP off only for
# the blocks that must fail.
my $script = "\\set ON_ERROR_STOP 1\n";
for my $n (0 .. $#blocks) {
	my $b = $blocks[$n];
	$script .= "\\set ON_ERROR_STOP 0\n" if $b->{fails};
	$script .= "\\echo '\@\@block $n\@\@'\n$b->{sql}";
	$script .= "\n" unless $b->{sql} =~ /\n\z/;
	$script .= "\\echo '\@\@end $n\@\@'\n";
	$script .= "\\set ON_ERROR_STOP 1\n" if $b->{fails};
}
open(my $sf, ">", "readme.sql") or die $!;
print $sf $script;
close $sf;
system("psql -X -d $ENV{DB} < readme.sql > readme.out 2>&1");
open(my $of, "<", "readme.out") or die $!;
my $out = do { local $/; <$of> };
close $of;

sub norm { my $t = shift; $t =~ s/[ \t]+$//mg; $t =~ s/\n+\z/\n/; return $t; }
# the shown output as a pattern: literal text, "..." any text within a line
sub expect_re {
	my $re = join("[^\n]*?", map { quotemeta } split(/\.\.\./, norm(shift), -1));
	return qr/^$re$/m;
}

my ($passed, $failed) = (0, 0);
for my $n (0 .. $#blocks) {
	my $b = $blocks[$n];
	my $first = ($b->{sql} =~ /^(?:--[^\n]*\n|\s*\n)*\s*([^\n]*)/)[0] // "";
	my $name = "$file line $b->{line}: " . substr($first, 0, 60);
	my @why;
	my ($seg) = $out =~ /^\@\@block $n\@\@\n(.*?)^\@\@end $n\@\@$/ms;
	if (!defined $seg) {
		my ($partial) = $out =~ /^\@\@block $n\@\@\n(.*)/ms;
		push @why, defined $partial ? "psql stopped in this block:\n$partial" : "not run: an earlier block stopped psql";
	} else {
		my $errors = () = $seg =~ /^(?:psql:[^\n]*: )?ERROR:/mg;
		push @why, "it was expected to fail, and did not" if $b->{fails} && !$errors;
		push @why, "it failed" if !$b->{fails} && $errors;
		# a statement without its semicolon would run as part of the next block
		my $sql = $b->{sql};
		$sql =~ s/--[^\n]*//g;
		$sql =~ s/\s+\z//;
		my ($last) = $sql =~ /([^\n]*)\z/;
		push @why, "its last statement does not end with ; or a psql \\ command"
			if $last !~ /;\s*$/ && $last !~ /\\[a-z]/;
		if (defined $b->{expect} && norm($seg) !~ expect_re($b->{expect})) {
			push @why, "the output shown in the README is not what psql printed";
		}
		push @why, "psql printed:\n$seg" if @why;
	}
	if (@why) {
		$failed++;
		print "not ok ", $n + 1, " - $name\n";
		print map { "#   $_\n" } split /\n/, join("\n", @why);
		if (defined $b->{expect} && defined $seg) {
			print "#   the README shows:\n", map { "#   $_\n" } split /\n/, $b->{expect};
		}
	} else {
		$passed++;
		print "ok ", $n + 1, " - $name\n";
	}
}
print "readme: $passed passed, $failed failed\n";
exit($failed ? 1 : 0);
PERL
status=$?
# keep what ran and what psql printed, for a look after a failure
mkdir -p "$REPO/build/test-output/readme"
cp readme.sql readme.out "$REPO/build/test-output/readme/" 2>/dev/null
exit $status
