/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Output helpers shared by the det commands: JSON as YAML for `-o yaml` and
 * for readable nested values in tables. Strings are quoted whenever YAML
 * would read them as something else (numbers, booleans, null, indicators).
 * Every string from the master reaches the terminal through cli_escape (or
 * the YAML quoting): control characters (C0 but tab and newline, DEL, C1)
 * are shown as \xHH / \u00HH, never sent raw, so a hostile experiment name
 * cannot drive the reader's terminal. Trial logs are the exception (raw).
 */
#include "cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The length of the control character at p (0 when none): C0 but tab and
 * newline, DEL, or a C1 control as UTF-8 (0xC2 0x80..0x9F). */
static size_t control_len(const unsigned char *p)
{
	if ((*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

size_t cli_escape_to(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t cl = control_len(p);
		char tmp[8];
		const char *piece = tmp;
		size_t plen;

		if (cl == 1) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
		} else if (cl == 2) {
			snprintf(tmp, sizeof(tmp), "\\u00%02x", p[1]);
		} else {
			tmp[0] = (char)*p;
			tmp[1] = '\0';
			cl = 1;
		}
		plen = strlen(piece);
		if (size && n + plen < size)
			memcpy(buf + n, piece, plen);
		else if (size && n < size)
			size = n + 1; /* truncate here: no half escapes */
		n += plen;
		p += cl;
	}
	if (size)
		buf[n < size ? n : size - 1] = '\0';
	return n;
}

char *cli_escape(const char *s)
{
	size_t n = cli_escape_to(NULL, 0, s);
	char *out = malloc(n + 1);

	if (out)
		cli_escape_to(out, n + 1, s);
	return out;
}

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
		if ((unsigned char)*p < 0x20 || control_len((const unsigned char *)p) ||
		    *p == '#' || (*p == ':' && (p[1] == ' ' || !p[1])))
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
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else if (control_len(p) == 2)
			fprintf(out, "\\u00%02x", *++p);
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

void cli_print_done(const struct cli_ctx *ctx, int rc, const json_t *value, const char *fmt, ...)
{
	va_list ap;

	if (rc)
		return;
	if (ctx->output != CLI_OUTPUT_TABLE) {
		cli_print_value(ctx, stdout, value);
		return;
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
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
