/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replays a fuzz corpus through LLVMFuzzerTestOneInput without libFuzzer, so
 * every input that once crashed stays a regression test in `make check`.
 * Prints TAP, one case per file; a crash or sanitizer report fails the run.
 * The corpus is the directories given as arguments, or REPLAY_CORPUS under
 * $top_srcdir.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read a whole file; NULL on error. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)size;
	}
	fclose(f);
	return buf;
}

static int list_dir(const char *dir, char ***names, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char **grown;

		if (e->d_name[0] == '.')
			continue;
		grown = realloc(*names, (*count + 1) * sizeof(**names));
		if (!grown)
			break;
		*names = grown;
		if (asprintf(&(*names)[*count], "%s/%s", dir, e->d_name) < 0)
			break;
		(*count)++;
	}
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	char **names = NULL, *dflt = NULL;
	size_t count = 0, failed = 0;
	const char *top = getenv("top_srcdir");

	if (argc < 2) {
		if (asprintf(&dflt, "%s/%s", top ? top : ".", REPLAY_CORPUS) < 0)
			return 1;
		if (list_dir(dflt, &names, &count) < 0) {
			printf("1..0 # SKIP no corpus at %s\n", dflt);
			free(dflt);
			return 0;
		}
	}
	for (int i = 1; i < argc; i++)
		if (list_dir(argv[i], &names, &count) < 0)
			fprintf(stderr, "cannot read %s\n", argv[i]);
	qsort(names, count, sizeof(*names), name_cmp);
	printf("1..%zu\n", count);
	for (size_t i = 0; i < count; i++) {
		size_t len = 0;
		uint8_t *data = slurp(names[i], &len);

		if (!data) {
			printf("not ok %zu - %s (unreadable)\n", i + 1, names[i]);
			failed++;
		} else {
			LLVMFuzzerTestOneInput(data, len);
			printf("ok %zu - %s\n", i + 1, strrchr(names[i], '/') + 1);
		}
		fflush(stdout);
		free(data);
		free(names[i]);
	}
	free(names);
	free(dflt);
	return failed ? 1 : 0;
}
