/*
 * worker.h
 *		The background worker: settings and the launcher's registration.
 */
#ifndef FS_WORKER_H
#define FS_WORKER_H

/* Upper bound of feature_store.max_jobs. */
#define FS_MAX_JOBS_LIMIT 64

/* Settings (src/feature_store.c defines them). */
extern bool fs_worker_enabled;
extern int	fs_worker_naptime;		/* seconds between ticks */
extern int	fs_worker_max_jobs;		/* runs at once */
extern int	fs_worker_run_retention;	/* seconds of run history kept, 0: all */

/* Registers the launcher; only while shared_preload_libraries loads us. */
extern void WorkerRegisterLauncher(void);

#endif							/* FS_WORKER_H */
