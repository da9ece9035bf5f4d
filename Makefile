# KeyAbuseContent: `make` builds the pack and prints its report; `make test` is what CI runs.
DOTNET ?= dotnet
CONFIG ?= Release
KEYABUSE = $(DOTNET) generator/KeyAbuseContent.Cli/bin/$(CONFIG)/net10.0/keyabuse.dll
KQL_CHECK = tools/kql-check/node_modules/@kusto/language-service-next/Kusto.Language.Bridge.js
# The pack's version (x.y.z): the VERSION file names the bundle and the release.
VERSION := $(shell cat VERSION 2>/dev/null)
# What `keyabuse test` recorded, with each rule's fingerprint; coverage and bundle trust only current entries.
RESULTS = TestResults/rule-tests.json
# The labelled synthetic organisation the whole library runs over: 16 days (the shortest run that injects every
# attack scenario), 7 services with one key each (OpenAI, Anthropic and a LiteLLM virtual key: deletion after
# confirmation, deactivation and the automatic LiteLLM clamp are all played), about 497,000 events. (With 5 services,
# seed 7, the library once missed the low-and-slow attack on the Anthropic key; llm-key-long-prompts-above-profile
# now catches it on both targets, 21 minutes after it starts on Elastic.) The full 35-day, 12-key organisation of
# BENCHMARKS.md takes several times longer.
SIMULATED = TestResults/simulated-org
SIMULATION = --days 16 --services 7 --keys-per-service 1 --seed 7
# What `keyabuse run --respond` recorded of the response on that organisation: the evidence of quota-clamp and
# time-to-detect, fingerprinted like the results; coverage and bundle trust it only when current.
RESPONSE = TestResults/response.json

.PHONY: all tools restore compile validate build dist release coverage rule-tests response test golden format clean bench

# Runs every rule's tests on the bundled datasets as Sentinel and Elastic would, plays the response on a simulated
# organisation, builds the release bundle, prints its report.
all: dist
	@cat dist/REPORT.md

# Microsoft's Kusto language service (npm, pinned by tools/kql-check/package-lock.json) checks every KQL query.
tools: $(KQL_CHECK)

$(KQL_CHECK): tools/kql-check/package.json tools/kql-check/package-lock.json
	npm ci --prefix tools/kql-check --no-audit --no-fund
	@touch $@

restore:
	$(DOTNET) restore KeyAbuseContent.sln

compile: restore
	$(DOTNET) build KeyAbuseContent.sln -c $(CONFIG) --no-restore -nologo -clp:ErrorsOnly

validate: tools compile
	$(KEYABUSE) validate --rules detections

# Compiles every rule for Sentinel, Elastic and Sigma into out/pack/ (unzipped); writes nothing when a rule fails.
build: tools compile
	$(KEYABUSE) build --rules detections --out out/pack

# The release bundle dist/KeyAbuseContent-$(VERSION).zip (and dist/REPORT.md) from the rule tests' results and the
# response evidence (its coverage tables); nothing is written when a rule fails to build or fails a test.
dist: rule-tests response
	$(KEYABUSE) bundle --rules detections --datasets test-data --results $(RESULTS) --response $(RESPONSE) --out dist

# The bundle, and releases/$(VERSION)/report.json (commit it: `validate` checks rule versions against it).
release: rule-tests response
	$(KEYABUSE) bundle --rules detections --datasets test-data --results $(RESULTS) --response $(RESPONSE) --out dist --record releases

# The coverage gate: threats and checks of the threat model against tested rules and the response evidence;
# ATT&CK/ATLAS layers in dist/coverage/. Exit 1 when a threat or check is not covered.
coverage: rule-tests response
	$(KEYABUSE) coverage --rules detections --datasets test-data --results $(RESULTS) --response $(RESPONSE) --out dist/coverage

# The simulated organisation (same options, same bytes), the whole library run over it on both targets' schedules
# (exit 1 when a labelled attack is missed), and the response played on each target's timeline against the local
# provider servers, writing the evidence; the two targets must return the same rows on every run here too.
define RESPOND
@mkdir -p TestResults
rm -rf $(SIMULATED)
$(KEYABUSE) simulate --out $(SIMULATED) $(SIMULATION)
$(KEYABUSE) run --dataset $(SIMULATED) --out TestResults/simulated-alerts.jsonl --respond --evidence $(RESPONSE)
endef

response: tools compile
	$(RESPOND)

# Each rule's declared tests, on both targets, with parity between them; JUnit XML for CI, results for coverage.
rule-tests: tools compile
	@mkdir -p TestResults
	$(KEYABUSE) test --rules detections --datasets test-data --junit TestResults/rule-tests.xml --results $(RESULTS)

# Unit, golden and executor tests; validate; every rule's declared tests; the simulated organisation run with its
# response (the response target); and the coverage gate over both, which fails the build when a threat is uncovered.
test: tools compile
	$(DOTNET) test KeyAbuseContent.sln -c $(CONFIG) --no-build -nologo --logger "console;verbosity=minimal"
	$(KEYABUSE) validate --rules detections
	@mkdir -p TestResults
	$(KEYABUSE) test --rules detections --datasets test-data --junit TestResults/rule-tests.xml --results $(RESULTS)
	$(RESPOND)
	$(KEYABUSE) coverage --rules detections --datasets test-data --results $(RESULTS) --response $(RESPONSE) --out dist/coverage

# Rewrites the golden files of tests/KeyAbuseContent.Tests/Golden from the current generator; review the diff.
golden: tools compile
	UPDATE_GOLDEN=1 $(DOTNET) test KeyAbuseContent.sln -c $(CONFIG) --no-build -nologo --filter "FullyQualifiedName~KeyAbuseContent.Tests.Golden."

format:
	$(DOTNET) format KeyAbuseContent.sln --verify-no-changes

# The benchmarks of BENCHMARKS.md (not part of test; minutes, and they want a quiet machine): the executors against
# DuckDB over 10M rows (BenchmarkDotNet), then keyabuse simulate, run and validate on a 35-day, 12-key organisation.
BENCH_DATASET ?= /tmp/keyabuse-bench-sim
BENCH_TIME = /usr/bin/time -f "%e s wall, %U s user, %S s system, %M KB max RSS"
bench: tools compile
	@nproc; free -h | head -2; uname -sr; $(DOTNET) --version; uptime
	cd bench/KeyAbuseContent.Benchmarks && $(DOTNET) run -c $(CONFIG) --no-build -- --filter '*KeyMinute*' --artifacts ../../BenchmarkDotNet.Artifacts
	rm -rf $(BENCH_DATASET)
	$(BENCH_TIME) $(KEYABUSE) simulate --out $(BENCH_DATASET) --seed 1
	-$(BENCH_TIME) $(KEYABUSE) run --dataset $(BENCH_DATASET) --out $(BENCH_DATASET)/alerts.jsonl
	$(BENCH_TIME) $(KEYABUSE) validate --rules detections
	$(BENCH_TIME) node tools/kql-check/check.js < /dev/null || true
	@uptime

clean:
	rm -rf dist generator/*/bin generator/*/obj tests/*/bin tests/*/obj
