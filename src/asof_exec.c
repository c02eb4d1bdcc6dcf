/*
 * asof_exec.c
 *		Execution and EXPLAIN of the AsofJoin custom scan.
 *
 * Merge strategy: both inputs arrive ordered by (keys, time).  For each spine
 * row the feature input is advanced while its rows belong to the same keys
 * and are not later than the spine time.  Without other join conditions only
 * the last such row is kept (constant memory); TTL-like conditions are then
 * checked on that row alone.  With other conditions, the rows of the current
 * key group up to the spine time are kept in a tuplestore (which spills past
 * work_mem) and read backwards until a row passes them.
 *
 * Merge over index: the same merge, but the node sorts the spine itself and
 * reads the feature table's (keys, time) btree index directly, from the index
 * tuple when the heap page is all-visible (every visibility map page stays
 * pinned).  In parallel, the first key's range is cut into chunks that the
 * participants take in turn; each re-reads the spine and keeps its chunk.
 *
 * Index probe strategy: for each spine row, a backward btree scan of the
 * feature table positioned at (keys, time) returns candidates newest first.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/itup.h"
#include "access/visibilitymap.h"
#include "access/xact.h"
#include "storage/predicate.h"
#include "port/atomics.h"
#include "storage/bufmgr.h"
#include "utils/tuplesort.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/extensible.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/sortsupport.h"
#include "utils/tuplestore.h"

#include "asof.h"

/* How the node sorts one of its inputs itself. */
typedef struct AsofSort
{
	int			nkeys;
	AttrNumber *att;
	Oid		   *ops;
	Oid		   *colls;
	bool	   *nullsfirst;
} AsofSort;

/* Execution state of an AsofJoin. */
typedef struct AsofState
{
	CustomScanState css;
	AsofStrategy strategy;
	JoinType	jointype;
	bool		strict;
	int			nkeys;
	int			outer_natts;
	int			inner_natts;
	AttrNumber *outer_key_att;
	AttrNumber *inner_key_att;	/* probe: index column of the key */
	SortSupportData *key_ssup;	/* compares outer key with inner key */
	AttrNumber	outer_ts_att;
	AttrNumber	inner_ts_att;
	SortSupportData ts_ssup;
	ExprState  *cand_qual;		/* other ON conditions, per candidate */
	ExprState  *base_qual;		/* probe: the feature table's own filters */
	ExprState  *mono_qual;		/* TTL-like conditions, on the latest only */
	TupleTableSlot *scanslot;

	/* merge */
	PlanState  *outer_ps;
	PlanState  *inner_ps;
	TupleTableSlot *inner_cur;	/* current feature row, not yet consumed */
	bool		inner_done;
	TupleTableSlot *match_slot; /* latest qualifying row (no other quals) */
	bool		match_valid;
	Tuplestorestate *group;		/* rows of the key group (other quals) */
	int64		group_n;
	TupleTableSlot *group_first;	/* first row of that group */
	TupleTableSlot *cand_slot;

	/* probe */
	Oid			heap_oid;
	Oid			index_oid;
	Relation	heap;
	Relation	index;
	IndexScanDesc scan;
	ScanKeyData *scankeys;
	Oid		   *eqprocs;
	Oid			ts_leproc;
	Oid			ts_coll;
	AttrNumber *probe_cols;
	int			probe_maxatt;
	TupleTableSlot *heapslot;

	/* merge over index: own spine sort, own index scan, key-range chunks */
	TupleDesc	inner_desc;
	Tuplesortstate *sort;
	TupleTableSlot *sorted_slot;
	AsofSort	spine_sort;
	/* merge over ranges: the feature input sorted per chunk */
	Tuplesortstate *isort;
	TupleTableSlot *inner_sorted_slot;
	AsofSort	feature_sort;
	SortSupportData bound_ssup;	/* feature key vs chunk bound */
	List	   *bounds;			/* Const per chunk boundary */
	int			nchunks;
	int			local_next;
	int			chunks_started;
	struct AsofShared *shared;
	bool		index_only;
	int		   *idx_map;		/* inner column -> index column (0-based) */
	Datum	   *ivalues;
	bool	   *inulls;
	Buffer	   *vmbufs;
	int			nvmbufs;
	Buffer		vmspare;
	TupleTableSlot *idx_slot;
	ScanKeyData rangekeys[2];
	Oid			range_ge;
	Oid			range_lt;
	Oid			range_coll;
} AsofState;

/* Shared state of a parallel AsofJoin: the next key-range chunk to take. */
typedef struct AsofShared
{
	pg_atomic_uint32 next_chunk;
} AsofShared;

/* Heap blocks covered by one visibility map page (as visibilitymap.c). */
#define ASOF_HEAPBLOCKS_PER_VMPAGE \
	((BLCKSZ - MAXALIGN(SizeOfPageHeaderData)) * (BITS_PER_BYTE / BITS_PER_HEAPBLOCK))

static void AsofBegin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *AsofExec(CustomScanState *node);
static void AsofEnd(CustomScanState *node);
static void AsofReScan(CustomScanState *node);
static void AsofExplain(CustomScanState *node, List *ancestors, ExplainState *es);
static Size AsofEstimateDSM(CustomScanState *node, ParallelContext *pcxt);
static void AsofInitializeDSM(CustomScanState *node, ParallelContext *pcxt, void *coordinate);
static void AsofReInitializeDSM(CustomScanState *node, ParallelContext *pcxt, void *coordinate);
static void AsofInitializeWorker(CustomScanState *node, shm_toc *toc, void *coordinate);

static CustomExecMethods AsofExecMethods = {
	.CustomName = ASOF_NODE_NAME,
	.BeginCustomScan = AsofBegin,
	.ExecCustomScan = AsofExec,
	.EndCustomScan = AsofEnd,
	.ReScanCustomScan = AsofReScan,
	.ExplainCustomScan = AsofExplain,
	.EstimateDSMCustomScan = AsofEstimateDSM,
	.InitializeDSMCustomScan = AsofInitializeDSM,
	.ReInitializeDSMCustomScan = AsofReInitializeDSM,
	.InitializeWorkerCustomScan = AsofInitializeWorker,
};

CustomScanMethods AsofScanMethods = {
	.CustomName = ASOF_NODE_NAME,
	.CreateCustomScanState = AsofCreateScanState,
};

/* Allocates the scan state of an AsofJoin plan node. */
Node *
AsofCreateScanState(CustomScan *cscan)
{
	AsofState  *st = (AsofState *) newNode(sizeof(AsofState), T_CustomScanState);

	st->css.methods = &AsofExecMethods;
	return (Node *) st;
}

/* Prepares a comparator from a btree comparison function. */
static void
AsofPrepareComparator(SortSupport ssup, Oid cmpproc, Oid collation,
					  bool nulls_first, bool reverse)
{
	memset(ssup, 0, sizeof(SortSupportData));
	ssup->ssup_cxt = CurrentMemoryContext;
	ssup->ssup_collation = collation;
	ssup->ssup_nulls_first = nulls_first;
	ssup->ssup_reverse = reverse;
	ssup->abbreviate = false;
	PrepareSortSupportComparisonShim(cmpproc, ssup);
}

/* Fills the sort descriptions of one input from its sort operators. */
static void
AsofFillSort(AsofSort *sort, List *ops, AttrNumber *key_att, AttrNumber ts_att,
			 AsofState *st)
{
	int			j;

	sort->nkeys = list_length(ops);
	sort->att = palloc(sizeof(AttrNumber) * sort->nkeys);
	sort->ops = palloc(sizeof(Oid) * sort->nkeys);
	sort->colls = palloc(sizeof(Oid) * sort->nkeys);
	sort->nullsfirst = palloc0(sizeof(bool) * sort->nkeys);
	for (j = 0; j < sort->nkeys; j++)
	{
		sort->ops[j] = list_nth_oid(ops, j);
		if (j < st->nkeys)
		{
			sort->att[j] = key_att[j];
			sort->colls[j] = st->key_ssup[j].ssup_collation;
		}
		else
		{
			sort->att[j] = ts_att;
			sort->colls[j] = st->ts_coll;
		}
	}
}

/* Sets up the node's own sorts and key-range chunks (merge over index or ranges). */
static void
AsofInitSorts(AsofState *st, EState *estate, List *priv)
{
	AsofFillSort(&st->spine_sort, list_nth(priv, ASOF_PRIV_SORTOPS),
				 st->outer_key_att, st->outer_ts_att, st);
	st->sorted_slot = ExecAllocTableSlot(&estate->es_tupleTable,
										 ExecGetResultType(st->outer_ps),
										 &TTSOpsMinimalTuple);
	st->bounds = list_nth(priv, ASOF_PRIV_BOUNDS);
	st->nchunks = list_length(st->bounds) + 1;
	if (st->strategy == ASOF_MERGE_RANGES)
	{
		AsofFillSort(&st->feature_sort, list_nth(priv, ASOF_PRIV_INNER_SORTOPS),
					 st->inner_key_att, st->inner_ts_att, st);
		st->inner_sorted_slot = ExecAllocTableSlot(&estate->es_tupleTable,
												   ExecGetResultType(st->inner_ps),
												   &TTSOpsMinimalTuple);
		AsofPrepareComparator(&st->bound_ssup,
							  linitial_oid(list_nth(priv, ASOF_PRIV_BOUND_PROC)),
							  st->key_ssup[0].ssup_collation, false, false);
	}
}

/* Sets up the state of an AsofJoin from its plan. */
static void
AsofBegin(CustomScanState *node, EState *estate, int eflags)
{
	AsofState  *st = (AsofState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *priv = cscan->custom_private;
	List	   *hdr = linitial(priv);
	List	   *outer_att = list_nth(priv, ASOF_PRIV_KEY_OUTER);
	List	   *inner_att = list_nth(priv, ASOF_PRIV_KEY_INNER);
	List	   *procs = list_nth(priv, ASOF_PRIV_KEY_PROC);
	List	   *colls = list_nth(priv, ASOF_PRIV_KEY_COLL);
	List	   *flags = list_nth(priv, ASOF_PRIV_KEY_FLAGS);
	List	   *eqprocs = list_nth(priv, ASOF_PRIV_KEY_EQPROC);
	List	   *probe_cols = list_nth(priv, ASOF_PRIV_PROBE_COLS);
	List	   *cand = linitial(cscan->custom_exprs);
	List	   *base = lthird(cscan->custom_exprs);
	int			i;
	TupleDesc	scandesc;

	st->strategy = list_nth_int(hdr, ASOF_H_STRATEGY);
	st->jointype = list_nth_int(hdr, ASOF_H_JOINTYPE);
	st->strict = list_nth_int(hdr, ASOF_H_STRICT);
	st->outer_natts = list_nth_int(hdr, ASOF_H_OUTER_NATTS);
	st->inner_natts = list_nth_int(hdr, ASOF_H_INNER_NATTS);
	st->outer_ts_att = list_nth_int(hdr, ASOF_H_OUTER_TS);
	st->inner_ts_att = list_nth_int(hdr, ASOF_H_INNER_TS);
	st->index_oid = (Oid) list_nth_int(hdr, ASOF_H_INDEX);
	st->heap_oid = (Oid) list_nth_int(hdr, ASOF_H_HEAP);
	st->ts_leproc = (Oid) list_nth_int(hdr, ASOF_H_TIME_LEPROC);
	st->ts_coll = (Oid) list_nth_int(hdr, ASOF_H_TIME_COLL);
	AsofPrepareComparator(&st->ts_ssup, (Oid) list_nth_int(hdr, ASOF_H_TIME_PROC),
						  st->ts_coll, false, false);

	st->nkeys = list_length(outer_att);
	st->outer_key_att = palloc(sizeof(AttrNumber) * Max(st->nkeys, 1));
	st->inner_key_att = palloc(sizeof(AttrNumber) * Max(st->nkeys, 1));
	st->key_ssup = palloc0(sizeof(SortSupportData) * Max(st->nkeys, 1));
	st->eqprocs = palloc0(sizeof(Oid) * Max(st->nkeys, 1));
	for (i = 0; i < st->nkeys; i++)
	{
		int			f = list_nth_int(flags, i);

		st->outer_key_att[i] = list_nth_int(outer_att, i);
		st->inner_key_att[i] = list_nth_int(inner_att, i);
		AsofPrepareComparator(&st->key_ssup[i], list_nth_oid(procs, i),
							  list_nth_oid(colls, i), (f & 1) != 0, (f & 2) != 0);
		if (eqprocs != NIL)
			st->eqprocs[i] = list_nth_oid(eqprocs, i);
	}

	st->scanslot = node->ss.ss_ScanTupleSlot;
	scandesc = st->scanslot->tts_tupleDescriptor;
	st->cand_qual = cand ? ExecInitQual(cand, &node->ss.ps) : NULL;
	st->base_qual = base ? ExecInitQual(base, &node->ss.ps) : NULL;
	st->mono_qual = lfourth(cscan->custom_exprs) ?
		ExecInitQual(lfourth(cscan->custom_exprs), &node->ss.ps) : NULL;

	st->outer_ps = ExecInitNode(linitial(cscan->custom_plans), estate, eflags);
	node->custom_ps = list_make1(st->outer_ps);

	if (st->strategy == ASOF_MERGE || st->strategy == ASOF_MERGE_RANGES)
	{
		TupleDesc	idesc;

		st->inner_ps = ExecInitNode(lsecond(cscan->custom_plans), estate, eflags);
		node->custom_ps = lappend(node->custom_ps, st->inner_ps);
		idesc = ExecGetResultType(st->inner_ps);
		st->match_slot = ExecAllocTableSlot(&estate->es_tupleTable, idesc, &TTSOpsVirtual);
		if (st->cand_qual)
		{
			st->cand_slot = ExecAllocTableSlot(&estate->es_tupleTable, idesc, &TTSOpsMinimalTuple);
			st->group_first = ExecAllocTableSlot(&estate->es_tupleTable, idesc, &TTSOpsVirtual);
			st->group = tuplestore_begin_heap(true, false, work_mem);
		}
		if (st->strategy == ASOF_MERGE_RANGES)
			AsofInitSorts(st, estate, priv);
	}
	else
	{
		int			n = list_length(probe_cols);
		int			j;

		st->probe_cols = palloc(sizeof(AttrNumber) * Max(n, 1));
		st->probe_maxatt = 0;
		for (i = 0; i < n; i++)
		{
			st->probe_cols[i] = list_nth_int(probe_cols, i);
			st->probe_maxatt = Max(st->probe_maxatt, st->probe_cols[i]);
		}
		st->heap = table_open(st->heap_oid, AccessShareLock);
		st->index = index_open(st->index_oid, AccessShareLock);
		st->heapslot = table_slot_create(st->heap, &estate->es_tupleTable);
		/* the feature rows, in the layout of the scan tuple's inner part */
		{
			Form_pg_index ind = st->index->rd_index;

			st->inner_desc = CreateTemplateTupleDesc(st->inner_natts);
			for (j = 0; j < st->inner_natts; j++)
				TupleDescCopyEntry(st->inner_desc, j + 1, scandesc, st->outer_natts + j + 1);
			st->idx_slot = ExecAllocTableSlot(&estate->es_tupleTable, st->inner_desc, &TTSOpsVirtual);

			/* read columns from the index tuple when the heap page is all-visible */
			st->index_only = true;
			st->idx_map = palloc(sizeof(int) * Max(st->inner_natts, 1));
			for (j = 0; j < st->inner_natts; j++)
			{
				int			c;

				st->idx_map[j] = -1;
				for (c = 0; c < ind->indnatts; c++)
				{
					if (ind->indkey.values[c] == st->probe_cols[j])
					{
						st->idx_map[j] = c;
						break;
					}
				}
				if (st->idx_map[j] < 0)
					st->index_only = false;
			}
			st->ivalues = palloc(sizeof(Datum) * INDEX_MAX_KEYS);
			st->inulls = palloc(sizeof(bool) * INDEX_MAX_KEYS);
			/* a merge visits every VM page over and over: keep them all pinned */
			st->nvmbufs = st->strategy == ASOF_PROBE ? 0 :
				RelationGetNumberOfBlocks(st->heap) / ASOF_HEAPBLOCKS_PER_VMPAGE + 1;
			st->vmbufs = palloc0(sizeof(Buffer) * Max(st->nvmbufs, 1));
			st->vmspare = InvalidBuffer;
		}
		if (st->strategy == ASOF_PROBE)
		{
			st->scankeys = palloc0(sizeof(ScanKeyData) * (st->nkeys + 1));
			st->scan = index_beginscan(st->heap, st->index, estate->es_snapshot,
									   st->nkeys + 1, 0);
			st->scan->xs_want_itup = st->index_only;
		}
		else
		{
			st->match_slot = ExecAllocTableSlot(&estate->es_tupleTable, st->inner_desc, &TTSOpsVirtual);
			if (st->cand_qual)
			{
				st->cand_slot = ExecAllocTableSlot(&estate->es_tupleTable, st->inner_desc, &TTSOpsMinimalTuple);
				st->group_first = ExecAllocTableSlot(&estate->es_tupleTable, st->inner_desc, &TTSOpsVirtual);
				st->group = tuplestore_begin_heap(true, false, work_mem);
			}

			AsofInitSorts(st, estate, priv);

			/* key-range chunks, as index scan keys */
			if (st->nchunks > 1)
			{
				Oid			opf = st->index->rd_opfamily[0];
				Oid			typ = st->index->rd_opcintype[0];

				st->range_ge = get_opcode(get_opfamily_member(opf, typ, typ, BTGreaterEqualStrategyNumber));
				st->range_lt = get_opcode(get_opfamily_member(opf, typ, typ, BTLessStrategyNumber));
				st->range_coll = st->index->rd_indcollation[0];
			}
			st->scan = index_beginscan(st->heap, st->index, estate->es_snapshot,
									   st->nchunks > 1 ? 2 : 0, 0);
			st->scan->xs_want_itup = st->index_only;
		}
	}
}

/* Compares the keys of a spine row with those of a feature-layout row. */
static inline int
AsofCompareKeys(AsofState *st, TupleTableSlot *outer, TupleTableSlot *inner)
{
	int			i;

	for (i = 0; i < st->nkeys; i++)
	{
		bool		n1,
					n2;
		Datum		d1 = slot_getattr(outer, st->outer_key_att[i], &n1);
		Datum		d2 = slot_getattr(inner, st->inner_key_att[i], &n2);
		int			c = ApplySortComparator(d1, n1, d2, n2, &st->key_ssup[i]);

		if (c != 0)
			return c;
	}
	return 0;
}

/* Tells whether a spine row has a NULL key or time (it never matches). */
static inline bool
AsofOuterHasNull(AsofState *st, TupleTableSlot *outer, Datum *ts)
{
	bool		isnull;
	int			i;

	for (i = 0; i < st->nkeys; i++)
	{
		(void) slot_getattr(outer, st->outer_key_att[i], &isnull);
		if (isnull)
			return true;
	}
	*ts = slot_getattr(outer, st->outer_ts_att, &isnull);
	return isnull;
}

/* Tells whether a feature time qualifies for a spine time. */
static inline bool
AsofTimeQualifies(AsofState *st, Datum spine_ts, Datum feat_ts)
{
	int			c = ApplySortComparator(spine_ts, false, feat_ts, false, &st->ts_ssup);

	return st->strict ? c > 0 : c >= 0;
}

/* Builds the scan tuple from a spine row and a feature row (or NULLs). */
static inline void
AsofFillScanSlot(AsofState *st, TupleTableSlot *outer, TupleTableSlot *inner)
{
	TupleTableSlot *ss = st->scanslot;

	ExecClearTuple(ss);
	slot_getsomeattrs(outer, st->outer_natts);
	memcpy(ss->tts_values, outer->tts_values, sizeof(Datum) * st->outer_natts);
	memcpy(ss->tts_isnull, outer->tts_isnull, sizeof(bool) * st->outer_natts);
	if (inner == NULL)
		memset(ss->tts_isnull + st->outer_natts, true, sizeof(bool) * st->inner_natts);
	else
	{
		slot_getsomeattrs(inner, st->inner_natts);
		memcpy(ss->tts_values + st->outer_natts, inner->tts_values,
			   sizeof(Datum) * st->inner_natts);
		memcpy(ss->tts_isnull + st->outer_natts, inner->tts_isnull,
			   sizeof(bool) * st->inner_natts);
	}
	ExecStoreVirtualTuple(ss);
}

/* Tells whether a heap block is all-visible, keeping every VM page pinned. */
static inline bool
AsofAllVisible(AsofState *st, BlockNumber blk)
{
	BlockNumber vmpage = blk / ASOF_HEAPBLOCKS_PER_VMPAGE;
	Buffer	   *buf = vmpage < st->nvmbufs ? &st->vmbufs[vmpage] : &st->vmspare;

	return VM_ALL_VISIBLE(st->heap, blk, buf);
}

/* Returns the next feature row of the own index scan that passes the table's filters, or NULL. */
static TupleTableSlot *
AsofIndexNext(AsofState *st, ScanDirection dir)
{
	TupleTableSlot *slot = st->idx_slot;
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;
	int			j;

	for (;;)
	{
		ItemPointer tid = index_getnext_tid(st->scan, dir);

		if (tid == NULL)
			return NULL;
		ExecClearTuple(slot);
		if (st->index_only && AsofAllVisible(st, ItemPointerGetBlockNumber(tid)))
		{
			/* as IndexOnlyScan does: the heap page is read in spirit */
			if (IsolationIsSerializable())
				PredicateLockPage(st->heap, ItemPointerGetBlockNumber(tid),
								  st->css.ss.ps.state->es_snapshot);
			index_deform_tuple(st->scan->xs_itup, st->scan->xs_itupdesc,
							   st->ivalues, st->inulls);
			for (j = 0; j < st->inner_natts; j++)
			{
				slot->tts_values[j] = st->ivalues[st->idx_map[j]];
				slot->tts_isnull[j] = st->inulls[st->idx_map[j]];
			}
		}
		else
		{
			if (!index_fetch_heap(st->scan, st->heapslot))
				continue;
			slot_getsomeattrs(st->heapslot, st->probe_maxatt);
			for (j = 0; j < st->inner_natts; j++)
			{
				slot->tts_values[j] = st->heapslot->tts_values[st->probe_cols[j] - 1];
				slot->tts_isnull[j] = st->heapslot->tts_isnull[st->probe_cols[j] - 1];
			}
		}
		ExecStoreVirtualTuple(slot);
		if (st->base_qual)
		{
			TupleTableSlot *ss = st->scanslot;

			ExecClearTuple(ss);
			memset(ss->tts_isnull, true, sizeof(bool) * st->outer_natts);
			memcpy(ss->tts_values + st->outer_natts, slot->tts_values,
				   sizeof(Datum) * st->inner_natts);
			memcpy(ss->tts_isnull + st->outer_natts, slot->tts_isnull,
				   sizeof(bool) * st->inner_natts);
			ExecStoreVirtualTuple(ss);
			econtext->ecxt_scantuple = ss;
			ResetExprContext(econtext);
			if (!ExecQual(st->base_qual, econtext))
				continue;
		}
		return slot;
	}
}

/* Merge over index: the chunk a spine row belongs to (by its first key). */
static int
AsofChunkOf(AsofState *st, TupleTableSlot *outer)
{
	bool		isnull;
	Datum		d;
	ListCell   *lc;

	if (st->nchunks == 1)
		return 0;
	d = slot_getattr(outer, st->outer_key_att[0], &isnull);
	if (isnull)
		return st->nchunks - 1;
	foreach(lc, st->bounds)
	{
		Const	   *b = lfirst(lc);

		if (ApplySortComparator(d, false, b->constvalue, false, &st->key_ssup[0]) < 0)
			return foreach_current_index(lc);
	}
	return st->nchunks - 1;
}

/* Merge over ranges: the chunk of a feature row (-1: NULL key, never matches). */
static int
AsofFeatureChunkOf(AsofState *st, TupleTableSlot *inner)
{
	bool		isnull;
	Datum		d = slot_getattr(inner, st->inner_key_att[0], &isnull);
	ListCell   *lc;

	if (isnull)
		return -1;
	foreach(lc, st->bounds)
	{
		Const	   *b = lfirst(lc);

		if (ApplySortComparator(d, false, b->constvalue, false, &st->bound_ssup) < 0)
			return foreach_current_index(lc);
	}
	return st->nchunks - 1;
}

/* Forgets the merge's position in the feature input and its key group. */
static void
AsofResetMerge(AsofState *st)
{
	st->inner_cur = NULL;
	st->inner_done = false;
	st->match_valid = false;
	if (st->group)
		tuplestore_clear(st->group);
	st->group_n = 0;
}

/*
 * Sorts the rows of one input that fall in a chunk (chunk_of gives a row's
 * chunk), ending any previous sort; returns the sort, ready to read.
 */
static Tuplesortstate *
AsofSortChunk(AsofState *st, PlanState *input, AsofSort *spec, Tuplesortstate *prev,
			  int (*chunk_of) (AsofState *, TupleTableSlot *), int chunk)
{
	Tuplesortstate *sort;
	TupleTableSlot *slot;

	if (prev)
		tuplesort_end(prev);
	sort = tuplesort_begin_heap(ExecGetResultType(input), spec->nkeys, spec->att, spec->ops,
								spec->colls, spec->nullsfirst, work_mem, NULL, TUPLESORT_NONE);
	for (;;)
	{
		slot = ExecProcNode(input);
		if (TupIsNull(slot))
			break;
		if (chunk_of(st, slot) == chunk)
			tuplesort_puttupleslot(sort, slot);
	}
	tuplesort_performsort(sort);
	return sort;
}

/* Starts a chunk: sorts its spine rows and positions the feature input on it. */
static void
AsofStartChunk(AsofState *st, int chunk)
{
	if (st->chunks_started++ > 0)
		ExecReScan(st->outer_ps);
	if (st->chunks_started > 1 && st->inner_ps)
		ExecReScan(st->inner_ps);
	st->sort = AsofSortChunk(st, st->outer_ps, &st->spine_sort, NULL, AsofChunkOf, chunk);

	if (st->strategy == ASOF_MERGE_RANGES)
	{
		/* the feature rows of this key range; NULL keys never match */
		st->isort = AsofSortChunk(st, st->inner_ps, &st->feature_sort, st->isort,
								  AsofFeatureChunkOf, chunk);
	}
	else if (st->nchunks > 1)
	{
		/* first key in [bound[chunk-1], bound[chunk]), never NULL */
		if (chunk > 0)
			ScanKeyEntryInitialize(&st->rangekeys[0], 0, 1, BTGreaterEqualStrategyNumber,
								   InvalidOid, st->range_coll, st->range_ge,
								   ((Const *) list_nth(st->bounds, chunk - 1))->constvalue);
		else
			ScanKeyEntryInitialize(&st->rangekeys[0], SK_ISNULL | SK_SEARCHNOTNULL, 1,
								   InvalidStrategy, InvalidOid, InvalidOid, InvalidOid, (Datum) 0);
		if (chunk < st->nchunks - 1)
			ScanKeyEntryInitialize(&st->rangekeys[1], 0, 1, BTLessStrategyNumber,
								   InvalidOid, st->range_coll, st->range_lt,
								   ((Const *) list_nth(st->bounds, chunk))->constvalue);
		else
			ScanKeyEntryInitialize(&st->rangekeys[1], SK_ISNULL | SK_SEARCHNOTNULL, 1,
								   InvalidStrategy, InvalidOid, InvalidOid, InvalidOid, (Datum) 0);
		index_rescan(st->scan, st->rangekeys, 2, NULL, 0);
	}
	else
		index_rescan(st->scan, NULL, 0, NULL, 0);

	AsofResetMerge(st);
}

/* Returns the next spine row, in (keys, time) order for the merges. */
static TupleTableSlot *
AsofNextOuter(AsofState *st)
{
	if (st->strategy != ASOF_MERGE_INDEX && st->strategy != ASOF_MERGE_RANGES)
		return ExecProcNode(st->outer_ps);
	for (;;)
	{
		int			chunk;

		if (st->sort)
		{
			if (tuplesort_gettupleslot(st->sort, true, false, st->sorted_slot, NULL))
				return st->sorted_slot;
			tuplesort_end(st->sort);
			st->sort = NULL;
		}
		if (st->shared)
			chunk = (int) pg_atomic_fetch_add_u32(&st->shared->next_chunk, 1);
		else
			chunk = st->local_next++;
		if (chunk >= st->nchunks)
			return NULL;
		AsofStartChunk(st, chunk);
	}
}

/* Returns the current feature row, fetching one if needed (NULL at end). */
static inline TupleTableSlot *
AsofInnerCurrent(AsofState *st)
{
	if (st->inner_cur == NULL && !st->inner_done)
	{
		TupleTableSlot *slot;

		if (st->strategy == ASOF_MERGE_INDEX)
			slot = AsofIndexNext(st, ForwardScanDirection);
		else if (st->strategy == ASOF_MERGE_RANGES)
			slot = tuplesort_gettupleslot(st->isort, true, false, st->inner_sorted_slot, NULL) ?
				st->inner_sorted_slot : NULL;
		else
			slot = ExecProcNode(st->inner_ps);

		if (TupIsNull(slot))
			st->inner_done = true;
		else
			st->inner_cur = slot;
	}
	return st->inner_cur;
}

/*
 * Merge: advances the feature input up to the spine row, calling keep on
 * every feature row of the spine's keys whose time qualifies.
 */
static inline void
AsofAdvance(AsofState *st, TupleTableSlot *outer, Datum spine_ts, bool grouped)
{
	for (;;)
	{
		TupleTableSlot *in = AsofInnerCurrent(st);
		int			c;
		bool		isnull;
		Datum		fts;

		if (in == NULL)
			return;
		c = AsofCompareKeys(st, outer, in);
		if (c > 0)
		{
			/* feature row of an earlier key: never needed again */
			st->inner_cur = NULL;
			continue;
		}
		if (c < 0)
			return;
		fts = slot_getattr(in, st->inner_ts_att, &isnull);
		if (isnull || !AsofTimeQualifies(st, spine_ts, fts))
			return;
		if (grouped)
		{
			if (st->group_n == 0)
				ExecCopySlot(st->group_first, in);
			tuplestore_puttupleslot(st->group, in);
			st->group_n++;
		}
		else
		{
			ExecCopySlot(st->match_slot, in);
			st->match_valid = true;
		}
		st->inner_cur = NULL;
	}
}

/* Merge: finds the match of one spine row, or NULL. */
static TupleTableSlot *
AsofMergeMatch(AsofState *st, TupleTableSlot *outer)
{
	Datum		spine_ts;
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;

	if (AsofOuterHasNull(st, outer, &spine_ts))
		return NULL;

	if (st->cand_qual == NULL)
	{
		if (st->match_valid && AsofCompareKeys(st, outer, st->match_slot) != 0)
			st->match_valid = false;
		AsofAdvance(st, outer, spine_ts, false);
		return st->match_valid ? st->match_slot : NULL;
	}

	/* other conditions: search the group's rows backwards */
	if (st->group_n > 0 && AsofCompareKeys(st, outer, st->group_first) != 0)
	{
		tuplestore_clear(st->group);
		st->group_n = 0;
	}
	AsofAdvance(st, outer, spine_ts, true);
	if (st->group_n == 0)
		return NULL;
	tuplestore_rescan(st->group);
	(void) tuplestore_skiptuples(st->group, st->group_n + 1, true);
	while (tuplestore_gettupleslot(st->group, false, false, st->cand_slot))
	{
		AsofFillScanSlot(st, outer, st->cand_slot);
		econtext->ecxt_scantuple = st->scanslot;
		if (ExecQual(st->cand_qual, econtext))
			return st->cand_slot;
		ResetExprContext(econtext);
	}
	return NULL;
}

/* Probe: finds the match of one spine row through the index, or NULL. */
static TupleTableSlot *
AsofProbeMatch(AsofState *st, TupleTableSlot *outer)
{
	Datum		spine_ts;
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;
	int			i;

	if (AsofOuterHasNull(st, outer, &spine_ts))
		return NULL;
	for (i = 0; i < st->nkeys; i++)
	{
		bool		isnull;
		Datum		d = slot_getattr(outer, st->outer_key_att[i], &isnull);
		int			col = st->inner_key_att[i];

		ScanKeyEntryInitialize(&st->scankeys[col - 1], 0, col, BTEqualStrategyNumber,
							   InvalidOid, st->key_ssup[i].ssup_collation,
							   st->eqprocs[i], d);
	}
	ScanKeyEntryInitialize(&st->scankeys[st->nkeys], 0, st->nkeys + 1,
						   st->strict ? BTLessStrategyNumber : BTLessEqualStrategyNumber,
						   InvalidOid, st->ts_coll, st->ts_leproc, spine_ts);
	index_rescan(st->scan, st->scankeys, st->nkeys + 1, NULL, 0);
	for (;;)
	{
		TupleTableSlot *slot = AsofIndexNext(st, BackwardScanDirection);

		if (slot == NULL || st->cand_qual == NULL)
			return slot;
		CHECK_FOR_INTERRUPTS();
		AsofFillScanSlot(st, outer, slot);
		econtext->ecxt_scantuple = st->scanslot;
		if (ExecQual(st->cand_qual, econtext))
			return slot;
		ResetExprContext(econtext);
	}
}

/* Returns the next joined row. */
static TupleTableSlot *
AsofExec(CustomScanState *node)
{
	AsofState  *st = (AsofState *) node;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	ExprState  *post = node->ss.ps.qual;
	ProjectionInfo *proj = node->ss.ps.ps_ProjInfo;

	for (;;)
	{
		TupleTableSlot *outer;
		TupleTableSlot *match;

		CHECK_FOR_INTERRUPTS();
		ResetExprContext(econtext);
		outer = AsofNextOuter(st);
		if (TupIsNull(outer))
			return NULL;
		if (st->strategy != ASOF_PROBE)
			match = AsofMergeMatch(st, outer);
		else
			match = AsofProbeMatch(st, outer);

		if (match != NULL && st->mono_qual)
		{
			/* the latest candidate fails a TTL-like condition: so do all */
			AsofFillScanSlot(st, outer, match);
			econtext->ecxt_scantuple = st->scanslot;
			if (!ExecQual(st->mono_qual, econtext))
				match = NULL;
		}
		if (match == NULL && st->jointype == JOIN_INNER)
			continue;
		if (match != NULL && st->jointype == JOIN_ANTI)
			continue;
		AsofFillScanSlot(st, outer, match);
		econtext->ecxt_scantuple = st->scanslot;
		if (post && !ExecQual(post, econtext))
		{
			InstrCountFiltered1(node, 1);
			continue;
		}
		if (proj)
			return ExecProject(proj);
		return st->scanslot;
	}
}

/* Releases the resources of an AsofJoin. */
static void
AsofEnd(CustomScanState *node)
{
	AsofState  *st = (AsofState *) node;

	int			i;

	if (st->group)
		tuplestore_end(st->group);
	if (st->sort)
		tuplesort_end(st->sort);
	if (st->isort)
		tuplesort_end(st->isort);
	for (i = 0; i < st->nvmbufs; i++)
	{
		if (BufferIsValid(st->vmbufs[i]))
			ReleaseBuffer(st->vmbufs[i]);
	}
	if (BufferIsValid(st->vmspare))
		ReleaseBuffer(st->vmspare);
	if (st->scan)
		index_endscan(st->scan);
	if (st->index)
		index_close(st->index, AccessShareLock);
	if (st->heap)
		table_close(st->heap, AccessShareLock);
	ExecEndNode(st->outer_ps);
	if (st->inner_ps)
		ExecEndNode(st->inner_ps);
}

/* Restarts an AsofJoin from the beginning. */
static void
AsofReScan(CustomScanState *node)
{
	AsofState  *st = (AsofState *) node;

	if (st->outer_ps->chgParam == NULL)
		ExecReScan(st->outer_ps);
	if (st->inner_ps && st->inner_ps->chgParam == NULL)
		ExecReScan(st->inner_ps);
	AsofResetMerge(st);
	if (st->sort)
		tuplesort_end(st->sort);
	st->sort = NULL;
	if (st->isort)
		tuplesort_end(st->isort);
	st->isort = NULL;
	st->local_next = 0;
	st->chunks_started = 0;
}

/* Size of the shared state of a parallel AsofJoin. */
static Size
AsofEstimateDSM(CustomScanState *node, ParallelContext *pcxt)
{
	return sizeof(AsofShared);
}

/* Initializes the shared state of a parallel AsofJoin (leader). */
static void
AsofInitializeDSM(CustomScanState *node, ParallelContext *pcxt, void *coordinate)
{
	AsofState  *st = (AsofState *) node;

	st->shared = (AsofShared *) coordinate;
	pg_atomic_init_u32(&st->shared->next_chunk, 0);
}

/* Resets the shared state before a rescan of a parallel AsofJoin. */
static void
AsofReInitializeDSM(CustomScanState *node, ParallelContext *pcxt, void *coordinate)
{
	pg_atomic_write_u32(&((AsofShared *) coordinate)->next_chunk, 0);
}

/* Attaches a parallel worker to the shared state. */
static void
AsofInitializeWorker(CustomScanState *node, shm_toc *toc, void *coordinate)
{
	((AsofState *) node)->shared = (AsofShared *) coordinate;
}

/* Deparses one expression of the node for EXPLAIN. */
static char *
AsofDeparse(Node *expr, List *context, bool useprefix)
{
	return deparse_expression(expr, context, useprefix, false);
}

/* Shows the strategy, the keys and the as-of condition in EXPLAIN. */
static void
AsofExplain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	AsofState  *st = (AsofState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *display = lsecond(cscan->custom_exprs);
	List	   *cand = linitial(cscan->custom_exprs);
	List	   *context;
	bool		useprefix = true;
	StringInfoData buf;
	int			i;
	const char *jt;

	context = set_deparse_context_plan(es->deparse_cxt, (Plan *) cscan, ancestors);

	switch (st->jointype)
	{
		case JOIN_INNER:
			jt = "Inner";
			break;
		case JOIN_LEFT:
			jt = "Left";
			break;
		case JOIN_ANTI:
			jt = "Anti";
			break;
		default:
			jt = "?";
			break;
	}
	ExplainPropertyText("Join Type", jt, es);
	ExplainPropertyText("Strategy",
						st->strategy == ASOF_MERGE ? "merge" :
						st->strategy == ASOF_MERGE_INDEX ? "merge over index" :
						st->strategy == ASOF_MERGE_RANGES ? "merge over key ranges" : "index probe", es);

	initStringInfo(&buf);
	for (i = 0; i < st->nkeys; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, ", ");
		appendStringInfo(&buf, "%s = %s",
						 AsofDeparse(list_nth(display, 2 * i), context, useprefix),
						 AsofDeparse(list_nth(display, 2 * i + 1), context, useprefix));
	}
	if (st->nkeys > 0)
		ExplainPropertyText("Keys", buf.data, es);
	resetStringInfo(&buf);
	appendStringInfo(&buf, "%s %s %s",
					 AsofDeparse(list_nth(display, 2 * st->nkeys), context, useprefix),
					 AsofOperatorName(st->strict),
					 AsofDeparse(list_nth(display, 2 * st->nkeys + 1), context, useprefix));
	ExplainPropertyText("As-of", buf.data, es);
	if (cand != NIL)
	{
		Node	   *q = (Node *) make_ands_explicit(cand);

		ExplainPropertyText("Candidate Filter", AsofDeparse(q, context, useprefix), es);
	}
	if (lfourth(cscan->custom_exprs) != NIL)
	{
		Node	   *q = (Node *) make_ands_explicit(lfourth(cscan->custom_exprs));

		ExplainPropertyText("Latest Row Filter", AsofDeparse(q, context, useprefix), es);
	}
	if (st->strategy == ASOF_MERGE_INDEX || st->strategy == ASOF_MERGE_RANGES)
	{
		/* the spine is sorted here, on its keys then its time */
		resetStringInfo(&buf);
		for (i = 0; i <= st->nkeys; i++)
		{
			if (i > 0)
				appendStringInfoString(&buf, ", ");
			appendStringInfoString(&buf, AsofDeparse(list_nth(display, 2 * i), context, useprefix));
		}
		ExplainPropertyText("Spine Sort Key", buf.data, es);
	}
	if (st->strategy == ASOF_MERGE_RANGES)
	{
		resetStringInfo(&buf);
		for (i = 0; i <= st->nkeys; i++)
		{
			if (i > 0)
				appendStringInfoString(&buf, ", ");
			appendStringInfoString(&buf, AsofDeparse(list_nth(display, 2 * i + 1), context, useprefix));
		}
		ExplainPropertyText("Feature Sort Key", buf.data, es);
	}
	if ((st->strategy == ASOF_MERGE_INDEX || st->strategy == ASOF_MERGE_RANGES) && st->nchunks > 1)
		ExplainPropertyInteger("Key Ranges", NULL, st->nchunks, es);
	if (st->strategy == ASOF_MERGE_INDEX || st->strategy == ASOF_PROBE)
	{
		List	   *base = lthird(cscan->custom_exprs);

		ExplainPropertyText("Index", get_rel_name(st->index_oid), es);
		if (base != NIL)
			ExplainPropertyText("Feature Filter",
								AsofDeparse((Node *) make_ands_explicit(base), context, useprefix),
								es);
	}
}
