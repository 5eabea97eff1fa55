# SPDX-License-Identifier: GPL-2.0-or-later
# Experiment configuration (YAML -> normalized JSON).
noinst_HEADERS += common/expconf.h
