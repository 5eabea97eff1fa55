/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Start and stop of the master's background threads. Each owner keeps its own queue
 * under the lock; what they share is the order: the lock and condition exist before
 * the thread, the stop flag is set and signalled under the lock, the thread is joined
 * before anything it used is freed.
 */
#include "bg_thread.h"

#include <errno.h>

int bg_thread_start(pthread_t *thread, pthread_mutex_t *lock, pthread_cond_t *cond,
                    void *(*fn)(void *), void *arg)
{
	int rc;

	pthread_mutex_init(lock, NULL);
	pthread_cond_init(cond, NULL);
	rc = pthread_create(thread, NULL, fn, arg);
	if (rc) {
		bg_thread_destroy(lock, cond);
		errno = rc;
		return -1;
	}
	return 0;
}

void bg_thread_stop(pthread_t thread, pthread_mutex_t *lock, pthread_cond_t *cond, int *stopping)
{
	pthread_mutex_lock(lock);
	*stopping = 1;
	pthread_cond_signal(cond);
	pthread_mutex_unlock(lock);
	pthread_join(thread, NULL);
}

void bg_thread_destroy(pthread_mutex_t *lock, pthread_cond_t *cond)
{
	pthread_mutex_destroy(lock);
	pthread_cond_destroy(cond);
}
