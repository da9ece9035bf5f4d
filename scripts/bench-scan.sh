#!/usr/bin/env bash
# bench-scan.sh: keywatch's scanner against gitleaks on a generated corpus.
#
# Generates (internal/scancorpus, via scripts/benchscan) a directory of
# source-like files and a git repository with planted keys of every format
# and lookalikes, writes a gitleaks config limited to the AI-provider rules
# of gitleaks' default config (KEY-FORMATS.md), and times, one run each,
# keywatch (scan.ScanPath / scan.ScanGit in process, via scripts/benchscan)
# and gitleaks (`gitleaks dir`, `gitleaks git`) on one core (taskset -c 0,
# GOMAXPROCS=1) and on all cores, then scores both against the manifest.
#
# Not for CI: it takes minutes and needs gitleaks
# (go install github.com/zricethezav/gitleaks/v8@v8.30.1).
#
#   MB=300 COMMITS=3000 SEED=1 RUNS=5 scripts/bench-scan.sh
set -euo pipefail

MB=${MB:-300}
RUNS=${RUNS:-1} # timed runs of each tool and mode; the scores come from the last
COMMITS=${COMMITS:-3000}
SEED=${SEED:-1}
GITLEAKS=${GITLEAKS:-$(command -v gitleaks || echo "$HOME/go/bin/gitleaks")}
GLVER=${GLVER:-v8.30.1} # the version installed; `gitleaks version` is not set by go install
GLCONF=${GLCONF:-$(go env GOMODCACHE)/github.com/zricethezav/gitleaks/v8@$GLVER/config/gitleaks.toml}
NCPU=$(nproc)

cd "$(dirname "$0")/.."
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-scan.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

go build -o "$TMP/benchscan" ./scripts/benchscan
go build -o "$TMP/keywatch" ./cmd/keywatch
head -c 32 /dev/urandom >"$TMP/pepper"
chmod 600 "$TMP/pepper"

# The gitleaks rules for the providers keywatch covers (KEY-FORMATS.md),
# copied verbatim (regex, keywords, entropy, rule allowlists) from the
# default config, with its global allowlist; no other rules.
RULES="anthropic-admin-api-key anthropic-api-key aws-amazon-bedrock-api-key-long-lived
aws-amazon-bedrock-api-key-short-lived cohere-api-token gcp-api-key huggingface-access-token
huggingface-organization-api-token openai-api-key perplexity-api-key"
{
	printf 'title = "gitleaks AI-provider rules (bench-scan.sh)"\n\n[extend]\nuseDefault = false\n\n'
	awk -v rules="$RULES" '
		BEGIN { n = split(rules, r, /[ \n]+/); for (i = 1; i <= n; i++) want["id = \"" r[i] "\""] = 1 }
		/^\[allowlist\]/ { inglobal = 1 }
		/^\[\[rules\]\]/ { inglobal = 0; block = $0 "\n"; keep = -1; next }
		inglobal { print; next }
		keep == -1 { keep = ($0 in want); if (keep) printf "%s", block }
		keep == 1 { print }
	' "$GLCONF"
} >"$TMP/gitleaks.toml"
echo "gitleaks $GLVER rules: $(grep -c '^\[\[rules\]\]' "$TMP/gitleaks.toml") ($(grep '^id = ' "$TMP/gitleaks.toml" | cut -d'"' -f2 | tr '\n' ' '))"

"$TMP/benchscan" gen-dir "$TMP/dir" "$MB" "$SEED" "$TMP/dir.json"
"$TMP/benchscan" gen-git "$TMP/repo" "$COMMITS" "$SEED" "$TMP/repo.json"
echo "corpus: $(du -sb "$TMP/dir" | cut -f1) bytes in dir; repo $(du -sb "$TMP/repo/.git" | cut -f1) bytes in .git"

timed() { # label, command...: run once, print wall time (ms) and peak RSS
	local label=$1 rc=0
	shift
	local TIMEFORMAT="$label: wall %3Rs"
	time /usr/bin/time -f "$label: user %Us, sys %Ss, max RSS %MKB" "$@" || rc=$?
	return $rc
}

for cores in 1 "$NCPU"; do
	if [ "$cores" = 1 ]; then
		pin=(taskset -c 0 env GOMAXPROCS=1)
	else
		pin=(taskset -c "0-$((NCPU - 1))" env -u GOMAXPROCS)
	fi
	echo
	echo "=== $cores core(s): ${pin[*]}"
	for mode in dir git; do
		if [ "$mode" = dir ]; then target=$TMP/dir m=dir; else target=$TMP/repo m=repo; fi
		echo "--- keywatch $mode (library: scan.ScanPath / scan.ScanGit in process)"
		for run in $(seq "$RUNS"); do
			timed "keywatch-lib $mode $cores run $run" "${pin[@]}" "$TMP/benchscan" scan "$mode" "$target" "$TMP/kw.json"
		done
		"$TMP/benchscan" score "$mode" "$TMP/kw.json" "$TMP/$m.json"
		# The command line end to end: a repository's working tree and its
		# history, results collapsed per key and path, fingerprinted, JSON.
		echo "--- keywatch $mode (keywatch scan --format json)"
		for run in $(seq "$RUNS"); do
			timed "keywatch-cli $mode $cores run $run" "${pin[@]}" "$TMP/keywatch" scan --pepper-file "$TMP/pepper" \
				--format json --output "$TMP/kwcli.json" "$target" || [ $? = 1 ]
		done
		"$TMP/benchscan" score-report "$mode" "$TMP/kwcli.json" "$TMP/$m.json" "$TMP/pepper"
		echo "--- gitleaks $mode"
		for run in $(seq "$RUNS"); do
			rm -f "$TMP/gl.json"
			timed "gitleaks $mode $cores run $run" "${pin[@]}" "$GITLEAKS" "$mode" "$target" -c "$TMP/gitleaks.toml" \
				-f json -r "$TMP/gl.json" --no-banner --exit-code 0 -l error
		done
		"$TMP/benchscan" gitleaks "$mode" "$TMP/gl.json" "$TMP/$m.json" "$target"
	done
done
