/*
 * asof_plan.c
 *		Plan creation of the as-of join: an AsofPath becomes a CustomScan
 *		whose custom_private and custom_exprs tell the executor everything,
 *		field by field (the positions are named in asof.h).
 *
 * The scan tuple is the spine input's columns followed by the feature columns.
 * For the merge strategies that read a child plan for the features, those are
 * the child's columns; for the strategies that read the feature table through
 * its index (probe, merge over index), they are the heap columns the query
 * needs, read by the node itself, so the table's own filters are evaluated by
 * the node too.
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "access/stratnum.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "asof_planner.h"

/* Returns the position of expr in a child plan's tlist, adding it if needed. */
static AttrNumber
AsofChildColumn(Plan **plan, Expr *expr)
{
	TargetEntry *te = tlist_member(expr, (*plan)->targetlist);
	List	   *tlist;

	if (te)
		return te->resno;
	tlist = list_copy((*plan)->targetlist);
	te = makeTargetEntry(copyObject(expr), list_length(tlist) + 1, NULL, true);
	tlist = lappend(tlist, te);
	*plan = change_plan_targetlist(*plan, tlist, (*plan)->parallel_safe);
	return te->resno;
}

/* Appends a child plan's output columns to the scan tuple description. */
static List *
AsofAppendTlist(List *scan_tlist, List *child_tlist)
{
	ListCell   *lc;

	foreach(lc, child_tlist)
	{
		TargetEntry *te = lfirst(lc);

		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry(copyObject(te->expr),
											 list_length(scan_tlist) + 1,
											 te->resname, false));
	}
	return scan_tlist;
}

/* Adds to a list the Vars of rel in an expression that it lacks. */
static List *
AsofAddRelVars(List *vars, Node *expr, Index relid)
{
	List	   *found = pull_var_clause(expr, PVC_RECURSE_AGGREGATES |
										PVC_RECURSE_WINDOWFUNCS |
										PVC_INCLUDE_PLACEHOLDERS);
	ListCell   *lc;

	foreach(lc, found)
	{
		Var		   *v = lfirst(lc);

		if (IsA(v, Var) && v->varno == relid && !list_member(vars, v))
			vars = lappend(vars, v);
	}
	return vars;
}

/*
 * Returns the feature table's own filters, security barrier conditions
 * (lower security levels) first, as a scan node would evaluate them.
 */
static List *
AsofOrderedBaseQuals(List *rinfos)
{
	List	   *result = NIL;
	Index		level = 0;
	Index		maxlevel = 0;
	ListCell   *lc;

	foreach(lc, rinfos)
		maxlevel = Max(maxlevel, ((RestrictInfo *) lfirst(lc))->security_level);
	for (level = 0; level <= maxlevel; level++)
	{
		foreach(lc, rinfos)
		{
			RestrictInfo *ri = lfirst(lc);

			if (ri->security_level == level && !ri->pseudoconstant)
				result = lappend(result, ri->clause);
		}
	}
	return result;
}

/* Returns the position of a node equal to item in list, or -1. */
static int
AsofListPosition(List *list, void *item)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		if (equal(lfirst(lc), item))
			return foreach_current_index(lc);
	}
	return -1;
}

/* The plan node under construction: what will be in its private fields, by name. */
typedef struct AsofPlanBuild
{
	AsofPath   *path;
	AsofJoinClauses *jc;
	Oid			tstype;			/* type of the spine (and feature) time */
	Plan	   *outer_plan;
	Plan	   *inner_plan;		/* merges over a child plan: the features */
	List	   *scan_tlist;
	List	   *inner_vars;		/* features read by the node: heap Vars */
	List	   *base_quals;		/* features read by the node: its filters */
	List	   *display;		/* ASOF_EXPRS_DISPLAY */
	int			outer_natts;
	int			inner_natts;
	AttrNumber	outer_ts_att;
	AttrNumber	inner_ts_att;
	Oid			tsle;			/* probe: time scan-key proc */
	List	   *outer_att;		/* the ASOF_PRIV_... lists */
	List	   *inner_att;
	List	   *procs;
	List	   *colls;
	List	   *flags;
	List	   *eqprocs;
	List	   *probe_cols;
	List	   *sortops;
	List	   *inner_sortops;
	List	   *bound_proc;
	List	   *lower_exprs;	/* probe: time lower bounds (ASOF_EXPRS_LOWER) */
	List	   *lower_procs;
	List	   *lower_strats;
	bool		mono_in_index;
} AsofPlanBuild;

/* Places the spine columns the executor reads at the start of the scan tuple. */
static void
AsofPlanSpineColumns(AsofPlanBuild *b)
{
	ListCell   *lc;

	b->outer_ts_att = AsofChildColumn(&b->outer_plan, b->jc->spine_ts);
	foreach(lc, b->jc->key_outer)
		b->outer_att = lappend_int(b->outer_att, AsofChildColumn(&b->outer_plan, lfirst(lc)));
	b->scan_tlist = AsofAppendTlist(NIL, b->outer_plan->targetlist);
	b->outer_natts = list_length(b->scan_tlist);
}

/* Merges over a child plan: the feature columns are that plan's. */
static void
AsofPlanChildFeatureColumns(AsofPlanBuild *b)
{
	ListCell   *lc;

	b->inner_ts_att = AsofChildColumn(&b->inner_plan, b->jc->feature_ts);
	foreach(lc, b->jc->key_inner)
		b->inner_att = lappend_int(b->inner_att, AsofChildColumn(&b->inner_plan, lfirst(lc)));
	b->scan_tlist = AsofAppendTlist(b->scan_tlist, b->inner_plan->targetlist);
}

/*
 * Probe and merge over index: the feature columns are the heap columns that
 * the join's output, its conditions and the table's own filters read.
 */
static void
AsofPlanHeapFeatureColumns(AsofPlanBuild *b, RelOptInfo *rel, List *tlist)
{
	AsofJoinClauses *jc = b->jc;
	Index		relid = b->path->index->rel->relid;
	List	   *vars = NIL;
	ListCell   *lc;

	vars = AsofAddRelVars(vars, (Node *) rel->reltarget->exprs, relid);
	foreach(lc, jc->cand_quals)
		vars = AsofAddRelVars(vars, (Node *) ((RestrictInfo *) lfirst(lc))->clause, relid);
	foreach(lc, jc->post_quals)
		vars = AsofAddRelVars(vars, (Node *) ((RestrictInfo *) lfirst(lc))->clause, relid);
	foreach(lc, jc->mono_quals)
		vars = AsofAddRelVars(vars, (Node *) ((RestrictInfo *) lfirst(lc))->clause, relid);
	vars = AsofAddRelVars(vars, (Node *) tlist, relid);
	vars = AsofAddRelVars(vars, (Node *) jc->key_inner, relid);
	vars = AsofAddRelVars(vars, (Node *) jc->feature_ts, relid);
	b->base_quals = AsofOrderedBaseQuals(b->path->index->rel->baserestrictinfo);
	vars = AsofAddRelVars(vars, (Node *) b->base_quals, relid);
	foreach(lc, vars)
	{
		Var		   *v = lfirst(lc);

		if (!IsA(v, Var) || v->varattno <= 0)
			elog(ERROR, "unexpected column in as-of index probe");
		b->probe_cols = lappend_int(b->probe_cols, v->varattno);
		b->inner_vars = lappend(b->inner_vars, v);
		b->scan_tlist = lappend(b->scan_tlist,
								makeTargetEntry((Expr *) copyObject(v),
												list_length(b->scan_tlist) + 1, NULL, false));
	}
}

/* Probe: the index column holding key k (1-based), from the path's key order. */
static int
AsofProbeIndexColumn(AsofPath *path, int k)
{
	ListCell   *lc;

	foreach(lc, path->key_order)
	{
		if (lfirst_int(lc) == k)
			return foreach_current_index(lc) + 1;
	}
	elog(ERROR, "as-of key missing from the probe index");
	return 0;					/* keep compiler quiet */
}

/*
 * Tells whether the node walks back through the feature index with scan
 * keys: the probe, and the merge over index when other conditions may reject
 * the latest row.
 */
static bool
AsofWalksIndex(AsofPlanBuild *b)
{
	return b->path->strategy == ASOF_PROBE ||
		(b->path->strategy == ASOF_MERGE_INDEX && b->jc->cand_quals != NIL);
}

/*
 * Per key: the comparison function, collation and order of the merge, the
 * display expressions, and for a probe the index column and its equality.
 */
static void
AsofPlanKeySupport(AsofPlanBuild *b)
{
	AsofJoinClauses *jc = b->jc;
	ListCell   *lc1,
			   *lc2,
			   *lc3;

	forthree(lc1, jc->keys, lc2, jc->key_outer, lc3, jc->key_inner)
	{
		RestrictInfo *ri = lfirst(lc1);
		int			k = foreach_current_index(lc1);
		OpExpr	   *op = (OpExpr *) ri->clause;
		Oid			otype = exprType(lfirst(lc2));
		Oid			itype = exprType(lfirst(lc3));
		PathKey    *pk = list_nth(jc->key_pathkeys, k);
		Oid			cmp;
		int			kflags = 0;

		/* the merge ordering of this key is that of its outer pathkey */
		if (pk->pk_nulls_first)
			kflags |= 1;
		if (pk->pk_strategy == BTGreaterStrategyNumber)
			kflags |= 2;
		cmp = get_opfamily_proc(pk->pk_opfamily, otype, itype, BTORDER_PROC);
		if (!OidIsValid(cmp))
			elog(ERROR, "missing comparison function for as-of join key");
		b->procs = lappend_oid(b->procs, cmp);
		b->colls = lappend_oid(b->colls, op->inputcollid);
		b->flags = lappend_int(b->flags, kflags);
		b->display = lappend(b->display, copyObject(lfirst(lc2)));
		b->display = lappend(b->display, copyObject(lfirst(lc3)));
		if (AsofWalksIndex(b))
		{
			/*
			 * For a probe, the "inner attno" of a key is its index column; a
			 * merge over index walking back probes an index whose columns
			 * are the keys in order.
			 */
			IndexOptInfo *index = b->path->index;
			int			col = b->path->strategy == ASOF_PROBE ? AsofProbeIndexColumn(b->path, k) : k + 1;
			Oid			eqop = get_opfamily_member(index->opfamily[col - 1],
												   index->opcintype[col - 1],
												   otype, BTEqualStrategyNumber);

			if (!OidIsValid(eqop))
				elog(ERROR, "missing equality operator for as-of index probe");
			b->eqprocs = lappend_oid(b->eqprocs, get_opcode(eqop));
			if (b->path->strategy == ASOF_PROBE)
				b->inner_att = lappend_int(b->inner_att, col);
		}
	}
	b->display = lappend(b->display, copyObject(jc->spine_ts));
	b->display = lappend(b->display, copyObject(jc->feature_ts));
}

/*
 * Probe: the TTL windows written "feature_ts >= x" (or >, x reading the spine
 * only) become lower bounds of the index scan, as they do in the index scan
 * of the LATERAL formulation, so that a spine row's walk never leaves the
 * window.  Records whether every TTL-like condition became one.
 */
static void
AsofPlanTimeLowerBounds(AsofPlanBuild *b)
{
	IndexOptInfo *index = b->path->index;
	int			tscol = list_length(b->jc->keys);
	Oid			opf = index->opfamily[tscol];
	ListCell   *lc;
	bool		all = true;

	foreach(lc, b->jc->mono_quals)
	{
		Expr	   *clause = ((RestrictInfo *) lfirst(lc))->clause;
		Node	   *l;
		Node	   *r;
		int			strategy;
		Oid			opno;

		if (!is_opclause(clause) || list_length(((OpExpr *) clause)->args) != 2 ||
			(strategy = get_op_opfamily_strategy(((OpExpr *) clause)->opno, opf)) == 0)
		{
			all = false;
			continue;
		}
		l = linitial(((OpExpr *) clause)->args);
		r = lsecond(((OpExpr *) clause)->args);
		if (!equal(l, b->jc->feature_ts))
		{
			Node	   *t = l;

			l = r;
			r = t;
			strategy = BTCommuteStrategyNumber(strategy);
		}
		/* the other side reads the spine only (AsofIsMonotone) */
		opno = get_opfamily_member(opf, index->opcintype[tscol], exprType(r), strategy);
		if (!equal(l, b->jc->feature_ts) || !OidIsValid(opno) ||
			(strategy != BTGreaterStrategyNumber && strategy != BTGreaterEqualStrategyNumber))
		{
			all = false;
			continue;
		}
		b->lower_exprs = lappend(b->lower_exprs, copyObject(r));
		b->lower_procs = lappend_oid(b->lower_procs, get_opcode(opno));
		b->lower_strats = lappend_int(b->lower_strats, strategy);
	}
	/* (a merge's latest row comes from its own scan, outside these bounds) */
	b->mono_in_index = all && b->lower_exprs != NIL && b->path->strategy == ASOF_PROBE;
}

/* The sort operators of one input sorted by the node: its keys, then the time. */
static List *
AsofSortOps(AsofPlanBuild *b, List *key_exprs)
{
	TypeCacheEntry *lt = lookup_type_cache(b->tstype, TYPECACHE_LT_OPR);
	List	   *ops = NIL;
	ListCell   *lc;

	foreach(lc, key_exprs)
	{
		PathKey    *pk = list_nth(b->jc->key_pathkeys, foreach_current_index(lc));
		Oid			type = exprType(lfirst(lc));

		ops = lappend_oid(ops, get_opfamily_member(pk->pk_opfamily, type, type,
												   BTLessStrategyNumber));
	}
	return lappend_oid(ops, lt->lt_opr);
}

/* Merge over ranges: both sorts, and the comparison of feature keys with the bounds. */
static void
AsofPlanRangeSorts(AsofPlanBuild *b)
{
	PathKey    *pk0 = linitial(b->jc->key_pathkeys);
	Oid			btype = exprType(linitial(b->jc->key_inner));

	b->sortops = AsofSortOps(b, b->jc->key_outer);
	b->inner_sortops = AsofSortOps(b, b->jc->key_inner);
	b->bound_proc = list_make1_oid(get_opfamily_proc(pk0->pk_opfamily, btype, btype,
													 BTORDER_PROC));
}

/* Merge over index: feature columns by position among the heap columns read; the spine sort. */
static void
AsofPlanIndexMerge(AsofPlanBuild *b)
{
	ListCell   *lc;
	int			pos;

	b->inner_att = NIL;
	foreach(lc, b->jc->key_inner)
	{
		Node	   *e = lfirst(lc);

		while (IsA(e, RelabelType))
			e = (Node *) ((RelabelType *) e)->arg;
		pos = AsofListPosition(b->inner_vars, e);
		if (pos < 0)
			elog(ERROR, "as-of key is not a column of the feature table");
		b->inner_att = lappend_int(b->inner_att, pos + 1);
	}
	pos = AsofListPosition(b->inner_vars, b->jc->feature_ts);
	if (pos < 0)
		elog(ERROR, "as-of time is not a column of the feature table");
	b->inner_ts_att = pos + 1;
	b->sortops = AsofSortOps(b, b->jc->key_outer);
}

/* Builds CustomScan.custom_private (see asof.h), each field at its named position. */
static List *
AsofPlanPrivate(AsofPlanBuild *b, PlannerInfo *root)
{
	AsofPath   *path = b->path;
	TypeCacheEntry *tce = lookup_type_cache(b->tstype, TYPECACHE_CMP_PROC);
	int			hdr[ASOF_H_NFIELDS];
	List	   *fields[ASOF_PRIV_NFIELDS];
	List	   *header = NIL;
	List	   *priv = NIL;
	int			i;

	hdr[ASOF_H_STRATEGY] = path->strategy;
	hdr[ASOF_H_JOINTYPE] = path->jointype;
	hdr[ASOF_H_STRICT] = b->jc->strict;
	hdr[ASOF_H_OUTER_NATTS] = b->outer_natts;
	hdr[ASOF_H_INNER_NATTS] = b->inner_natts;
	hdr[ASOF_H_TIME_PROC] = tce->cmp_proc;
	hdr[ASOF_H_TIME_COLL] = exprCollation((Node *) b->jc->spine_ts);
	hdr[ASOF_H_OUTER_TS] = b->outer_ts_att;
	hdr[ASOF_H_INNER_TS] = b->inner_ts_att;
	hdr[ASOF_H_INDEX] = path->index ? path->index->indexoid : InvalidOid;
	hdr[ASOF_H_HEAP] = path->index ?
		planner_rt_fetch(path->index->rel->relid, root)->relid : InvalidOid;
	hdr[ASOF_H_TIME_LEPROC] = b->tsle;
	hdr[ASOF_H_MONO_IN_INDEX] = b->mono_in_index;
	for (i = 0; i < ASOF_H_NFIELDS; i++)
		header = lappend_int(header, hdr[i]);

	fields[ASOF_PRIV_HEADER] = header;
	fields[ASOF_PRIV_KEY_OUTER] = b->outer_att;
	fields[ASOF_PRIV_KEY_INNER] = b->inner_att;
	fields[ASOF_PRIV_KEY_PROC] = b->procs;
	fields[ASOF_PRIV_KEY_COLL] = b->colls;
	fields[ASOF_PRIV_KEY_FLAGS] = b->flags;
	fields[ASOF_PRIV_KEY_EQPROC] = b->eqprocs;
	fields[ASOF_PRIV_PROBE_COLS] = b->probe_cols;
	fields[ASOF_PRIV_SORTOPS] = b->sortops;
	fields[ASOF_PRIV_BOUNDS] = copyObject(path->bounds);
	fields[ASOF_PRIV_INNER_SORTOPS] = b->inner_sortops;
	fields[ASOF_PRIV_BOUND_PROC] = b->bound_proc;
	fields[ASOF_PRIV_LOWER_PROC] = b->lower_procs;
	fields[ASOF_PRIV_LOWER_STRAT] = b->lower_strats;
	for (i = 0; i < ASOF_PRIV_NFIELDS; i++)
		priv = lappend(priv, fields[i]);
	return priv;
}

/* Builds CustomScan.custom_exprs (see asof.h), each list at its named position. */
static List *
AsofPlanExprs(AsofPlanBuild *b)
{
	List	   *fields[ASOF_EXPRS_NFIELDS];
	List	   *exprs = NIL;
	int			i;

	fields[ASOF_EXPRS_CAND] = extract_actual_clauses(b->jc->cand_quals, false);
	fields[ASOF_EXPRS_DISPLAY] = b->display;
	fields[ASOF_EXPRS_BASE] = b->base_quals;
	fields[ASOF_EXPRS_MONO] = extract_actual_clauses(b->jc->mono_quals, false);
	fields[ASOF_EXPRS_LOWER] = b->lower_exprs;
	for (i = 0; i < ASOF_EXPRS_NFIELDS; i++)
		exprs = lappend(exprs, fields[i]);
	return exprs;
}

/* Converts an AsofJoin path into a CustomScan plan. */
Plan *
AsofPlanCustomPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				   List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	AsofPlanBuild b;

	memset(&b, 0, sizeof(b));
	b.path = (AsofPath *) best_path;
	b.jc = b.path->clauses;
	b.tstype = exprType((Node *) b.jc->spine_ts);
	b.outer_plan = linitial(custom_plans);

	/* the columns the executor reads from each input */
	AsofPlanSpineColumns(&b);
	if (b.path->strategy == ASOF_MERGE || b.path->strategy == ASOF_MERGE_RANGES)
	{
		b.inner_plan = lsecond(custom_plans);
		AsofPlanChildFeatureColumns(&b);
		cscan->custom_plans = list_make2(b.outer_plan, b.inner_plan);
	}
	else
	{
		TypeCacheEntry *tce = lookup_type_cache(b.tstype, TYPECACHE_BTREE_OPFAMILY);

		AsofPlanHeapFeatureColumns(&b, rel, tlist);
		cscan->custom_plans = list_make1(b.outer_plan);
		b.tsle = get_opcode(get_opfamily_member(tce->btree_opf, b.tstype, b.tstype,
												b.jc->strict ? BTLessStrategyNumber :
												BTLessEqualStrategyNumber));
	}
	b.inner_natts = list_length(b.scan_tlist) - b.outer_natts;

	AsofPlanKeySupport(&b);
	if (b.path->strategy == ASOF_MERGE_RANGES)
		AsofPlanRangeSorts(&b);
	if (b.path->strategy == ASOF_MERGE_INDEX)
		AsofPlanIndexMerge(&b);
	if (AsofWalksIndex(&b))
		AsofPlanTimeLowerBounds(&b);

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = extract_actual_clauses(b.jc->post_quals, false);
	cscan->scan.scanrelid = 0;
	cscan->flags = best_path->flags;
	cscan->custom_scan_tlist = b.scan_tlist;
	cscan->custom_exprs = AsofPlanExprs(&b);
	cscan->custom_private = AsofPlanPrivate(&b, root);
	cscan->methods = &AsofScanMethods;
	return &cscan->scan.plan;
}
