/*
 * asof_exec.c
 *		Execution and EXPLAIN of the AsofJoin custom scan: the node's
 *		callbacks.
 *
 * The node reads its plan's custom_private and custom_exprs by the field
 * names of asof.h.  For each spine row it finds the match of the row's
 * strategy (asof_merge.c for the merges, asof_index.c for the index probe),
 * checks the TTL-like conditions on that latest candidate, and returns the
 * joined row (the spine row with NULLs when a LEFT join finds no match).
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "commands/explain.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"

#include "asof_exec.h"

static void AsofBegin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *AsofExec(CustomScanState *node);
static void AsofEnd(CustomScanState *node);
static void AsofReScan(CustomScanState *node);
static void AsofExplain(CustomScanState *node, List *ancestors, ExplainState *es);
static Size AsofEstimateDSM(CustomScanState *node, ParallelContext *pcxt);
static void AsofInitializeDSM(CustomScanState *node, ParallelContext *pcxt, void *coordinate);
static void AsofReInitializeDSM(CustomScanState *node, ParallelContext *pcxt, void *coordinate);
static void AsofInitializeWorker(CustomScanState *node, shm_toc *toc, void *coordinate);

/* The callbacks of the executor node. */
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

/* The methods of the plan node, registered by name so that workers can read plans back. */
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
void
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

/*
 * Checks one candidate of a spine row's backward walk (newest first) against
 * the other conditions.  A TTL-like condition holds for a time suffix of the
 * candidates: the first candidate failing it ends the walk, which is thereby
 * bounded by the TTL window as an index bound would bound LATERAL's scan.
 */
AsofCandidate
AsofCheckCandidate(AsofState *st, TupleTableSlot *outer, TupleTableSlot *cand)
{
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;
	AsofCandidate result = ASOF_CAND_MATCH;

	CHECK_FOR_INTERRUPTS();
	st->walked++;
	ResetExprContext(econtext);
	AsofFillScanSlot(st, outer, cand);
	econtext->ecxt_scantuple = st->scanslot;
	if (st->mono_qual && !st->mono_in_index && !ExecQual(st->mono_qual, econtext))
		result = ASOF_CAND_STOP;
	else if (!ExecQual(st->cand_qual, econtext))
		result = ASOF_CAND_SKIP;
	ResetExprContext(econtext);
	return result;
}

/* Reads the header and the per-key fields of the plan's custom_private into the state. */
static void
AsofBeginKeys(AsofState *st, List *priv)
{
	List	   *hdr = list_nth(priv, ASOF_PRIV_HEADER);
	List	   *outer_att = list_nth(priv, ASOF_PRIV_KEY_OUTER);
	List	   *inner_att = list_nth(priv, ASOF_PRIV_KEY_INNER);
	List	   *procs = list_nth(priv, ASOF_PRIV_KEY_PROC);
	List	   *colls = list_nth(priv, ASOF_PRIV_KEY_COLL);
	List	   *flags = list_nth(priv, ASOF_PRIV_KEY_FLAGS);
	List	   *eqprocs = list_nth(priv, ASOF_PRIV_KEY_EQPROC);
	int			i;

	Assert(list_length(hdr) == ASOF_H_NFIELDS);
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
	st->mono_in_index = list_nth_int(hdr, ASOF_H_MONO_IN_INDEX);
	st->ts_coll = (Oid) list_nth_int(hdr, ASOF_H_TIME_COLL);
	AsofPrepareComparator(&st->ts_ssup, (Oid) list_nth_int(hdr, ASOF_H_TIME_PROC),
						  st->ts_coll, false, false);

	st->nkeys = list_length(outer_att);
	Assert(list_length(inner_att) == st->nkeys && list_length(procs) == st->nkeys &&
		   list_length(colls) == st->nkeys && list_length(flags) == st->nkeys &&
		   (eqprocs == NIL || list_length(eqprocs) == st->nkeys));
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
}

/*
 * Merges: allocates the slot of the latest match, and when other conditions
 * are searched in the key group (grouped), the group's store, for feature
 * rows of layout desc.
 */
void
AsofBeginGroup(AsofState *st, EState *estate, TupleDesc desc, bool grouped)
{
	st->match_slot = ExecAllocTableSlot(&estate->es_tupleTable, desc, &TTSOpsVirtual);
	if (grouped)
	{
		st->cand_slot = ExecAllocTableSlot(&estate->es_tupleTable, desc, &TTSOpsMinimalTuple);
		st->group_first = ExecAllocTableSlot(&estate->es_tupleTable, desc, &TTSOpsVirtual);
		st->group = tuplestore_begin_heap(true, false, work_mem);
		AsofClearGroup(st);
	}
}

/* Initializes the qualification at position field of the plan's custom_exprs, if any. */
static ExprState *
AsofInitExprsQual(AsofState *st, CustomScan *cscan, int field)
{
	List	   *qual = list_nth(cscan->custom_exprs, field);

	return qual ? ExecInitQual(qual, &st->css.ss.ps) : NULL;
}

/* Sets up the state of an AsofJoin from its plan. */
static void
AsofBegin(CustomScanState *node, EState *estate, int eflags)
{
	AsofState  *st = (AsofState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *priv = cscan->custom_private;

	Assert(list_length(priv) == ASOF_PRIV_NFIELDS);
	Assert(list_length(cscan->custom_exprs) == ASOF_EXPRS_NFIELDS);
	AsofBeginKeys(st, priv);

	st->scanslot = node->ss.ss_ScanTupleSlot;
	st->cand_qual = AsofInitExprsQual(st, cscan, ASOF_EXPRS_CAND);
	st->base_qual = AsofInitExprsQual(st, cscan, ASOF_EXPRS_BASE);
	st->mono_qual = AsofInitExprsQual(st, cscan, ASOF_EXPRS_MONO);

	st->outer_ps = ExecInitNode(linitial(cscan->custom_plans), estate, eflags);
	node->custom_ps = list_make1(st->outer_ps);

	if (st->strategy == ASOF_MERGE || st->strategy == ASOF_MERGE_RANGES)
	{
		st->inner_ps = ExecInitNode(lsecond(cscan->custom_plans), estate, eflags);
		node->custom_ps = lappend(node->custom_ps, st->inner_ps);
		AsofBeginGroup(st, estate, ExecGetResultType(st->inner_ps), st->cand_qual != NULL);
		if (st->strategy == ASOF_MERGE_RANGES)
			AsofInitSorts(st, estate, priv);
	}
	else
		AsofBeginIndex(st, estate, priv);
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

		if (match != NULL && st->mono_qual && st->cand_qual == NULL && !st->mono_in_index)
		{
			/*
			 * The latest candidate fails a TTL-like condition: so do all.
			 * (With other conditions the walk has checked it; as index
			 * bounds, the probe has.)
			 */
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

	if (st->group)
		tuplestore_end(st->group);
	if (st->sort)
		tuplesort_end(st->sort);
	if (st->isort)
		tuplesort_end(st->isort);
	AsofEndIndex(st);
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
	List	   *display = list_nth(cscan->custom_exprs, ASOF_EXPRS_DISPLAY);
	List	   *cand = list_nth(cscan->custom_exprs, ASOF_EXPRS_CAND);
	List	   *mono = list_nth(cscan->custom_exprs, ASOF_EXPRS_MONO);
	List	   *base = list_nth(cscan->custom_exprs, ASOF_EXPRS_BASE);
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
	if (mono != NIL)
	{
		Node	   *q = (Node *) make_ands_explicit(mono);

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
	if (es->analyze && cand != NIL)
		ExplainPropertyInteger("Candidates Read", NULL, st->walked, es);
	if (st->strategy == ASOF_MERGE_INDEX || st->strategy == ASOF_PROBE)
	{
		ExplainPropertyText("Index", get_rel_name(st->index_oid), es);
		if (es->analyze)
			ExplainPropertyInteger("Heap Fetches", NULL, st->heap_fetches, es);
		if (st->nlower > 0)
		{
			List	   *lower = list_nth(cscan->custom_exprs, ASOF_EXPRS_LOWER);
			ListCell   *lc;

			resetStringInfo(&buf);
			foreach(lc, lower)
			{
				appendStringInfo(&buf, "%s%s %s %s",
								 foreach_current_index(lc) > 0 ? " AND " : "",
								 AsofDeparse(list_nth(display, 2 * st->nkeys + 1), context, useprefix),
								 st->lower_strats[foreach_current_index(lc)] == BTGreaterStrategyNumber ? ">" : ">=",
								 AsofDeparse(lfirst(lc), context, useprefix));
			}
			ExplainPropertyText("Index Time Bound", buf.data, es);
		}
		if (base != NIL)
			ExplainPropertyText("Feature Filter",
								AsofDeparse((Node *) make_ands_explicit(base), context, useprefix),
								es);
	}
}
