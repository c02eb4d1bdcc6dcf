/*
 * online_distributed.c
 *		Online reads of tables a distributed engine (Citus) holds on other
 *		nodes.
 *
 * A table Citus manages (listed in pg_dist_partition: distributed,
 * reference or Citus-local) is an empty shell on the node that runs the
 * request, so probing its primary key there would find nothing.  Such a
 * table is read with one SQL query per request instead, the requested keys
 * (cast to the key type) written into it as a literal array:
 *
 *		SELECT <columns> FROM <table> WHERE <key> OPERATOR(<its equality>)
 *			ANY ('{...}'::<type>[])
 *
 * Because the keys are constants when the query is planned, Citus prunes it
 * to the shards that hold them (one shard: a router query; several: one task
 * per shard, run in parallel).  The rows come back with the table's column
 * numbers (a dropped column reads NULL), are sorted by the primary key's
 * btree order and then found by binary search for each requested key, so the
 * rest of the request (TTL, JSON, typed columns) is the same as for a local
 * probe.  The query runs as the caller, who needs SELECT on the table either
 * way.  Nothing here runs for a table Citus does not manage.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "online.h"

/* Tells whether Citus manages relid (it has a row in pg_dist_partition). */
bool
OnlineTableDistributed(Oid relid)
{
	Oid			dist = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	AttrNumber	attno;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData skey;
	bool		found;

	if (!OidIsValid(dist))
		return false;
	attno = get_attnum(dist, "logicalrelid");
	if (attno == InvalidAttrNumber)
		return false;
	rel = table_open(dist, AccessShareLock);
	ScanKeyInit(&skey, attno, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &skey);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Prepares the query of a table Citus manages: its text up to the keys, and
 * the btree comparison of its primary key (index idx), in t->relcxt.
 */
void
OnlineRemoteSetup(OnlineTable *t, Relation rel, Relation idx)
{
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData sql;
	Oid			cmp;
	Oid			eqop;
	HeapTuple	optup;
	MemoryContext old = MemoryContextSwitchTo(t->relcxt);

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < t->max_attno; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (i > 0)
			appendStringInfoString(&sql, ", ");
		if (att->attisdropped)
			appendStringInfoString(&sql, "NULL::pg_catalog.int4");
		else
			appendStringInfoString(&sql, quote_identifier(NameStr(att->attname)));
	}
	eqop = get_opfamily_member(idx->rd_opfamily[0], idx->rd_opcintype[0],
							   idx->rd_opcintype[0], BTEqualStrategyNumber);
	optup = SearchSysCache1(OPEROID, ObjectIdGetDatum(eqop));
	if (!HeapTupleIsValid(optup))
		elog(ERROR, "cache lookup failed for operator %u", eqop);
	/* the primary key's own equality, named in full: no search_path lookup */
	appendStringInfo(&sql, " FROM %s WHERE %s OPERATOR(%s.%s) ANY (",
					 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
												RelationGetRelationName(rel)),
					 quote_identifier(t->key_column),
					 quote_identifier(get_namespace_name(((Form_pg_operator) GETSTRUCT(optup))->oprnamespace)),
					 NameStr(((Form_pg_operator) GETSTRUCT(optup))->oprname));
	ReleaseSysCache(optup);
	t->remote_sql = sql.data;

	cmp = get_opfamily_proc(idx->rd_opfamily[0], idx->rd_opcintype[0],
							idx->rd_opcintype[0], BTORDER_PROC);
	if (!OidIsValid(cmp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("operator family of primary key \"%s\" of online table \"%s\" has no comparison function",
						RelationGetRelationName(idx), NameStr(t->relname))));
	fmgr_info_cxt(cmp, &t->cmp_fn, t->relcxt);
	get_typlenbyvalalign(t->key_type, &t->key_len, &t->key_byval, &t->key_align);
	MemoryContextSwitchTo(old);
}

/* Context of the comparisons of OnlineRemoteFetch and OnlineRemoteFind. */
typedef struct RemoteSortContext
{
	OnlineTable *t;
	Datum	   *keys;
} RemoteSortContext;

/* Compares two keys with the primary key's btree order. */
static int
RemoteKeyCompare(OnlineTable *t, Datum a, Datum b)
{
	return DatumGetInt32(FunctionCall2Coll(&t->cmp_fn, t->collation, a, b));
}

/* qsort_arg comparator: row indexes by their keys. */
static int
RemoteRowCompare(const void *a, const void *b, void *arg)
{
	RemoteSortContext *cxt = (RemoteSortContext *) arg;

	return RemoteKeyCompare(cxt->t, cxt->keys[*(const int *) a], cxt->keys[*(const int *) b]);
}

/*
 * Reads the rows of the requested keys (already cast to the key type,
 * NULLs left out) from a table Citus manages; they live in the current
 * memory context.
 */
OnlineRemoteRows *
OnlineRemoteFetch(OnlineTable *t, Datum *keys, int nkeys)
{
	OnlineRemoteRows *r = palloc0(sizeof(OnlineRemoteRows));
	MemoryContext cxt = CurrentMemoryContext;
	StringInfoData sql;
	ArrayType  *arr;
	char	   *literal;
	int			ret;
	HeapTuple  *rows;
	Datum	   *rowkeys;
	int		   *order;
	RemoteSortContext sortcxt;

	if (nkeys == 0)
		return r;
	arr = construct_array(keys, nkeys, t->key_type, t->key_len, t->key_byval, t->key_align);
	literal = OidOutputFunctionCall(F_ARRAY_OUT, PointerGetDatum(arr));
	initStringInfo(&sql);
	appendStringInfo(&sql, "%s%s::%s)", t->remote_sql, quote_literal_cstr(literal),
					 format_type_be_qualified(get_array_type(t->key_type)));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(sql.data, true, 0);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("reading online table \"%s\" of feature view \"%s\" failed: %s",
						NameStr(t->relname), t->view, SPI_result_code_string(ret))));

	r->n = (int) SPI_processed;
	rows = MemoryContextAlloc(cxt, Max(r->n, 1) * sizeof(HeapTuple));
	rowkeys = MemoryContextAlloc(cxt, Max(r->n, 1) * sizeof(Datum));
	for (int i = 0; i < r->n; i++)
	{
		bool		isnull;

		rows[i] = SPI_copytuple(SPI_tuptable->vals[i]);
		rowkeys[i] = heap_getattr(rows[i], t->key_attno, SPI_tuptable->tupdesc, &isnull);
		if (isnull)
			elog(ERROR, "online table \"%s\" returned a NULL primary key", NameStr(t->relname));
	}
	SPI_finish();

	/* sort by key, so that each requested key is found by binary search */
	order = palloc(Max(r->n, 1) * sizeof(int));
	for (int i = 0; i < r->n; i++)
		order[i] = i;
	sortcxt.t = t;
	sortcxt.keys = rowkeys;
	qsort_arg(order, r->n, sizeof(int), RemoteRowCompare, &sortcxt);
	r->rows = palloc(Max(r->n, 1) * sizeof(HeapTuple));
	r->keys = palloc(Max(r->n, 1) * sizeof(Datum));
	for (int i = 0; i < r->n; i++)
	{
		r->rows[i] = rows[order[i]];
		r->keys[i] = rowkeys[order[i]];
	}
	return r;
}

/* Finds key (of the key type) among the fetched rows; on a hit stores its row in slot. */
bool
OnlineRemoteFind(OnlineTable *t, OnlineRemoteRows *r, Datum key, TupleTableSlot *slot)
{
	int			lo = 0,
				hi = r->n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = RemoteKeyCompare(t, r->keys[mid], key);

		if (c == 0)
		{
			ExecForceStoreHeapTuple(r->rows[mid], slot, false);
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}
