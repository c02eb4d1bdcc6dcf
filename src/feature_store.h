/*
 * feature_store.h
 *		Declarations shared between the modules of the feature_store extension.
 */
#ifndef FEATURE_STORE_H
#define FEATURE_STORE_H

#include "postgres.h"

/* GUC: the database the background worker serves. */
extern char *fs_worker_database;

/* asof_planner.c: planner hooks and plan node of the as-of join. */
extern void AsofPlannerInit(void);

#endif							/* FEATURE_STORE_H */
