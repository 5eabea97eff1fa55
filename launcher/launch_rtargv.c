/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure builders of container command lines: the GPU plan (which device nodes,
 * CUDA_VISIBLE_DEVICES inside, the NVIDIA hook's variable) and the argv of
 * enroot and Apptainer, from inputs only (no I/O, tested as tables in
 * tests/unit/test_launch_rtargv.c). Non-obvious: the environment never goes
 * on a command line (other users read it in ps): enroot gets the names only
 * (`--env NAME` takes the value from enroot's own environment), Apptainer an
 * --env-file.
 */
#include "launch_rtargv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void launch_strv_add(struct launch_strv *s, const char *fmt, ...)
{
	va_list ap;
	char *x = NULL;
	if (s->oom)
		return;
	va_start(ap, fmt);
	if (vasprintf(&x, fmt, ap) < 0)
		x = NULL;
	va_end(ap);
	if (x && s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **g = realloc(s->v, cap * sizeof(*g));
		if (!g) {
			free(x);
			x = NULL;
		} else {
			s->v = g;
			s->cap = cap;
		}
	}
	if (!x) {
		s->oom = 1;
		return;
	}
	s->v[s->n++] = x;
	s->v[s->n] = NULL;
}

void launch_rt_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* The array, or NULL (freed) when something failed; an empty array for none. */
static char **rt_finish(struct launch_strv *s)
{
	if (!s->oom && !s->v)
		s->v = calloc(1, sizeof(char *));
	if (s->oom || !s->v) {
		launch_rt_argv_free(s->v);
		return NULL;
	}
	return s->v;
}

static int listed(const char *const *present, const char *path)
{
	for (size_t i = 0; present && present[i]; i++)
		if (!strcmp(present[i], path))
			return 1;
	return 0;
}

void launch_gpu_plan_free(struct launch_gpu_plan *p)
{
	launch_rt_argv_free(p->devices);
	free(p->cuda_visible);
	free(p->nvidia_visible);
	memset(p, 0, sizeof(*p));
}

int launch_gpu_plan_make(const char *slot, const char *cuda_visible, const char *const *present,
                         int with_hook, struct launch_gpu_plan *out)
{
	static const char *const ctl[] = {"/dev/nvidiactl", "/dev/nvidia-uvm",
	                                  "/dev/nvidia-uvm-tools", NULL};
	struct launch_strv d = {0}, inside = {0}, host = {0};
	char dev[32];
	int k = 0;

	memset(out, 0, sizeof(*out));
	if (!slot || strcmp(slot, "cuda") || !cuda_visible) {
		out->devices = rt_finish(&d);
		return out->devices ? 0 : -1;
	}
	for (const char *p = cuda_visible; *p;) {
		size_t n = strcspn(p, ",");
		if (n > 0 && n < 6 && strspn(p, "0123456789") == n) {
			snprintf(dev, sizeof(dev), "/dev/nvidia%.*s", (int)n, p);
			if (listed(present, dev)) {
				launch_strv_add(&d, "%s", dev);
				launch_strv_add(&inside, "%d", k++);
				launch_strv_add(&host, "%.*s", (int)n, p);
			}
		}
		p += n + (p[n] == ',');
	}
	for (size_t i = 0; k > 0 && ctl[i]; i++)
		if (listed(present, ctl[i]))
			launch_strv_add(&d, "%s", ctl[i]);
	/* CUDA_VISIBLE_DEVICES inside counts the GPUs passed in from 0 */
	size_t len = 1;
	for (size_t i = 0; i < inside.n; i++)
		len += strlen(inside.v[i]) + strlen(host.v[i]) + 2;
	if (!d.oom && !inside.oom && !host.oom) {
		out->cuda_visible = calloc(1, len);
		out->nvidia_visible = with_hook && k > 0 ? calloc(1, len) : NULL;
		for (size_t i = 0; out->cuda_visible && i < inside.n; i++) {
			strcat(strcat(out->cuda_visible, i ? "," : ""), inside.v[i]);
			if (out->nvidia_visible)
				strcat(strcat(out->nvidia_visible, i ? "," : ""), host.v[i]);
		}
	}
	out->devices = rt_finish(&d);
	launch_rt_argv_free(inside.v);
	launch_rt_argv_free(host.v);
	if (!out->devices || !out->cuda_visible || (with_hook && k > 0 && !out->nvidia_visible)) {
		launch_gpu_plan_free(out);
		return -1;
	}
	return 0;
}

char **launch_gpu_podman_args(const struct launch_gpu_plan *p)
{
	struct launch_strv a = {0};
	for (size_t i = 0; p->devices && p->devices[i]; i++) {
		launch_strv_add(&a, "--device");
		launch_strv_add(&a, "%s", p->devices[i]);
	}
	if (p->nvidia_visible) {
		launch_strv_add(&a, "--env=NVIDIA_VISIBLE_DEVICES=%s", p->nvidia_visible);
		launch_strv_add(&a, "--env=NVIDIA_DRIVER_CAPABILITIES=compute,utility");
	}
	return rt_finish(&a);
}

/* A path enroot's fstab line and Apptainer's --bind can carry. */
static int rt_path_ok(const char *p)
{
	return p && p[0] == '/' && !strpbrk(p, ":, \t\n");
}

static int has_gpus(const struct launch_rt_spec *s)
{
	return s->gpus && s->gpus->devices && s->gpus->devices[0];
}

char **launch_rt_enroot_argv(const struct launch_rt_spec *s)
{
	struct launch_strv a = {0};
	if (!s->program || !s->image || !rt_path_ok(s->workdir))
		return NULL;
	launch_strv_add(&a, "%s", s->program);
	launch_strv_add(&a, "start");
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct launch_rt_mount *m = &s->mounts[i];
		if (!rt_path_ok(m->src) || !rt_path_ok(m->dst))
			a.oom = 1;
		launch_strv_add(&a, "--mount");
		launch_strv_add(&a, "%s %s none x-create=auto,rbind%s", m->src, m->dst,
		                m->read_only ? ",ro" : "");
	}
	for (size_t i = 0; s->env && s->env[i]; i++) {
		launch_strv_add(&a, "--env");
		launch_strv_add(&a, "%.*s", (int)strcspn(s->env[i], "="), s->env[i]);
	}
	if (has_gpus(s) && s->gpus->nvidia_visible) { /* enroot's NVIDIA hook reads these */
		launch_strv_add(&a, "--env");
		launch_strv_add(&a, "NVIDIA_VISIBLE_DEVICES=%s", s->gpus->nvidia_visible);
		launch_strv_add(&a, "--env");
		launch_strv_add(&a, "NVIDIA_DRIVER_CAPABILITIES=compute,utility");
	}
	launch_strv_add(&a, "%s", s->image);
	/* no working directory option: a fixed script, the directory as its argument */
	launch_strv_add(&a, "/bin/sh");
	launch_strv_add(&a, "-c");
	launch_strv_add(&a, "cd \"$0\" && exec \"$@\"");
	launch_strv_add(&a, "%s", s->workdir);
	for (size_t i = 0; s->args && s->args[i]; i++)
		launch_strv_add(&a, "%s", s->args[i]);
	return rt_finish(&a);
}

char **launch_rt_apptainer_argv(const struct launch_rt_spec *s)
{
	struct launch_strv a = {0};
	if (!s->program || !s->image || !rt_path_ok(s->workdir))
		return NULL;
	launch_strv_add(&a, "%s", s->program);
	launch_strv_add(&a, "exec");
	launch_strv_add(&a, "--containall");
	launch_strv_add(&a, "--cleanenv");
	launch_strv_add(&a, "--pwd");
	launch_strv_add(&a, "%s", s->workdir);
	if (s->env_file) {
		launch_strv_add(&a, "--env-file");
		launch_strv_add(&a, "%s", s->env_file);
	}
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct launch_rt_mount *m = &s->mounts[i];
		if (!rt_path_ok(m->src) || !rt_path_ok(m->dst))
			a.oom = 1;
		launch_strv_add(&a, "--bind");
		launch_strv_add(&a, "%s:%s%s", m->src, m->dst, m->read_only ? ":ro" : "");
	}
	if (has_gpus(s)) /* the host's driver libraries and the GPUs CUDA_VISIBLE_DEVICES names */
		launch_strv_add(&a, "--nv");
	launch_strv_add(&a, "%s", s->image);
	for (size_t i = 0; s->args && s->args[i]; i++)
		launch_strv_add(&a, "%s", s->args[i]);
	return rt_finish(&a);
}
