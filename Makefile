# Dialix: the two commands a newcomer needs are `make run` and `make test`.
CARGO ?= cargo
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-sqlite test-postgres migrate fmt lint bench client-check

## Build and start the server on 127.0.0.1:8080 (SQLite under ./data unless DATABASE_URL says otherwise).
run:
	$(CARGO) run --bin dialix -- serve

## Every test: unit tests, then the integration suite on SQLite and on PostgreSQL.
test: test-sqlite test-postgres

test-sqlite:
	TEST_DATABASE=sqlite $(CARGO) test --workspace

test-postgres:
	TEST_DATABASE=postgres TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) $(CARGO) test -p dialix-tests

## Apply pending migrations and exit.
migrate:
	$(CARGO) run --bin dialix -- migrate

## Benchmark (docs/performance.md): a data set in PostgreSQL at BENCH_DATABASE_URL (kept while
## unchanged), the release server, latency per endpoint (4 clients), then throughput (16 keep-alive
## connections, req/s) on PostgreSQL and on a fresh SQLite file, then the pipeline's sizing (uploads/s,
## jobs per worker per minute with fake providers). Smaller: BENCH_CALLS, BENCH_AUDIT, BENCH_REQUESTS,
## BENCH_SECONDS, BENCH_PIPELINE_CALLS; BENCH_ONLY=<part of a path> measures a subset, report
## untouched; BENCH_ONLY=pipeline runs only the sizing.
## One cargo build for both binaries, so their shared dependencies compile once.
bench:
	$(CARGO) build --release -p dialix-api -p dialix-bench
	$${CARGO_TARGET_DIR:-target}/release/dialix-bench

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Generates the dashboard's TypeScript types from the API document with a third-party
## generator (openapi-typescript, via npx: needs Node.js) and fails on any warning or error.
client-check:
	$(CARGO) run --quiet --bin dialix -- openapi > $${CARGO_TARGET_DIR:-target}/openapi.json
	npx --yes openapi-typescript@7.13.0 $${CARGO_TARGET_DIR:-target}/openapi.json \
		-o $${CARGO_TARGET_DIR:-target}/dialix.d.ts > $${CARGO_TARGET_DIR:-target}/client-check.log 2>&1 \
		|| { cat $${CARGO_TARGET_DIR:-target}/client-check.log; exit 1; }
	@cat $${CARGO_TARGET_DIR:-target}/client-check.log
	@! grep -v -e '^✨' -e '^🚀' $${CARGO_TARGET_DIR:-target}/client-check.log \
		|| { echo "the generator warned about the document (above)"; exit 1; }
