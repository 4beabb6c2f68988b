# SupportDesk: `make run` serves the demo desk, `make test` runs every check. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app supportdesk.app:create_app
HOST ?= 127.0.0.1
PORT ?= 5000
VENDOR := supportdesk/static/vendor

.PHONY: run test smoke install install-dev assets browser nginx mail-servers directory-server wrk migrate seed bench bench-sqlite bench-mail bench-plot clean \
	lock release deploy-test vm-tools oidc-provider

run: install assets migrate seed
	@echo
	@echo "SupportDesk is starting on http://$(HOST):$(PORT)"
	@$(FLASK) seed-demo 2>/dev/null | sed -n '/Demo logins/,$$p'
	@echo
	@echo "The job worker runs beside it (jobs queue in instance/jobs.sqlite3); sent mail: /admin/jobs and /admin/mail"
	@$(FLASK) run-worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev assets browser nginx mail-servers directory-server oidc-provider
	@mkdir -p reports
	$(BIN)/ruff check supportdesk tests migrations bench deploy
	$(BIN)/ruff format --check supportdesk tests bench deploy
	$(BIN)/mypy
	$(BIN)/bandit -q -r supportdesk -lll
	$(BIN)/python -m tests.dependency_audit
	$(BIN)/python -m tests.preflight
	$(BIN)/pytest -p no:cacheprovider --junitxml=reports/junit.xml \
		--cov=supportdesk --cov-branch --cov-report=term --cov-report=xml:reports/coverage.xml \
		--cov-report=html:reports/coverage-html --cov-fail-under=95

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

# Front-end libraries come from the npm registry (package.json / package-lock.json), never from the repo.
assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map \
	   node_modules/htmx.org/dist/htmx.min.js \
	   node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
	   node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map $(VENDOR)/
	touch $@

# The OpenID Connect tests sign in against panva's oidc-provider (npm, pinned in tests/oidc/package.json),
# run by Node.js; installed apart from the front-end assets and never committed.
OIDC_PROVIDER := tests/oidc/node_modules/.installed
oidc-provider: $(OIDC_PROVIDER)

$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	@command -v node >/dev/null 2>&1 || { echo "!!! Node.js is missing: the OpenID Connect tests will be skipped (a failure under CI=true)"; exit 0; }; \
		npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error && touch $@

# The production stack on loopback (2 gunicorns behind Debian's nginx, PostgreSQL, Redis); `make test`
# runs it too, with everything else. Installs nginx when it is missing and apt can.
smoke: install-dev assets nginx
	$(BIN)/pytest -p no:cacheprovider tests/smoke -v

nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { echo "Installing Debian's nginx for the smoke test"; \
		{ apt-get install -y -q nginx-light >/dev/null 2>&1 || sudo -n apt-get install -y -q nginx-light >/dev/null 2>&1; } \
		|| echo "!!! Could not install nginx: the smoke test will be skipped (a failure under CI=true)"; }

# End-to-end tests drive Debian's Chromium; install it when missing (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "Installing Debian's chromium for the end-to-end tests"; \
		{ apt-get install -y -q chromium >/dev/null 2>&1 || sudo -n apt-get install -y -q chromium >/dev/null 2>&1; } \
		|| echo "!!! Could not install chromium: end-to-end tests will be skipped (a failure under CI=true)"; }

# The mail tests start Debian's Dovecot (IMAPS) themselves; install it when missing. RUNLEVEL=1 keeps the
# package's scripts from starting a system-wide Dovecot; a stale package list is refreshed once.
mail-servers:
	@command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || { echo "Installing Debian's Dovecot for the mail tests"; \
		for apt in "apt-get" "sudo -n apt-get"; do \
			RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $$apt install -y -q dovecot-imapd >/dev/null 2>&1 && break; \
			$$apt update -q >/dev/null 2>&1 && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $$apt install -y -q dovecot-imapd \
				>/dev/null 2>&1 && break; \
		done; [ -x /usr/sbin/dovecot ] \
		|| echo "!!! Could not install Dovecot: the mail server tests will be skipped (a failure under CI=true)"; }

# The directory tests start Debian's OpenLDAP (slapd, with ldap-utils' ldapwhoami) themselves; install it
# when missing. RUNLEVEL=1 keeps the package's scripts from starting a system-wide slapd.
directory-server:
	@{ [ -x /usr/sbin/slapd ] && command -v ldapwhoami >/dev/null 2>&1; } || { echo "Installing Debian's slapd for the directory tests"; \
		for apt in "apt-get" "sudo -n apt-get"; do \
			RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $$apt install -y -q slapd ldap-utils >/dev/null 2>&1 && break; \
			$$apt update -q >/dev/null 2>&1 && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $$apt install -y -q slapd ldap-utils \
				>/dev/null 2>&1 && break; \
		done; [ -x /usr/sbin/slapd ] \
		|| echo "!!! Could not install slapd: the directory tests will be skipped (a failure under CI=true)"; }

# The benchmark's load generator is Debian's wrk; install it when missing (a fresh machine has none).
wrk:
	@command -v wrk >/dev/null 2>&1 || { echo "Installing Debian's wrk for the benchmark"; \
		apt-get install -y -q wrk >/dev/null 2>&1 || sudo -n apt-get install -y -q wrk >/dev/null 2>&1 \
		|| { echo "!!! Could not install wrk: install it (apt-get install wrk) and run the benchmark again"; exit 1; }; }

# Python dependencies for servers, pinned with hashes (requirements.lock) from pyproject.toml's pins.
lock: install-dev
	$(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock" --output-file requirements.lock

# The release artifact the playbook installs offline: dist/supportdesk-<commit>.tar.gz.
release: install-dev assets
	$(BIN)/python deploy/build_release.py

# Deploy for real to a throwaway Debian 12 VM (QEMU) and put it through upgrades, a failed release, a
# rollback, a restore and a reboot: see tests/deploy_vm/__main__.py. The base image is cached in
# /var/cache/supportdesk-deploy-test (built on first use, ~5 minutes).
deploy-test: install-dev assets vm-tools
	$(BIN)/python -m tests.deploy_vm $(if $(filter multi,$(TOPOLOGY)),--topology multi,)

vm-tools:
	@command -v qemu-system-x86_64 >/dev/null 2>&1 && command -v debootstrap >/dev/null 2>&1 \
		&& command -v qemu-img >/dev/null 2>&1 && command -v restic >/dev/null 2>&1 || { \
		echo "Installing Debian's QEMU, debootstrap and restic for the deploy test"; \
		{ apt-get install -y -q qemu-system-x86 qemu-utils debootstrap restic openssh-client curl >/dev/null 2>&1 \
		|| sudo -n apt-get install -y -q qemu-system-x86 qemu-utils debootstrap restic openssh-client curl >/dev/null 2>&1; } \
		|| { echo "!!! Could not install QEMU and debootstrap (apt-get install qemu-system-x86 qemu-utils debootstrap)"; exit 1; }; }

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo >/dev/null

# The benchmark (not part of `make test`): N tickets in PostgreSQL (default 1,000,000; several sizes with
# N=100000,1000000), every endpoint paired with the ceiling over ROUNDS rounds (default 9) of SECONDS (4).
bench: install-dev assets wrk mail-servers
	N=$(or $(N),1000000) $(BIN)/python -m bench.run
	$(BIN)/python -m bench.mail_parsing
	$(BIN)/python -m bench.mail_fetching
	$(BIN)/python -m bench.mail_outbox
	$(BIN)/python -m bench.kb_suggestions

# How fast inbound mail is parsed (the corpus in tests/mail/corpus), against the bare stdlib parse; and
# how fast the fetcher turns a Dovecot mailbox full of it into tickets.
bench-mail: install-dev mail-servers
	$(BIN)/python -m bench.mail_parsing
	$(BIN)/python -m bench.mail_fetching
	$(BIN)/python -m bench.mail_outbox

# The embedded mode's budget: SQLite with N tickets (default 100,000), one user, every page p99 <= 50 ms.
bench-sqlite: install-dev assets wrk
	N=$(or $(N),100000) $(BIN)/python -m bench.sqlite

# The plots in docs/performance.md, from result files: make bench-plot RESULTS="bench/results/a.json ..."
bench-plot: install-dev
	$(BIN)/python -m bench.plot $(RESULTS)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) reports dist .coverage .mypy_cache .ruff_cache .hypothesis
