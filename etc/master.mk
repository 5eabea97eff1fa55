# SPDX-License-Identifier: GPL-2.0-or-later
# det-master's example configuration, systemd unit and det's bash completion.
EXTRA_DIST += etc/master.yaml etc/det-master.service etc/det.bash-completion
