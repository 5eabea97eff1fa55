/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Output helpers shared by the det commands: JSON as YAML for `-o yaml` and
 * for readable nested values in tables. Strings are quoted whenever YAML
 * would read them as something else (numbers, booleans, null, indicators).
 */
#include "cli.h"

#include <ctype.h>
#include <string.h>

static int needs_quotes(const char *s)
{
	static const char *const words[] = {"true", "false", "yes", "no", "on",
	                                    "off",  "null",  "~",   "y",  "n"};
	if (!*s)
		return 1;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	if (strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]) || isdigit((unsigned char)s[0]) || s[0] == '.')
		return 1;
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == '#' || (*p == ':' && (p[1] == ' ' || !p[1])))
			return 1;
	}
	size_t n = strlen(s);
	return s[n - 1] == ' ';
}

static void print_string(FILE *out, const char *s)
{
	if (!needs_quotes(s)) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void print_scalar(FILE *out, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		print_string(out, json_string_value(v));
		break;
	case JSON_INTEGER:
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(out, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("true", out);
		break;
	case JSON_FALSE:
		fputs("false", out);
		break;
	case JSON_OBJECT:
		fputs("{}", out);
		break;
	case JSON_ARRAY:
		fputs("[]", out);
		break;
	default:
		fputs("null", out);
		break;
	}
}

static int is_block(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) > 0) ||
	       (json_is_array(v) && json_array_size(v) > 0);
}

static void print_node(FILE *out, const json_t *v, int indent)
{
	if (json_is_object(v) && json_object_size(v) > 0) {
		const char *key;
		json_t *child;
		json_object_foreach ((json_t *)v, key, child) {
			fprintf(out, "%*s", indent, "");
			print_string(out, key);
			fputc(':', out);
			if (is_block(child)) {
				fputc('\n', out);
				print_node(out, child, indent + 2);
			} else {
				fputc(' ', out);
				print_scalar(out, child);
				fputc('\n', out);
			}
		}
	} else if (json_is_array(v) && json_array_size(v) > 0) {
		size_t i;
		json_t *child;
		json_array_foreach (v, i, child) {
			fprintf(out, "%*s-", indent, "");
			if (is_block(child)) {
				fputc('\n', out);
				print_node(out, child, indent + 2);
			} else {
				fputc(' ', out);
				print_scalar(out, child);
				fputc('\n', out);
			}
		}
	} else {
		fprintf(out, "%*s", indent, "");
		print_scalar(out, v);
		fputc('\n', out);
	}
}

void cli_print_yaml(FILE *out, const json_t *value)
{
	print_node(out, value, 0);
}

void cli_print_value(const struct cli_ctx *ctx, FILE *out, const json_t *value)
{
	if (ctx->output == CLI_OUTPUT_JSON) {
		json_dumpf(value, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		return;
	}
	cli_print_yaml(out, value);
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}
