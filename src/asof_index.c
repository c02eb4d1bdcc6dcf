/*
 * asof_index.c
 *		The feature index read by the AsofJoin node itself: one backward
 *		probe per spine row (index probe strategy), and the forward scan of
 *		the merge over index, one key range at a time.
 *
 * Probe: for each spine row, a backward btree scan of the feature table
 * positioned at (keys, time) returns candidates newest first, until one
 * passes the other conditions or fails a TTL-like one.  Merge over
 * index: the (keys, time) index is read in order, in parallel one range of
 * the first key at a time (asof_merge.c).  Either way the columns are taken
 * from the index tuple when the heap page is all-visible and the index holds
 * every column needed (every visibility map page stays pinned for a merge),
 * and the feature table's own filters are evaluated here.
 */
#include "postgres.h"

#include "access/itup.h"
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/primnodes.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "asof_exec.h"

/*
 * Sets up the feature columns the node reads from the heap or the index:
 * their heap columns, their layout (the scan tuple's inner part), and where
 * each sits in the index.
 */
static void
AsofBeginIndexColumns(AsofState *st, EState *estate, List *probe_cols)
{
	TupleDesc	scandesc = st->scanslot->tts_tupleDescriptor;
	Form_pg_index ind = st->index->rd_index;
	int			n = list_length(probe_cols);
	int			i;

	st->probe_cols = palloc(sizeof(AttrNumber) * Max(n, 1));
	st->probe_maxatt = 0;
	for (i = 0; i < n; i++)
	{
		st->probe_cols[i] = list_nth_int(probe_cols, i);
		st->probe_maxatt = Max(st->probe_maxatt, st->probe_cols[i]);
	}
	st->heapslot = table_slot_create(st->heap, &estate->es_tupleTable);

	/* the feature rows, in the layout of the scan tuple's inner part */
	st->inner_desc = CreateTemplateTupleDesc(st->inner_natts);
	for (i = 0; i < st->inner_natts; i++)
		TupleDescCopyEntry(st->inner_desc, i + 1, scandesc, st->outer_natts + i + 1);
	st->idx_slot = ExecAllocTableSlot(&estate->es_tupleTable, st->inner_desc, &TTSOpsVirtual);

	/* read columns from the index tuple when the heap page is all-visible */
	st->index_only = true;
	st->idx_map = palloc(sizeof(int) * Max(st->inner_natts, 1));
	for (i = 0; i < st->inner_natts; i++)
	{
		int			c;

		st->idx_map[i] = -1;
		for (c = 0; c < ind->indnatts; c++)
		{
			if (ind->indkey.values[c] == st->probe_cols[i])
			{
				st->idx_map[i] = c;
				break;
			}
		}
		if (st->idx_map[i] < 0)
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

/*
 * Sets up backward walks through the index (probe, and merge over index
 * with other conditions): the scan keys, the time lower bounds, the scan.
 */
static void
AsofBeginProbe(AsofState *st, EState *estate, List *priv)
{
	List	   *procs = list_nth(priv, ASOF_PRIV_LOWER_PROC);
	List	   *strats = list_nth(priv, ASOF_PRIV_LOWER_STRAT);
	CustomScan *cscan = (CustomScan *) st->css.ss.ps.plan;
	int			i;

	st->lower_exprs = ExecInitExprList(list_nth(cscan->custom_exprs, ASOF_EXPRS_LOWER),
									   &st->css.ss.ps);
	st->nlower = list_length(st->lower_exprs);
	Assert(list_length(procs) == st->nlower && list_length(strats) == st->nlower);
	st->lower_procs = palloc(sizeof(Oid) * Max(st->nlower, 1));
	st->lower_strats = palloc(sizeof(int) * Max(st->nlower, 1));
	for (i = 0; i < st->nlower; i++)
	{
		st->lower_procs[i] = list_nth_oid(procs, i);
		st->lower_strats[i] = list_nth_int(strats, i);
	}
	st->probe_cxt = AllocSetContextCreate(CurrentMemoryContext, "AsofJoin probe bounds",
										  ALLOCSET_SMALL_SIZES);
	st->scankeys = palloc0(sizeof(ScanKeyData) * (st->nkeys + 1 + st->nlower));
	st->walk_scan = index_beginscan(st->heap, st->index, estate->es_snapshot,
									st->nkeys + 1 + st->nlower, 0);
	st->walk_scan->xs_want_itup = st->index_only;
}

/*
 * Walker for AsofQualReadsIndexOnly: true at a column of the scan tuple that
 * is a feature column the index lacks, or that is not a plain column.
 */
static bool
AsofNeedsHeapWalker(Node *node, AsofState *st)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;

		if (var->varno != INDEX_VAR || var->varattno <= 0)
			return true;
		return var->varattno > st->outer_natts &&
			st->idx_map[var->varattno - st->outer_natts - 1] < 0;
	}
	return expression_tree_walker(node, AsofNeedsHeapWalker, st);
}

/* Whether a condition of the plan reads only spine columns and feature columns in the index. */
static bool
AsofQualReadsIndexOnly(AsofState *st, Node *qual)
{
	return !AsofNeedsHeapWalker(qual, st);
}

/* Probe and merge over index: opens the feature table and its index and starts the scan. */
void
AsofBeginIndex(AsofState *st, EState *estate, List *priv)
{
	CustomScan *cscan = (CustomScan *) st->css.ss.ps.plan;

	st->heap = table_open(st->heap_oid, AccessShareLock);
	st->index = index_open(st->index_oid, AccessShareLock);
	AsofBeginIndexColumns(st, estate, list_nth(priv, ASOF_PRIV_PROBE_COLS));
	if (st->strategy == ASOF_PROBE)
	{
		AsofBeginProbe(st, estate, priv);
		st->scan = st->walk_scan;
		st->walk_slot = st->idx_slot;
		st->walk_heapslot = st->heapslot;
		return;
	}

	/*
	 * Other conditions: the merge finds the latest row; when it fails them,
	 * a second scan walks back from the spine time as a probe would.
	 */
	AsofBeginGroup(st, estate, st->inner_desc, false);
	AsofInitSorts(st, estate, priv);
	if (st->cand_qual)
	{
		AsofBeginProbe(st, estate, priv);
		st->walk_slot = ExecAllocTableSlot(&estate->es_tupleTable, st->inner_desc, &TTSOpsVirtual);
		st->walk_heapslot = table_slot_create(st->heap, &estate->es_tupleTable);
	}

	/* key-range chunks, as index scan keys */
	if (st->nchunks > 1)
	{
		Oid			opf = st->index->rd_opfamily[0];
		Oid			typ = st->index->rd_opcintype[0];

		st->range_ge = get_opcode(get_opfamily_member(opf, typ, typ, BTGreaterEqualStrategyNumber));
		st->range_lt = get_opcode(get_opfamily_member(opf, typ, typ, BTLessStrategyNumber));
		st->range_coll = st->index->rd_indcollation[0];
	}
	/*
	 * Only the keys, the time and the conditions decide which feature row a
	 * spine row matches: when the other feature columns are not in the index
	 * and no condition needs them, the walk reads index tuples (on
	 * all-visible pages, as an index-only scan does) and the heap row is
	 * fetched only for a match (AsofFillLazyMatch), not for every feature
	 * row of the key.
	 */
	st->lazy = !st->index_only &&
		AsofQualReadsIndexOnly(st, list_nth(cscan->custom_exprs, ASOF_EXPRS_BASE)) &&
		AsofQualReadsIndexOnly(st, list_nth(cscan->custom_exprs, ASOF_EXPRS_CAND));
	if (st->lazy)
		st->lazy_heapslot = table_slot_create(st->heap, &estate->es_tupleTable);
	st->scan = index_beginscan(st->heap, st->index, estate->es_snapshot,
							   st->nchunks > 1 ? 2 : 0, 0);
	st->scan->xs_want_itup = st->index_only || st->lazy;
}

/* Merge over index: restarts the index scan on the first-key range of a chunk. */
void
AsofIndexStartChunk(AsofState *st, int chunk)
{
	if (st->nchunks == 1)
	{
		index_rescan(st->scan, NULL, 0, NULL, 0);
		return;
	}
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

/* Tells whether a heap block is all-visible, keeping every VM page pinned. */
static inline bool
AsofAllVisible(AsofState *st, BlockNumber blk)
{
	BlockNumber vmpage = blk / ASOF_HEAPBLOCKS_PER_VMPAGE;
	Buffer	   *buf = vmpage < st->nvmbufs ? &st->vmbufs[vmpage] : &st->vmspare;

	return VM_ALL_VISIBLE(st->heap, blk, buf);
}

/*
 * Returns the next feature row of one of the node's index scans that passes
 * the table's filters, or NULL; the row is in slot (its columns may point
 * into heapslot).
 */
static TupleTableSlot *
AsofScanNext(AsofState *st, IndexScanDesc scan, TupleTableSlot *slot,
			 TupleTableSlot *heapslot, ScanDirection dir)
{
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;
	bool		lazy = st->lazy && scan == st->scan;
	int			j;

	for (;;)
	{
		ItemPointer tid = index_getnext_tid(scan, dir);

		if (tid == NULL)
			return NULL;
		ExecClearTuple(slot);
		if ((st->index_only || lazy) && AsofAllVisible(st, ItemPointerGetBlockNumber(tid)))
		{
			/* as IndexOnlyScan does: the heap page is read in spirit */
			if (IsolationIsSerializable())
				PredicateLockPage(st->heap, ItemPointerGetBlockNumber(tid),
								  st->css.ss.ps.state->es_snapshot);
			index_deform_tuple(scan->xs_itup, scan->xs_itupdesc,
							   st->ivalues, st->inulls);
			for (j = 0; j < st->inner_natts; j++)
			{
				/* (lazy: the columns the index lacks come with a match) */
				slot->tts_values[j] = st->idx_map[j] >= 0 ? st->ivalues[st->idx_map[j]] : (Datum) 0;
				slot->tts_isnull[j] = st->idx_map[j] >= 0 ? st->inulls[st->idx_map[j]] : true;
			}
			if (lazy)
			{
				st->cur_tid = *tid;
				st->cur_lazy = true;
			}
		}
		else
		{
			if (lazy)
				st->cur_lazy = false;
			st->heap_fetches++;
			if (!index_fetch_heap(scan, heapslot))
				continue;
			slot_getsomeattrs(heapslot, st->probe_maxatt);
			for (j = 0; j < st->inner_natts; j++)
			{
				slot->tts_values[j] = heapslot->tts_values[st->probe_cols[j] - 1];
				slot->tts_isnull[j] = heapslot->tts_isnull[st->probe_cols[j] - 1];
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

/*
 * Lazy merge over index: fills the columns of the match that the index
 * lacks from its heap row.  The row was on an all-visible page when the walk
 * read its index tuple, so the snapshot sees it.
 */
void
AsofFillLazyMatch(AsofState *st)
{
	TupleTableSlot *m = st->match_slot;
	TupleTableSlot *h = st->lazy_heapslot;
	int			j;

	if (!table_tuple_fetch_row_version(st->heap, &st->match_tid,
									   st->css.ss.ps.state->es_snapshot, h))
		elog(ERROR, "AsofJoin: the row (%u,%u) of an all-visible page of \"%s\" is not visible",
			 ItemPointerGetBlockNumber(&st->match_tid), ItemPointerGetOffsetNumber(&st->match_tid),
			 RelationGetRelationName(st->heap));
	st->heap_fetches++;
	slot_getsomeattrs(h, st->probe_maxatt);
	for (j = 0; j < st->inner_natts; j++)
	{
		if (st->idx_map[j] >= 0)
			continue;
		m->tts_values[j] = h->tts_values[st->probe_cols[j] - 1];
		m->tts_isnull[j] = h->tts_isnull[st->probe_cols[j] - 1];
	}
	st->match_lazy = false;
}

/* Merge over index: the next feature row of the forward scan, or NULL. */
TupleTableSlot *
AsofIndexNext(AsofState *st, ScanDirection dir)
{
	return AsofScanNext(st, st->scan, st->idx_slot, st->heapslot, dir);
}

/*
 * Probe: sets the scan keys of the time lower bounds (TTL windows) for a
 * spine row; false when one is NULL, so that no candidate passes its window.
 */
static bool
AsofProbeLowerBounds(AsofState *st, TupleTableSlot *outer)
{
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;
	MemoryContext old;
	ListCell   *lc;
	bool		ok = true;

	MemoryContextReset(st->probe_cxt);
	AsofFillScanSlot(st, outer, NULL);
	econtext->ecxt_scantuple = st->scanslot;
	/* the values outlive the per-row resets of the walk */
	old = MemoryContextSwitchTo(st->probe_cxt);
	foreach(lc, st->lower_exprs)
	{
		int			i = foreach_current_index(lc);
		bool		isnull;
		Datum		d = ExecEvalExpr(lfirst(lc), econtext, &isnull);

		if (isnull)
		{
			ok = false;
			break;
		}
		ScanKeyEntryInitialize(&st->scankeys[st->nkeys + 1 + i], 0, st->nkeys + 1,
							   st->lower_strats[i], InvalidOid, st->ts_coll,
							   st->lower_procs[i], d);
	}
	MemoryContextSwitchTo(old);
	return ok;
}

/*
 * Probe (and merge over index whose latest row fails the other conditions):
 * finds the match of one spine row by walking back through the index, or
 * NULL.
 */
TupleTableSlot *
AsofProbeMatch(AsofState *st, TupleTableSlot *outer)
{
	Datum		spine_ts;
	int			i;

	if (AsofOuterHasNull(st, outer, &spine_ts))
		return NULL;
	for (i = 0; i < st->nkeys; i++)
	{
		bool		isnull;
		Datum		d = slot_getattr(outer, st->outer_key_att[i], &isnull);

		/* the merge over index reads an index whose columns are the keys in order */
		int			col = st->strategy == ASOF_PROBE ? st->inner_key_att[i] : i + 1;

		ScanKeyEntryInitialize(&st->scankeys[col - 1], 0, col, BTEqualStrategyNumber,
							   InvalidOid, st->key_ssup[i].ssup_collation,
							   st->eqprocs[i], d);
	}
	ScanKeyEntryInitialize(&st->scankeys[st->nkeys], 0, st->nkeys + 1,
						   st->strict ? BTLessStrategyNumber : BTLessEqualStrategyNumber,
						   InvalidOid, st->ts_coll, st->ts_leproc, spine_ts);
	if (st->nlower > 0 && !AsofProbeLowerBounds(st, outer))
		return NULL;
	index_rescan(st->walk_scan, st->scankeys, st->nkeys + 1 + st->nlower, NULL, 0);
	for (;;)
	{
		TupleTableSlot *slot = AsofScanNext(st, st->walk_scan, st->walk_slot,
											st->walk_heapslot, BackwardScanDirection);

		if (slot == NULL || st->cand_qual == NULL)
			return slot;
		switch (AsofCheckCandidate(st, outer, slot))
		{
			case ASOF_CAND_MATCH:
				return slot;
			case ASOF_CAND_STOP:
				return NULL;
			case ASOF_CAND_SKIP:
				break;
		}
	}
}

/* Releases the index scan, the pinned visibility map pages, the index and the table. */
void
AsofEndIndex(AsofState *st)
{
	int			i;

	for (i = 0; i < st->nvmbufs; i++)
	{
		if (BufferIsValid(st->vmbufs[i]))
			ReleaseBuffer(st->vmbufs[i]);
	}
	if (BufferIsValid(st->vmspare))
		ReleaseBuffer(st->vmspare);
	if (st->walk_scan && st->walk_scan != st->scan)
		index_endscan(st->walk_scan);
	if (st->scan)
		index_endscan(st->scan);
	if (st->index)
		index_close(st->index, AccessShareLock);
	if (st->heap)
		table_close(st->heap, AccessShareLock);
}
