# SPDX-License-Identifier: GPL-2.0-or-later
# Operations (doc/ops.md): the Prometheus scrape config and alert rules,
# installed as examples under $(pkgdatadir)/prometheus, their test, and the
# test that a store written by the previous release is upgraded.
promdir = $(pkgdatadir)/prometheus
dist_prom_DATA = etc/prometheus/prometheus.yml etc/prometheus/det-master.rules.yml

OPS_TESTS = tests/integration/test-ops-prometheus.sh tests/integration/test-ops-upgrade.sh
EXTRA_DIST += $(OPS_TESTS) tests/data/prometheus/det-master.rules.test.yml \
	tests/data/store-e46a92f.sql
TESTS += $(OPS_TESTS)
EXTRA_DIST += doc/ops.md
