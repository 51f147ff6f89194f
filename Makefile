# Dialix: the two commands a newcomer needs are `make run` and `make test`.
CARGO ?= cargo
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-sqlite test-postgres migrate fmt lint

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

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
