/*
 * feature_store.c
 *		Module entry point: settings and the hooks every other file installs.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "feature_store.h"
#include "training_set.h"
#include "worker.h"

PG_MODULE_MAGIC;

char	   *fs_worker_database = NULL;

void		_PG_init(void);

/*
 * Defines the extension's settings, installs its hooks and, when preloaded
 * (outside a binary upgrade), registers the background worker.  Settings that
 * only the postmaster may set exist only when the library is preloaded:
 * PostgreSQL refuses to create them in a backend that loads it later.
 */
void
_PG_init(void)
{
	if (process_shared_preload_libraries_in_progress)
		DefineCustomStringVariable("feature_store.database",
								   "Database whose feature views the background worker materializes.",
								   NULL,
								   &fs_worker_database,
								   "postgres",
								   PGC_POSTMASTER,
								   0,
								   NULL, NULL, NULL);
	DefineCustomBoolVariable("feature_store.enabled",
							 "Whether the background worker starts materializations and drift monitors.",
							 "Off, it starts nothing new; runs in progress finish.",
							 &fs_worker_enabled,
							 true,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("feature_store.naptime",
							"Time between two ticks of the background worker.",
							"A tick starts the runs that are due; it is also the base of the retry delay.",
							&fs_worker_naptime,
							10, 1, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("feature_store.max_jobs",
							"Materializations the background worker runs at once.",
							"Each runs in a background worker of its own (see max_worker_processes).",
							&fs_worker_max_jobs,
							2, 1, FS_MAX_JOBS_LIMIT,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("feature_store.run_retention",
							"How long the background worker keeps materialization run history.",
							"Older runs are deleted from fs.materialization_runs; 0 keeps them all.",
							&fs_worker_run_retention,
							30 * 24 * 3600, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	AsofPlannerInit();
	TsCopyInit();
	WorkerRegisterLauncher();

	MarkGUCPrefixReserved("feature_store");
}
