/*
 * online_cache.c
 *		What the feature references of an online request resolve to, kept per
 *		backend.
 *
 * An entry is built for one references array (byte for byte) and one keys
 * array type: the online tables to probe, with their key columns, primary-key
 * indexes, TTLs and the casts the keys need, and the features in request
 * order.  Building it resolves the references through the catalog in SQL
 * (fs.resolve_features and fs.feature_views, in the caller's snapshot); using
 * it costs a hash lookup.  An entry is used only while
 *
 *	- the catalog generation (fs.catalog_state, which statement triggers on the
 *	  catalog tables bump in the changing transaction) and the xmin of its row,
 *	  read in the caller's snapshot, are the ones it was built from: the caller
 *	  sees the catalog its snapshot has, its own uncommitted changes included,
 *	  a rolled-back change is never mistaken for a committed one with the same
 *	  generation, and changes replayed on a standby are seen there;
 *	- no relcache invalidation has hit one of its tables or their primary-key
 *	  indexes since (then the relation-derived part is read again: column
 *	  numbers, index, equality), and no syscache invalidation has hit a cast it
 *	  uses (then it is resolved again).
 *
 * Calls can nest (a key cast or a feature's cast to json may be an SQL
 * function that makes an online request): only the outermost call changes
 * the cache; a nested call that needs a new entry builds a private one.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_cast.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "online.h"

/* At most this many entries are kept; past it the cache starts over. */
#define ONLINE_CACHE_SIZE 256

typedef struct OnlineCacheKey
{
	uint64		refs_hash;
	Oid			keys_type;
} OnlineCacheKey;

typedef struct OnlineCacheSlot
{
	OnlineCacheKey key;
	OnlineEntry *entry;
} OnlineCacheSlot;

static HTAB *OnlineCache = NULL;
static Oid	CatalogStateRelid = InvalidOid;
static ItemPointerData CatalogStateRoot;	/* see FetchCatalogRow */
static int	CallDepth = 0;

/*
 * The resolution query.  The online table of a version is taken from
 * fs.feature_views.online_relation, a regclass: this is the one place that
 * finds it.
 */
static const char *ResolveSql =
"SELECT rf.ref, rf.feature, fv.name, fv.version, fv.online_relation::pg_catalog.oid,\n"
"       fv.key_column, fv.key_type::pg_catalog.oid, fv.ts_column, fv.ttl\n"
"  FROM fs.resolve_features($1) WITH ORDINALITY AS rf(ref, view, version, feature, type, ord)\n"
"  JOIN fs.feature_views fv\n"
"    ON fv.name OPERATOR(pg_catalog.=) rf.view AND fv.version OPERATOR(pg_catalog.=) rf.version\n"
" ORDER BY rf.ord";

/* Nesting of online calls: see the file comment. */
void
OnlineCallEnter(void)
{
	CallDepth++;
}

void
OnlineCallExit(void)
{
	Assert(CallDepth > 0);
	CallDepth--;
}

/* Relcache invalidation: forget the relation-derived part of the tables hit. */
static void
OnlineRelcacheCallback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	OnlineCacheSlot *slot;

	if (!OidIsValid(relid) || relid == CatalogStateRelid)
	{
		CatalogStateRelid = InvalidOid;
		ItemPointerSetInvalid(&CatalogStateRoot);
	}
	if (OnlineCache == NULL)
		return;
	hash_seq_init(&status, OnlineCache);
	while ((slot = hash_seq_search(&status)) != NULL)
	{
		OnlineEntry *e = slot->entry;

		for (int i = 0; i < e->ntables; i++)
		{
			OnlineTable *t = &e->tables[i];

			if (!OidIsValid(relid) || relid == t->relid || relid == t->indexrelid)
				t->rel_valid = false;
		}
	}
}

/* Syscache invalidation of a cast or a function: resolve the entries using it again. */
static void
OnlineSyscacheCallback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS status;
	OnlineCacheSlot *slot;

	if (OnlineCache == NULL)
		return;
	hash_seq_init(&status, OnlineCache);
	while ((slot = hash_seq_search(&status)) != NULL)
	{
		OnlineEntry *e = slot->entry;

		for (int i = 0; i < e->ntables; i++)
		{
			OnlineTable *t = &e->tables[i];

			if (t->coercion == ONLINE_KEY_AS_IS && t->cast_hash == 0)
				continue;
			if (hashvalue == 0 ||
				(cacheid == CASTSOURCETARGET && hashvalue == t->cast_hash) ||
				(cacheid == PROCOID && hashvalue == t->castfunc_hash))
				e->valid = false;
		}
	}
}

/* Creates the cache and registers its invalidation callbacks, once per backend. */
static void
OnlineCacheInit(void)
{
	HASHCTL		ctl;

	if (OnlineCache != NULL)
		return;
	ctl.keysize = sizeof(OnlineCacheKey);
	ctl.entrysize = sizeof(OnlineCacheSlot);
	ctl.hcxt = CacheMemoryContext;
	OnlineCache = hash_create("feature_store online lookups", ONLINE_CACHE_SIZE,
							  &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(OnlineRelcacheCallback, (Datum) 0);
	CacheRegisterSyscacheCallback(CASTSOURCETARGET, OnlineSyscacheCallback, (Datum) 0);
	CacheRegisterSyscacheCallback(PROCOID, OnlineSyscacheCallback, (Datum) 0);
}

/* Empties the cache (only the outermost call does it). */
static void
OnlineCacheReset(void)
{
	HASH_SEQ_STATUS status;
	OnlineCacheSlot *slot;

	Assert(CallDepth <= 1);
	hash_seq_init(&status, OnlineCache);
	while ((slot = hash_seq_search(&status)) != NULL)
	{
		MemoryContextDelete(slot->entry->cxt);
		hash_search(OnlineCache, &slot->key, HASH_REMOVE, NULL);
	}
}

/*
 * Reads the fs.catalog_state row visible to snapshot through the HOT chain
 * rooted at CatalogStateRoot: one buffer lookup instead of a scan (whose
 * size check is a system call).  Only on block 0, which exists as long as the
 * table has a row (a truncation by VACUUM only removes empty trailing pages).
 */
static bool
FetchCatalogRow(Relation rel, Snapshot snapshot, Datum *value, bool *isnull, TransactionId *xmin)
{
	ItemPointerData tid = CatalogStateRoot;
	HeapTupleData tuple;
	Buffer		buffer;
	bool		found;

	if (!ItemPointerIsValid(&tid) || ItemPointerGetBlockNumber(&tid) != 0)
		return false;
	buffer = ReadBuffer(rel, 0);
	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	found = heap_hot_search_buffer(&tid, rel, buffer, snapshot, &tuple, NULL, true);
	if (found)
	{
		*value = heap_getattr(&tuple, 1, RelationGetDescr(rel), isnull);
		*xmin = HeapTupleHeaderGetRawXmin(tuple.t_data);
	}
	LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
	ReleaseBuffer(buffer);
	return found;
}

/* Remembers the root of the HOT chain of the tuple at tid, for FetchCatalogRow. */
static void
RememberCatalogRow(Relation rel, ItemPointer tid)
{
	OffsetNumber *roots = palloc(MaxHeapTuplesPerPage * sizeof(OffsetNumber));
	Buffer		buffer = ReadBuffer(rel, ItemPointerGetBlockNumber(tid));
	OffsetNumber root;

	LockBuffer(buffer, BUFFER_LOCK_SHARE);
	heap_get_root_tuples(BufferGetPage(buffer), roots);
	root = roots[ItemPointerGetOffsetNumber(tid) - 1];
	LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
	ReleaseBuffer(buffer);
	if (OffsetNumberIsValid(root))
		ItemPointerSet(&CatalogStateRoot, ItemPointerGetBlockNumber(tid), root);
	else
		ItemPointerSetInvalid(&CatalogStateRoot);
	pfree(roots);
}

/*
 * The catalog version in the caller's snapshot: the generation in
 * fs.catalog_state and the xmin of its row.
 */
static void
ReadCatalogVersion(Oid *relid, int64 *generation, TransactionId *xmin)
{
	Relation	rel = NULL;
	Snapshot	snapshot = GetActiveSnapshot();
	TableScanDesc scan;
	HeapTuple	tuple;
	ItemPointerData tid;
	int			rows = 0;
	bool		isnull = true;
	Datum		value = (Datum) 0;

	for (int attempt = 0; rel == NULL; attempt++)
	{
		if (!OidIsValid(CatalogStateRelid))
		{
			Oid			nsp = get_namespace_oid("fs", true);

			ItemPointerSetInvalid(&CatalogStateRoot);
			if (OidIsValid(nsp))
				CatalogStateRelid = get_relname_relid("catalog_state", nsp);
			if (!OidIsValid(CatalogStateRelid))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_TABLE),
						 errmsg("relation \"fs.catalog_state\" does not exist"),
						 errhint("Is the feature_store extension installed in this database?")));
		}
		*relid = CatalogStateRelid;
		rel = try_table_open(*relid, AccessShareLock);
		if (rel == NULL || *relid != CatalogStateRelid)
		{
			/* dropped, or invalidated while we locked it: look it up again */
			if (rel != NULL)
				table_close(rel, NoLock);
			rel = NULL;
			CatalogStateRelid = InvalidOid;
			if (attempt >= 3)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("could not open relation \"fs.catalog_state\": it keeps being invalidated")));
		}
	}

	if (!FetchCatalogRow(rel, snapshot, &value, &isnull, xmin))
	{
		ItemPointerSetInvalid(&tid);
		scan = table_beginscan(rel, snapshot, 0, NULL);
		while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			if (++rows > 1)
				break;
			value = heap_getattr(tuple, 1, RelationGetDescr(rel), &isnull);
			*xmin = HeapTupleHeaderGetRawXmin(tuple->t_data);
			tid = tuple->t_self;
		}
		table_endscan(scan);
		if (rows != 1)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("fs.catalog_state must hold exactly one row")));
		RememberCatalogRow(rel, &tid);
	}
	table_close(rel, NoLock);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("fs.catalog_state must hold exactly one row")));
	*generation = DatumGetInt64(value);
}

/* The number of a column of rel by name (0 if there is none), and its type. */
static AttrNumber
ColumnNumber(Relation rel, const char *name, Oid *type)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			*type = att->atttypid;
			return att->attnum;
		}
	}
	return InvalidAttrNumber;
}

/* How a feature of this type becomes JSON. */
static void
SetupFeatureJson(OnlineFeature *f, MemoryContext cxt)
{
	switch (f->type)
	{
		case BOOLOID:
			f->kind = ONLINE_JSON_BOOL;
			break;
		case INT2OID:
			f->kind = ONLINE_JSON_INT2;
			break;
		case INT4OID:
			f->kind = ONLINE_JSON_INT4;
			break;
		case INT8OID:
			f->kind = ONLINE_JSON_INT8;
			break;
		case FLOAT4OID:
			f->kind = ONLINE_JSON_FLOAT4;
			fmgr_info_cxt(F_FLOAT4OUT, &f->json_fn, cxt);
			break;
		case FLOAT8OID:
			f->kind = ONLINE_JSON_FLOAT8;
			break;
		case NUMERICOID:
			f->kind = ONLINE_JSON_NUMERIC;
			fmgr_info_cxt(F_NUMERIC_OUT, &f->json_fn, cxt);
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			f->kind = ONLINE_JSON_TEXT;
			break;
		default:
			{
				MemoryContext old = MemoryContextSwitchTo(cxt);
				FuncExpr   *call;

				/* to_jsonb reads the type of its argument from its call expression */
				f->kind = ONLINE_JSON_OTHER;
				fmgr_info_cxt(F_TO_JSONB, &f->json_fn, cxt);
				call = makeFuncExpr(F_TO_JSONB, JSONBOID,
									list_make1(makeNullConst(f->type, -1, InvalidOid)),
									InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
				fmgr_info_set_expr((Node *) call, &f->json_fn);
				MemoryContextSwitchTo(old);
			}
			break;
	}
}

/*
 * Reads the relation-derived part of table ti of e: column numbers, the
 * primary-key index and its equality.  Takes AccessShareLock on the table and
 * the index (kept until the end of the transaction).  When reloading (after a
 * relcache invalidation), returns false if the table no longer exists or was
 * renamed or moved: the catalog may then mean another table.
 */
static bool
LoadTable(OnlineEntry *e, int ti, bool reload)
{
	OnlineTable *t = &e->tables[ti];
	Relation	rel;
	Relation	idx;
	Oid			type;
	Oid			pk;
	Oid			eqop;

	rel = try_relation_open(t->relid, AccessShareLock);
	if (rel != NULL && reload &&
		(RelationGetNamespace(rel) != t->relnamespace ||
		 strcmp(RelationGetRelationName(rel), NameStr(t->relname)) != 0))
	{
		relation_close(rel, NoLock);
		return false;
	}
	if (rel == NULL)
	{
		if (reload)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("online table of feature view \"%s\" version %d does not exist",
						t->view, t->version)));
	}
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("online table \"%s\" of feature view \"%s\" version %d is not a table",
						RelationGetRelationName(rel), t->view, t->version)));

	if (t->relcxt == NULL)
		t->relcxt = AllocSetContextCreate(e->cxt, "feature_store online table",
										  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(t->relcxt);
	namestrcpy(&t->relname, RelationGetRelationName(rel));
	t->relnamespace = RelationGetNamespace(rel);

	t->key_attno = ColumnNumber(rel, t->key_column, &type);
	if (t->key_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("online table \"%s\" of feature view \"%s\" version %d has no key column \"%s\"",
						NameStr(t->relname), t->view, t->version, t->key_column)));
	if (type != t->key_type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("key column \"%s\" of online table \"%s\" has type %s, but feature view \"%s\" has key type %s",
						t->key_column, NameStr(t->relname), format_type_be(type), t->view,
						format_type_be(t->key_type))));
	t->max_attno = t->key_attno;
	if (t->has_ttl)
	{
		t->ts_attno = ColumnNumber(rel, t->ts_column, &t->ts_type);
		if (t->ts_attno == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("online table \"%s\" of feature view \"%s\" version %d has no timestamp column \"%s\"",
							NameStr(t->relname), t->view, t->version, t->ts_column)));
		if (t->ts_type != TIMESTAMPTZOID && t->ts_type != TIMESTAMPOID && t->ts_type != DATEOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("timestamp column \"%s\" of online table \"%s\" has type %s",
							t->ts_column, NameStr(t->relname), format_type_be(t->ts_type))));
		t->max_attno = Max(t->max_attno, t->ts_attno);
	}

	for (int i = 0; i < e->nfeatures; i++)
	{
		OnlineFeature *f = &e->features[i];

		if (f->table != ti)
			continue;
		f->attno = ColumnNumber(rel, f->column, &f->type);
		if (f->attno == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("online table \"%s\" of feature view \"%s\" version %d has no column \"%s\"",
							NameStr(t->relname), t->view, t->version, f->column)));
		SetupFeatureJson(f, t->relcxt);
		t->max_attno = Max(t->max_attno, f->attno);
	}

	pk = RelationGetPrimaryKeyIndex(rel);
	if (!OidIsValid(pk))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("online table \"%s\" of feature view \"%s\" version %d has no primary key",
						NameStr(t->relname), t->view, t->version)));
	idx = index_open(pk, AccessShareLock);
	if (idx->rd_rel->relam != BTREE_AM_OID ||
		idx->rd_index->indnkeyatts != 1 ||
		idx->rd_index->indkey.values[0] != t->key_attno)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("primary key of online table \"%s\" is not a btree on its key column \"%s\"",
						NameStr(t->relname), t->key_column)));
	eqop = get_opfamily_member(idx->rd_opfamily[0], idx->rd_opcintype[0], idx->rd_opcintype[0],
							   BTEqualStrategyNumber);
	if (!OidIsValid(eqop))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("operator family of primary key \"%s\" of online table \"%s\" has no equality operator",
						RelationGetRelationName(idx), NameStr(t->relname))));
	fmgr_info_cxt(get_opcode(eqop), &t->eq_fn, t->relcxt);
	t->collation = idx->rd_indcollation[0];
	t->indexrelid = pk;
	t->distributed = OnlineTableDistributed(t->relid);
	if (t->distributed)
		OnlineRemoteSetup(t, rel, idx);
	index_close(idx, NoLock);
	relation_close(rel, NoLock);
	t->rel_valid = true;
	return true;
}

/*
 * How keys of type elem become values of table t's key type: the same type,
 * or an implicit cast (the rule of fs.online_features since 0.1).
 */
static void
SetupKeyCoercion(OnlineTable *t, Oid elem, MemoryContext cxt)
{
	HeapTuple	tuple;
	Form_pg_cast cast;

	t->coercion = ONLINE_KEY_AS_IS;
	t->cast_hash = t->castfunc_hash = 0;
	if (elem == t->key_type)
		return;
	tuple = SearchSysCache2(CASTSOURCETARGET, ObjectIdGetDatum(elem), ObjectIdGetDatum(t->key_type));
	if (!HeapTupleIsValid(tuple) ||
		((Form_pg_cast) GETSTRUCT(tuple))->castcontext != COERCION_CODE_IMPLICIT)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("keys of type %s cannot look up feature view \"%s\", whose key type is %s",
						format_type_be(elem), t->view, format_type_be(t->key_type))));
	cast = (Form_pg_cast) GETSTRUCT(tuple);
	t->cast_hash = GetSysCacheHashValue2(CASTSOURCETARGET, ObjectIdGetDatum(elem),
										 ObjectIdGetDatum(t->key_type));
	switch (cast->castmethod)
	{
		case COERCION_METHOD_BINARY:
			break;
		case COERCION_METHOD_FUNCTION:
			t->coercion = ONLINE_KEY_FUNC;
			fmgr_info_cxt(cast->castfunc, &t->coerce_fn, cxt);
			t->coerce_nargs = get_func_nargs(cast->castfunc);
			t->castfunc_hash = GetSysCacheHashValue1(PROCOID, ObjectIdGetDatum(cast->castfunc));
			break;
		case COERCION_METHOD_INOUT:
			{
				Oid			func;
				bool		varlena;

				t->coercion = ONLINE_KEY_IO;
				getTypeOutputInfo(elem, &func, &varlena);
				fmgr_info_cxt(func, &t->elem_out, cxt);
				getTypeInputInfo(t->key_type, &func, &t->key_ioparam);
				fmgr_info_cxt(func, &t->coerce_fn, cxt);
			}
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("keys of type %s cannot look up feature view \"%s\": unknown cast method \"%c\"",
							format_type_be(elem), t->view, cast->castmethod)));
	}
	ReleaseSysCache(tuple);
}

/* Orders pairs as jsonb orders object keys: by length, then bytes. */
static const OnlineFeature *SortFeatures;

static int
CompareJsonKeys(const void *a, const void *b)
{
	const OnlineFeature *fa = &SortFeatures[*(const int *) a];
	const OnlineFeature *fb = &SortFeatures[*(const int *) b];

	if (fa->ref_len != fb->ref_len)
		return fa->ref_len < fb->ref_len ? -1 : 1;
	return memcmp(fa->ref, fb->ref, fa->ref_len);
}

/* Copies a text column of an SPI row into cxt (NULL for NULL). */
static char *
SpiText(HeapTuple row, TupleDesc desc, int col, MemoryContext cxt)
{
	char	   *s = SPI_getvalue(row, desc, col);

	return s == NULL ? NULL : MemoryContextStrdup(cxt, s);
}

/*
 * Resolves refs for keys of type keys_type into a new entry, in a memory
 * context under the caller's (the caller keeps it by reparenting it).
 */
static OnlineEntry *
BuildEntry(ArrayType *refs, Oid refs_type, Oid keys_type)
{
	MemoryContext cxt;
	OnlineEntry *e;
	Datum		arg = PointerGetDatum(refs);
	int			ret;
	uint64		nrows;
	Oid			elem = get_element_type(keys_type);

	if (!OidIsValid(elem))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("keys must be an array, not %s", format_type_be(keys_type))));

	cxt = AllocSetContextCreate(CurrentMemoryContext, "feature_store online lookup",
								ALLOCSET_SMALL_SIZES);
	e = MemoryContextAllocZero(cxt, sizeof(OnlineEntry));
	e->cxt = cxt;
	e->refs_len = VARSIZE(refs);
	e->refs = MemoryContextAlloc(cxt, e->refs_len);
	memcpy(e->refs, refs, e->refs_len);
	e->refs_hash = hash_bytes_extended((const unsigned char *) refs, e->refs_len, 0);
	e->keys_type = keys_type;
	e->elem_type = elem;
	e->valid = true;

	if (SPI_connect() != SPI_OK_CONNECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not connect to SPI to resolve feature references")));
	ret = SPI_execute_with_args(ResolveSql, 1, &refs_type, &arg, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("resolving feature references failed: %s", SPI_result_code_string(ret))));
	nrows = SPI_processed;
	if (nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no features requested")));
	if (nrows > ONLINE_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many features requested: %llu", (unsigned long long) nrows),
				 errdetail("An online request may read at most %d features (after view:* expands).",
						   ONLINE_MAX_FEATURES)));

	e->features = MemoryContextAllocZero(cxt, nrows * sizeof(OnlineFeature));
	e->tables = MemoryContextAllocZero(cxt, nrows * sizeof(OnlineTable));
	for (uint64 r = 0; r < nrows; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		OnlineFeature *f = &e->features[e->nfeatures++];
		bool		isnull;
		Oid			relid;
		int			ti;

		f->ref = SpiText(row, desc, 1, cxt);
		f->ref_len = strlen(f->ref);
		f->column = SpiText(row, desc, 2, cxt);
		relid = DatumGetObjectId(SPI_getbinval(row, desc, 5, &isnull));
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("online table of feature view \"%s\" version %d does not exist",
							SPI_getvalue(row, desc, 3),
							DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull)))));
		for (ti = 0; ti < e->ntables; ti++)
			if (e->tables[ti].relid == relid)
				break;
		if (ti == e->ntables)
		{
			OnlineTable *t = &e->tables[e->ntables++];
			Datum		ttl;

			t->relid = relid;
			t->view = SpiText(row, desc, 3, cxt);
			t->version = DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull));
			t->key_column = SpiText(row, desc, 6, cxt);
			t->key_type = DatumGetObjectId(SPI_getbinval(row, desc, 7, &isnull));
			t->ts_column = SpiText(row, desc, 8, cxt);
			ttl = SPI_getbinval(row, desc, 9, &isnull);
			t->has_ttl = !isnull;
			if (t->has_ttl)
				memcpy(&t->ttl, DatumGetIntervalP(ttl), sizeof(Interval));
		}
		f->table = ti;
	}
	SPI_finish();

	/* keys, in request order of the views (so errors name the first one) */
	for (int ti = 0; ti < e->ntables; ti++)
		SetupKeyCoercion(&e->tables[ti], elem, cxt);
	for (int ti = 0; ti < e->ntables; ti++)
		LoadTable(e, ti, false);

	/* the JSON object's keys: distinct references, sorted once here */
	e->json_order = MemoryContextAlloc(cxt, e->nfeatures * sizeof(int));
	for (int i = 0; i < e->nfeatures; i++)
		e->json_order[i] = i;
	SortFeatures = e->features;
	qsort(e->json_order, e->nfeatures, sizeof(int), CompareJsonKeys);
	e->njson = 0;
	for (int i = 0; i < e->nfeatures; i++)
		if (e->njson == 0 || CompareJsonKeys(&e->json_order[e->njson - 1], &e->json_order[i]) != 0)
			e->json_order[e->njson++] = e->json_order[i];

	return e;
}

/*
 * Locks the entry's tables and indexes and brings the relation-derived parts
 * invalidated since up to date.  Returns false when the entry cannot be used
 * as it is (a table was dropped, a cast changed, or a nested call would have
 * to change it).
 */
static bool
LockEntry(OnlineEntry *e)
{
	for (int i = 0; i < e->ntables; i++)
	{
		LockRelationOid(e->tables[i].relid, AccessShareLock);
		LockRelationOid(e->tables[i].indexrelid, AccessShareLock);
	}
	if (!e->valid)
		return false;
	for (int i = 0; i < e->ntables; i++)
	{
		if (e->tables[i].rel_valid)
			continue;
		if (CallDepth > 1 || !LoadTable(e, i, true))
			return false;
	}
	return true;
}

/*
 * The entry for refs and keys of type keys_type, valid in the caller's
 * snapshot, its tables and indexes locked.  Must be called between
 * OnlineCallEnter and OnlineCallExit.
 */
OnlineEntry *
OnlineEntryFor(ArrayType *refs, Oid refs_type, Oid keys_type)
{
	OnlineCacheKey key;
	OnlineCacheSlot *slot;
	OnlineEntry *e;
	Oid			catalog_relid;
	int64		generation;
	TransactionId xmin;
	Size		len = VARSIZE(refs);
	bool		found;

	OnlineCacheInit();
	ReadCatalogVersion(&catalog_relid, &generation, &xmin);

	memset(&key, 0, sizeof(key));
	key.refs_hash = hash_bytes_extended((const unsigned char *) refs, len, 0);
	key.keys_type = keys_type;
	slot = hash_search(OnlineCache, &key, HASH_FIND, NULL);
	if (slot != NULL)
	{
		e = slot->entry;
		if (e->valid && e->catalog_relid == catalog_relid &&
			e->generation == generation && e->generation_xmin == xmin &&
			e->refs_len == len && memcmp(e->refs, refs, len) == 0 &&
			LockEntry(e))
			return e;
	}

	/* Build (this locks the tables), then keep it unless nested. */
	e = BuildEntry(refs, refs_type, keys_type);
	e->catalog_relid = catalog_relid;
	e->generation = generation;
	e->generation_xmin = xmin;
	if (CallDepth > 1)
		return e;

	MemoryContextSetParent(e->cxt, CacheMemoryContext);
	slot = hash_search(OnlineCache, &key, HASH_FIND, NULL);
	if (slot != NULL)
		MemoryContextDelete(slot->entry->cxt);
	else
	{
		if (hash_get_num_entries(OnlineCache) >= ONLINE_CACHE_SIZE)
			OnlineCacheReset();
		slot = hash_search(OnlineCache, &key, HASH_ENTER, &found);
	}
	slot->entry = e;
	return e;
}
