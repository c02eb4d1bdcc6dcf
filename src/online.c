/*
 * online.c
 *		Online reads: fs.online_features with a per-backend cache of prepared
 *		lookup plans, so that a prediction request pays neither for resolving
 *		its references nor for planning on every call.
 *
 * fs_internal.online_sql builds the lookup query from the catalog.  Its plan is kept
 * per (references, keys type) together with the catalog generation it was
 * built at; statement triggers on the catalog tables bump the generation
 * (transactionally), so a cached plan is reused only while the caller's
 * snapshot sees the catalog it was built from.  Plans go through
 * PostgreSQL's plan cache, which replans when a table changes and checks the
 * caller's privileges at every execution.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(fs_online_lookup);

/* At most this many distinct lookups keep a plan; past it the cache restarts. */
#define ONLINE_PLAN_CACHE_SIZE 256

typedef struct OnlinePlanKey
{
	uint64		hash;			/* hash of the references array */
	Oid			keys_type;		/* array type of the keys parameter */
} OnlinePlanKey;

typedef struct OnlinePlanEntry
{
	OnlinePlanKey key;
	int64		generation;		/* catalog generation the plan was built at */
	char	   *refs;			/* the references array, to rule out collisions */
	Size		refs_len;
	SPIPlanPtr	plan;			/* kept with SPI_keepplan */
} OnlinePlanEntry;

static HTAB *OnlinePlans = NULL;
static SPIPlanPtr GenerationPlan = NULL;
static SPIPlanPtr BuildPlan = NULL;
static Oid	BuildPlanRefsType = InvalidOid;	/* fs.feature_ref[] when BuildPlan was made */

/* Forgets the plan of one cache entry. */
static void
OnlinePlanRelease(OnlinePlanEntry *entry)
{
	SPI_freeplan(entry->plan);
	pfree(entry->refs);
	entry->plan = NULL;
	entry->refs = NULL;
}

/* Empties the plan cache. */
static void
OnlinePlansReset(void)
{
	HASH_SEQ_STATUS status;
	OnlinePlanEntry *entry;

	hash_seq_init(&status, OnlinePlans);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		OnlinePlanRelease(entry);
		hash_search(OnlinePlans, &entry->key, HASH_REMOVE, NULL);
	}
}

/* Prepares and keeps one of the statements used internally here. */
static SPIPlanPtr
KeepInternalPlan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

/* The catalog generation in the caller's snapshot. */
static int64
CatalogGeneration(void)
{
	bool		isnull;
	Datum		d;

	if (GenerationPlan == NULL)
		GenerationPlan = KeepInternalPlan("SELECT generation FROM fs.catalog_state", 0, NULL);
	if (SPI_execute_plan(GenerationPlan, NULL, NULL, true, 2) != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("fs.catalog_state must hold exactly one row")));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? -1 : DatumGetInt64(d);
}

/* Builds the lookup query with fs_internal.online_sql and prepares a kept, generic plan. */
static SPIPlanPtr
BuildLookupPlan(Datum refs, Oid refs_type, Oid keys_type)
{
	Oid			argtypes[2] = {refs_type, REGTYPEOID};
	Datum		args[2];
	bool		isnull;
	char	   *sql;
	SPIPlanPtr	plan;

	/* The extension may have been recreated since: its types have new OIDs. */
	if (BuildPlan != NULL && BuildPlanRefsType != refs_type)
	{
		SPI_freeplan(BuildPlan);
		BuildPlan = NULL;
	}
	if (BuildPlan == NULL)
	{
		/* Before ALTER EXTENSION UPDATE to 0.3 the builder is fs._online_sql. */
		BuildPlan = KeepInternalPlan(OidIsValid(get_namespace_oid("fs_internal", true))
									 ? "SELECT fs_internal.online_sql($1, $2)"
									 : "SELECT fs._online_sql($1, $2)", 2, argtypes);
		BuildPlanRefsType = refs_type;
	}
	args[0] = refs;
	args[1] = ObjectIdGetDatum(keys_type);
	if (SPI_execute_plan(BuildPlan, args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "fs_internal.online_sql returned no query");
	sql = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	/* The plan of a lookup does not depend on the key values: keep it generic. */
	plan = SPI_prepare_cursor(sql, 1, &keys_type, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for online lookup: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

/* Returns the plan for these references and keys type, building it when stale. */
static SPIPlanPtr
OnlinePlanFor(ArrayType *refs, Oid refs_type, Oid keys_type)
{
	OnlinePlanKey key;
	OnlinePlanEntry *entry;
	const char *bytes = (const char *) refs;
	Size		len = VARSIZE(refs);
	int64		generation = CatalogGeneration();
	SPIPlanPtr	plan;
	bool		found;

	if (OnlinePlans == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(OnlinePlanKey);
		ctl.entrysize = sizeof(OnlinePlanEntry);
		OnlinePlans = hash_create("feature_store online plans", ONLINE_PLAN_CACHE_SIZE,
								  &ctl, HASH_ELEM | HASH_BLOBS);
	}
	memset(&key, 0, sizeof(key));
	key.hash = hash_bytes_extended((const unsigned char *) bytes, len, 0);
	key.keys_type = keys_type;

	entry = hash_search(OnlinePlans, &key, HASH_FIND, NULL);
	if (entry != NULL && entry->generation == generation &&
		entry->refs_len == len && memcmp(entry->refs, bytes, len) == 0)
		return entry->plan;

	/* Build before touching the cache, so an error leaves it consistent. */
	plan = BuildLookupPlan(PointerGetDatum(refs), refs_type, keys_type);

	if (entry != NULL)
		OnlinePlanRelease(entry);
	else
	{
		if (hash_get_num_entries(OnlinePlans) >= ONLINE_PLAN_CACHE_SIZE)
			OnlinePlansReset();
		entry = hash_search(OnlinePlans, &key, HASH_ENTER, &found);
	}
	entry->generation = generation;
	entry->refs = MemoryContextAlloc(TopMemoryContext, len);
	memcpy(entry->refs, bytes, len);
	entry->refs_len = len;
	entry->plan = plan;
	return plan;
}

/*
 * fs_internal.online_lookup(refs, keys): the rows (key, features) of
 * fs.online_features, one per key in request order.
 */
Datum
fs_online_lookup(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *refs;
	Datum		keys;
	Oid			keys_type;
	Oid			refs_type;
	SPIPlanPtr	plan;
	int			ret;
	uint64		i;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature references must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("keys must not be null")));
	refs = PG_GETARG_ARRAYTYPE_P(0);
	keys = PG_GETARG_DATUM(1);
	keys_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
	if (!OidIsValid(keys_type))
		elog(ERROR, "could not determine the type of the keys");
	refs_type = get_fn_expr_argtype(fcinfo->flinfo, 0);

	InitMaterializedSRF(fcinfo, 0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = OnlinePlanFor(refs, refs_type, keys_type);
	ret = SPI_execute_plan(plan, &keys, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "online lookup failed: %s", SPI_result_code_string(ret));
	if (SPI_tuptable->tupdesc->natts != rsinfo->setDesc->natts)
		elog(ERROR, "online lookup returned %d columns, expected %d",
			 SPI_tuptable->tupdesc->natts, rsinfo->setDesc->natts);
	for (i = 0; i < SPI_processed; i++)
		tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
	SPI_finish();
	return (Datum) 0;
}
