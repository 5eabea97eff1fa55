# SPDX-License-Identifier: GPL-2.0-or-later
# tests/security/: each finding of the hostile-user review (doc/security.md)
# as a test against a real det-master, with real second Unix users. They need
# root and skip themselves otherwise.
SECURITY_TESTS =
SECURITY_TESTS += tests/security/identity-uid.sh
SECURITY_TESTS += tests/security/exec-as-owner.sh
SECURITY_TESTS += tests/security/tokens.sh
SECURITY_TESTS += tests/security/tls.sh
SECURITY_TESTS += tests/security/dos-unauth-bodies.sh
SECURITY_TESTS += tests/security/dos-half-open.sh
SECURITY_TESTS += tests/security/login-throttle.sh
SECURITY_TESTS += tests/security/user-quotas.sh
SECURITY_TESTS += tests/security/body-limits.sh
SECURITY_TESTS += tests/security/slowloris.sh
SECURITY_TESTS += tests/security/storage.sh
SECURITY_TESTS += tests/security/kill-tree.sh
SECURITY_TESTS += tests/security/adopt-pid.sh
SECURITY_TESTS += tests/security/download.sh
SECURITY_TESTS += tests/security/store-integrity.sh
SECURITY_TESTS += tests/security/control-chars.sh
SECURITY_TESTS += tests/security/disk-full.sh
SECURITY_TESTS += tests/security/password.sh
SECURITY_TESTS += tests/security/longpoll-idle.sh
SECURITY_TESTS += tests/security/trial-leftovers.sh
SECURITY_TESTS += tests/security/memory-quota.sh
SECURITY_TESTS += tests/security/workspace-access.sh
SECURITY_TESTS += tests/security/workspace-roles.sh
SECURITY_TESTS += tests/security/web-session.sh
SECURITY_TESTS += tests/security/image-import.sh
SECURITY_TESTS += tests/security/container-trial.sh
SECURITY_TESTS += tests/security/container-oci.sh
SECURITY_TESTS += tests/security/image-size-limit.sh
SECURITY_TESTS += tests/security/cmd-access.sh
SECURITY_TESTS += tests/security/tensorboard-access.sh
SECURITY_TESTS += tests/security/cmd-context.sh
EXTRA_DIST += tests/security/security-lib.sh tests/passwd.sh
EXTRA_DIST += tests/security/attack.py
EXTRA_DIST += tests/security/longpoll-client.py
TESTS += $(SECURITY_TESTS)
EXTRA_DIST += $(SECURITY_TESTS)
SECURITY_TESTS += tests/security/endpoint-matrix.sh
SECURITY_TESTS += tests/security/ckpt-download.sh
SECURITY_TESTS += tests/security/task-proxy.sh
SECURITY_TESTS += tests/security/shell-access.sh
EXTRA_DIST += tests/security/proxy-backend.py
EXTRA_DIST += tests/security/proxy-ws-client.py
SECURITY_TESTS += tests/security/notebook-access.sh
