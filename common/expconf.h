/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment configuration: Determined-style YAML in, validated and
 * normalized JSON (jansson) out. Every node keeps the line and column it came
 * from, so later stages (the searcher, the master) can point users at the
 * exact place in their file. The normalized shape is documented in
 * doc/expconf.md; every consumer relies on it instead of re-validating.
 */
#ifndef DET_EXPCONF_H
#define DET_EXPCONF_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Hard limits on untrusted input (documented in doc/limits.md). */
#define EXPCONF_MAX_FILE_BYTES (1024 * 1024) /* whole YAML document */
#define EXPCONF_MAX_DEPTH 32                 /* nesting of maps/lists */
#define EXPCONF_MAX_NODES 100000             /* nodes after alias expansion */
#define EXPCONF_MAX_SCALAR_BYTES 65536       /* one scalar */
#define EXPCONF_MAX_GRID_POINTS 100000       /* grid search size */
#define EXPCONF_MAX_TRIALS 1000000           /* searcher.max_trials */
#define EXPCONF_MAX_DIAGS 200                /* diagnostics kept per file */

enum expconf_severity { EXPCONF_ERROR, EXPCONF_WARNING };

/* One diagnostic: "file:line:col: key.path: message". */
struct expconf_diag {
	enum expconf_severity severity;
	int line;   /* 1-based; 0 when not tied to a place */
	int column; /* 1-based */
	char *path; /* key path such as "searcher.max_trials" ("" = top) */
	char *message;
};

/* All diagnostics of one parse, in file order. */
struct expconf_diags {
	char *file; /* file name used in messages */
	struct expconf_diag *items;
	size_t count;
	size_t errors;  /* how many have EXPCONF_ERROR */
	size_t dropped; /* diagnostics over EXPCONF_MAX_DIAGS */
};

/* A parsed configuration: normalized JSON plus where each key path came from. */
struct expconf;

/* Parse YAML text of len bytes. filename is only used in messages. Returns the
 * config, or NULL when there were errors; diags always receives every error
 * and warning (caller frees with expconf_diags_free). */
struct expconf *expconf_parse(const char *text, size_t len, const char *filename,
                              struct expconf_diags *diags);

/* Read and parse a file (at most EXPCONF_MAX_FILE_BYTES). As expconf_parse. */
struct expconf *expconf_parse_file(const char *path, struct expconf_diags *diags);

/* Free a config (NULL is fine). */
void expconf_free(struct expconf *conf);

/* The normalized JSON, owned by conf (borrowed reference). */
json_t *expconf_json(const struct expconf *conf);

/* Where key path (dotted, list items as numbers: "hyperparameters.lr.minval",
 * "entrypoint.1") was written. Returns 0 and fills line/column, or -1 when the
 * path was not in the file (for example a filled-in default). */
int expconf_location(const struct expconf *conf, const char *path, int *line, int *column);

/* 1 when s is an image reference environment.image accepts: a name of letters,
 * digits and ._-:/ (no "..", not starting with '-', '/' or '.'; at most 128
 * bytes) or "sha256:" and 64 lowercase hex digits; else 0. */
int expconf_image_ref_ok(const char *s);

/* Print every diagnostic as "file:line:col: path: severity: message". */
void expconf_diags_print(const struct expconf_diags *diags, FILE *out);

/* Release the diagnostics' memory and zero the struct. */
void expconf_diags_free(struct expconf_diags *diags);

/* A YAML map document as plain JSON (scalars typed by the YAML core schema;
 * new reference), or NULL with err ("line:col: why", or not a map). */
json_t *expconf_yaml_json(const char *text, size_t len, char *err, size_t errlen);

/* tmpl merged under config: config's values win, maps merge key by key,
 * anything else replaces (new reference; NULL when out of memory). */
json_t *expconf_merge(const json_t *tmpl, const json_t *config);

#endif
