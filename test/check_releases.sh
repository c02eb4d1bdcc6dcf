#!/usr/bin/env bash
# Released install scripts are frozen: each must still match the checksum
# recorded when it was released.  Prints one line per script and exits 1 if
# any was edited.
set -uo pipefail
cd "$(dirname "$0")/../src/sql/releases"
status=0
while read -r sum file; do
	if [[ ! -f $file ]]; then
		echo "released script src/sql/releases/$file is missing"; status=1
	elif [[ $(sha256sum "$file" | cut -d' ' -f1) != "$sum" ]]; then
		echo "released script src/sql/releases/$file was edited: released scripts are frozen; write the change as an upgrade step in src/sql/updates/"
		status=1
	else
		echo "released script src/sql/releases/$file unchanged"
	fi
done < SHA256SUMS
for f in *.sql; do
	grep -q "  $f\$" SHA256SUMS || { echo "src/sql/releases/$f has no recorded checksum in SHA256SUMS"; status=1; }
done
exit $status
