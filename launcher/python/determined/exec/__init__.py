# SPDX-License-Identifier: GPL-2.0-or-later
"""Programs det-launch runs on a trial's behalf (``python3 -m determined.exec.X``)."""
