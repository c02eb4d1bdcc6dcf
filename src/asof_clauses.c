/*
 * asof_clauses.c
 *		What the join path hook learns about a candidate as-of join: its
 *		clauses sorted into keys, candidate restrictions and filters, the
 *		orderings a merge needs, and the feature table's indexes and key
 *		ranges the strategies can use.
 *
 * The ON clause of an as-of join holds the as-of condition, key equalities
 * (the merge keys, ordered as the planner would order a merge join), and other
 * conditions that restrict which feature rows are candidates.  A candidate
 * condition that holds for a time suffix of the candidates (a TTL window) need
 * only be checked on the latest candidate.  Conditions from above the join
 * (WHERE, for an inner join) filter the joined rows.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_statistic.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "asof_planner.h"

/* Tells whether expr reads a column of the given relations. */
static bool
AsofMentions(PlannerInfo *root, Node *expr, Relids relids)
{
	return bms_overlap(pull_varnos(root, expr), relids);
}

/* Returns the btree strategy of a comparison operator, or 0. */
static int
AsofComparisonStrategy(Oid opno)
{
	List	   *interp = get_op_btree_interpretation(opno);
	ListCell   *lc;

	foreach(lc, interp)
	{
		OpBtreeInterpretation *bi = lfirst(lc);

		if (bi->strategy != BTEqualStrategyNumber && bi->strategy != ROWCOMPARE_NE)
			return bi->strategy;
	}
	return 0;
}

/* Tells whether opno is the built-in subtraction operator. */
static bool
AsofIsBuiltinMinus(Oid opno)
{
	HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	bool		result = false;

	if (HeapTupleIsValid(tup))
	{
		Form_pg_operator op = (Form_pg_operator) GETSTRUCT(tup);

		result = op->oprnamespace == PG_CATALOG_NAMESPACE &&
			strcmp(NameStr(op->oprname), "-") == 0;
		ReleaseSysCache(tup);
	}
	return result;
}

/*
 * Tells whether a candidate condition holds for a suffix of the candidates
 * in time order: "feature_ts >= x" or "spine_ts - feature_ts <= x" (x not
 * reading the feature side), the usual TTL windows.  Then the latest
 * candidate passes it if any candidate does, and it need only be checked on
 * that one.
 */
static bool
AsofIsMonotone(PlannerInfo *root, Expr *clause, AsofJoinClauses *jc, Relids inner)
{
	OpExpr	   *op;
	Node	   *l;
	Node	   *r;
	int			strategy;

	if (!is_opclause(clause) || list_length(((OpExpr *) clause)->args) != 2 ||
		contain_volatile_functions((Node *) clause))
		return false;
	op = (OpExpr *) clause;
	l = linitial(op->args);
	r = lsecond(op->args);
	strategy = AsofComparisonStrategy(op->opno);
	if (strategy == 0)
		return false;
	if (!AsofMentions(root, l, inner))
	{
		Node	   *t = l;

		l = r;
		r = t;
		strategy = BTCommuteStrategyNumber(strategy);
	}
	if (AsofMentions(root, r, inner))
		return false;
	if (equal(l, jc->feature_ts))
		return strategy == BTGreaterStrategyNumber || strategy == BTGreaterEqualStrategyNumber;
	if (IsA(l, OpExpr) && list_length(((OpExpr *) l)->args) == 2 &&
		equal(linitial(((OpExpr *) l)->args), jc->spine_ts) &&
		equal(lsecond(((OpExpr *) l)->args), jc->feature_ts) &&
		AsofIsBuiltinMinus(((OpExpr *) l)->opno))
		return strategy == BTLessStrategyNumber || strategy == BTLessEqualStrategyNumber;
	return false;
}

/*
 * Sorts the clauses of the join other than the as-of condition: filters of
 * the joined rows into jc->post_quals, equalities between the two sides (merge
 * key candidates) into the returned list, the rest into jc->cand_quals.
 */
static List *
AsofSplitRestrictions(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
					  RelOptInfo *innerrel, JoinType jointype, List *restrictlist,
					  RestrictInfo *asof_rinfo, AsofJoinClauses *jc)
{
	List	   *mergeable = NIL;
	ListCell   *lc;

	foreach(lc, restrictlist)
	{
		RestrictInfo *ri = lfirst(lc);
		bool		candidate = (jointype == JOIN_INNER) ||
			!RINFO_IS_PUSHED_DOWN(ri, joinrel->relids);

		if (ri == asof_rinfo)
			continue;
		if (!candidate)
		{
			jc->post_quals = lappend(jc->post_quals, ri);
			continue;
		}
		if (ri->mergeopfamilies != NIL && !ri->pseudoconstant &&
			!contain_volatile_functions((Node *) ri->clause) &&
			is_opclause(ri->clause) && list_length(((OpExpr *) ri->clause)->args) == 2)
		{
			if (bms_is_subset(ri->left_relids, outerrel->relids) &&
				bms_is_subset(ri->right_relids, innerrel->relids) &&
				!bms_is_empty(ri->left_relids) && !bms_is_empty(ri->right_relids))
			{
				ri->outer_is_left = true;
				update_mergeclause_eclasses(root, ri);
				mergeable = lappend(mergeable, ri);
				continue;
			}
			if (bms_is_subset(ri->left_relids, innerrel->relids) &&
				bms_is_subset(ri->right_relids, outerrel->relids) &&
				!bms_is_empty(ri->left_relids) && !bms_is_empty(ri->right_relids))
			{
				ri->outer_is_left = false;
				update_mergeclause_eclasses(root, ri);
				mergeable = lappend(mergeable, ri);
				continue;
			}
		}
		jc->cand_quals = lappend(jc->cand_quals, ri);
	}
	return mergeable;
}

/*
 * Chooses the merge keys among the mergeable equalities, in the order the
 * planner would choose for a merge join, with their pathkeys on both sides;
 * equalities that do not become keys restrict the candidates.
 */
static void
AsofChooseKeys(PlannerInfo *root, RelOptInfo *joinrel, List *mergeable,
			   AsofJoinClauses *jc)
{
	List	   *outer_keys_pk;
	List	   *ordered;
	List	   *used = NIL;
	ListCell   *lc;

	if (mergeable == NIL)
		return;
	outer_keys_pk = select_outer_pathkeys_for_merge(root, mergeable, joinrel);
	ordered = find_mergeclauses_for_outer_pathkeys(root, outer_keys_pk, mergeable);
	foreach(lc, outer_keys_pk)
	{
		PathKey    *pk = lfirst(lc);
		ListCell   *lc2;

		foreach(lc2, ordered)
		{
			RestrictInfo *ri = lfirst(lc2);
			EquivalenceClass *oec = ri->outer_is_left ? ri->left_ec : ri->right_ec;
			EquivalenceClass *iec = ri->outer_is_left ? ri->right_ec : ri->left_ec;
			OpExpr	   *op = (OpExpr *) ri->clause;
			PathKey    *ipk;

			if (list_member_ptr(used, ri) || oec != pk->pk_eclass)
				continue;
			ipk = make_canonical_pathkey(root, iec, pk->pk_opfamily,
										 pk->pk_strategy, pk->pk_nulls_first);
			if (list_member_ptr(jc->inner_pathkeys, ipk))
				continue;
			used = lappend(used, ri);
			jc->keys = lappend(jc->keys, ri);
			jc->key_outer = lappend(jc->key_outer,
									ri->outer_is_left ? linitial(op->args) : lsecond(op->args));
			jc->key_inner = lappend(jc->key_inner,
									ri->outer_is_left ? lsecond(op->args) : linitial(op->args));
			jc->key_pathkeys = lappend(jc->key_pathkeys, pk);
			jc->outer_pathkeys = lappend(jc->outer_pathkeys, pk);
			jc->inner_pathkeys = lappend(jc->inner_pathkeys, ipk);
			break;
		}
	}
	foreach(lc, mergeable)
	{
		if (!list_member_ptr(used, lfirst(lc)))
			jc->cand_quals = lappend(jc->cand_quals, lfirst(lc));
	}
}

/* Moves the TTL-like candidate conditions (see AsofIsMonotone) to jc->mono_quals. */
static void
AsofSplitMonotone(PlannerInfo *root, RelOptInfo *innerrel, AsofJoinClauses *jc)
{
	List	   *general = NIL;
	ListCell   *lc;

	foreach(lc, jc->cand_quals)
	{
		RestrictInfo *ri = lfirst(lc);

		if (AsofIsMonotone(root, ri->clause, jc, innerrel->relids))
			jc->mono_quals = lappend(jc->mono_quals, ri);
		else
			general = lappend(general, ri);
	}
	jc->cand_quals = general;
}

/*
 * Sorts the clauses of the join into keys, candidate restrictions and
 * filters, and computes the orderings the merge strategy needs.  Returns
 * false when the join cannot be an as-of join.
 */
bool
AsofClassifyClauses(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
					RelOptInfo *innerrel, JoinType jointype, List *restrictlist,
					RestrictInfo *asof_rinfo, AsofJoinClauses *jc)
{
	List	   *mergeable;
	TypeCacheEntry *tce;
	List	   *tspk;

	jc->asof = (OpExpr *) asof_rinfo->clause;
	jc->spine_ts = linitial(jc->asof->args);
	jc->feature_ts = lsecond(jc->asof->args);
	if (!bms_is_subset(pull_varnos(root, (Node *) jc->spine_ts), outerrel->relids) ||
		!bms_is_subset(pull_varnos(root, (Node *) jc->feature_ts), innerrel->relids) ||
		contain_volatile_functions((Node *) jc->asof))
		return false;

	mergeable = AsofSplitRestrictions(root, joinrel, outerrel, innerrel, jointype,
									  restrictlist, asof_rinfo, jc);
	AsofChooseKeys(root, joinrel, mergeable, jc);
	AsofSplitMonotone(root, innerrel, jc);

	/* after the keys, the time, ascending, nulls last */
	tce = lookup_type_cache(exprType((Node *) jc->spine_ts), TYPECACHE_LT_OPR);
	if (!OidIsValid(tce->lt_opr))
		return false;
	tspk = build_expression_pathkey(root, jc->spine_ts, NULL, tce->lt_opr,
									outerrel->relids, true);
	if (tspk != NIL && !list_member_ptr(jc->outer_pathkeys, linitial(tspk)))
		jc->outer_pathkeys = lappend(jc->outer_pathkeys, linitial(tspk));
	tspk = build_expression_pathkey(root, jc->feature_ts, NULL, tce->lt_opr,
									innerrel->relids, true);
	if (tspk != NIL && !list_member_ptr(jc->inner_pathkeys, linitial(tspk)))
		jc->inner_pathkeys = lappend(jc->inner_pathkeys, linitial(tspk));
	return true;
}

/* Finds a btree index of the feature table usable for backward probes. */
IndexOptInfo *
AsofFindProbeIndex(PlannerInfo *root, RelOptInfo *innerrel, AsofJoinClauses *jc,
				   List **key_order)
{
	ListCell   *lc;
	Oid			tsfamily;
	Oid			tstype = exprType((Node *) jc->feature_ts);
	TypeCacheEntry *tce;

	if (innerrel->reloptkind != RELOPT_BASEREL || innerrel->rtekind != RTE_RELATION ||
		jc->keys == NIL)
		return NULL;
	if (planner_rt_fetch(innerrel->relid, root)->inh ||
		planner_rt_fetch(innerrel->relid, root)->tablesample)
		return NULL;
	tce = lookup_type_cache(tstype, TYPECACHE_BTREE_OPFAMILY);
	tsfamily = tce->btree_opf;
	if (!OidIsValid(tsfamily))
		return NULL;

	foreach(lc, innerrel->indexlist)
	{
		IndexOptInfo *index = lfirst(lc);
		int			nkeys = list_length(jc->keys);
		List	   *order = NIL;
		int			col;
		bool		ok = true;

		if (index->relam != BTREE_AM_OID || index->ncolumns < nkeys + 1 ||
			(index->indpred != NIL && !index->predOK) || !index->amhasgettuple)
			continue;
		/* the first nkeys columns are the keys, in any order */
		for (col = 0; col < nkeys && ok; col++)
		{
			ListCell   *lk;
			int			k = 0;
			int			found = -1;

			foreach(lk, jc->key_inner)
			{
				RestrictInfo *ri = list_nth(jc->keys, k);

				if (!list_member_int(order, k) &&
					match_index_to_operand(lfirst(lk), col, index) &&
					op_in_opfamily(((OpExpr *) ri->clause)->opno, index->opfamily[col]) &&
					OidIsValid(get_opfamily_member(index->opfamily[col], index->opcintype[col],
												   exprType(list_nth(jc->key_outer, k)),
												   BTEqualStrategyNumber)))
				{
					found = k;
					break;
				}
				k++;
			}
			if (found < 0)
				ok = false;
			else
				order = lappend_int(order, found);
		}
		if (!ok)
			continue;
		if (!match_index_to_operand((Node *) jc->feature_ts, nkeys, index) ||
			index->opfamily[nkeys] != tsfamily)
			continue;
		*key_order = order;
		return index;
	}
	return NULL;
}


/* Finds an index whose order (keys, then time) the merge can read directly. */
IndexOptInfo *
AsofFindMergeIndex(PlannerInfo *root, RelOptInfo *innerrel, AsofJoinClauses *jc)
{
	List	   *order = NIL;
	IndexOptInfo *index = AsofFindProbeIndex(root, innerrel, jc, &order);
	int			nkeys = list_length(jc->keys);
	int			i;

	if (index == NULL)
		return NULL;
	for (i = 0; i < nkeys; i++)
	{
		PathKey    *pk = list_nth(jc->key_pathkeys, i);

		if (list_nth_int(order, i) != i ||
			index->opfamily[i] != pk->pk_opfamily ||
			pk->pk_strategy != BTLessStrategyNumber || pk->pk_nulls_first ||
			index->reverse_sort[i] || index->nulls_first[i])
			return NULL;
	}
	if (index->reverse_sort[nkeys] || index->nulls_first[nkeys])
		return NULL;
	return index;
}

/*
 * Chooses nchunks-1 values of the feature table's first key splitting it
 * into ranges of about equal size, from its histogram; NIL if unknown.
 */
List *
AsofChunkBounds(PlannerInfo *root, RelOptInfo *innerrel, AsofJoinClauses *jc, int nchunks)
{
	Var		   *var = linitial(jc->key_inner);
	PathKey    *pk = linitial(jc->key_pathkeys);
	RangeTblEntry *rte = planner_rt_fetch(innerrel->relid, root);
	HeapTuple	stats;
	AttStatsSlot sslot;
	List	   *bounds = NIL;
	int16		typlen;
	bool		typbyval;
	int			i;

	if (!IsA(var, Var) || var->varattno <= 0 || nchunks < 2)
		return NIL;
	stats = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(rte->relid),
							Int16GetDatum(var->varattno), BoolGetDatum(false));
	if (!HeapTupleIsValid(stats))
		return NIL;
	if (get_attstatsslot(&sslot, stats, STATISTIC_KIND_HISTOGRAM, InvalidOid,
						 ATTSTATSSLOT_VALUES))
	{
		if (sslot.nvalues >= nchunks * 2 && op_in_opfamily(sslot.staop, pk->pk_opfamily) &&
			get_op_opfamily_strategy(sslot.staop, pk->pk_opfamily) == BTLessStrategyNumber)
		{
			get_typlenbyval(var->vartype, &typlen, &typbyval);
			for (i = 1; i < nchunks; i++)
			{
				Datum		d = sslot.values[(i * sslot.nvalues) / nchunks];

				bounds = lappend(bounds,
								 makeConst(var->vartype, var->vartypmod, var->varcollid,
										   typlen, datumCopy(d, typbyval, typlen),
										   false, typbyval));
			}
		}
		free_attstatsslot(&sslot);
	}
	ReleaseSysCache(stats);
	return bounds;
}


/* The columns of rel an index can return, as attribute numbers offset as pull_varattnos does. */
static Bitmapset *
AsofIndexReturns(IndexOptInfo *index)
{
	Bitmapset  *covered = NULL;
	int			i;

	for (i = 0; i < index->ncolumns; i++)
	{
		if (index->indexkeys[i] != 0 && index->canreturn[i])
			covered = bms_add_member(covered,
									 index->indexkeys[i] - FirstLowInvalidHeapAttributeNumber);
	}
	return covered;
}

/* The columns of rel its filters read, with those of clauses (RestrictInfos). */
static Bitmapset *
AsofQualColumns(RelOptInfo *rel, List *clauses)
{
	Bitmapset  *needed = NULL;
	ListCell   *lc;

	foreach(lc, rel->baserestrictinfo)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause, rel->relid, &needed);
	foreach(lc, clauses)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause, rel->relid, &needed);
	return needed;
}

/* Tells whether an index can return every column the scan of rel needs. */
bool
AsofIndexCoversRel(RelOptInfo *rel, IndexOptInfo *index)
{
	Bitmapset  *needed = AsofQualColumns(rel, NIL);

	pull_varattnos((Node *) rel->reltarget->exprs, rel->relid, &needed);
	return bms_is_subset(needed, AsofIndexReturns(index));
}

/*
 * Tells whether an index can return every column of rel that its filters
 * and clauses (the join's other conditions) read: a walk through the index
 * can then decide a match without reading the heap (asof_index.c).
 */
bool
AsofIndexCoversQuals(RelOptInfo *rel, IndexOptInfo *index, List *clauses)
{
	return bms_is_subset(AsofQualColumns(rel, clauses), AsofIndexReturns(index));
}
