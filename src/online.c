/*
 * online.c
 *		Online reads: fs.online_features and fs.online_features_typed.
 *
 * A request names feature references and passes an array of keys; it returns
 * one row per key, in request order (duplicates and NULL keys included).
 * What the references resolve to is kept per backend (online_cache.c), so a
 * request costs what a primary-key SELECT costs: for each key, one descent of
 * each online table's primary-key btree and one heap fetch.  The features of
 * a key become a jsonb object built directly from the row, its keys sorted
 * once per cache entry; fs.online_features_typed returns the values as they
 * are, in the columns of a column definition list.
 *
 * As in SQL: the caller needs SELECT on every online table it reads, checked
 * at every call; a value older than its view's TTL (event time column before
 * now() - ttl) is JSON null, and so are the features of a missing key.  Online
 * tables with row-level security are refused rather than read unfiltered.
 * A table Citus manages is read with one query per request that Citus routes
 * to the shards holding the keys (online_distributed.c).
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/relation.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "online.h"

PG_FUNCTION_INFO_V1(fs_online_features);
PG_FUNCTION_INFO_V1(fs_online_features_typed);
PG_FUNCTION_INFO_V1(fs_online_lookup);

/* The open scan of one online table during a request. */
typedef struct OnlineProbe
{
	Relation	heap;
	Relation	index;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	OnlineRemoteRows *remote;	/* a table Citus manages: its rows, read once */
	TimestampTz threshold;		/* TTL: event times before it are stale */
	bool		hit;			/* the current key has a fresh row */
} OnlineProbe;

/*
 * Fails unless the caller may read the columns of table ti that requests
 * read, and row-level security does not apply to it.
 */
static void
CheckReadable(OnlineEntry *e, int ti, Relation rel, Oid userid)
{
	OnlineTable *t = &e->tables[ti];
	AclResult	acl = pg_class_aclcheck(t->relid, userid, ACL_SELECT);

	if (acl != ACLCHECK_OK)
	{
		/* as the executor: column privileges on every column read suffice */
		bool		columns = pg_attribute_aclcheck(t->relid, t->key_attno, userid, ACL_SELECT) == ACLCHECK_OK &&
			(!t->has_ttl || pg_attribute_aclcheck(t->relid, t->ts_attno, userid, ACL_SELECT) == ACLCHECK_OK);

		for (int i = 0; columns && i < e->nfeatures; i++)
			if (e->features[i].table == ti)
				columns = pg_attribute_aclcheck(t->relid, e->features[i].attno, userid, ACL_SELECT) == ACLCHECK_OK;
		if (!columns)
			aclcheck_error(acl, OBJECT_TABLE, NameStr(t->relname));
	}
	if (rel->rd_rel->relrowsecurity && check_enable_rls(t->relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("online table \"%s\" of feature view \"%s\" has row-level security enabled",
						NameStr(t->relname), t->view),
				 errdetail("Online reads probe the primary key directly and do not apply row-level security policies."),
				 errhint("Read the table with SELECT, or disable row-level security on it.")));
}

/* Checks that the result columns are those of the request. */
static void
CheckResultColumns(OnlineEntry *e, TupleDesc desc, bool typed)
{
	Form_pg_attribute key = TupleDescAttr(desc, 0);

	if (!typed)
	{
		if (desc->natts != 2 || TupleDescAttr(desc, 1)->atttypid != JSONBOID || key->atttypid != e->elem_type)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("function returning online features must return (key, features jsonb) with the keys' element type")));
		return;
	}
	if (desc->natts != e->nfeatures + 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg_plural("the column definition list of fs.online_features_typed has %d column, but the request returns %d",
							   "the column definition list of fs.online_features_typed has %d columns, but the request returns %d",
							   desc->natts, desc->natts, e->nfeatures + 1),
				 errdetail("The columns are the key, then one per requested feature (%d).", e->nfeatures)));
	if (key->atttypid != e->elem_type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of the column definition list has type %s, but the keys have type %s",
						NameStr(key->attname), format_type_be(key->atttypid), format_type_be(e->elem_type))));
	for (int i = 0; i < e->nfeatures; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i + 1);
		OnlineFeature *f = &e->features[i];

		if (att->atttypid != f->type)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of the column definition list has type %s, but feature \"%s\" has type %s",
							NameStr(att->attname), format_type_be(att->atttypid), f->ref,
							format_type_be(f->type))));
	}
}

/* A requested key as a value of table t's key type. */
static Datum
CoerceKey(OnlineTable *t, Datum key)
{
	switch (t->coercion)
	{
		case ONLINE_KEY_AS_IS:
			return key;
		case ONLINE_KEY_FUNC:
			if (t->coerce_nargs == 1)
				return FunctionCall1(&t->coerce_fn, key);
			if (t->coerce_nargs == 2)
				return FunctionCall2(&t->coerce_fn, key, Int32GetDatum(-1));
			return FunctionCall3(&t->coerce_fn, key, Int32GetDatum(-1), BoolGetDatum(false));
		case ONLINE_KEY_IO:
			return InputFunctionCall(&t->coerce_fn, OutputFunctionCall(&t->elem_out, key),
									 t->key_ioparam, -1);
	}
	return key;					/* not reached */
}

/*
 * Reads, with one query, the rows of every non-NULL requested key from a
 * table Citus manages (online_distributed.c).
 */
static OnlineRemoteRows *
FetchRemoteRows(OnlineTable *t, ArrayType *keys)
{
	int			nkeys = ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys));
	Datum	   *coerced = palloc(Max(nkeys, 1) * sizeof(Datum));
	int			n = 0;
	ArrayIterator it = array_create_iterator(keys, 0, NULL);
	Datum		key;
	bool		isnull;

	while (array_iterate(it, &key, &isnull))
	{
		if (!isnull)
			coerced[n++] = CoerceKey(t, key);
	}
	array_free_iterator(it);
	return OnlineRemoteFetch(t, coerced, n);
}

/* Probes table t for key; true if it has a row within the TTL (in p->slot). */
static bool
ProbeTable(OnlineTable *t, OnlineProbe *p, Datum key)
{
	ScanKeyData skey;
	Datum		ts;
	bool		isnull;

	if (unlikely(t->distributed))
	{
		if (!OnlineRemoteFind(t, p->remote, CoerceKey(t, key), p->slot))
			return false;
	}
	else
	{
		ScanKeyEntryInitializeWithInfo(&skey, 0, 1, BTEqualStrategyNumber, InvalidOid,
									   t->collation, &t->eq_fn, CoerceKey(t, key));
		index_rescan(p->scan, &skey, 1, NULL, 0);
		if (!index_getnext_slot(p->scan, ForwardScanDirection, p->slot))
			return false;
	}
	slot_getsomeattrs(p->slot, t->max_attno);
	if (!t->has_ttl)
		return true;
	ts = p->slot->tts_values[t->ts_attno - 1];
	isnull = p->slot->tts_isnull[t->ts_attno - 1];
	if (isnull)
		return false;
	/* the event time >= now() - ttl, compared as SQL compares these types */
	switch (t->ts_type)
	{
		case TIMESTAMPTZOID:
			return DatumGetTimestampTz(ts) >= p->threshold;
		case TIMESTAMPOID:
			return DatumGetBool(DirectFunctionCall2(timestamp_ge_timestamptz, ts,
													TimestampTzGetDatum(p->threshold)));
		case DATEOID:
			return DatumGetBool(DirectFunctionCall2(date_ge_timestamptz, ts,
													TimestampTzGetDatum(p->threshold)));
	}
	return false;				/* not reached: LoadTable checked the type */
}

static void
NumericValue(JsonbValue *v, Numeric n)
{
	v->type = jbvNumeric;
	v->val.numeric = n;
}

static void
StringValue(JsonbValue *v, char *s, Size len)
{
	if (len > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("string too long to represent as jsonb string"),
				 errdetail("Due to an implementation restriction, jsonb strings cannot exceed %d bytes.",
						   JENTRY_OFFLENMASK)));
	v->type = jbvString;
	v->val.string.val = s;
	v->val.string.len = len;
}

/*
 * The numeric that numeric_in makes of a float's output ([-]digits[.digits]
 * [e[+-]digits]), without its general parsing: the digits as an integer M and
 * the point moved by E give M * 10^E with display scale max(0, -E), which is
 * what numeric_in gives too.  Returns NULL for anything else.
 */
static Numeric
PrintedFloatNumeric(const char *s)
{
	bool		negative = false;
	bool		point = false;
	int64		digits = 0;
	int			ndigits = 0;
	int			fraction = 0;
	int			exponent = 0;

	if (*s == '-')
	{
		negative = true;
		s++;
	}
	for (; *s != '\0' && *s != 'e'; s++)
	{
		if (*s == '.' && !point)
			point = true;
		else if (*s >= '0' && *s <= '9')
		{
			if (digits != 0 || *s != '0')
			{
				if (++ndigits > 18)
					return NULL;
				digits = digits * 10 + (*s - '0');
			}
			if (point)
				fraction++;
		}
		else
			return NULL;
	}
	if (*s == 'e')
	{
		bool		negative_exponent = false;

		s++;
		if (*s == '+' || *s == '-')
			negative_exponent = *s++ == '-';
		if (*s == '\0')
			return NULL;
		for (; *s != '\0'; s++)
		{
			if (*s < '0' || *s > '9' || exponent > 10000)
				return NULL;
			exponent = exponent * 10 + (*s - '0');
		}
		if (negative_exponent)
			exponent = -exponent;
	}
	return int64_div_fast_to_numeric(negative ? -digits : digits, fraction - exponent);
}

/* A number printed by its output function: a JSON number, or a string if NaN or infinite. */
static void
PrintedNumberValue(JsonbValue *v, char *printed, bool special)
{
	Numeric		n;

	if (special)
	{
		StringValue(v, printed, strlen(printed));
		return;
	}
	n = PrintedFloatNumeric(printed);
	if (n == NULL)
		n = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(printed),
												ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	NumericValue(v, n);
}

/* A jsonb value as a JsonbValue tree that convertToJsonb accepts. */
static void
JsonbToValue(Jsonb *jb, JsonbValue *out)
{
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbParseState *state = NULL;
	JsonbValue	v;
	JsonbValue *res = NULL;

	if (JB_ROOT_IS_SCALAR(jb))
	{
		(void) JsonbExtractScalar(&jb->root, out);
		return;
	}
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
		res = pushJsonbValue(&state, tok,
							 (tok == WJB_KEY || tok == WJB_VALUE || tok == WJB_ELEM) ? &v : NULL);
	*out = *res;
}

/*
 * A feature value as JSON, exactly as to_jsonb (and so jsonb_build_object)
 * makes it; the common types without a detour through a jsonb datum.
 */
static void
FeatureValue(OnlineFeature *f, Datum d, JsonbValue *v)
{
	switch (f->kind)
	{
		case ONLINE_JSON_BOOL:
			v->type = jbvBool;
			v->val.boolean = DatumGetBool(d);
			break;
		case ONLINE_JSON_INT2:
			NumericValue(v, int64_to_numeric(DatumGetInt16(d)));
			break;
		case ONLINE_JSON_INT4:
			NumericValue(v, int64_to_numeric(DatumGetInt32(d)));
			break;
		case ONLINE_JSON_INT8:
			NumericValue(v, int64_to_numeric(DatumGetInt64(d)));
			break;
		case ONLINE_JSON_FLOAT4:
			{
				float4		x = DatumGetFloat4(d);

				PrintedNumberValue(v, OutputFunctionCall(&f->json_fn, d), isnan(x) || isinf(x));
			}
			break;
		case ONLINE_JSON_FLOAT8:
			{
				float8		x = DatumGetFloat8(d);

				PrintedNumberValue(v, float8out_internal(x), isnan(x) || isinf(x));
			}
			break;
		case ONLINE_JSON_NUMERIC:
			{
				Numeric		n = DatumGetNumeric(d);

				if (numeric_is_nan(n) || numeric_is_inf(n))
					PrintedNumberValue(v, OutputFunctionCall(&f->json_fn, NumericGetDatum(n)), true);
				else
					NumericValue(v, n);
			}
			break;
		case ONLINE_JSON_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				StringValue(v, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			}
			break;
		case ONLINE_JSON_OTHER:
			JsonbToValue(DatumGetJsonbP(FunctionCall1(&f->json_fn, d)), v);
			break;
	}
}

/* The features of the current key as a jsonb object (probes done). */
static Datum
FeaturesJsonb(OnlineEntry *e, OnlineProbe *probes, JsonbPair *pairs)
{
	JsonbValue	obj;

	for (int j = 0; j < e->njson; j++)
	{
		OnlineFeature *f = &e->features[e->json_order[j]];
		OnlineProbe *p = &probes[f->table];

		pairs[j].key.type = jbvString;
		pairs[j].key.val.string.val = f->ref;
		pairs[j].key.val.string.len = f->ref_len;
		pairs[j].order = j;
		if (p->hit && !p->slot->tts_isnull[f->attno - 1])
			FeatureValue(f, p->slot->tts_values[f->attno - 1], &pairs[j].value);
		else
			pairs[j].value.type = jbvNull;
	}
	obj.type = jbvObject;
	obj.val.object.nPairs = e->njson;
	obj.val.object.pairs = pairs;
	return JsonbPGetDatum(JsonbValueToJsonb(&obj));
}

/* Looks up every key and stores one row per key in the result. */
static void
RunLookups(OnlineEntry *e, ArrayType *keys, ReturnSetInfo *rsinfo, bool typed)
{
	Oid			userid = GetUserId();
	Snapshot	snapshot = GetActiveSnapshot();
	TupleDesc	desc = rsinfo->setDesc;
	OnlineProbe *probes = palloc0(e->ntables * sizeof(OnlineProbe));
	Datum	   *values = palloc(desc->natts * sizeof(Datum));
	bool	   *nulls = palloc(desc->natts * sizeof(bool));
	JsonbPair  *pairs = typed ? NULL : palloc(e->njson * sizeof(JsonbPair));
	MemoryContext keycxt;
	ArrayIterator it;
	Datum		key;
	bool		key_isnull;

	for (int i = 0; i < e->ntables; i++)
	{
		OnlineTable *t = &e->tables[i];
		OnlineProbe *p = &probes[i];

		/* LockEntry or BuildEntry locked them */
		p->heap = relation_open(t->relid, NoLock);
		CheckReadable(e, i, p->heap, userid);
		p->slot = table_slot_create(p->heap, NULL);
		if (t->distributed)
			p->remote = FetchRemoteRows(t, keys);
		else
		{
			p->index = index_open(t->indexrelid, NoLock);
			p->scan = index_beginscan(p->heap, p->index, snapshot, 1, 0);
		}
		if (t->has_ttl)
			p->threshold = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
																   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
																   IntervalPGetDatum(&t->ttl)));
	}

	keycxt = AllocSetContextCreate(CurrentMemoryContext, "feature_store online key",
								   ALLOCSET_DEFAULT_SIZES);
	it = array_create_iterator(keys, 0, NULL);
	while (array_iterate(it, &key, &key_isnull))
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(keycxt);
		old = MemoryContextSwitchTo(keycxt);
		for (int i = 0; i < e->ntables; i++)
			probes[i].hit = !key_isnull && ProbeTable(&e->tables[i], &probes[i], key);
		values[0] = key;
		nulls[0] = key_isnull;
		if (typed)
		{
			for (int i = 0; i < e->nfeatures; i++)
			{
				OnlineFeature *f = &e->features[i];
				OnlineProbe *p = &probes[f->table];

				nulls[i + 1] = !p->hit || p->slot->tts_isnull[f->attno - 1];
				values[i + 1] = nulls[i + 1] ? (Datum) 0 : p->slot->tts_values[f->attno - 1];
			}
		}
		else
		{
			values[1] = FeaturesJsonb(e, probes, pairs);
			nulls[1] = false;
		}
		MemoryContextSwitchTo(old);
		tuplestore_putvalues(rsinfo->setResult, desc, values, nulls);
	}
	array_free_iterator(it);
	MemoryContextDelete(keycxt);

	for (int i = 0; i < e->ntables; i++)
	{
		OnlineProbe *p = &probes[i];

		ExecDropSingleTupleTableSlot(p->slot);
		if (p->scan)
		{
			index_endscan(p->scan);
			index_close(p->index, NoLock);
		}
		relation_close(p->heap, NoLock);
	}
}

/* fs.online_features, fs.online_features_typed (typed) */
static void
OnlineRequest(FunctionCallInfo fcinfo, bool typed)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ArrayType  *refs;
	ArrayType  *keys;
	Oid			refs_type;
	Oid			keys_type;
	int			nkeys;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature references must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("keys must not be null")));
	keys = PG_GETARG_ARRAYTYPE_P(1);
	nkeys = ArrayGetNItems(ARR_NDIM(keys), ARR_DIMS(keys));
	if (nkeys > ONLINE_MAX_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many keys in one online request: %d", nkeys),
				 errdetail("An online request may look up at most %d keys.", ONLINE_MAX_KEYS),
				 errhint("Split the keys into several requests, or read the online tables with SELECT.")));
	refs = PG_GETARG_ARRAYTYPE_P(0);
	if (ArrayGetNItems(ARR_NDIM(refs), ARR_DIMS(refs)) > ONLINE_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many feature references in one online request: %d",
						ArrayGetNItems(ARR_NDIM(refs), ARR_DIMS(refs))),
				 errdetail("An online request may read at most %d features.", ONLINE_MAX_FEATURES)));
	refs_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	keys_type = get_fn_expr_argtype(fcinfo->flinfo, 1);
	if (!OidIsValid(refs_type) || !OidIsValid(keys_type))
		ereport(ERROR,
				(errcode(ERRCODE_INDETERMINATE_DATATYPE),
				 errmsg("could not determine the types of the feature references and keys of an online request")));
	if (!ActiveSnapshotSet())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("online features can only be read in a query (no active snapshot)")));

	InitMaterializedSRF(fcinfo, rsinfo != NULL && IsA(rsinfo, ReturnSetInfo) &&
						rsinfo->expectedDesc != NULL ? MAT_SRF_USE_EXPECTED_DESC : 0);

	OnlineCallEnter();
	PG_TRY();
	{
		OnlineEntry *e = OnlineEntryFor(refs, refs_type, keys_type);

		CheckResultColumns(e, rsinfo->setDesc, typed);
		RunLookups(e, keys, rsinfo, typed);
	}
	PG_FINALLY();
	{
		OnlineCallExit();
	}
	PG_END_TRY();
}

/*
 * fs.online_features(features fs.feature_ref[], keys anyarray)
 *		RETURNS TABLE (key anyelement, features jsonb)
 */
Datum
fs_online_features(PG_FUNCTION_ARGS)
{
	OnlineRequest(fcinfo, false);
	return (Datum) 0;
}

/*
 * fs.online_features_typed(features fs.feature_ref[], keys anyarray)
 *		RETURNS SETOF record: (key, feature, ...) as the column definition
 *		list says, with the types of the key and the features.
 */
Datum
fs_online_features_typed(PG_FUNCTION_ARGS)
{
	OnlineRequest(fcinfo, true);
	return (Datum) 0;
}

/*
 * fs_internal.online_lookup (fs._online_lookup before 0.3): the function
 * fs.online_features called before it was itself written in C.  Released
 * scripts name this symbol.
 */
Datum
fs_online_lookup(PG_FUNCTION_ARGS)
{
	OnlineRequest(fcinfo, false);
	return (Datum) 0;
}
