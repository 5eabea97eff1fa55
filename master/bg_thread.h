/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A background thread of the master (checkpoint gc, TensorBoard writer) with the lock and
 * condition it waits on: started, stopped and torn down one way. */
#ifndef DET_BG_THREAD_H
#define DET_BG_THREAD_H

#include <pthread.h>

/* Initialise lock and cond, then run fn(arg) in *thread: 0, or -1 (lock and cond destroyed
 * again, errno from pthread_create). */
int bg_thread_start(pthread_t *thread, pthread_mutex_t *lock, pthread_cond_t *cond,
                    void *(*fn)(void *), void *arg);

/* Set *stopping under lock, signal cond and join thread; lock and cond stay usable until
 * bg_thread_destroy. */
void bg_thread_stop(pthread_t thread, pthread_mutex_t *lock, pthread_cond_t *cond, int *stopping);

/* Destroy lock and cond (after bg_thread_stop). */
void bg_thread_destroy(pthread_mutex_t *lock, pthread_cond_t *cond);

#endif
