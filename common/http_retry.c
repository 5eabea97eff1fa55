/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * http_retry_json: the one retry-with-backoff loop for JSON calls to
 * det-master. Non-obvious: an answer other than 502/503 (and 409 when asked)
 * ends the loop at once, because the master answered and asking again will
 * not change its mind.
 */
#include "http_retry.h"

#include <time.h>

#define HTTP_RETRY_FIRST_DELAY_MS 250
#define HTTP_RETRY_MAX_DELAY_MS 5000

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int worth_retrying(long status, unsigned flags)
{
	return status == 0 || status == 502 || status == 503 ||
	       ((flags & HTTP_RETRY_409) && status == 409);
}

int http_retry_json(struct http_client *c, const char *method, const char *path, const json_t *body,
                    int wait_seconds, unsigned flags, json_t **out, long *status, char *err,
                    size_t errlen)
{
	time_t give_up = time(NULL) + wait_seconds;
	long delay_ms = HTTP_RETRY_FIRST_DELAY_MS;

	for (;;) {
		long got = 0;
		int rv = http_client_json(c, method, path, body, out, &got, err, errlen);
		if (status)
			*status = got;
		if (rv == 0)
			return 0;
		if (!worth_retrying(got, flags) || time(NULL) >= give_up)
			return -1;
		sleep_ms(delay_ms);
		if (delay_ms < HTTP_RETRY_MAX_DELAY_MS)
			delay_ms *= 2;
	}
}
