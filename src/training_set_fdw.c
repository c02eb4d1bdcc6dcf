/*
 * training_set_fdw.c
 *		The foreign-data wrapper that reads training set versions.
 *
 * Each version is a foreign table fs_data.<name>_v<N>_training of server
 * fs_training_sets, with options training_set, version, row_count,
 * chunk_groups and has_split.  A scan walks the version's rows of
 * fs_internal.training_chunks in (chunk group, column) order through the
 * primary key, opens the chunks of one group at a time (checked and
 * decompressed into buffers reused from group to group) and decodes them
 * TS_BATCH_ROWS rows at a time into a row-major batch that each returned row
 * is copied from.  So a scan runs in constant memory whatever the size of
 * the set, and rows stream as they are decoded (SELECT, COPY (SELECT ...)
 * TO).  Only the columns the query uses are read, and a condition
 * split = '...' or split IN (...) skips the groups of other splits without
 * fetching their chunks.
 *
 * Privileges are PostgreSQL's own: reading a version needs SELECT on its
 * foreign table.  The chunk table is read directly (no role has privileges
 * on it), and only foreign tables owned by the server's owner are served,
 * so nobody can point a table of their own at somebody else's set.
 *
 * Every chunk's CRC-32C is checked before it is decoded, every group must
 * have all its columns with matching row counts, and a scan that reaches
 * the end must have seen every group and row the catalog recorded: anything
 * else is an ERRCODE_DATA_CORRUPTED error naming the set, version and chunk.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "training_set.h"

PG_FUNCTION_INFO_V1(training_set_fdw_handler);

/* Columns of fs_internal.training_chunks. */
enum
{
	Anum_chunk_set_name = 1,
	Anum_chunk_version,
	Anum_chunk_chunk_no,
	Anum_chunk_column_no,
	Anum_chunk_split,
	Anum_chunk_nrows,
	Anum_chunk_checksum,
	Anum_chunk_data
};

/* What GetForeignPlan hands the executor in fdw_private. */
enum TsScanPrivateIndex
{
	TsPrivateSplitFiltered,		/* Integer: 1 if only some splits are read */
	TsPrivateSplits,			/* List of String: the splits read */
	TsPrivateColumns,			/* List of Integer: attribute numbers used */
	TsPrivateCount
};

/* The options of a training set foreign table. */
typedef struct TsTableOptions
{
	char	   *set_name;
	int32		version;
	int64		row_count;
	int32		chunk_groups;
	bool		has_split;
} TsTableOptions;

typedef struct TsScanState
{
	TsTableOptions opts;
	int			natts;
	int			ndata;			/* stored columns: every attribute but split */
	bool	   *needed;			/* by attribute index */
	int		   *needed_cols;	/* the data columns needed, in order */
	int			nneeded;
	TsColumnType *types;		/* by data column */
	bool		split_filtered;
	List	   *splits;

	Relation	chunks;
	Relation	chunks_index;
	IndexScanDesc scan;
	TupleTableSlot *chunk_slot;
	ScanKeyData keys[2];
	bool		pending;		/* chunk_slot holds the next group's first row */
	bool		exhausted;		/* the index scan has returned its last row */
	bool		finished;
	void	   *zstd;			/* decompression context */

	MemoryContext scan_cxt;		/* lives as long as the scan */
	Relation	toast;			/* the chunk table's TOAST table, once opened */
	struct varlena *fetched;	/* a chunk fetched from it, reused */
	Size		fetched_size;
	MemoryContext group_cxt;	/* reset before each chunk group */
	MemoryContext batch_cxt;	/* reset before each batch */
	TsChunkReader *readers;		/* by data column: its chunk in the current group */
	Datum	   *batch_values;	/* TS_BATCH_ROWS rows of natts values, row by row */
	bool	   *batch_nulls;
	int			batch_start;	/* the first row of the batch decoded */
	int			batch_end;
	Datum		split_value;
	int			group_rows;
	int			row;
	int32		next_chunk;
	int64		rows_seen;

	/* for EXPLAIN ANALYZE */
	int64		groups_read;
	int64		groups_skipped;
	Size		peak_memory;
} TsScanState;

/* Reads the options of a training set foreign table. */
static void
table_options(Oid relid, TsTableOptions *opts)
{
	ForeignTable *ft = GetForeignTable(relid);
	ListCell   *lc;
	bool		have_name = false,
				have_version = false;

	memset(opts, 0, sizeof(*opts));
	foreach(lc, ft->options)
	{
		DefElem    *d = (DefElem *) lfirst(lc);
		char	   *v = defGetString(d);

		if (strcmp(d->defname, "training_set") == 0)
		{
			opts->set_name = v;
			have_name = true;
		}
		else if (strcmp(d->defname, "version") == 0)
		{
			opts->version = pg_strtoint32(v);
			have_version = true;
		}
		else if (strcmp(d->defname, "row_count") == 0)
			opts->row_count = pg_strtoint64(v);
		else if (strcmp(d->defname, "chunk_groups") == 0)
			opts->chunk_groups = pg_strtoint32(v);
		else if (strcmp(d->defname, "has_split") == 0)
			opts->has_split = defGetBoolean(d);
	}
	if (!have_name || !have_version)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("foreign table \"%s\" does not name a training set version", get_rel_name(relid))));
}

/* ----------------------------------------------------------------
 * Planning
 * ---------------------------------------------------------------- */

static void
tsGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	TsTableOptions *opts = palloc(sizeof(TsTableOptions));

	table_options(foreigntableid, opts);
	baserel->fdw_private = opts;
	baserel->tuples = opts->row_count;
	baserel->rows = clamp_row_est(opts->row_count *
								  clauselist_selectivity(root, baserel->baserestrictinfo, 0, JOIN_INNER, NULL));
}

static void
tsGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	TsTableOptions *opts = (TsTableOptions *) baserel->fdw_private;
	Cost		startup = 10;
	Cost		run;

	/* decoding is about as cheap as reading a heap tuple; each group costs a page or so */
	run = seq_page_cost * Max(opts->chunk_groups, 1) + cpu_tuple_cost * opts->row_count;
	add_path(baserel, (Path *) create_foreignscan_path(root, baserel, NULL, baserel->rows,
													   startup, startup + run, NIL, NULL, NULL, NIL));
}

/* The split names a clause allows (split = 'x' or split IN (...)), or NIL if it is not such a clause. */
static List *
split_clause_values(Expr *clause, Index relid, AttrNumber split_attno, bool *matched)
{
	Node	   *left,
			   *right;
	List	   *result = NIL;

	*matched = false;
	if (IsA(clause, OpExpr) && ((OpExpr *) clause)->opno == TextEqualOperator &&
		list_length(((OpExpr *) clause)->args) == 2)
	{
		left = linitial(((OpExpr *) clause)->args);
		right = lsecond(((OpExpr *) clause)->args);
		if (IsA(right, Var))
		{
			Node	   *t = left;

			left = right;
			right = t;
		}
		if (IsA(left, Var) && ((Var *) left)->varno == relid && ((Var *) left)->varattno == split_attno &&
			((Var *) left)->varlevelsup == 0 && IsA(right, Const))
		{
			*matched = true;
			if (!((Const *) right)->constisnull)
				result = list_make1(makeString(TextDatumGetCString(((Const *) right)->constvalue)));
		}
	}
	else if (IsA(clause, ScalarArrayOpExpr) && ((ScalarArrayOpExpr *) clause)->opno == TextEqualOperator &&
			 ((ScalarArrayOpExpr *) clause)->useOr)
	{
		left = linitial(((ScalarArrayOpExpr *) clause)->args);
		right = lsecond(((ScalarArrayOpExpr *) clause)->args);
		if (IsA(left, Var) && ((Var *) left)->varno == relid && ((Var *) left)->varattno == split_attno &&
			((Var *) left)->varlevelsup == 0 && IsA(right, Const))
		{
			*matched = true;
			if (!((Const *) right)->constisnull)
			{
				Datum	   *elems;
				bool	   *nulls;
				int			n,
							i;

				deconstruct_array(DatumGetArrayTypeP(((Const *) right)->constvalue), TEXTOID, -1, false,
								  TYPALIGN_INT, &elems, &nulls, &n);
				for (i = 0; i < n; i++)
					if (!nulls[i])
						result = lappend(result, makeString(TextDatumGetCString(elems[i])));
			}
		}
	}
	return result;
}

/* The names in both lists. */
static List *
intersect_names(List *a, List *b)
{
	List	   *result = NIL;
	ListCell   *la,
			   *lb;

	foreach(la, a)
		foreach(lb, b)
			if (strcmp(strVal(lfirst(la)), strVal(lfirst(lb))) == 0)
		{
			result = lappend(result, lfirst(la));
			break;
		}
	return result;
}

static ForeignScan *
tsGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				 ForeignPath *best_path, List *tlist, List *scan_clauses, Plan *outer_plan)
{
	TsTableOptions *opts = (TsTableOptions *) baserel->fdw_private;
	RangeTblEntry *rte = planner_rt_fetch(baserel->relid, root);
	Relation	rel = table_open(rte->relid, NoLock);
	int			natts = RelationGetDescr(rel)->natts;
	AttrNumber	split_attno = opts->has_split ? natts : InvalidAttrNumber;
	Bitmapset  *attrs = NULL;
	List	   *columns = NIL;
	List	   *splits = NIL;
	bool		filtered = false;
	ListCell   *lc;
	int			i;

	table_close(rel, NoLock);

	/* the columns the query reads: from the target list and every condition */
	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		bool		matched;
		List	   *allowed;

		pull_varattnos((Node *) ri->clause, baserel->relid, &attrs);
		if (split_attno == InvalidAttrNumber)
			continue;
		allowed = split_clause_values(ri->clause, baserel->relid, split_attno, &matched);
		if (matched)
		{
			splits = filtered ? intersect_names(splits, allowed) : allowed;
			filtered = true;
		}
	}
	for (i = 1; i <= natts; i++)
		if (bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, attrs) ||
			bms_is_member(i - FirstLowInvalidHeapAttributeNumber, attrs))
			columns = lappend_int(columns, i);

	/* every condition is also checked on each row: the split filter only skips groups */
	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(tlist, scan_clauses, baserel->relid, NIL,
							list_make3(makeInteger(filtered ? 1 : 0), splits, columns),
							NIL, NIL, outer_plan);
}

/* ----------------------------------------------------------------
 * Execution
 * ---------------------------------------------------------------- */

static void
tsBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;
	EState	   *estate = node->ss.ps.state;
	TupleDesc	desc = RelationGetDescr(rel);
	TsScanState *st = palloc0(sizeof(TsScanState));
	ListCell   *lc;
	Oid			nsp;
	Oid			chunks_id;
	int			i;

	Assert(list_length(plan->fdw_private) == TsPrivateCount);
	node->fdw_state = st;
	table_options(RelationGetRelid(rel), &st->opts);
	st->split_filtered = intVal(list_nth(plan->fdw_private, TsPrivateSplitFiltered)) != 0;
	st->splits = (List *) list_nth(plan->fdw_private, TsPrivateSplits);
	st->natts = desc->natts;
	st->ndata = st->opts.has_split ? st->natts - 1 : st->natts;
	if (st->ndata < 1)
		elog(ERROR, "training set foreign table \"%s\" has no columns", RelationGetRelationName(rel));
	st->needed = palloc0(sizeof(bool) * st->natts);
	foreach(lc, (List *) list_nth(plan->fdw_private, TsPrivateColumns))
		st->needed[lfirst_int(lc) - 1] = true;
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	/* only tables the server's owner defined are served */
	if (rel->rd_rel->relowner != GetForeignServer(GetForeignTable(RelationGetRelid(rel))->serverid)->owner)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("foreign table \"%s\" is not a training set of feature_store", RelationGetRelationName(rel)),
				 errdetail("Training set foreign tables belong to the owner of server fs_training_sets.")));

	st->types = palloc(sizeof(TsColumnType) * st->ndata);
	for (i = 0; i < st->ndata; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		TsColumnTypeInit(&st->types[i], att->atttypid, att->atttypmod);
	}
	st->readers = palloc0(sizeof(TsChunkReader) * st->ndata);
	/* columns the query does not use stay NULL */
	st->batch_values = palloc0(sizeof(Datum) * TS_BATCH_ROWS * st->natts);
	st->batch_nulls = palloc(sizeof(bool) * TS_BATCH_ROWS * st->natts);
	memset(st->batch_nulls, true, sizeof(bool) * TS_BATCH_ROWS * st->natts);
	st->needed_cols = palloc(sizeof(int) * st->ndata);
	for (i = 0; i < st->ndata; i++)
		if (st->needed[i])
		{
			TsChunkReaderInit(&st->readers[i], &st->types[i], estate->es_query_cxt);
			st->needed_cols[st->nneeded++] = i;
		}
	st->scan_cxt = estate->es_query_cxt;
	st->group_cxt = AllocSetContextCreate(estate->es_query_cxt, "training set chunk group", ALLOCSET_DEFAULT_SIZES);
	st->batch_cxt = AllocSetContextCreate(estate->es_query_cxt, "training set batch", ALLOCSET_DEFAULT_SIZES);
	st->zstd = TsZstdDecompressor(estate->es_query_cxt);

	nsp = get_namespace_oid("fs_internal", false);
	chunks_id = get_relname_relid("training_chunks", nsp);
	if (!OidIsValid(chunks_id))
		elog(ERROR, "table fs_internal.training_chunks is missing");
	st->chunks = table_open(chunks_id, AccessShareLock);
	st->chunks_index = index_open(RelationGetPrimaryKeyIndex(st->chunks), AccessShareLock);
	ScanKeyEntryInitialize(&st->keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   st->chunks_index->rd_indcollation[0], F_TEXTEQ,
						   CStringGetTextDatum(st->opts.set_name));
	ScanKeyEntryInitialize(&st->keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   st->chunks_index->rd_indcollation[1], F_INT4EQ,
						   Int32GetDatum(st->opts.version));
	st->chunk_slot = table_slot_create(st->chunks, NULL);
	st->scan = index_beginscan(st->chunks, st->chunks_index, estate->es_snapshot, 2, 0);
	index_rescan(st->scan, st->keys, 2, NULL, 0);
}

/* Reports a version whose chunks do not check out. */
static void
pg_attribute_noreturn()
corrupt_group(TsScanState *st, int32 chunk_no, int column_no, const char *detail)
{
	TsChunkId	id = {st->opts.set_name, st->opts.version, chunk_no, column_no};

	TsCorrupt(&id, detail, NULL);
}

/* Moves chunk_slot to the next chunk row of the version; false at the end. */
static bool
next_chunk_row(TsScanState *st)
{
	/*
	 * In the scan's memory context: the index AM allocates scan-lifetime
	 * state as it goes (btree's list of dead items to kill), which must not
	 * land in a group's context.
	 */
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);

	if (!st->exhausted && !index_getnext_slot(st->scan, ForwardScanDirection, st->chunk_slot))
		st->exhausted = true;
	MemoryContextSwitchTo(old);
	return !st->exhausted;
}

static int32
chunk_int(TsScanState *st, int attno)
{
	bool		isnull;
	Datum		d = slot_getattr(st->chunk_slot, attno, &isnull);

	Assert(!isnull);
	return DatumGetInt32(d);
}

/*
 * The bytes of a chunk: fetched from TOAST (the chunks are stored out of line
 * and uncompressed) into a buffer reused for every chunk, or detoasted
 * otherwise.  Valid until the next chunk is fetched.
 */
static struct varlena *
fetch_chunk(TsScanState *st, Datum d)
{
	struct varlena *attr = (struct varlena *) DatumGetPointer(d);
	struct varatt_external toast_pointer;
	int32		size;

	if (!VARATT_IS_EXTERNAL_ONDISK(attr))
		return PG_DETOAST_DATUM_PACKED(d);
	VARATT_EXTERNAL_GET_POINTER(toast_pointer, attr);
	if (VARATT_EXTERNAL_IS_COMPRESSED(toast_pointer))
		return PG_DETOAST_DATUM_PACKED(d);
	size = VARATT_EXTERNAL_GET_EXTSIZE(toast_pointer);
	if (st->toast == NULL || RelationGetRelid(st->toast) != toast_pointer.va_toastrelid)
	{
		if (st->toast != NULL)
			table_close(st->toast, AccessShareLock);
		st->toast = table_open(toast_pointer.va_toastrelid, AccessShareLock);
	}
	if (st->fetched == NULL || st->fetched_size < (Size) size + VARHDRSZ)
	{
		if (st->fetched != NULL)
			pfree(st->fetched);
		st->fetched_size = Max((Size) size + VARHDRSZ, 2 * st->fetched_size);
		st->fetched = MemoryContextAlloc(st->scan_cxt, st->fetched_size);
	}
	SET_VARSIZE(st->fetched, size + VARHDRSZ);
	table_relation_fetch_toast_slice(st->toast, toast_pointer.va_valueid, size, 0, size, st->fetched);
	return st->fetched;
}

/* The memory a scan holds for decoding: readers, the current group and batch. */
static Size
decode_memory(TsScanState *st)
{
	Size		mem = MemoryContextMemAllocated(st->group_cxt, true) + MemoryContextMemAllocated(st->batch_cxt, true) +
		(sizeof(Datum) + sizeof(bool)) * TS_BATCH_ROWS * st->natts + st->fetched_size;
	int			k;

	for (k = 0; k < st->nneeded; k++)
		mem += TsChunkReaderMemory(&st->readers[st->needed_cols[k]]);
	return mem;
}

/* Whether a group of this split is read. */
static bool
split_wanted(TsScanState *st, const char *split)
{
	ListCell   *lc;

	if (!st->split_filtered)
		return true;
	if (split == NULL)
		return false;
	foreach(lc, st->splits)
		if (strcmp(strVal(lfirst(lc)), split) == 0)
			return true;
	return false;
}

/*
 * Loads the next chunk group the scan reads into group_cxt (skipping the
 * groups of other splits); false when there are no more.
 */
static bool
load_next_group(TsScanState *st)
{
	for (;;)
	{
		int32		g;
		int32		nrows;
		char	   *split = NULL;
		bool		isnull;
		bool		wanted;
		int			c;
		Datum		d;
		MemoryContext old;

		if (!st->pending && !next_chunk_row(st))
		{
			/* the end: every group and row recorded must have been there */
			st->finished = true;
			if (st->next_chunk != st->opts.chunk_groups || st->rows_seen != st->opts.row_count)
				corrupt_group(st, st->next_chunk, 1,
							  psprintf("The version has %d chunk groups with " INT64_FORMAT " rows; "
									   "the catalog recorded %d with " INT64_FORMAT ".",
									   st->next_chunk, st->rows_seen, st->opts.chunk_groups, st->opts.row_count));
			return false;
		}
		st->pending = false;

		st->peak_memory = Max(st->peak_memory, decode_memory(st));
		MemoryContextReset(st->group_cxt);
		old = MemoryContextSwitchTo(st->group_cxt);

		g = chunk_int(st, Anum_chunk_chunk_no);
		if (g != st->next_chunk)
			corrupt_group(st, st->next_chunk, 1,
						  g > st->next_chunk ? "The chunk group is missing." : "The chunk group appears twice.");
		nrows = chunk_int(st, Anum_chunk_nrows);
		if (nrows < 1 || nrows > TS_GROUP_ROWS)
			corrupt_group(st, g, 1, psprintf("The chunk group claims %d rows.", nrows));
		d = slot_getattr(st->chunk_slot, Anum_chunk_split, &isnull);
		if (!isnull)
			split = TextDatumGetCString(d);
		if (st->opts.has_split != (split != NULL))
			corrupt_group(st, g, 1, "The chunk group's split does not match the table.");
		wanted = split_wanted(st, split);

		for (c = 0; c < st->ndata; c++)
		{
			int32		column_no;

			if (c > 0 && (!next_chunk_row(st) || chunk_int(st, Anum_chunk_chunk_no) != g))
				corrupt_group(st, g, c + 1, "The chunk is missing.");
			column_no = chunk_int(st, Anum_chunk_column_no);
			if (column_no != c + 1)
				corrupt_group(st, g, c + 1,
							  column_no > c + 1 ? "The chunk is missing." : "The chunk appears twice.");
			if (chunk_int(st, Anum_chunk_nrows) != nrows)
				corrupt_group(st, g, c + 1, "The chunks of the group disagree on its row count.");
			if (c > 0)
			{
				Datum		s = slot_getattr(st->chunk_slot, Anum_chunk_split, &isnull);

				if (isnull != (split == NULL) || (!isnull && strcmp(TextDatumGetCString(s), split) != 0))
					corrupt_group(st, g, c + 1, "The chunks of the group disagree on its split.");
			}
			if (wanted && st->needed[c])
			{
				struct varlena *data;
				uint32		stored;
				uint32		computed;
				TsChunkId	id;

				d = slot_getattr(st->chunk_slot, Anum_chunk_data, &isnull);
				Assert(!isnull);
				data = fetch_chunk(st, d);
				stored = (uint32) DatumGetInt64(slot_getattr(st->chunk_slot, Anum_chunk_checksum, &isnull));
				computed = TsChunkChecksum(VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data));
				id.set_name = st->opts.set_name;
				id.version = st->opts.version;
				id.chunk_no = g;
				id.column_no = c + 1;
				if (stored != computed)
					TsCorrupt(&id, "Its checksum does not match the one recorded when it was written.",
							  psprintf("Its CRC-32C is %08x; %08x was recorded when it was written.",
									   computed, stored));
				TsChunkOpen(&st->readers[c], VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), st->zstd, &id);
				if (st->readers[c].nrows != nrows)
					corrupt_group(st, g, c + 1, "The chunk's row count differs from its group's.");
			}
		}
		/* the next group's first row, if any, is left in the slot */
		if (next_chunk_row(st))
		{
			if (chunk_int(st, Anum_chunk_chunk_no) == g)
				corrupt_group(st, g, st->ndata + 1, "The chunk group has more columns than the table.");
			st->pending = true;
		}
		MemoryContextSwitchTo(old);

		st->next_chunk++;
		st->rows_seen += nrows;
		if (!wanted)
		{
			st->groups_skipped++;
			continue;
		}
		st->groups_read++;
		st->group_rows = nrows;
		st->row = 0;
		st->batch_start = st->batch_end = 0;
		/*
		 * In the group's context: this runs in the executor's per-tuple
		 * context, reset before the next row when the scan has a filter or a
		 * projection, and the split value serves every row of the group.
		 */
		old = MemoryContextSwitchTo(st->group_cxt);
		st->split_value = split ? CStringGetTextDatum(split) : (Datum) 0;
		MemoryContextSwitchTo(old);
		return true;
	}
}

/* Decodes the next batch of rows of the current group, every column the query uses. */
static void
decode_batch(TsScanState *st)
{
	int			n = Min(TS_BATCH_ROWS, st->group_rows - st->row);
	MemoryContext old;
	int			k;

	MemoryContextReset(st->batch_cxt);
	old = MemoryContextSwitchTo(st->batch_cxt);
	for (k = 0; k < st->nneeded; k++)
	{
		int			c = st->needed_cols[k];

		TsChunkRead(&st->readers[c], n, &st->batch_values[c], &st->batch_nulls[c], st->natts);
	}
	MemoryContextSwitchTo(old);
	st->batch_start = st->row;
	st->batch_end = st->row + n;
}

static TupleTableSlot *
tsIterateForeignScan(ForeignScanState *node)
{
	TsScanState *st = (TsScanState *) node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	int			row;

	ExecClearTuple(slot);
	if (st->row >= st->group_rows)
	{
		do
		{
			if (st->finished || !load_next_group(st))
				return slot;
		} while (st->group_rows == 0);
		/* the split is the group's */
		if (st->opts.has_split)
			for (row = 0; row < TS_BATCH_ROWS; row++)
			{
				st->batch_values[row * st->natts + st->ndata] = st->split_value;
				st->batch_nulls[row * st->natts + st->ndata] = false;
			}
	}
	if (st->row >= st->batch_end)
		decode_batch(st);
	row = st->row++ - st->batch_start;
	memcpy(slot->tts_values, &st->batch_values[row * st->natts], sizeof(Datum) * st->natts);
	memcpy(slot->tts_isnull, &st->batch_nulls[row * st->natts], sizeof(bool) * st->natts);
	return ExecStoreVirtualTuple(slot);
}

static void
tsReScanForeignScan(ForeignScanState *node)
{
	TsScanState *st = (TsScanState *) node->fdw_state;
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);

	index_rescan(st->scan, st->keys, 2, NULL, 0);
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->group_cxt);
	st->pending = false;
	st->exhausted = false;
	st->finished = false;
	st->group_rows = 0;
	st->row = 0;
	st->batch_start = st->batch_end = 0;
	st->next_chunk = 0;
	st->rows_seen = 0;
}

static void
tsEndForeignScan(ForeignScanState *node)
{
	TsScanState *st = (TsScanState *) node->fdw_state;

	if (st == NULL || st->scan == NULL)
		return;
	index_endscan(st->scan);
	ExecDropSingleTupleTableSlot(st->chunk_slot);
	if (st->toast != NULL)
		table_close(st->toast, AccessShareLock);
	index_close(st->chunks_index, AccessShareLock);
	table_close(st->chunks, AccessShareLock);
}

static void
tsExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	TsScanState *st = (TsScanState *) node->fdw_state;

	ExplainPropertyText("Training Set", psprintf("%s version %d", st->opts.set_name, st->opts.version), es);
	if (st->split_filtered)
	{
		StringInfoData s;
		ListCell   *lc;

		initStringInfo(&s);
		foreach(lc, st->splits)
			appendStringInfo(&s, "%s%s", s.len ? ", " : "", strVal(lfirst(lc)));
		ExplainPropertyText("Splits", s.len ? s.data : "none", es);
	}
	if (es->analyze && st->group_cxt != NULL)
	{
		Size		mem = Max(st->peak_memory, decode_memory(st));

		ExplainPropertyInteger("Chunk Groups Read", NULL, st->groups_read, es);
		ExplainPropertyInteger("Chunk Groups Skipped", NULL, st->groups_skipped, es);
		ExplainPropertyInteger("Peak Decode Memory", "kB", (int64) ((mem + 1023) / 1024), es);
	}
}

/* Whether a plan node is a scan of a training set version. */
bool
TsIsTrainingSetScan(Plan *plan)
{
	return plan != NULL && IsA(plan, ForeignScan) &&
		GetFdwRoutineByServerId(((ForeignScan *) plan)->fs_server)->IterateForeignScan == tsIterateForeignScan;
}

/* The foreign-data wrapper's entry points (read only). */
Datum
training_set_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = tsGetForeignRelSize;
	routine->GetForeignPaths = tsGetForeignPaths;
	routine->GetForeignPlan = tsGetForeignPlan;
	routine->BeginForeignScan = tsBeginForeignScan;
	routine->IterateForeignScan = tsIterateForeignScan;
	routine->ReScanForeignScan = tsReScanForeignScan;
	routine->EndForeignScan = tsEndForeignScan;
	routine->ExplainForeignScan = tsExplainForeignScan;
	PG_RETURN_POINTER(routine);
}
