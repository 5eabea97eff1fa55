# SPDX-License-Identifier: GPL-2.0-or-later
# webui: the web UI det-master serves at / (static files installed under
# $(pkgdatadir)/webui), the master's static-file and TensorBoard hooks, and
# the tests that drive the UI in a real browser.

# det-master's side: static files and TensorBoard event files.
master_libdetmaster_la_SOURCES += master/static.c master/static.h master/tboard.c master/tboard.h
master_libdetmaster_la_CPPFLAGS += -DDET_PKGDATADIR='"$(pkgdatadir)"'

webuidir = $(pkgdatadir)/webui
dist_webui_DATA = webui/index.html webui/style.css webui/favicon.svg
webuijsdir = $(pkgdatadir)/webui/js
dist_webuijs_DATA = webui/js/api.js webui/js/app.js webui/js/util.js webui/js/charts.js \
	webui/js/login.js webui/js/experiments.js webui/js/experiment.js webui/js/trial.js \
	webui/js/cluster.js
dist_webuijs_DATA += webui/js/collab.js webui/js/workspaces.js webui/js/models.js webui/js/expmeta.js
dist_webuijs_DATA += webui/js/queue.js
dist_webuijs_DATA += webui/js/heatmap.js
dist_webuijs_DATA += webui/js/compare.js webui/js/me.js
dist_webuijs_DATA += webui/js/tasks.js
dist_webuijs_DATA += webui/js/pager.js

# Static serving and TensorBoard files against a real det-master (curl).
# The browser tests: headless Chromium driven by playwright-core; they skip
# when chromium or node are missing. Artifacts land in tests/web/artifacts/.
WEB_TESTS = tests/web/static.test tests/web/run.sh
WEB_TESTS += tests/web/collab.sh
WEB_TESTS += tests/web/views.sh
EXTRA_DIST += tests/web/views.mjs
WEB_TESTS += tests/web/explore.sh
EXTRA_DIST += tests/web/explore.mjs
WEB_TESTS += tests/web/logs.sh
EXTRA_DIST += tests/web/logs.mjs doc/images/trial-logs-1440.png
WEB_TESTS += tests/web/tasks.sh
WEB_TESTS += tests/web/benches.sh
TESTS += $(WEB_TESTS)
EXTRA_DIST += tests/web/collab.mjs tests/web/playwright.sh tests/web/harness.mjs
EXTRA_DIST += tests/web/web-lib.sh
EXTRA_DIST += tests/web/tasks.mjs
EXTRA_DIST += doc/webui.md $(WEB_TESTS) tests/web/ui.mjs tests/web/launch.sh tests/web/train.py \
	tests/web/package.json \
	tests/web/package-lock.json
clean-local: clean-web-artifacts
clean-web-artifacts:
	rm -rf tests/web/artifacts tests/web/npm
.PHONY: clean-web-artifacts

# Unit test of the static-file module.
check_PROGRAMS += tests/unit/test_master_static
TESTS += tests/unit/test_master_static
tests_unit_test_master_static_SOURCES = tests/unit/test_master_static.c
tests_unit_test_master_static_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_static_LDADD = $(MASTER_TEST_LDADD)

# The metrics API for charts: since, max_points, ETag/304.
TESTS += tests/integration/test-metrics-api.sh
EXTRA_DIST += tests/integration/test-metrics-api.sh
# The experiment list's search and sorts at more than 1,000 experiments.
TESTS += tests/integration/test-exp-list-search.sh
EXTRA_DIST += tests/integration/test-exp-list-search.sh

# Unit test of the metric downsampling (pure).
check_PROGRAMS += tests/unit/test_master_metrics_ds
TESTS += tests/unit/test_master_metrics_ds
tests_unit_test_master_metrics_ds_SOURCES = tests/unit/test_master_metrics_ds.c
tests_unit_test_master_metrics_ds_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_metrics_ds_LDADD = $(MASTER_TEST_LDADD) $(LIBM)
# Paging back through a trial's logs (tail, before).
TESTS += tests/integration/test-logs-paging.sh
EXTRA_DIST += tests/integration/test-logs-paging.sh
EXTRA_DIST += doc/images/asha-experiment-1440.png doc/images/asha-experiment-800.png doc/images/experiments-1440.png doc/images/experiments-800.png
WEB_TESTS += tests/web/notebook.sh
EXTRA_DIST += tests/web/notebook.mjs
EXTRA_DIST += doc/images/notebook-dialog-800.png doc/images/tensorboard-task-1280.png
EXTRA_DIST += doc/images/checkpoints-1440.png doc/images/compare-1440.png doc/images/password-1440.png
EXTRA_DIST += doc/images/zoomed-chart-1280.png doc/images/filtered-trials-1280.png doc/images/fork-dialog-1280.png
