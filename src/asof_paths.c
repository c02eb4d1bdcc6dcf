/*
 * asof_paths.c
 *		The join path hook of the as-of join: the AsofJoin paths of a join
 *		carrying an as-of condition, and their costs.
 *
 * Every ordinary join path that would evaluate the as-of operator as a filter
 * is priced out (the operator's functions also carry a huge COST), and
 * AsofJoin paths are added: an index probe per spine row, a merge over sorted
 * inputs, a merge reading the feature index itself (serial and parallel over
 * key ranges), and without an index a parallel merge that sorts both inputs
 * one key range at a time.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "utils/selfuncs.h"

#include "asof_planner.h"

/* How plan creation turns an AsofPath into a CustomScan. */
static CustomPathMethods AsofPathMethods = {
	.CustomName = ASOF_NODE_NAME,
	.PlanCustomPath = AsofPlanCustomPath,
};

/* Raises the price of ordinary join paths of this join split. */
static void
AsofPenalizeJoinPaths(List *paths, RelOptInfo *outerrel, RelOptInfo *innerrel)
{
	ListCell   *lc;

	foreach(lc, paths)
	{
		Path	   *path = lfirst(lc);
		JoinPath   *jp;
		Relids		o,
					i;

		if (!IsA(path, NestPath) && !IsA(path, MergePath) && !IsA(path, HashPath))
			continue;
		jp = (JoinPath *) path;
		o = jp->outerjoinpath->parent->relids;
		i = jp->innerjoinpath->parent->relids;
		if ((bms_equal(o, outerrel->relids) && bms_equal(i, innerrel->relids)) ||
			(bms_equal(o, innerrel->relids) && bms_equal(i, outerrel->relids)))
		{
			if (path->startup_cost < ASOF_PENALTY)
			{
				path->startup_cost += ASOF_PENALTY;
				path->total_cost += ASOF_PENALTY;
			}
		}
	}
}

/* Returns the cheapest full index scan of rel that yields the order pathkeys, or NULL. */
static Path *
AsofCheapestOrderedIndexPath(PlannerInfo *root, RelOptInfo *rel, List *pathkeys)
{
	Path	   *best = NULL;
	ListCell   *lc;

	if (rel->reloptkind != RELOPT_BASEREL || rel->rtekind != RTE_RELATION)
		return NULL;
	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = lfirst(lc);
		List	   *ipk;
		IndexPath  *ip;

		if (index->sortopfamily == NULL || (index->indpred != NIL && !index->predOK))
			continue;
		ipk = build_index_pathkeys(root, index, ForwardScanDirection);
		if (!pathkeys_contained_in(pathkeys, ipk))
			continue;
		ip = create_index_path(root, index, NIL, NIL, NIL, ipk, ForwardScanDirection,
							   AsofIndexCoversRel(rel, index),
							   NULL, 1.0, false);
		if (best == NULL || ip->path.total_cost < best->total_cost)
			best = &ip->path;
	}
	return best;
}

/* Returns the cheapest unparameterized path of rel sorted by pathkeys. */
static Path *
AsofSortedPath(PlannerInfo *root, RelOptInfo *rel, List *pathkeys, bool try_index)
{
	Path	   *cheapest = rel->cheapest_total_path;
	Path	   *sorted = NULL;
	Path	   *presorted;

	if (cheapest == NULL || cheapest->param_info != NULL)
		return NULL;
	if (pathkeys_contained_in(pathkeys, cheapest->pathkeys))
		sorted = cheapest;
	else
		sorted = (Path *) create_sort_path(root, rel, cheapest, pathkeys, -1.0);
	presorted = get_cheapest_path_for_pathkeys(rel->pathlist, pathkeys, NULL, TOTAL_COST, false);
	if (presorted && presorted->total_cost < sorted->total_cost)
		sorted = presorted;
	if (try_index)
	{
		Path	   *ip = AsofCheapestOrderedIndexPath(root, rel, pathkeys);

		if (ip && ip->total_cost < sorted->total_cost)
			sorted = ip;
	}
	return sorted;
}

/*
 * Tells whether rel is a plain table read the same way every time, so that
 * parallel participants can each re-read it and keep their own key range.
 */
static bool
AsofPlainTable(PlannerInfo *root, RelOptInfo *rel)
{
	return rel->reloptkind == RELOPT_BASEREL && rel->rtekind == RTE_RELATION &&
		rel->consider_parallel &&
		planner_rt_fetch(rel->relid, root)->tablesample == NULL &&
		!contain_volatile_functions((Node *) rel->reltarget->exprs) &&
		!contain_volatile_functions((Node *) extract_actual_clauses(rel->baserestrictinfo, false));
}

/* What the strategies of one candidate join have in common while they are priced. */
typedef struct AsofPathContext
{
	PlannerInfo *root;
	RelOptInfo *joinrel;
	RelOptInfo *outerrel;
	RelOptInfo *innerrel;
	JoinType	jointype;
	AsofJoinClauses *jc;
	double		outer_rows;		/* spine rows, at least 1 */
	Cost		qual_cost;		/* per spine row: the candidate conditions */
	double		per_key;		/* feature rows per key */
	double		walk;			/* candidates read back per spine row */
	Cost		walk_row_cost;	/* reading one of them through the index */
} AsofPathContext;

/* Builds the path node of one strategy (serial; AsofAddPartialPath makes it parallel). */
static AsofPath *
AsofMakePath(AsofPathContext *pc, AsofStrategy strategy, List *children,
			 Cost startup, Cost total, List *pathkeys, IndexOptInfo *index,
			 List *key_order, List *bounds)
{
	AsofPath   *ap = (AsofPath *) newNode(sizeof(AsofPath), T_CustomPath);
	CustomPath *cp = &ap->cpath;
	RelOptInfo *joinrel = pc->joinrel;

	cp->path.pathtype = T_CustomScan;
	cp->path.parent = joinrel;
	cp->path.pathtarget = joinrel->reltarget;
	cp->path.param_info = NULL;
	cp->path.parallel_aware = false;
	cp->path.parallel_safe = false;
	cp->path.parallel_workers = 0;
	cp->path.rows = joinrel->rows;
	cp->path.startup_cost = startup;
	cp->path.total_cost = total;
	cp->path.pathkeys = pathkeys;
	cp->flags = 0;
	cp->custom_paths = children;
	cp->custom_private = NIL;
	cp->methods = &AsofPathMethods;
	ap->strategy = strategy;
	ap->jointype = pc->jointype;
	ap->clauses = pc->jc;
	ap->index = index;
	ap->key_order = key_order;
	ap->bounds = bounds;
	return ap;
}

/* Adds a path as a partial path run by nworkers workers, each doing a share by divisor. */
static void
AsofAddPartialPath(AsofPathContext *pc, AsofPath *ap, int nworkers, double divisor)
{
	ap->cpath.path.parallel_aware = true;
	ap->cpath.path.parallel_safe = true;
	ap->cpath.path.parallel_workers = nworkers;
	ap->cpath.path.rows = pc->joinrel->rows / divisor;
	add_partial_path(pc->joinrel, (Path *) ap);
}

/*
 * Finds the as-of condition of a join split; NULL when there is none or the
 * split cannot be an AsofJoin.  When there is one, prices out the ordinary
 * join paths of the split, and fails if the library was not loaded when the
 * query's parse tree was checked.
 */
static RestrictInfo *
AsofFindCondition(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
				  RelOptInfo *innerrel, JoinType jointype, JoinPathExtraData *extra)
{
	RestrictInfo *asof_rinfo = NULL;
	int			nasof = 0;
	ListCell   *lc;

	foreach(lc, extra->restrictlist)
	{
		RestrictInfo *ri = lfirst(lc);

		if (AsofAsOpExpr((Node *) ri->clause, NULL))
		{
			asof_rinfo = ri;
			nasof++;
		}
	}
	if (nasof == 0)
		return NULL;

	if (asof_planning_depth == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("operator %s cannot be planned: the feature_store library was not loaded when this query was planned",
						AsofOperatorName(false)),
				 errhint("Add feature_store to shared_preload_libraries or session_preload_libraries, or run LOAD 'feature_store' first.")));

	/* no ordinary join of this split may evaluate the operator */
	AsofPenalizeJoinPaths(joinrel->pathlist, outerrel, innerrel);
	AsofPenalizeJoinPaths(joinrel->partial_pathlist, outerrel, innerrel);

	if (nasof != 1)
		return NULL;
	if (jointype != JOIN_INNER && jointype != JOIN_LEFT && jointype != JOIN_ANTI)
		return NULL;
	if (!bms_is_empty(joinrel->lateral_relids))
		return NULL;
	/* the feature side must be joined as a unit */
	if (jointype == JOIN_INNER)
	{
		if (!bms_equal(innerrel->relids,
					   pull_varnos(root, (Node *) lsecond(((OpExpr *) asof_rinfo->clause)->args))))
			return NULL;
		foreach(lc, innerrel->joininfo)
		{
			if (!list_member_ptr(extra->restrictlist, lfirst(lc)))
				return NULL;
		}
	}
	else if (!bms_equal(innerrel->relids, extra->sjinfo->syn_righthand))
		return NULL;
	return asof_rinfo;
}

/*
 * Adds the index probe path (any spine order will do); returns its total
 * cost, or -1 when there is none.
 */
static Cost
AsofAddProbePath(AsofPathContext *pc)
{
	List	   *key_order = NIL;
	IndexOptInfo *index = AsofFindProbeIndex(pc->root, pc->innerrel, pc->jc, &key_order);
	Path	   *outer_path = pc->outerrel->cheapest_total_path;
	QualCost	base_cost;
	Cost		per_probe;
	Cost		probe_total;

	if (index == NULL || outer_path == NULL || outer_path->param_info != NULL ||
		asof_strategy_choice == ASOF_CHOICE_MERGE || asof_strategy_choice == ASOF_CHOICE_MERGE_INDEX)
		return -1;
	cost_qual_eval(&base_cost, extract_actual_clauses(pc->innerrel->baserestrictinfo, false),
				   pc->root);
	/* a descent of the tree plus one heap fetch, partly cached; the walk back */
	per_probe = cpu_operator_cost * 4.0 * (index->tree_height + 2) * (list_length(pc->jc->keys) + 1) +
		random_page_cost * 0.5 + seq_page_cost * 0.5 +
		cpu_index_tuple_cost + cpu_tuple_cost +
		base_cost.per_tuple + pc->qual_cost +
		(pc->walk - 1.0) * (pc->walk_row_cost + base_cost.per_tuple);
	probe_total = outer_path->total_cost + per_probe * pc->outer_rows +
		cpu_tuple_cost * pc->joinrel->rows;
	add_path(pc->joinrel, (Path *)
			 AsofMakePath(pc, ASOF_PROBE, list_make1(outer_path),
						  outer_path->startup_cost, probe_total,
						  build_join_pathkeys(pc->root, pc->joinrel, pc->jointype,
											  outer_path->pathkeys),
						  index, key_order, NIL));
	return probe_total;
}

/* Adds the merge path over inputs sorted by (keys, time). */
static void
AsofAddMergePath(AsofPathContext *pc)
{
	AsofJoinClauses *jc = pc->jc;
	Path	   *outer_sorted = AsofSortedPath(pc->root, pc->outerrel, jc->outer_pathkeys, false);
	Path	   *inner_sorted = AsofSortedPath(pc->root, pc->innerrel, jc->inner_pathkeys, true);
	double		inner_rows;
	Cost		startup;
	Cost		run;
	bool		group_spills;

	if (outer_sorted == NULL || inner_sorted == NULL)
		return;
	/*
	 * Other conditions keep a key's rows in a store read back row by row;
	 * once it spills, a walk reads a file backwards.  The merge over index
	 * walks the index instead: leave it that case.
	 */
	group_spills = jc->cand_quals != NIL &&
		inner_sorted->pathtarget->width * pc->per_key > work_mem * 1024.0;
	if (group_spills && AsofFindMergeIndex(pc->root, pc->innerrel, jc) != NULL)
		return;
	inner_rows = Max(inner_sorted->rows, 1.0);
	startup = outer_sorted->startup_cost + inner_sorted->startup_cost;
	run = (outer_sorted->total_cost - outer_sorted->startup_cost) +
		(inner_sorted->total_cost - inner_sorted->startup_cost) +
		cpu_operator_cost * (list_length(jc->keys) + 1) * (pc->outer_rows + inner_rows) +
		cpu_tuple_cost * (pc->outer_rows + pc->joinrel->rows) +
		pc->qual_cost * pc->outer_rows;
	if (jc->cand_quals != NIL)
	{
		/* the key group's store: each row written once, walks read back (spilled: from a file) */
		run += cpu_tuple_cost * inner_rows +
			pc->outer_rows * pc->walk * (cpu_tuple_cost * 2.0 + (group_spills ? seq_page_cost : 0.0));
	}
	add_path(pc->joinrel, (Path *)
			 AsofMakePath(pc, ASOF_MERGE, list_make2(outer_sorted, inner_sorted),
						  startup, startup + run,
						  build_join_pathkeys(pc->root, pc->joinrel, pc->jointype,
											  jc->outer_pathkeys),
						  NULL, NIL, NIL));
}

/*
 * Tells whether the filters a parallel merge evaluates in its workers are
 * parallel safe; candidate conditions other than TTL-like ones would need
 * every candidate of a key group, so they keep the merges serial.
 */
static bool
AsofParallelQualsOk(AsofPathContext *pc)
{
	return pc->jc->cand_quals == NIL &&
		is_parallel_safe(pc->root, (Node *) extract_actual_clauses(pc->jc->post_quals, false)) &&
		is_parallel_safe(pc->root, (Node *) extract_actual_clauses(pc->jc->mono_quals, false));
}

/* Without a usable index, in parallel: adds the merge sorting both inputs per key range. */
static void
AsofAddRangesPath(AsofPathContext *pc)
{
	AsofJoinClauses *jc = pc->jc;
	Path	   *opath;
	Path	   *ipath;
	int			nworkers;
	List	   *bounds;
	double		divisor;
	double		inner_rows;
	int			nchunks;
	Path		osort;
	Path		isort;
	Cost		total;

	if (jc->keys == NIL || max_parallel_workers_per_gather <= 0 ||
		!pc->joinrel->consider_parallel || !AsofParallelQualsOk(pc) ||
		!AsofPlainTable(pc->root, pc->outerrel) || !AsofPlainTable(pc->root, pc->innerrel))
		return;
	opath = get_cheapest_parallel_safe_total_inner(pc->outerrel->pathlist);
	ipath = get_cheapest_parallel_safe_total_inner(pc->innerrel->pathlist);
	nworkers = compute_parallel_worker(pc->innerrel, pc->innerrel->pages, -1,
									   max_parallel_workers_per_gather);
	if (opath == NULL || ipath == NULL || nworkers <= 0)
		return;
	bounds = AsofChunkBounds(pc->root, pc->innerrel, jc, nworkers + 1);
	if (bounds == NIL)
		return;

	divisor = nworkers + Max(0.0, 1.0 - 0.3 * nworkers);
	inner_rows = Max(ipath->rows, 1.0);
	nchunks = list_length(bounds) + 1;
	cost_sort(&osort, pc->root, jc->outer_pathkeys, 0.0, pc->outer_rows,
			  opath->pathtarget->width, 0.0, work_mem, -1.0);
	cost_sort(&isort, pc->root, jc->inner_pathkeys, 0.0, inner_rows,
			  ipath->pathtarget->width, 0.0, work_mem, -1.0);
	total = (opath->total_cost + ipath->total_cost) * nchunks +
		osort.total_cost + isort.total_cost +
		cpu_operator_cost * (list_length(jc->keys) + 1) * (pc->outer_rows + inner_rows) * (nchunks + 1) +
		cpu_tuple_cost * pc->joinrel->rows + pc->qual_cost * pc->outer_rows;
	AsofAddPartialPath(pc, AsofMakePath(pc, ASOF_MERGE_RANGES, list_make2(opath, ipath),
										total / divisor, total / divisor, NIL, NULL, NIL, bounds),
					   nworkers, divisor);
}

/* Adds the merge reading the feature index itself, serial and parallel over key ranges. */
static void
AsofAddIndexMergePaths(AsofPathContext *pc)
{
	AsofJoinClauses *jc = pc->jc;
	IndexOptInfo *index;
	Path	   *outer_path = pc->outerrel->cheapest_total_path;
	List	   *ipk;
	IndexPath  *ip;
	double		inner_rows;
	Path		sort_path;
	Cost		cpu;
	int			nworkers;
	List	   *bounds;
	double		divisor;
	Cost		rescans;
	bool		covers;
	Cost		index_cost;

	if (jc->keys == NIL)
		return;
	index = AsofFindMergeIndex(pc->root, pc->innerrel, jc);
	if (index == NULL || outer_path == NULL || outer_path->param_info != NULL)
		return;
	ipk = build_index_pathkeys(pc->root, index, ForwardScanDirection);
	covers = AsofIndexCoversRel(pc->innerrel, index);
	ip = create_index_path(pc->root, index, NIL, NIL, NIL, ipk, ForwardScanDirection,
						   covers, NULL, 1.0, false);
	inner_rows = Max(ip->path.rows, 1.0);
	index_cost = ip->path.total_cost;
	if (!covers && AsofIndexCoversQuals(pc->innerrel, index, jc->cand_quals))
	{
		/*
		 * The walk reads index tuples (the heap only on pages not
		 * all-visible, as an index-only scan) and the heap row of each match
		 * (asof_index.c): an index-only read plus, per spine row, what the
		 * plain index scan pays per row for the heap.
		 */
		IndexPath  *iop = create_index_path(pc->root, index, NIL, NIL, NIL, ipk, ForwardScanDirection,
											true, NULL, 1.0, false);

		index_cost = iop->path.total_cost +
			Max(0.0, (ip->path.total_cost - iop->path.total_cost) / inner_rows) * Min(pc->outer_rows, inner_rows);
	}
	cost_sort(&sort_path, pc->root, jc->outer_pathkeys, outer_path->total_cost,
			  pc->outer_rows, outer_path->pathtarget->width, 0.0, work_mem, -1.0);
	/* no separate scan node: cheaper per feature row than the plain merge */
	cpu = cpu_operator_cost * (list_length(jc->keys) + 1) * (pc->outer_rows + inner_rows) +
		cpu_tuple_cost * pc->joinrel->rows + pc->qual_cost * pc->outer_rows;
	if (pc->walk > 1.0)
	{
		/* when the latest row fails (1 - 1/walk), a descent of the index and the walk */
		cpu += pc->outer_rows * (1.0 - 1.0 / pc->walk) *
			(cpu_operator_cost * 4.0 * (index->tree_height + 2) * (list_length(jc->keys) + 1) +
			 random_page_cost * 0.5 +
			 (pc->walk - 1.0) * pc->walk_row_cost);
	}
	add_path(pc->joinrel, (Path *)
			 AsofMakePath(pc, ASOF_MERGE_INDEX, list_make1(outer_path),
						  sort_path.startup_cost + ip->path.startup_cost,
						  sort_path.total_cost + index_cost * 0.8 + cpu,
						  build_join_pathkeys(pc->root, pc->joinrel, pc->jointype,
											  jc->outer_pathkeys),
						  index, NIL, NIL));

	/*
	 * In parallel each participant takes ranges of the first key.  Every
	 * participant reads the whole spine once per key range it takes, so the
	 * spine must be a plain table read the same way each time.
	 */
	nworkers = compute_parallel_worker(pc->innerrel, pc->innerrel->pages, -1,
									   max_parallel_workers_per_gather);
	if (nworkers <= 0 || !pc->joinrel->consider_parallel ||
		!AsofPlainTable(pc->root, pc->outerrel) ||
		(outer_path = get_cheapest_parallel_safe_total_inner(pc->outerrel->pathlist)) == NULL ||
		!pc->innerrel->consider_parallel || !AsofParallelQualsOk(pc))
		return;
	bounds = AsofChunkBounds(pc->root, pc->innerrel, jc, nworkers + 1);
	if (bounds == NIL)
		return;
	divisor = nworkers + Max(0.0, 1.0 - 0.3 * nworkers);
	rescans = outer_path->total_cost * list_length(bounds);
	cost_sort(&sort_path, pc->root, jc->outer_pathkeys, outer_path->total_cost,
			  pc->outer_rows, outer_path->pathtarget->width, 0.0, work_mem, -1.0);
	AsofAddPartialPath(pc, AsofMakePath(pc, ASOF_MERGE_INDEX, list_make1(outer_path),
										sort_path.startup_cost / divisor + ip->path.startup_cost,
										(sort_path.total_cost + rescans +
										 index_cost * 0.8 + cpu) / divisor,
										NIL, index, NIL, bounds),
					   nworkers, divisor);
}

/*
 * Estimates how many candidates a spine row reads back before one passes the
 * other conditions (selectivity s): 1/s on average, but no more than the
 * rows of its key within the TTL window.  Without other conditions, one.
 */
static void
AsofEstimateWalk(AsofPathContext *pc, SpecialJoinInfo *sjinfo)
{
	AsofJoinClauses *jc = pc->jc;
	double		inner_rows = Max(pc->innerrel->rows, 1.0);
	double		per_key = inner_rows;
	double		window;
	Selectivity sel;

	pc->walk = 1.0;
	if (jc->key_inner != NIL)
		per_key = inner_rows / Max(estimate_num_groups(pc->root, jc->key_inner, inner_rows,
													   NULL, NULL), 1.0);
	pc->per_key = per_key;
	if (jc->cand_quals == NIL)
		return;
	/* the TTL window's share of a key's rows */
	window = per_key * clauselist_selectivity(pc->root, extract_actual_clauses(jc->mono_quals, false),
											  0, pc->jointype, sjinfo);
	sel = clauselist_selectivity(pc->root, extract_actual_clauses(jc->cand_quals, false),
								 0, pc->jointype, sjinfo);
	window = Max(window, 1.0);
	if (sel <= 0.0 || 1.0 / sel > window)
		pc->walk = window;
	else
		pc->walk = 1.0 / sel;
}

/* Join path hook: adds AsofJoin paths for a join carrying an as-of clause. */
void
AsofJoinPathlist(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
				 RelOptInfo *innerrel, JoinType jointype, JoinPathExtraData *extra)
{
	RestrictInfo *asof_rinfo;
	AsofPathContext pc;
	AsofJoinClauses *jc;
	QualCost	cand_cost;
	Cost		probe_total;

	if (asof_prev_join_pathlist_hook)
		asof_prev_join_pathlist_hook(root, joinrel, outerrel, innerrel, jointype, extra);

	asof_rinfo = AsofFindCondition(root, joinrel, outerrel, innerrel, jointype, extra);
	if (asof_rinfo == NULL)
		return;
	jc = palloc0(sizeof(AsofJoinClauses));
	(void) AsofAsOpExpr((Node *) asof_rinfo->clause, &jc->strict);
	if (!AsofClassifyClauses(root, joinrel, outerrel, innerrel, jointype,
							 extra->restrictlist, asof_rinfo, jc))
		return;

	/* one row per spine row at most (exactly one for a LEFT join) */
	if (jointype != JOIN_ANTI)
		joinrel->rows = outerrel->rows;

	pc.root = root;
	pc.joinrel = joinrel;
	pc.outerrel = outerrel;
	pc.innerrel = innerrel;
	pc.jointype = jointype;
	pc.jc = jc;
	pc.outer_rows = Max(outerrel->rows, 1.0);
	AsofEstimateWalk(&pc, extra->sjinfo);
	cost_qual_eval(&cand_cost, extract_actual_clauses(jc->cand_quals, false), root);
	pc.qual_cost = cand_cost.per_tuple * pc.walk;
	cost_qual_eval(&cand_cost, extract_actual_clauses(jc->mono_quals, false), root);
	pc.qual_cost += cand_cost.per_tuple * pc.walk;
	/* an index tuple, its heap tuple (near the previous one), the scan tuple */
	pc.walk_row_cost = cpu_index_tuple_cost + cpu_tuple_cost * 2.0 + seq_page_cost * 0.1;

	probe_total = AsofAddProbePath(&pc);

	/*
	 * A merge reads every feature row: when probing is cheaper than that
	 * alone, do not spend planning time on the merge paths.
	 */
	if (probe_total >= 0 && probe_total < innerrel->rows * cpu_index_tuple_cost)
		return;
	if (asof_strategy_choice == ASOF_CHOICE_PROBE)
		return;
	if (asof_strategy_choice != ASOF_CHOICE_MERGE_INDEX)
	{
		AsofAddMergePath(&pc);
		AsofAddRangesPath(&pc);
	}
	AsofAddIndexMergePaths(&pc);
}
