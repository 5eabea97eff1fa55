# SPDX-License-Identifier: GPL-2.0-or-later
# det-master's configuration and systemd unit, det's bash completion, the
# plugins' det.conf and plugstack snippet. make install writes them with this
# build's paths (sbindir, bindir, pkglibdir, pkgdatadir, sysconfdir) in place
# of the /usr/local ones in the sources, and never overwrites a config file
# that already exists (the unit and the completion are not config: replaced).
EXTRA_DIST += etc/master.yaml etc/det-master.service etc/det.bash-completion

detslurmsysconfdir = $(sysconfdir)/det-slurm
bashcompletiondir = $(datadir)/bash-completion/completions
det_etc_subst = sed -e 's|/usr/local/sbin|$(sbindir)|g' -e 's|/usr/local/bin|$(bindir)|g' \
	-e 's|/usr/local/lib/det-slurm|$(pkglibdir)|g' -e 's|/usr/local/share/det-slurm|$(pkgdatadir)|g' \
	-e 's|/etc/det-slurm|$(detslurmsysconfdir)|g'
# Config files: SOURCE:DESTINATION under $(detslurmsysconfdir).
det_etc_configs = etc/master.yaml:master.yaml etc/det.conf:det.conf \
	etc/plugstack.conf.d/det.conf:plugstack.conf.d/det.conf

install-data-local: install-det-etc
uninstall-local: uninstall-det-etc
.PHONY: install-det-etc uninstall-det-etc
install-det-etc:
	$(MKDIR_P) '$(DESTDIR)$(systemdsystemunitdir)' '$(DESTDIR)$(bashcompletiondir)' \
		'$(DESTDIR)$(detslurmsysconfdir)/plugstack.conf.d'
	$(det_etc_subst) '$(srcdir)/etc/det-master.service' >det-master.service.tmp
	$(INSTALL_DATA) det-master.service.tmp '$(DESTDIR)$(systemdsystemunitdir)/det-master.service'
	$(INSTALL_DATA) '$(srcdir)/etc/det.bash-completion' '$(DESTDIR)$(bashcompletiondir)/det'
	@for pair in $(det_etc_configs); do \
		src=$${pair%%:*}; dst='$(DESTDIR)$(detslurmsysconfdir)'/$${pair#*:}; \
		if test -e "$$dst"; then echo "keeping the existing $$dst"; continue; fi; \
		$(det_etc_subst) "$(srcdir)/$$src" >det-etc.tmp && \
		echo " $(INSTALL_DATA) $$src $$dst" && $(INSTALL_DATA) det-etc.tmp "$$dst" || exit 1; \
	done
	rm -f det-master.service.tmp det-etc.tmp
# A config file is removed only while it is still the one make install wrote.
uninstall-det-etc:
	rm -f '$(DESTDIR)$(systemdsystemunitdir)/det-master.service' '$(DESTDIR)$(bashcompletiondir)/det'
	@for pair in $(det_etc_configs); do \
		src=$${pair%%:*}; dst='$(DESTDIR)$(detslurmsysconfdir)'/$${pair#*:}; \
		test -e "$$dst" || continue; \
		if $(det_etc_subst) "$(srcdir)/$$src" | cmp -s - "$$dst"; then rm -f "$$dst"; \
		else echo "keeping the changed $$dst"; fi; \
	done
