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

/* Defines the extension's settings and installs its hooks. */
void
_PG_init(void)
{
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
