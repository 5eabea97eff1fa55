/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det user login|logout|whoami|create and det master info. Passwords come
 * from the terminal with echo off, or from standard input with
 * --password-stdin (scripts); they are never taken from the command line,
 * where other users could read them in the process list.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "client.h"
#include "http_client.h"

static int read_password(int from_stdin, const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	int tty = !from_stdin && isatty(STDIN_FILENO);
	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	char *ok = fgets(buf, (int)len, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fprintf(stderr, "\n");
	}
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int password_opt(int argc, char **argv, int *from_stdin, int *admin)
{
	static const struct option opts[] = {{"password-stdin", no_argument, NULL, 'P'},
	                                     {"admin", no_argument, NULL, 'a'},
	                                     {NULL, 0, NULL, 0}};
	int opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+Pa", opts, NULL)) != -1) {
		if (opt == 'P')
			*from_stdin = 1;
		else if (opt == 'a' && admin)
			*admin = 1;
		else
			return -1;
	}
	return 0;
}

/* The options (admin non-NULL: --admin allowed), exactly operands operands after them
 * (from argv[optind]) and the password into pw, asked with prompt: 0, or CLI_EXIT_USAGE
 * after printing usage or why. */
static int password_args(int argc, char **argv, int operands, int *admin, const char *usage,
                         const char *prompt, char *pw, size_t pwlen)
{
	int from_stdin = 0;
	if (password_opt(argc, argv, &from_stdin, admin) || argc - optind != operands) {
		fprintf(stderr, "usage: %s\n", usage);
		return CLI_EXIT_USAGE;
	}
	if (read_password(from_stdin, prompt, pw, pwlen)) {
		fprintf(stderr, "det: no password given\n");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int cli_user_login(struct cli_ctx *ctx, int argc, char **argv)
{
	char pw[512];
	json_t *out = NULL;
	int rc = password_args(argc, argv, 1, NULL, "det user login [--password-stdin] USER",
	                       "Password: ", pw, sizeof(pw));
	if (rc)
		return rc;
	const char *user = argv[optind];
	char err[512];
	struct http_client *c = http_client_new(ctx->master, NULL, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "det: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	json_t *body = json_pack("{s:s, s:s}", "username", user, "password", pw);
	memset(pw, 0, sizeof(pw));
	rc = cli_call(c, "POST", "/api/v1/auth/login", body, &out);
	json_decref(body);
	if (!rc) {
		if (cli_save_token(ctx->master, user,
		                   json_string_value(json_object_get(out, "token"))) == 0)
			printf("Logged in to %s as %s\n", ctx->master, user);
		else
			rc = CLI_EXIT_FAILURE;
	}
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_user_logout(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "usage: det user logout\n");
		return CLI_EXIT_USAGE;
	}
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	/* Forget the token locally even when the master cannot be told. */
	int rc = cli_call(c, "POST", "/api/v1/auth/logout", NULL, NULL);
	http_client_free(c);
	if (cli_save_token(ctx->master, NULL, NULL))
		return CLI_EXIT_FAILURE;
	printf("Logged out of %s\n", ctx->master);
	return rc == CLI_EXIT_UNREACHABLE ? CLI_EXIT_OK : rc;
}

int cli_user_whoami(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *out = NULL;
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	int rc = cli_call(c, "GET", "/api/v1/me", NULL, &out);
	if (!rc) {
		if (ctx->output == CLI_OUTPUT_TABLE)
			printf("%s%s\n", json_string_value(json_object_get(out, "username")),
			       json_is_true(json_object_get(out, "admin")) ? " (admin)" : "");
		else
			cli_print_value(ctx, stdout, out);
	}
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_user_create(struct cli_ctx *ctx, int argc, char **argv)
{
	int admin = 0;
	char pw[512];
	json_t *out = NULL;
	int rc = password_args(argc, argv, 1, &admin,
	                       "det user create [--admin] [--password-stdin] USER",
	                       "New user's password: ", pw, sizeof(pw));
	if (rc)
		return rc;
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	json_t *body =
	    json_pack("{s:s, s:s, s:b}", "username", argv[optind], "password", pw, "admin", admin);
	memset(pw, 0, sizeof(pw));
	rc = cli_call(c, "POST", "/api/v1/users", body, &out);
	if (!rc)
		printf("Created user %s\n", argv[optind]);
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_user_change_password(struct cli_ctx *ctx, int argc, char **argv)
{
	char pw[512];
	json_t *out = NULL;
	int rc = password_args(argc, argv, 0, NULL, "det user change-password [--password-stdin]",
	                       "New password: ", pw, sizeof(pw));
	if (rc)
		return rc;
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	json_t *body = json_pack("{s:s}", "password", pw);
	memset(pw, 0, sizeof(pw));
	rc = cli_call(c, "POST", "/api/v1/users/me/password", body, &out);
	if (!rc)
		printf("Password set for %s\n",
		       json_string_value(json_object_get(out, "username")));
	json_decref(body);
	json_decref(out);
	http_client_free(c);
	return rc;
}

int cli_master_info(struct cli_ctx *ctx, int argc, char **argv)
{
	json_t *out = NULL;
	struct http_client *c = cli_client(ctx);
	if (!c)
		return CLI_EXIT_FAILURE;
	int rc = cli_call(c, "GET", "/api/v1/master", NULL, &out);
	if (!rc) {
		if (ctx->output == CLI_OUTPUT_TABLE) {
			printf("version:          %s\n",
			       json_string_value(json_object_get(out, "version")));
			printf("resource manager: %s\n",
			       json_string_value(json_object_get(out, "resource_manager")));
			printf("uptime:           %.0f s\n",
			       json_number_value(json_object_get(out, "uptime_seconds")));
			static const struct cli_column cols[] = {{"NODE", "name"},
			                                         {"SLOTS", "slots"},
			                                         {"USED", "slots_used"},
			                                         {"POOL", "resource_pool"}};
			printf("\n");
			cli_print_table(stdout, json_object_get(out, "nodes"), cols, 4);
		} else {
			cli_print_value(ctx, stdout, out);
		}
	}
	json_decref(out);
	http_client_free(c);
	return rc;
}
