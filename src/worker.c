/*
 * worker.c
 *		The background worker: a launcher that keeps scheduled feature views
 *		fresh, one dynamic background worker per materialization run.
 *
 * The launcher is registered at preload and connects to feature_store.database
 * as the bootstrap superuser.  Every feature_store.naptime seconds (and when a
 * job ends, or on SIGHUP) it ticks: one short transaction that, if the
 * extension is installed, fails runs whose worker died, prunes old run history
 * now and then, and calls fs_internal.worker_tick, which records a "running"
 * run for each due version (src/sql/worker.sql).  After the commit it starts
 * one job worker per run.  Between ticks it holds no lock and no transaction.
 *
 * A job worker connects as the bootstrap superuser, switches its session to
 * the view's owner role (a role that may not log in still works) and runs
 * fs_internal.run_scheduled in one transaction; a failure is rolled back and
 * recorded in a transaction of its own, so one failing view never affects
 * another.  A job that dies without recording anything (killed, server
 * crash) leaves its run "running": the launcher fails it when the job's
 * process is gone, and at its own start fails every run left by an earlier
 * life.  Once per UTC day a job worker runs the drift monitors.
 *
 * Both take a share lock on the extension object in each transaction, so a
 * tick never races DROP EXTENSION.  When a DROP EXTENSION waits for that lock,
 * or DDL (ALTER EXTENSION UPDATE) for an exclusive lock on the extension's
 * tables, the launcher stops its jobs: their runs are failed (or go with the
 * extension) and retried, and nothing waits for them longer than a tick.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "feature_store.h"
#include "worker.h"

PGDLLEXPORT void FeatureStoreLauncherMain(Datum main_arg);
PGDLLEXPORT void FeatureStoreJobMain(Datum main_arg);

bool		fs_worker_enabled = true;
int			fs_worker_naptime = 10;
int			fs_worker_max_jobs = 2;
int			fs_worker_run_retention = 30 * 24 * 3600;

/* What a job worker is given (in bgw_extra). */
typedef struct FsJobArgs
{
	Oid			database;
	int64		run_id;			/* the run to run, or DRIFT_JOB */
} FsJobArgs;

/* A job worker the launcher started. */
typedef struct FsJob
{
	int64		run_id;			/* its run, DRIFT_JOB, or FORGOTTEN_RUN */
	BackgroundWorkerHandle *handle;
} FsJob;

#define DRIFT_JOB 0				/* the job that runs the drift monitors */
#define FORGOTTEN_RUN (-1)		/* a run of an extension since dropped */

#define LAUNCHER_RESTART_SECONDS 5
#define PRUNE_EVERY_SECONDS 3600
#define MAX_ORPHANS 1024

/* Launcher state, kept across ticks. */
static FsJob jobs[FS_MAX_JOBS_LIMIT + 1];
static int	njobs = 0;
static int64 ended[FS_MAX_JOBS_LIMIT + 1];	/* runs whose job ended, to check */
static int	nended = 0;
static int64 orphans[MAX_ORPHANS];	/* running runs of an earlier launcher */
static int	norphans = 0;
static bool swept = false;		/* runs left by an earlier launcher handled */
static TimestampTz last_prune = 0;
static int64 last_drift_day = -1;	/* UTC day the drift monitors last ran */
static int64 started[FS_MAX_JOBS_LIMIT];	/* runs recorded by this tick */
static int	nstarted = 0;
static int	nunstarted = 0;		/* of those, how many no worker could run */

/* A background worker of ours connected to a database, started after recovery. */
static void
DescribeWorker(BackgroundWorker *worker, const char *function, const char *type, int restart_time)
{
	memset(worker, 0, sizeof(*worker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = restart_time;
	snprintf(worker->bgw_library_name, BGW_MAXLEN, "feature_store");
	snprintf(worker->bgw_function_name, BGW_MAXLEN, "%s", function);
	snprintf(worker->bgw_name, BGW_MAXLEN, "%s", type);
	snprintf(worker->bgw_type, BGW_MAXLEN, "%s", type);
}

/* Registers the launcher: preloaded only, never during a binary upgrade. */
void
WorkerRegisterLauncher(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress || IsBinaryUpgrade)
		return;
	DescribeWorker(&worker, "FeatureStoreLauncherMain", "feature_store launcher", LAUNCHER_RESTART_SECONDS);
	RegisterBackgroundWorker(&worker);
}

/* Starts a transaction with a snapshot and SPI, as one unit of work. */
static void
BeginWork(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
	debug_query_string = activity;
}

/* Commits the unit of work BeginWork started. */
static void
EndWork(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	debug_query_string = NULL;
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Whether feature_store is installed with the worker's functions, holding a
 * share lock on the extension until the transaction ends (a concurrent DROP
 * EXTENSION waits for it, or we for the DROP).  With wait false, a lock that
 * is not free at once (someone dropping or altering the extension) counts as
 * not installed, and *busy says so.
 */
static bool
ExtensionReady(bool wait, bool *busy)
{
	Oid			ext = get_extension_oid("feature_store", true);
	Oid			argtypes[1] = {INT4OID};

	if (busy)
		*busy = false;
	if (!OidIsValid(ext))
		return false;
	if (!wait && !ConditionalLockDatabaseObject(ExtensionRelationId, ext, 0, AccessShareLock))
	{
		if (busy)
			*busy = true;
		return false;
	}
	if (wait)
		LockDatabaseObject(ExtensionRelationId, ext, 0, AccessShareLock);
	/* dropped while we waited, or an old version without the worker */
	if (get_extension_oid("feature_store", true) != ext)
		return false;
	return OidIsValid(LookupFuncName(list_make2(makeString("fs_internal"), makeString("worker_tick")),
									 1, argtypes, true));
}

/* Runs a statement in the current unit of work; errors unless SPI returns expect. */
static void
RunSql(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc != expect)
		elog(ERROR, "feature_store worker: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

/* An int8[] of n run ids. */
static Datum
RunIdArray(int64 *ids, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = Int64GetDatum(ids[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* Fails those of the listed runs that are running with no worker process. */
static void
FailRuns(int64 *ids, int n, const char *reason)
{
	Oid			types[2] = {INT8ARRAYOID, TEXTOID};
	Datum		values[2] = {RunIdArray(ids, n), CStringGetTextDatum(reason)};

	RunSql("SELECT fs_internal.write('fail_runs', $1, $2)", 2, types, values, NULL, SPI_OK_SELECT);
}

/* Whether a job of ours runs this run. */
static bool
OurRun(int64 run_id)
{
	int			i;

	for (i = 0; i < njobs; i++)
		if (jobs[i].run_id == run_id)
			return true;
	return false;
}

/*
 * Reads into orphans the scheduled runs still running among ids (all when
 * NULL) that no job of ours runs.
 */
static void
LoadOrphans(int64 *ids, int n)
{
	Oid			types[1] = {INT8ARRAYOID};
	Datum		values[1];
	char		nulls[1] = {' '};
	uint64		i;

	if (ids)
		values[0] = RunIdArray(ids, n);
	else
		nulls[0] = 'n';
	RunSql("SELECT run_id FROM fs.materialization_runs WHERE status = 'running' AND trigger = 'worker'"
		   " AND ($1 IS NULL OR run_id = ANY ($1)) ORDER BY run_id",
		   1, types, values, nulls, SPI_OK_SELECT);
	norphans = 0;
	for (i = 0; i < SPI_processed && norphans < MAX_ORPHANS; i++)
	{
		bool		isnull;
		int64		run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));

		if (!OurRun(run_id))
			orphans[norphans++] = run_id;
	}
}

/*
 * Checks on the job workers: frees the slots of those that stopped, and
 * remembers their runs (if a job stopped without recording its outcome, its
 * run is failed in the next tick).
 */
static void
ReapJobs(void)
{
	int			i = 0;

	while (i < njobs)
	{
		pid_t		pid;

		switch (GetBackgroundWorkerPid(jobs[i].handle, &pid))
		{
			case BGWH_STOPPED:
				if (jobs[i].run_id > 0 && nended < lengthof(ended))
					ended[nended++] = jobs[i].run_id;
				else if (jobs[i].run_id > 0)
					swept = false;	/* too many to remember: look at all runs */
				pfree(jobs[i].handle);
				jobs[i] = jobs[--njobs];
				break;
			case BGWH_POSTMASTER_DIED:
				proc_exit(1);
				break;
			default:
				i++;
		}
	}
}

/*
 * Whether someone waits for an exclusive lock on one of the extension's
 * tables (ALTER EXTENSION UPDATE, maintenance): our jobs may be what it waits
 * for.  Asked before the tick touches those tables, which would queue behind
 * that lock.
 */
static bool
DdlWaiting(void)
{
	bool		isnull;

	RunSql("SELECT EXISTS (SELECT FROM pg_catalog.pg_locks l"
		   " WHERE NOT l.granted AND l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'"
		   " AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())"
		   " AND l.relation IN (SELECT c.oid FROM pg_catalog.pg_class c"
		   " WHERE c.relnamespace = 'fs'::pg_catalog.regnamespace))",
		   0, NULL, NULL, NULL, SPI_OK_SELECT);
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Asks every job to stop (a DROP EXTENSION or DDL waits for them). */
static void
StopJobs(void)
{
	int			i;

	for (i = 0; i < njobs; i++)
		TerminateBackgroundWorker(jobs[i].handle);
}

/* The extension went away: runs of the jobs still exiting are no longer ours. */
static void
ForgetRuns(void)
{
	int			i;

	for (i = 0; i < njobs; i++)
		if (jobs[i].run_id != DRIFT_JOB)
			jobs[i].run_id = FORGOTTEN_RUN;
	nended = 0;
	norphans = 0;
	swept = false;
}

/* Starts a job worker for a run (or DRIFT_JOB); false when none could start. */
static bool
StartJob(int64 run_id)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	FsJobArgs	args;
	MemoryContext old;
	bool		ok;

	DescribeWorker(&worker, "FeatureStoreJobMain", "feature_store job", BGW_NEVER_RESTART);
	if (run_id != DRIFT_JOB)
		snprintf(worker.bgw_name, BGW_MAXLEN, "feature_store job: run " INT64_FORMAT, run_id);
	else
		snprintf(worker.bgw_name, BGW_MAXLEN, "feature_store job: drift monitors");
	worker.bgw_notify_pid = MyProcPid;
	args.database = MyDatabaseId;
	args.run_id = run_id;
	memcpy(worker.bgw_extra, &args, sizeof(args));

	old = MemoryContextSwitchTo(TopMemoryContext);
	ok = RegisterDynamicBackgroundWorker(&worker, &handle);
	MemoryContextSwitchTo(old);
	if (!ok)
		return false;
	jobs[njobs].run_id = run_id;
	jobs[njobs].handle = handle;
	njobs++;
	return true;
}

/* The UTC day of a timestamp. */
static int64
UtcDay(TimestampTz t)
{
	return t / USECS_PER_DAY - (t < 0 && t % USECS_PER_DAY != 0 ? 1 : 0);
}

/*
 * One tick's transaction: bookkeeping of runs, pruning, and recording the
 * runs to start (in started[]).  What it did is remembered only once it has
 * committed.
 */
static void
TickWork(void)
{
	bool		busy;
	TimestampTz now = GetCurrentTimestamp();
	bool		pruned = false;
	int			i;

	BeginWork("feature_store launcher: tick");
	if (!ExtensionReady(false, &busy))
	{
		if (busy)
			StopJobs();
		else
			ForgetRuns();
		EndWork();
		return;
	}
	if (njobs > 0 && DdlWaiting())
	{
		StopJobs();
		EndWork();
		return;
	}

	/*
	 * Runs left "running" by an earlier launcher (the first time: all that no
	 * job of ours runs): fail those whose process is gone.
	 */
	if (!swept)
		LoadOrphans(NULL, 0);
	if (norphans > 0)
	{
		FailRuns(orphans, norphans,
				 swept ? "the worker process running it exited before finishing the run"
				 : "the server or the feature_store worker restarted while the run was in progress");
		LoadOrphans(orphans, norphans);
	}
	if (nended > 0)
		FailRuns(ended, nended, "the worker process running it exited before finishing the run");

	if (fs_worker_enabled)
	{
		int			slots = fs_worker_max_jobs;

		for (i = 0; i < njobs; i++)
			if (jobs[i].run_id != DRIFT_JOB)
				slots--;
		if (fs_worker_run_retention > 0 &&
			(last_prune == 0 ||
			 TimestampDifferenceExceeds(last_prune, now,
										Min(fs_worker_run_retention, PRUNE_EVERY_SECONDS) * 1000)))
		{
			Oid			types[1] = {INT4OID};
			Datum		values[1] = {Int32GetDatum(fs_worker_run_retention)};

			RunSql("SELECT fs_internal.write('prune_runs', pg_catalog.make_interval(secs => $1))",
				   1, types, values, NULL, SPI_OK_SELECT);
			pruned = true;
		}
		if (slots > 0)
		{
			Oid			types[1] = {INT4OID};
			Datum		values[1] = {Int32GetDatum(slots)};
			uint64		k;

			RunSql("SELECT run_id FROM fs_internal.worker_tick($1)", 1, types, values, NULL, SPI_OK_SELECT);
			for (k = 0; k < SPI_processed && nstarted < lengthof(started); k++)
			{
				bool		isnull;

				started[nstarted++] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[k],
																  SPI_tuptable->tupdesc, 1, &isnull));
			}
		}
	}
	EndWork();
	swept = true;
	nended = 0;
	if (pruned)
		last_prune = now;
}

/* Fails the runs of this tick that no worker could run. */
static void
FailUnstarted(void)
{
	BeginWork("feature_store launcher: failing runs that could not start");
	if (ExtensionReady(true, NULL))
		FailRuns(started, nunstarted, "no background worker slot was free to run it (max_worker_processes)");
	EndWork();
}

/*
 * Runs a unit of work; an error is logged and the work's transaction rolled
 * back (the next tick starts afresh).  Returns whether it succeeded.
 */
static bool
TryWork(void (*work) (void))
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		work();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		debug_query_string = NULL;
		pgstat_report_activity(STATE_IDLE, NULL);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return ok;
}

/*
 * A tick: the transaction above, then a job worker for each run it started,
 * and the drift monitors once per UTC day.
 */
static void
LauncherTick(void)
{
	int			i;

	nstarted = 0;
	if (!TryWork(TickWork))
		nstarted = 0;			/* its runs were not committed */
	nunstarted = 0;
	for (i = 0; i < nstarted; i++)
		if (!StartJob(started[i]))
			started[nunstarted++] = started[i];
	if (nunstarted > 0)
	{
		ereport(LOG,
				(errmsg("feature_store worker: could not start %d materialization jobs", nunstarted),
				 errhint("Raise max_worker_processes, or lower feature_store.max_jobs.")));
		TryWork(FailUnstarted);
	}

	if (fs_worker_enabled && swept && !OurRun(DRIFT_JOB))
	{
		int64		today = UtcDay(GetCurrentTimestamp());

		if (today != last_drift_day && StartJob(DRIFT_JOB))
			last_drift_day = today;
	}
}

/* The launcher: ticks until the postmaster stops it (SIGTERM). */
void
FeatureStoreLauncherMain(Datum main_arg)
{
	MemoryContext tick_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(fs_worker_database, NULL, 0);
	pgstat_report_appname("feature_store launcher");
	/* never wait long behind DDL on our tables (ALTER EXTENSION): skip the tick */
	SetConfigOption("lock_timeout", "500", PGC_SUSET, PGC_S_OVERRIDE);

	tick_cxt = AllocSetContextCreate(TopMemoryContext, "feature_store launcher", ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		ReapJobs();
		if (!RecoveryInProgress())
		{
			MemoryContextSwitchTo(tick_cxt);
			LauncherTick();
			MemoryContextSwitchTo(TopMemoryContext);
			MemoryContextReset(tick_cxt);
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 fs_worker_naptime * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* Runs the drift monitors of every owner (each runs as its owner). */
static void
RunDriftMonitors(void)
{
	pgstat_report_appname("feature_store drift monitors");
	BeginWork("SELECT count(*) FROM fs.run_drift_monitors()");
	if (ExtensionReady(true, NULL))
		RunSql("SELECT count(*) FROM fs.run_drift_monitors()", 0, NULL, NULL, NULL, SPI_OK_SELECT);
	EndWork();
}

/*
 * Makes the session that of the view's owner role, as SET SESSION
 * AUTHORIZATION does (a role that may not log in works too; the owner's
 * superuser status is its own): from then on every statement has exactly the
 * owner's privileges, and the view's source runs in a security-restricted
 * operation besides (fs.materialize), where SET SESSION AUTHORIZATION and SET
 * ROLE are refused.  Returns the view's name; NULL when the run is not ours
 * to run (no longer running, already taken, or the extension is gone).  When
 * the owner role no longer exists, *no_owner is set and the session stays.
 */
static char *
BecomeOwner(int64 run_id, bool *no_owner)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(run_id)};
	char	   *view = NULL;

	*no_owner = false;
	BeginWork("feature_store job: looking up the run");
	if (ExtensionReady(true, NULL))
	{
		RunSql("SELECT x.view_name, r.rolname FROM fs.materialization_runs x"
			   " LEFT JOIN fs.views v ON v.name = x.view_name"
			   " LEFT JOIN pg_catalog.pg_roles r ON r.rolname = v.owner_role"
			   " WHERE x.run_id = $1 AND x.status = 'running' AND x.pid IS NULL",
			   1, types, values, NULL, SPI_OK_SELECT);
		if (SPI_processed == 1)
		{
			HeapTuple	tup = SPI_tuptable->vals[0];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			char	   *owner = SPI_getvalue(tup, desc, 2);

			view = MemoryContextStrdup(TopMemoryContext, SPI_getvalue(tup, desc, 1));
			if (owner)
				SetConfigOption("session_authorization", owner, PGC_SUSET, PGC_S_SESSION);
			else
				*no_owner = true;
		}
	}
	EndWork();
	return view;
}

/* Records the failure of a run, unless the extension has gone. */
static void
RecordFailure(int64 run_id, const char *error)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(run_id), CStringGetTextDatum(error)};

	BeginWork("feature_store job: recording the failure");
	if (ExtensionReady(true, NULL))
		RunSql("SELECT fs_internal.write('finish_run', $1, false, $2, NULL::bigint, NULL::bigint, NULL::bigint,"
			   " NULL::timestamptz)", 2, types, values, NULL, SPI_OK_SELECT);
	EndWork();
}

/* Runs a scheduled run, as its view's owner (BecomeOwner), in one transaction. */
static void
RunScheduled(int64 run_id)
{
	MemoryContext job_cxt = CurrentMemoryContext;
	char	   *volatile view;
	bool		no_owner;
	char		activity[128];
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		values[2] = {Int64GetDatum(run_id), Int32GetDatum(MyProcPid)};
	bool		claimed = false;

	snprintf(activity, sizeof(activity), "feature_store run " INT64_FORMAT, run_id);
	pgstat_report_appname(activity);
	view = BecomeOwner(run_id, &no_owner);
	if (view == NULL)
		return;
	if (no_owner)
	{
		RecordFailure(run_id, psprintf("the owner role of feature view \"%s\" does not exist", view));
		return;
	}

	BeginWork("feature_store job: claiming the run");
	if (ExtensionReady(true, NULL))
	{
		RunSql("SELECT fs_internal.write('claim_run', $1, $2)", 2, types, values, NULL, SPI_OK_SELECT);
		claimed = SPI_processed == 1 && SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) != NULL;
	}
	EndWork();
	if (!claimed)
		return;

	snprintf(activity, sizeof(activity), "SELECT fs_internal.run_scheduled(" INT64_FORMAT ")", run_id);
	PG_TRY();
	{
		BeginWork(activity);
		if (ExtensionReady(true, NULL))
			RunSql("SELECT fs_internal.run_scheduled($1)", 1, types, values, NULL, SPI_OK_SELECT);
		EndWork();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(job_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(LOG,
				(errmsg("feature_store worker: run " INT64_FORMAT " of feature view \"%s\" failed: %s",
						run_id, view, edata->message)));
		RecordFailure(run_id, edata->message);
	}
	PG_END_TRY();
}

/* A job worker: one scheduled run, or the drift monitors. */
void
FeatureStoreJobMain(Datum main_arg)
{
	FsJobArgs	args;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(args.database, InvalidOid, 0);
	if (args.run_id == DRIFT_JOB)
		RunDriftMonitors();
	else
		RunScheduled(args.run_id);
	proc_exit(0);
}
