/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the experiment-config parser: any bytes in, never a
 * crash, a leak or undefined behaviour out. A successful parse is also
 * serialized and every top-level key looked up, so the result paths run too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "expconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct expconf_diags diags;
	struct expconf *conf = expconf_parse((const char *)data, size, "fuzz.yaml", &diags);
	FILE *null = fopen("/dev/null", "w");

	if (null) {
		expconf_diags_print(&diags, null);
		fclose(null);
	}
	if (conf) {
		const char *key;
		json_t *v;
		char *text = json_dumps(expconf_json(conf), JSON_COMPACT);
		int line, column;

		free(text);
		json_object_foreach (expconf_json(conf), key, v) {
			(void)expconf_location(conf, key, &line, &column);
			(void)v;
		}
		(void)expconf_location(conf, "hyperparameters.a.b.0", &line, &column);
		(void)expconf_location(conf, "", &line, &column);
	}
	expconf_free(conf);
	expconf_diags_free(&diags);
	return 0;
}
