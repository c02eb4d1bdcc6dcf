/*
 * feature_store.c
 *		Module entry point: settings and the hooks every other file installs.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "feature_store.h"

PG_MODULE_MAGIC;

char	   *fs_worker_database = NULL;

void		_PG_init(void);

/*
 * Defines the extension's settings and installs its hooks.  Settings that
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

	AsofPlannerInit();

	MarkGUCPrefixReserved("feature_store");
}
