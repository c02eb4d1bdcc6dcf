/*
 * asof_planner.c
 *		Planning of the as-of join: misuse detection before planning, the
 *		AsofJoin paths (merge and index probe) and their costs, the check of
 *		the finished plan, and the conversion of a path into a CustomScan.
 *
 * Before planning, the parse tree is walked: an as-of operator may only be a
 * top-level AND condition of the ON clause of an INNER, LEFT or RIGHT join,
 * comparing the spine side (left operand) with the feature side (right
 * operand), and no condition outside that ON clause may filter the feature
 * side in a way the planner could push below the join.  During join search
 * every ordinary join path that would evaluate the operator as a filter is
 * priced out (the operator's functions also carry a huge COST), and AsofJoin
 * paths are added: a merge over sorted inputs, a merge reading the feature
 * index itself (serial and parallel), and an index probe per spine row.
 * After planning, the finished plan must not contain the operator anywhere:
 * if it does, the query fails.
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_opfamily.h"
#include "access/htup_details.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/planner.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "catalog/pg_statistic.h"
#include "utils/selfuncs.h"
#include "utils/typcache.h"

#include "asof.h"

static planner_hook_type prev_planner_hook = NULL;
static set_join_pathlist_hook_type prev_join_pathlist_hook = NULL;

/* GUC feature_store.asof_strategy: which strategies the planner may use. */
typedef enum AsofStrategyChoice
{
	ASOF_CHOICE_AUTO,
	ASOF_CHOICE_MERGE,
	ASOF_CHOICE_PROBE
} AsofStrategyChoice;

static const struct config_enum_entry asof_strategy_options[] = {
	{"auto", ASOF_CHOICE_AUTO, false},
	{"merge", ASOF_CHOICE_MERGE, false},
	{"index_probe", ASOF_CHOICE_PROBE, false},
	{NULL, 0, false}
};

static int	asof_strategy_choice = ASOF_CHOICE_AUTO;

/* Nesting depth of planner calls whose parse tree was checked. */
static int	asof_planning_depth = 0;

/* Penalty that prices out a join path evaluating an as-of operator. */
#define ASOF_PENALTY 1.0e10

static Plan *AsofPlanCustomPath(PlannerInfo *root, RelOptInfo *rel,
								CustomPath *best_path, List *tlist,
								List *clauses, List *custom_plans);

static CustomPathMethods AsofPathMethods = {
	.CustomName = ASOF_NODE_NAME,
	.PlanCustomPath = AsofPlanCustomPath,
};

/* ------------------------------------------------------------------------
 * Parse tree checks
 * ------------------------------------------------------------------------
 */

/* One as-of join found in a query level. */
typedef struct AsofJoinInfo
{
	JoinExpr   *join;
	Relids		feature_rtis;	/* range table indexes of the feature side */
	JoinType	jointype;
	bool		strict;
} AsofJoinInfo;

/* State of the check of one query level. */
typedef struct AsofQueryCheck
{
	Query	   *query;
	List	   *joins;			/* AsofJoinInfo * */
	Bitmapset **derived;		/* per rtindex: output columns of a subquery
								 * that come from an as-of feature side */
	bool		found;			/* some as-of operator in this tree */
} AsofQueryCheck;

static Bitmapset *AsofCheckQuery(Query *query, bool *found);

/* Returns the as-of OpExpr if node is one, else NULL. */
static OpExpr *
AsofAsOpExpr(Node *node, bool *strict)
{
	if (node && IsA(node, OpExpr) &&
		AsofIsAsofOperator(((OpExpr *) node)->opno, strict))
		return (OpExpr *) node;
	return NULL;
}

/* Context of AsofFindMisplaced. */
typedef struct AsofMisplacedContext
{
	bool	   *found;
	bool		strict;
	bool		hit;
} AsofMisplacedContext;

/* Walks an expression: checks sub-queries and notes any as-of operator. */
static bool
AsofFindMisplacedWalker(Node *node, AsofMisplacedContext *ctx)
{
	bool		strict;

	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		AsofCheckQuery((Query *) node, ctx->found);
		return false;
	}
	if (IsA(node, OpExpr) && AsofIsAsofOperator(((OpExpr *) node)->opno, &strict))
	{
		ctx->hit = true;
		ctx->strict = strict;
		return true;
	}
	if (IsA(node, ScalarArrayOpExpr) &&
		AsofIsAsofOperator(((ScalarArrayOpExpr *) node)->opno, &strict))
	{
		ctx->hit = true;
		ctx->strict = strict;
		return true;
	}
	return expression_tree_walker(node, AsofFindMisplacedWalker, (void *) ctx);
}

/* Fails if expression node uses an as-of operator; where names the place. */
static void
AsofRejectMisplaced(Node *node, const char *where, bool *found)
{
	AsofMisplacedContext ctx;

	ctx.found = found;
	ctx.hit = false;
	ctx.strict = false;
	(void) AsofFindMisplacedWalker(node, &ctx);
	if (ctx.hit)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("operator %s is not supported %s",
						AsofOperatorName(ctx.strict), where),
				 errhint("Use it as a top-level AND condition in the ON clause of a LEFT or INNER JOIN, next to the key equalities: spine.ts %s feature.ts.",
						 AsofOperatorName(ctx.strict))));
}

/* Collects the range table indexes (tables and joins) below a jointree node. */
static Relids
AsofJoinTreeRtis(Node *node)
{
	Relids		result = NULL;

	if (node == NULL)
		return NULL;
	if (IsA(node, RangeTblRef))
		return bms_make_singleton(((RangeTblRef *) node)->rtindex);
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) node;

		result = bms_union(AsofJoinTreeRtis(j->larg), AsofJoinTreeRtis(j->rarg));
		if (j->rtindex > 0)
			result = bms_add_member(result, j->rtindex);
		return result;
	}
	if (IsA(node, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) node)->fromlist)
			result = bms_join(result, AsofJoinTreeRtis(lfirst(lc)));
		return result;
	}
	return NULL;
}

/* Splits a qualification into its top-level AND conjuncts. */
static List *
AsofConjuncts(Node *quals)
{
	if (quals == NULL)
		return NIL;
	if (IsA(quals, List))
	{
		List	   *result = NIL;
		ListCell   *lc;

		foreach(lc, (List *) quals)
			result = list_concat(result, AsofConjuncts(lfirst(lc)));
		return result;
	}
	if (is_andclause(quals))
		return AsofConjuncts((Node *) ((BoolExpr *) quals)->args);
	return list_make1(quals);
}


/*
 * Counts the relations a join tree node may become once the planner pulls
 * up its sub-queries (a sub-query that cannot be pulled up counts as one).
 */
static int
AsofCountRels(Query *query, Node *node)
{
	int			n = 0;
	ListCell   *lc;

	if (node == NULL)
		return 0;
	if (IsA(node, RangeTblRef))
	{
		RangeTblEntry *rte = rt_fetch(((RangeTblRef *) node)->rtindex, query->rtable);
		Query	   *sub = rte->subquery;

		if (rte->rtekind == RTE_SUBQUERY && sub->setOperations == NULL &&
			!sub->hasAggs && !sub->hasWindowFuncs && !sub->hasTargetSRFs &&
			sub->groupClause == NIL && sub->groupingSets == NIL &&
			sub->havingQual == NULL && sub->distinctClause == NIL &&
			sub->limitCount == NULL && sub->limitOffset == NULL &&
			sub->jointree != NULL)
			return Max(AsofCountRels(sub, (Node *) sub->jointree), 1);
		if (rte->rtekind == RTE_CTE && rte->ctelevelsup == 0)
		{
			/* a CTE may be inlined as a sub-query */
			foreach(lc, query->cteList)
			{
				CommonTableExpr *cte = lfirst(lc);

				if (strcmp(cte->ctename, rte->ctename) == 0 &&
					cte->ctematerialized != CTEMaterializeAlways &&
					IsA(cte->ctequery, Query) &&
					((Query *) cte->ctequery)->jointree != NULL)
					return Max(AsofCountRels((Query *) cte->ctequery,
											 (Node *) ((Query *) cte->ctequery)->jointree), 1);
			}
		}
		return 1;
	}
	if (IsA(node, JoinExpr))
		return AsofCountRels(query, ((JoinExpr *) node)->larg) +
			AsofCountRels(query, ((JoinExpr *) node)->rarg);
	if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
			n += AsofCountRels(query, lfirst(lc));
	}
	return n;
}

/* Checks the ON clause of one JoinExpr, recording an as-of join found there. */
static void
AsofCheckJoinQuals(AsofQueryCheck *qc, JoinExpr *j)
{
	List	   *conj = AsofConjuncts(j->quals);
	ListCell   *lc;
	OpExpr	   *asof = NULL;
	bool		strict = false;

	foreach(lc, conj)
	{
		Node	   *c = lfirst(lc);
		bool		s;
		OpExpr	   *op = AsofAsOpExpr(c, &s);

		if (op == NULL)
		{
			AsofRejectMisplaced(c, "inside OR, NOT or another expression; it must be a top-level AND condition of a join's ON clause",
								&qc->found);
			continue;
		}
		if (asof != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("only one as-of condition (operator %s or %s) is allowed per join",
							AsofOperatorName(false), AsofOperatorName(true)),
					 errhint("Join each feature table separately, each with its own as-of condition.")));
		asof = op;
		strict = s;
		AsofRejectMisplaced(linitial(op->args), "inside an operand of an as-of condition", &qc->found);
		AsofRejectMisplaced(lsecond(op->args), "inside an operand of an as-of condition", &qc->found);
	}

	if (asof != NULL)
	{
		Relids		left = AsofJoinTreeRtis(j->larg);
		Relids		right = AsofJoinTreeRtis(j->rarg);
		Relids		spine = pull_varnos(NULL, linitial(asof->args));
		Relids		feat = pull_varnos(NULL, lsecond(asof->args));
		AsofJoinInfo *info;
		Relids		fside = NULL;

		qc->found = true;
		if (j->jointype == JOIN_FULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("operator %s is not supported in a FULL JOIN",
							AsofOperatorName(strict)),
					 errhint("Use a LEFT JOIN from the spine to the feature table.")));
		if (bms_is_empty(spine) || bms_is_empty(feat))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("operator %s must compare a column of the spine (left operand) with a column of the feature table (right operand)",
							AsofOperatorName(strict))));
		if ((j->jointype == JOIN_LEFT || j->jointype == JOIN_INNER) &&
				 bms_is_subset(spine, left) && bms_is_subset(feat, right))
			fside = right;
		else if ((j->jointype == JOIN_RIGHT || j->jointype == JOIN_INNER) &&
				 bms_is_subset(spine, right) && bms_is_subset(feat, left))
			fside = left;
		if (fside == NULL)
		{
			if (j->jointype == JOIN_LEFT || j->jointype == JOIN_RIGHT)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("operator %s needs the spine on the preserved side of the outer join and the feature table on its nullable side",
								AsofOperatorName(strict)),
						 errhint("The left operand is the spine time, the right operand the feature time: write spine LEFT JOIN feature ON ... AND spine.ts %s feature.ts.",
								 AsofOperatorName(strict))));
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("operator %s must compare a column of one side of its join (the spine, left operand) with a column of the other side (the feature table, right operand)",
							AsofOperatorName(strict))));
		}

		/*
		 * An inner join hands the planner no boundary around the feature
		 * side: one that joins several tables could be split, and only part
		 * of it be the as-of candidates.
		 */
		if (j->jointype == JOIN_INNER &&
			AsofCountRels(qc->query, fside == left ? j->larg : j->rarg) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("operator %s in an inner join needs a single table on the feature side",
							AsofOperatorName(strict)),
					 errhint("Use a LEFT JOIN for a feature side that joins several tables (and keep the matched rows with an outer query over a sub-query with OFFSET 0).")));

		info = palloc0(sizeof(AsofJoinInfo));
		info->join = j;
		info->feature_rtis = fside;
		info->jointype = j->jointype;
		info->strict = strict;
		qc->joins = lappend(qc->joins, info);
	}
}

/* Walks the join tree of a query level, checking every ON clause. */
static void
AsofCheckJoinTree(AsofQueryCheck *qc, Node *node)
{
	if (node == NULL)
		return;
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) node;

		AsofCheckJoinTree(qc, j->larg);
		AsofCheckJoinTree(qc, j->rarg);
		AsofCheckJoinQuals(qc, j);
	}
	else if (IsA(node, FromExpr))
	{
		FromExpr   *f = (FromExpr *) node;
		ListCell   *lc;

		foreach(lc, f->fromlist)
			AsofCheckJoinTree(qc, lfirst(lc));
		AsofRejectMisplaced(f->quals, "in a WHERE clause; it is a join condition", &qc->found);
	}
}

/* Context of AsofRefersToFeature. */
typedef struct AsofFeatureRefContext
{
	AsofQueryCheck *qc;
	Relids		rtis;			/* feature-side range table indexes */
	bool		derived_hit;	/* a derived column of a sub-query */
} AsofFeatureRefContext;

/* Walker: does an expression read a feature-side column? */
static bool
AsofFeatureRefWalker(Node *node, AsofFeatureRefContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;

		if (v->varlevelsup != 0)
			return false;
		if (ctx->rtis && bms_is_member(v->varno, ctx->rtis))
			return true;
		if (ctx->qc->derived && v->varno <= list_length(ctx->qc->query->rtable) &&
			ctx->qc->derived[v->varno] != NULL &&
			(v->varattno == 0 || bms_is_member(v->varattno, ctx->qc->derived[v->varno])))
		{
			ctx->derived_hit = true;
			return true;
		}
		return false;
	}
	if (IsA(node, Query))
		return false;
	return expression_tree_walker(node, AsofFeatureRefWalker, (void *) ctx);
}

/* Tells whether expr reads rtis, or a feature-derived sub-query column. */
static bool
AsofRefersToFeature(AsofQueryCheck *qc, Node *expr, Relids rtis, bool *derived)
{
	AsofFeatureRefContext ctx;
	bool		r;

	ctx.qc = qc;
	ctx.rtis = rtis;
	ctx.derived_hit = false;
	r = AsofFeatureRefWalker(expr, &ctx);
	if (derived)
		*derived = ctx.derived_hit;
	return r;
}

/* Raises the error for a filter outside the ON clause on a feature side. */
static void
AsofRejectOuterFilter(bool strict)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("a condition on the feature side of an as-of join (operator %s) must be written in that join's ON clause",
					AsofOperatorName(strict)),
			 errdetail("The planner could apply such a condition before the latest feature row is chosen, which would change the result."),
			 errhint("Move the condition into the ON clause to restrict the candidate rows, or filter the joined rows in an outer query over a sub-query with OFFSET 0 or a MATERIALIZED CTE.")));
}

/*
 * Checks the conditions that sit above the as-of joins of a query level:
 * WHERE, and the ON clauses of joins that contain an as-of join where the
 * planner may push them down.  node is the current join tree node, above is
 * the list of qualifications applying to it from enclosing joins.
 */
static void
AsofCheckAbove(AsofQueryCheck *qc, Node *node, List *above)
{
	ListCell   *lc;

	if (node == NULL)
		return;
	if (IsA(node, FromExpr))
	{
		FromExpr   *f = (FromExpr *) node;
		List	   *quals = list_concat(list_copy(above), AsofConjuncts(f->quals));

		foreach(lc, f->fromlist)
			AsofCheckAbove(qc, lfirst(lc), quals);
	}
	else if (IsA(node, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) node;
		List	   *own = AsofConjuncts(j->quals);
		List	   *lq = above;
		List	   *rq = above;

		foreach(lc, qc->joins)
		{
			AsofJoinInfo *info = lfirst(lc);
			ListCell   *lc2;

			if (info->join != j)
				continue;
			foreach(lc2, above)
			{
				Node	   *q = lfirst(lc2);
				bool		derived;

				if (!AsofRefersToFeature(qc, q, info->feature_rtis, &derived))
					continue;
				if (info->jointype == JOIN_INNER ||
					bms_overlap(find_nonnullable_rels(q), info->feature_rtis))
					AsofRejectOuterFilter(info->strict);
			}
		}
		/* which of this join's own conditions may reach each side */
		switch (j->jointype)
		{
			case JOIN_INNER:
				lq = rq = list_concat(list_copy(above), own);
				break;
			case JOIN_LEFT:
				rq = list_concat(list_copy(above), own);
				break;
			case JOIN_RIGHT:
				lq = list_concat(list_copy(above), own);
				break;
			default:
				lq = rq = NIL;
				break;
		}
		AsofCheckAbove(qc, j->larg, lq);
		AsofCheckAbove(qc, j->rarg, rq);
	}
	else if (IsA(node, RangeTblRef))
	{
		int			rti = ((RangeTblRef *) node)->rtindex;

		/* conditions reaching a sub-query holding an as-of join */
		if (qc->derived && qc->derived[rti] != NULL)
		{
			foreach(lc, above)
			{
				bool		derived;

				if (AsofRefersToFeature(qc, lfirst(lc), NULL, &derived) && derived)
					AsofRejectOuterFilter(false);
			}
		}
	}
}

/* Columns of a sub-query's output computed from a feature side. */
static Bitmapset *
AsofDerivedColumns(AsofQueryCheck *qc)
{
	Bitmapset  *result = NULL;
	Relids		all = NULL;
	ListCell   *lc;

	foreach(lc, qc->joins)
		all = bms_union(all, ((AsofJoinInfo *) lfirst(lc))->feature_rtis);
	foreach(lc, qc->query->targetList)
	{
		TargetEntry *te = lfirst(lc);

		if (AsofRefersToFeature(qc, (Node *) te->expr, all, NULL))
			result = bms_add_member(result, te->resno);
	}
	return result;
}

/*
 * Checks one query level and its sub-queries; returns the output columns
 * derived from an as-of feature side (for the level above), and sets *found
 * when an as-of operator appears anywhere.
 */
static Bitmapset *
AsofCheckQuery(Query *query, bool *found)
{
	AsofQueryCheck qc;
	ListCell   *lc;
	int			rti;
	int			ncte = list_length(query->cteList);
	Bitmapset **ctederived = NULL;
	bool		any_derived = false;
	bool		blocked;
	Bitmapset  *result;

	check_stack_depth();
	memset(&qc, 0, sizeof(qc));
	qc.query = query;

	/* CTEs first: their derived columns matter where they are referenced */
	if (ncte > 0)
	{
		int			i = 0;

		ctederived = palloc0(sizeof(Bitmapset *) * ncte);
		foreach(lc, query->cteList)
		{
			CommonTableExpr *cte = lfirst(lc);

			if (cte->ctequery && IsA(cte->ctequery, Query))
			{
				Bitmapset  *d = AsofCheckQuery((Query *) cte->ctequery, &qc.found);

				/* a materialized CTE is a fence: nothing is pushed into it */
				if (cte->ctematerialized != CTEMaterializeAlways)
					ctederived[i] = d;
			}
			i++;
		}
	}

	qc.derived = palloc0(sizeof(Bitmapset *) * (list_length(query->rtable) + 1));
	rti = 0;
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		rti++;
		switch (rte->rtekind)
		{
			case RTE_SUBQUERY:
				qc.derived[rti] = AsofCheckQuery(rte->subquery, &qc.found);
				/* LIMIT/OFFSET keeps outer conditions out of a sub-query */
				blocked = (rte->subquery->limitCount != NULL ||
						   rte->subquery->limitOffset != NULL);
				if (blocked)
					qc.derived[rti] = NULL;
				break;
			case RTE_CTE:
				if (rte->ctelevelsup == 0 && ctederived)
				{
					int			i = 0;
					ListCell   *lc2;

					foreach(lc2, query->cteList)
					{
						CommonTableExpr *cte = lfirst(lc2);

						if (strcmp(cte->ctename, rte->ctename) == 0)
							qc.derived[rti] = ctederived[i];
						i++;
					}
				}
				break;
			case RTE_FUNCTION:
				AsofRejectMisplaced((Node *) rte->functions, "in a FROM-clause function", &qc.found);
				break;
			case RTE_VALUES:
				AsofRejectMisplaced((Node *) rte->values_lists, "in VALUES", &qc.found);
				break;
			case RTE_TABLEFUNC:
				AsofRejectMisplaced((Node *) rte->tablefunc, "in a table function", &qc.found);
				break;
			default:
				break;
		}
		if (qc.derived[rti] != NULL)
			any_derived = true;
	}
	if (!any_derived)
		qc.derived = NULL;

	AsofRejectMisplaced((Node *) query->targetList, "in a select list", &qc.found);
	AsofRejectMisplaced(query->havingQual, "in a HAVING clause", &qc.found);
	AsofRejectMisplaced((Node *) query->returningList, "in a RETURNING list", &qc.found);
	AsofRejectMisplaced(query->limitCount, "in a LIMIT clause", &qc.found);
	AsofRejectMisplaced(query->limitOffset, "in an OFFSET clause", &qc.found);
	AsofRejectMisplaced((Node *) query->onConflict, "in an ON CONFLICT clause", &qc.found);
	AsofRejectMisplaced((Node *) query->mergeActionList, "in a MERGE action", &qc.found);
	{
		ListCell   *lw;

		foreach(lw, query->windowClause)
		{
			WindowClause *wc = lfirst(lw);

			AsofRejectMisplaced(wc->startOffset, "in a window frame", &qc.found);
			AsofRejectMisplaced(wc->endOffset, "in a window frame", &qc.found);
		}
	}

	AsofCheckJoinTree(&qc, (Node *) query->jointree);
	if (qc.joins != NIL || qc.derived != NULL)
		AsofCheckAbove(&qc, (Node *) query->jointree, NIL);

	/* HAVING conditions without aggregates may be moved into WHERE */
	if (query->havingQual && (qc.joins != NIL || qc.derived != NULL))
	{
		ListCell   *lh;

		foreach(lh, AsofConjuncts(query->havingQual))
		{
			ListCell   *lj;

			foreach(lj, qc.joins)
			{
				AsofJoinInfo *info = lfirst(lj);

				if (AsofRefersToFeature(&qc, lfirst(lh), info->feature_rtis, NULL))
					AsofRejectOuterFilter(info->strict);
			}
		}
	}

	result = (qc.joins != NIL || qc.derived != NULL) ? AsofDerivedColumns(&qc) : NULL;
	if (qc.found)
		*found = true;
	return result;
}

/* ------------------------------------------------------------------------
 * Finished plan check
 * ------------------------------------------------------------------------
 */

/* Raises the error for an as-of operator left in a finished plan. */
static void
AsofRejectPlanned(bool strict)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("could not plan operator %s as an as-of join",
					AsofOperatorName(strict)),
			 errdetail("The join carrying the as-of condition cannot be executed by an AsofJoin node, so its result would differ from the as-of semantics."),
			 errhint("An as-of join needs a LEFT or INNER JOIN whose ON clause ANDs key equalities (btree or hash equality) with one as-of condition, and the feature side must be joined as a unit.")));
}

/* Walker: fails on any as-of operator in a plan expression. */
static bool
AsofPlanExprWalker(Node *node, void *context)
{
	bool		strict;

	if (node == NULL)
		return false;
	if ((IsA(node, OpExpr) && AsofIsAsofOperator(((OpExpr *) node)->opno, &strict)) ||
		(IsA(node, ScalarArrayOpExpr) &&
		 AsofIsAsofOperator(((ScalarArrayOpExpr *) node)->opno, &strict)))
		AsofRejectPlanned(strict);
	return expression_tree_walker(node, AsofPlanExprWalker, context);
}

/* Fails on any as-of operator printed in a node tree (for unknown nodes). */
static void
AsofCheckNodeText(Node *node)
{
	char	   *text = nodeToString(node);
	char	   *p = text;
	bool		strict;

	while ((p = strstr(p, ":opno ")) != NULL)
	{
		p += 6;
		if (AsofIsAsofOperator((Oid) strtoul(p, NULL, 10), &strict))
			AsofRejectPlanned(strict);
	}
	pfree(text);
}

#define ASOF_CHECK(x) ((void) AsofPlanExprWalker((Node *) (x), NULL))

/* Fails if a plan tree still evaluates an as-of operator somewhere. */
static void
AsofCheckPlanTree(Plan *plan)
{
	ListCell   *lc;
	List	   *children = NIL;

	if (plan == NULL)
		return;
	check_stack_depth();
	ASOF_CHECK(plan->targetlist);
	ASOF_CHECK(plan->qual);
	switch (nodeTag(plan))
	{
		case T_SeqScan:
		case T_Material:
		case T_Sort:
		case T_IncrementalSort:
		case T_Group:
		case T_Agg:
		case T_Unique:
		case T_Gather:
		case T_GatherMerge:
		case T_SetOp:
		case T_LockRows:
		case T_ProjectSet:
		case T_CteScan:
		case T_NamedTuplestoreScan:
		case T_WorkTableScan:
		case T_RecursiveUnion:
			break;
		case T_Result:
			ASOF_CHECK(((Result *) plan)->resconstantqual);
			break;
		case T_SampleScan:
			ASOF_CHECK(((SampleScan *) plan)->tablesample);
			break;
		case T_IndexScan:
			ASOF_CHECK(((IndexScan *) plan)->indexqualorig);
			ASOF_CHECK(((IndexScan *) plan)->indexorderbyorig);
			break;
		case T_IndexOnlyScan:
			ASOF_CHECK(((IndexOnlyScan *) plan)->indexqual);
			ASOF_CHECK(((IndexOnlyScan *) plan)->recheckqual);
			ASOF_CHECK(((IndexOnlyScan *) plan)->indexorderby);
			break;
		case T_BitmapIndexScan:
			ASOF_CHECK(((BitmapIndexScan *) plan)->indexqualorig);
			break;
		case T_BitmapHeapScan:
			ASOF_CHECK(((BitmapHeapScan *) plan)->bitmapqualorig);
			break;
		case T_BitmapAnd:
			children = ((BitmapAnd *) plan)->bitmapplans;
			break;
		case T_BitmapOr:
			children = ((BitmapOr *) plan)->bitmapplans;
			break;
		case T_TidScan:
			ASOF_CHECK(((TidScan *) plan)->tidquals);
			break;
		case T_TidRangeScan:
			ASOF_CHECK(((TidRangeScan *) plan)->tidrangequals);
			break;
		case T_SubqueryScan:
			children = list_make1(((SubqueryScan *) plan)->subplan);
			break;
		case T_FunctionScan:
			ASOF_CHECK(((FunctionScan *) plan)->functions);
			break;
		case T_ValuesScan:
			ASOF_CHECK(((ValuesScan *) plan)->values_lists);
			break;
		case T_TableFuncScan:
			ASOF_CHECK(((TableFuncScan *) plan)->tablefunc);
			break;
		case T_ForeignScan:
			ASOF_CHECK(((ForeignScan *) plan)->fdw_exprs);
			ASOF_CHECK(((ForeignScan *) plan)->fdw_recheck_quals);
			AsofCheckNodeText((Node *) ((ForeignScan *) plan)->fdw_private);
			break;
		case T_CustomScan:
			ASOF_CHECK(((CustomScan *) plan)->custom_exprs);
			ASOF_CHECK(((CustomScan *) plan)->custom_scan_tlist);
			children = ((CustomScan *) plan)->custom_plans;
			if (((CustomScan *) plan)->methods != &AsofScanMethods)
				AsofCheckNodeText((Node *) ((CustomScan *) plan)->custom_private);
			break;
		case T_NestLoop:
			ASOF_CHECK(((Join *) plan)->joinqual);
			break;
		case T_MergeJoin:
			ASOF_CHECK(((Join *) plan)->joinqual);
			ASOF_CHECK(((MergeJoin *) plan)->mergeclauses);
			break;
		case T_HashJoin:
			ASOF_CHECK(((Join *) plan)->joinqual);
			ASOF_CHECK(((HashJoin *) plan)->hashclauses);
			ASOF_CHECK(((HashJoin *) plan)->hashkeys);
			break;
		case T_Hash:
			ASOF_CHECK(((Hash *) plan)->hashkeys);
			break;
		case T_Memoize:
			ASOF_CHECK(((Memoize *) plan)->param_exprs);
			break;
		case T_Append:
			children = ((Append *) plan)->appendplans;
			break;
		case T_MergeAppend:
			children = ((MergeAppend *) plan)->mergeplans;
			break;
		case T_Limit:
			ASOF_CHECK(((Limit *) plan)->limitOffset);
			ASOF_CHECK(((Limit *) plan)->limitCount);
			break;
		case T_WindowAgg:
			ASOF_CHECK(((WindowAgg *) plan)->startOffset);
			ASOF_CHECK(((WindowAgg *) plan)->endOffset);
			ASOF_CHECK(((WindowAgg *) plan)->runConditionOrig);
			break;
		case T_ModifyTable:
			{
				ModifyTable *mt = (ModifyTable *) plan;

				ASOF_CHECK(mt->returningLists);
				ASOF_CHECK(mt->withCheckOptionLists);
				ASOF_CHECK(mt->onConflictSet);
				ASOF_CHECK(mt->onConflictWhere);
				ASOF_CHECK(mt->mergeActionLists);
			}
			break;
		default:
			/* a node this walker does not know: search its printed form */
			AsofCheckNodeText((Node *) plan);
			return;
	}
	AsofCheckPlanTree(plan->lefttree);
	AsofCheckPlanTree(plan->righttree);
	foreach(lc, children)
		AsofCheckPlanTree((Plan *) lfirst(lc));
}

/* Planner hook: checks the parse tree, plans, then checks the plan. */
static PlannedStmt *
AsofPlanner(Query *parse, const char *query_string, int cursorOptions,
			ParamListInfo boundParams)
{
	PlannedStmt *result;
	bool		found = false;

	if (AsofOperatorsExist())
		(void) AsofCheckQuery(parse, &found);

	if (!found)
	{
		if (prev_planner_hook)
			return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
		return standard_planner(parse, query_string, cursorOptions, boundParams);
	}

	asof_planning_depth++;
	PG_TRY();
	{
		if (prev_planner_hook)
			result = prev_planner_hook(parse, query_string, cursorOptions, boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		asof_planning_depth--;
	}
	PG_END_TRY();

	{
		ListCell   *lc;

		AsofCheckPlanTree(result->planTree);
		foreach(lc, result->subplans)
			AsofCheckPlanTree((Plan *) lfirst(lc));
	}
	return result;
}

/* ------------------------------------------------------------------------
 * Paths
 * ------------------------------------------------------------------------
 */

/* Everything the path hook learned about one candidate as-of join. */
typedef struct AsofJoinClauses
{
	OpExpr	   *asof;
	bool		strict;
	Expr	   *spine_ts;
	Expr	   *feature_ts;
	List	   *keys;			/* RestrictInfo *, ordered like the pathkeys */
	List	   *key_outer;		/* Expr *, outer side of each key */
	List	   *key_inner;		/* Expr *, inner side of each key */
	List	   *key_pathkeys;	/* outer PathKey * per key */
	List	   *cand_quals;		/* RestrictInfo *: restrict the candidates */
	List	   *mono_quals;		/* RestrictInfo *: candidate restrictions that
								 * hold for a time suffix (TTL windows): the
								 * latest candidate alone decides */
	List	   *post_quals;		/* RestrictInfo *: filter the joined rows */
	List	   *outer_pathkeys;
	List	   *inner_pathkeys;
} AsofJoinClauses;

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

/* Tells whether an index can return every column the scan of rel needs. */
static bool
AsofIndexCoversRel(RelOptInfo *rel, IndexOptInfo *index)
{
	Bitmapset  *needed = NULL;
	Bitmapset  *covered = NULL;
	ListCell   *lc;
	int			i;

	pull_varattnos((Node *) rel->reltarget->exprs, rel->relid, &needed);
	foreach(lc, rel->baserestrictinfo)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause, rel->relid, &needed);
	for (i = 0; i < index->ncolumns; i++)
	{
		if (index->indexkeys[i] != 0 && index->canreturn[i])
			covered = bms_add_member(covered,
									 index->indexkeys[i] - FirstLowInvalidHeapAttributeNumber);
	}
	return bms_is_subset(needed, covered);
}

/* Builds the sorted inner paths from ordered index scans. */
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
 * Sorts the clauses of the join into keys, candidate restrictions and
 * filters, and computes the orderings the merge strategy needs.  Returns
 * false when the join cannot be an as-of join.
 */
static bool
AsofClassifyClauses(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
					RelOptInfo *innerrel, JoinType jointype, List *restrictlist,
					RestrictInfo *asof_rinfo, AsofJoinClauses *jc)
{
	List	   *mergeable = NIL;
	List	   *outer_keys_pk;
	List	   *ordered;
	List	   *used = NIL;
	ListCell   *lc;
	TypeCacheEntry *tce;
	List	   *tspk;

	jc->asof = (OpExpr *) asof_rinfo->clause;
	jc->spine_ts = linitial(jc->asof->args);
	jc->feature_ts = lsecond(jc->asof->args);
	if (!bms_is_subset(pull_varnos(root, (Node *) jc->spine_ts), outerrel->relids) ||
		!bms_is_subset(pull_varnos(root, (Node *) jc->feature_ts), innerrel->relids) ||
		contain_volatile_functions((Node *) jc->asof))
		return false;

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

	/* key order: what the planner would choose for a merge join */
	outer_keys_pk = mergeable ? select_outer_pathkeys_for_merge(root, mergeable, joinrel) : NIL;
	ordered = mergeable ? find_mergeclauses_for_outer_pathkeys(root, outer_keys_pk, mergeable) : NIL;
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
	/* equalities that did not become sort keys restrict the candidates */
	foreach(lc, mergeable)
	{
		if (!list_member_ptr(used, lfirst(lc)))
			jc->cand_quals = lappend(jc->cand_quals, lfirst(lc));
	}

	/* TTL-like conditions only need checking on the latest candidate */
	{
		List	   *general = NIL;

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

	/* then the time, ascending, nulls last */
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
static IndexOptInfo *
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
static IndexOptInfo *
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
static List *
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

/* Builds the custom path node for one strategy. */
static CustomPath *
AsofMakePath(RelOptInfo *joinrel, JoinType jointype, AsofJoinClauses *jc,
			 AsofStrategy strategy, List *children, Cost startup, Cost total,
			 List *pathkeys, IndexOptInfo *index, List *key_order, List *bounds)
{
	CustomPath *cp = makeNode(CustomPath);

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
	cp->custom_private = list_make5(list_make3_int(strategy, jointype, jc->strict),
									jc->asof,
									list_make4(jc->keys, jc->key_outer, jc->key_inner, jc->key_pathkeys),
									list_make3(jc->cand_quals, jc->post_quals, jc->mono_quals),
									list_make3(index, key_order, bounds));
	cp->methods = &AsofPathMethods;
	return cp;
}

/* Join path hook: adds AsofJoin paths for a join carrying an as-of clause. */
static void
AsofJoinPathlist(PlannerInfo *root, RelOptInfo *joinrel, RelOptInfo *outerrel,
				 RelOptInfo *innerrel, JoinType jointype, JoinPathExtraData *extra)
{
	RestrictInfo *asof_rinfo = NULL;
	int			nasof = 0;
	ListCell   *lc;
	AsofJoinClauses jc;
	Path	   *outer_sorted;
	Path	   *inner_sorted;
	double		outer_rows;
	Cost		qual_cost;
	QualCost	cand_cost;
	Cost		probe_total = -1;

	if (prev_join_pathlist_hook)
		prev_join_pathlist_hook(root, joinrel, outerrel, innerrel, jointype, extra);

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
		return;

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
		return;
	if (jointype != JOIN_INNER && jointype != JOIN_LEFT && jointype != JOIN_ANTI)
		return;
	if (!bms_is_empty(joinrel->lateral_relids))
		return;
	/* the feature side must be joined as a unit */
	if (jointype == JOIN_INNER)
	{
		if (!bms_equal(innerrel->relids,
					   pull_varnos(root, (Node *) lsecond(((OpExpr *) asof_rinfo->clause)->args))))
			return;
		foreach(lc, innerrel->joininfo)
		{
			if (!list_member_ptr(extra->restrictlist, lfirst(lc)))
				return;
		}
	}
	else if (!bms_equal(innerrel->relids, extra->sjinfo->syn_righthand))
		return;

	memset(&jc, 0, sizeof(jc));
	jc.strict = false;
	(void) AsofAsOpExpr((Node *) asof_rinfo->clause, &jc.strict);
	if (!AsofClassifyClauses(root, joinrel, outerrel, innerrel, jointype,
							 extra->restrictlist, asof_rinfo, &jc))
		return;

	/* one row per spine row at most (exactly one for a LEFT join) */
	if (jointype != JOIN_ANTI)
		joinrel->rows = outerrel->rows;
	outer_rows = Max(outerrel->rows, 1.0);

	cost_qual_eval(&cand_cost, extract_actual_clauses(jc.cand_quals, false), root);
	qual_cost = cand_cost.per_tuple * 2.0;
	cost_qual_eval(&cand_cost, extract_actual_clauses(jc.mono_quals, false), root);
	qual_cost += cand_cost.per_tuple;

	/* the index probe strategy: any spine order will do */
	{
		List	   *key_order = NIL;
		IndexOptInfo *index = AsofFindProbeIndex(root, innerrel, &jc, &key_order);
		Path	   *outer_path = outerrel->cheapest_total_path;

		if (index && outer_path && outer_path->param_info == NULL &&
			asof_strategy_choice != ASOF_CHOICE_MERGE)
		{
			QualCost	base_cost;
			Cost		per_probe;

			cost_qual_eval(&base_cost, extract_actual_clauses(innerrel->baserestrictinfo, false), root);
			/* a descent of the tree plus one heap fetch, partly cached */
			per_probe = cpu_operator_cost * 4.0 * (index->tree_height + 2) * (list_length(jc.keys) + 1) +
				random_page_cost * 0.5 + seq_page_cost * 0.5 +
				cpu_index_tuple_cost + cpu_tuple_cost +
				base_cost.per_tuple + qual_cost;
			probe_total = outer_path->total_cost + per_probe * outer_rows +
				cpu_tuple_cost * joinrel->rows;
			add_path(joinrel, (Path *)
					 AsofMakePath(joinrel, jointype, &jc, ASOF_PROBE,
								  list_make1(outer_path),
								  outer_path->startup_cost, probe_total,
								  build_join_pathkeys(root, joinrel, jointype, outer_path->pathkeys),
								  index, key_order, NIL));
		}
	}

	/*
	 * A merge reads every feature row: when probing is cheaper than that
	 * alone, do not spend planning time on the merge paths.
	 */
	if (probe_total >= 0 && probe_total < innerrel->rows * cpu_index_tuple_cost)
		return;

	/* the merge strategy */
	outer_sorted = AsofSortedPath(root, outerrel, jc.outer_pathkeys, false);
	inner_sorted = AsofSortedPath(root, innerrel, jc.inner_pathkeys, true);
	if (outer_sorted && inner_sorted && asof_strategy_choice != ASOF_CHOICE_PROBE)
	{
		double		inner_rows = Max(inner_sorted->rows, 1.0);
		Cost		startup = outer_sorted->startup_cost + inner_sorted->startup_cost;
		Cost		run = (outer_sorted->total_cost - outer_sorted->startup_cost) +
			(inner_sorted->total_cost - inner_sorted->startup_cost) +
			cpu_operator_cost * (list_length(jc.keys) + 1) * (outer_rows + inner_rows) +
			cpu_tuple_cost * (outer_rows + joinrel->rows) +
			qual_cost * outer_rows;

		add_path(joinrel, (Path *)
				 AsofMakePath(joinrel, jointype, &jc, ASOF_MERGE,
							  list_make2(outer_sorted, inner_sorted),
							  startup, startup + run,
							  build_join_pathkeys(root, joinrel, jointype, jc.outer_pathkeys),
							  NULL, NIL, NIL));
	}

	/* without a usable index, in parallel: both inputs sorted per key range */
	if (asof_strategy_choice != ASOF_CHOICE_PROBE && jc.keys != NIL &&
		max_parallel_workers_per_gather > 0 && joinrel->consider_parallel &&
		jc.cand_quals == NIL && AsofPlainTable(root, outerrel) && AsofPlainTable(root, innerrel) &&
		is_parallel_safe(root, (Node *) extract_actual_clauses(jc.post_quals, false)) &&
		is_parallel_safe(root, (Node *) extract_actual_clauses(jc.mono_quals, false)))
	{
		Path	   *opath = get_cheapest_parallel_safe_total_inner(outerrel->pathlist);
		Path	   *ipath = get_cheapest_parallel_safe_total_inner(innerrel->pathlist);
		int			nworkers = compute_parallel_worker(innerrel, innerrel->pages, -1,
													   max_parallel_workers_per_gather);
		List	   *bounds = (opath && ipath && nworkers > 0) ?
			AsofChunkBounds(root, innerrel, &jc, nworkers + 1) : NIL;

		if (bounds != NIL)
		{
			double		divisor = nworkers + Max(0.0, 1.0 - 0.3 * nworkers);
			double		inner_rows = Max(ipath->rows, 1.0);
			int			nchunks = list_length(bounds) + 1;
			Path		osort;
			Path		isort;
			Cost		total;
			CustomPath *pp;

			cost_sort(&osort, root, jc.outer_pathkeys, 0.0, outer_rows,
					  opath->pathtarget->width, 0.0, work_mem, -1.0);
			cost_sort(&isort, root, jc.inner_pathkeys, 0.0, inner_rows,
					  ipath->pathtarget->width, 0.0, work_mem, -1.0);
			total = (opath->total_cost + ipath->total_cost) * nchunks +
				osort.total_cost + isort.total_cost +
				cpu_operator_cost * (list_length(jc.keys) + 1) * (outer_rows + inner_rows) * (nchunks + 1) +
				cpu_tuple_cost * joinrel->rows + qual_cost * outer_rows;
			pp = AsofMakePath(joinrel, jointype, &jc, ASOF_MERGE_RANGES,
							  list_make2(opath, ipath), total / divisor, total / divisor,
							  NIL, NULL, NIL, bounds);
			pp->path.parallel_aware = true;
			pp->path.parallel_safe = true;
			pp->path.parallel_workers = nworkers;
			pp->path.rows = joinrel->rows / divisor;
			add_partial_path(joinrel, (Path *) pp);
		}
	}

	/* the merge reading the feature index itself, serial and parallel */
	if (asof_strategy_choice != ASOF_CHOICE_PROBE && jc.keys != NIL)
	{
		IndexOptInfo *index = AsofFindMergeIndex(root, innerrel, &jc);
		Path	   *outer_path = outerrel->cheapest_total_path;

		if (index && outer_path && outer_path->param_info == NULL)
		{
			List	   *ipk = build_index_pathkeys(root, index, ForwardScanDirection);
			IndexPath  *ip = create_index_path(root, index, NIL, NIL, NIL, ipk,
											   ForwardScanDirection,
											   AsofIndexCoversRel(innerrel, index),
											   NULL, 1.0, false);
			double		inner_rows = Max(ip->path.rows, 1.0);
			Path		sort_path;
			Cost		cpu;
			int			nworkers;

			cost_sort(&sort_path, root, jc.outer_pathkeys, outer_path->total_cost,
					  outer_rows, outer_path->pathtarget->width, 0.0, work_mem, -1.0);
			/* no separate scan node: cheaper per feature row than the plain merge */
			cpu = cpu_operator_cost * (list_length(jc.keys) + 1) * (outer_rows + inner_rows) +
				cpu_tuple_cost * joinrel->rows + qual_cost * outer_rows;
			add_path(joinrel, (Path *)
					 AsofMakePath(joinrel, jointype, &jc, ASOF_MERGE_INDEX,
								  list_make1(outer_path),
								  sort_path.startup_cost + ip->path.startup_cost,
								  sort_path.total_cost + ip->path.total_cost * 0.8 + cpu,
								  build_join_pathkeys(root, joinrel, jointype, jc.outer_pathkeys),
								  index, NIL, NIL));

			/* in parallel: each participant takes ranges of the first key */
			nworkers = compute_parallel_worker(innerrel, innerrel->pages, -1,
											   max_parallel_workers_per_gather);
			/*
			 * Every participant reads the whole spine once per key range it
			 * takes, so the spine must be a plain table read the same way
			 * each time.
			 */
			if (nworkers > 0 && joinrel->consider_parallel && AsofPlainTable(root, outerrel) &&
				(outer_path = get_cheapest_parallel_safe_total_inner(outerrel->pathlist)) != NULL &&
				innerrel->consider_parallel && jc.cand_quals == NIL &&
				is_parallel_safe(root, (Node *) extract_actual_clauses(jc.post_quals, false)) &&
				is_parallel_safe(root, (Node *) extract_actual_clauses(jc.mono_quals, false)))
			{
				List	   *bounds = AsofChunkBounds(root, innerrel, &jc, nworkers + 1);
				double		divisor = nworkers + Max(0.0, 1.0 - 0.3 * nworkers);

				if (bounds != NIL)
				{
					CustomPath *pp;
					Cost		rescans = outer_path->total_cost * list_length(bounds);

					cost_sort(&sort_path, root, jc.outer_pathkeys, outer_path->total_cost,
							  outer_rows, outer_path->pathtarget->width, 0.0, work_mem, -1.0);

					pp = AsofMakePath(joinrel, jointype, &jc, ASOF_MERGE_INDEX,
									  list_make1(outer_path),
									  sort_path.startup_cost / divisor + ip->path.startup_cost,
									  (sort_path.total_cost + rescans +
									   ip->path.total_cost * 0.8 + cpu) / divisor,
									  NIL, index, NIL, bounds);
					pp->path.parallel_aware = true;
					pp->path.parallel_safe = true;
					pp->path.parallel_workers = nworkers;
					pp->path.rows = joinrel->rows / divisor;
					add_partial_path(joinrel, (Path *) pp);
				}
			}
		}
	}
}

/* ------------------------------------------------------------------------
 * Plan creation
 * ------------------------------------------------------------------------
 */

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

/* Converts an AsofJoin path into a CustomScan plan. */
static Plan *
AsofPlanCustomPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				   List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *priv = best_path->custom_private;
	List	   *hdr = linitial(priv);
	AsofStrategy strategy = linitial_int(hdr);
	JoinType	jointype = lsecond_int(hdr);
	bool		strict = lthird_int(hdr);
	OpExpr	   *asof = lsecond(priv);
	List	   *keys = linitial(lthird(priv));
	List	   *key_outer = lsecond(lthird(priv));
	List	   *key_inner = lthird(lthird(priv));
	List	   *key_pks = lfourth(lthird(priv));
	List	   *cand = linitial(lfourth(priv));
	List	   *post = lsecond(lfourth(priv));
	List	   *mono = lthird(lfourth(priv));
	IndexOptInfo *index = linitial(list_nth(priv, 4));
	List	   *key_order = lsecond(list_nth(priv, 4));
	List	   *bounds = lthird(list_nth(priv, 4));
	List	   *sortops = NIL;
	List	   *inner_sortops = NIL;
	List	   *bound_proc = NIL;
	List	   *inner_vars = NIL;
	Plan	   *outer_plan = linitial(custom_plans);
	Plan	   *inner_plan = NULL;
	Expr	   *spine_ts = linitial(asof->args);
	Expr	   *feature_ts = lsecond(asof->args);
	List	   *scan_tlist = NIL;
	List	   *display = NIL;
	List	   *base_quals = NIL;
	List	   *outer_att = NIL,
			   *inner_att = NIL,
			   *procs = NIL,
			   *colls = NIL,
			   *flags = NIL,
			   *eqprocs = NIL,
			   *probe_cols = NIL;
	AttrNumber	outer_ts_att,
				inner_ts_att = 0;
	int			outer_natts,
				inner_natts;
	Oid			tstype = exprType((Node *) spine_ts);
	TypeCacheEntry *tce = lookup_type_cache(tstype, TYPECACHE_CMP_PROC | TYPECACHE_BTREE_OPFAMILY);
	Oid			tsle = InvalidOid;
	ListCell   *lc1,
			   *lc2,
			   *lc3;
	int			k;

	/* the columns the executor reads from each child */
	outer_ts_att = AsofChildColumn(&outer_plan, spine_ts);
	foreach(lc1, key_outer)
		outer_att = lappend_int(outer_att, AsofChildColumn(&outer_plan, lfirst(lc1)));
	scan_tlist = AsofAppendTlist(NIL, outer_plan->targetlist);
	outer_natts = list_length(scan_tlist);

	if (strategy == ASOF_MERGE || strategy == ASOF_MERGE_RANGES)
	{
		inner_plan = lsecond(custom_plans);
		inner_ts_att = AsofChildColumn(&inner_plan, feature_ts);
		foreach(lc1, key_inner)
			inner_att = lappend_int(inner_att, AsofChildColumn(&inner_plan, lfirst(lc1)));
		scan_tlist = AsofAppendTlist(scan_tlist, inner_plan->targetlist);
		cscan->custom_plans = list_make2(outer_plan, inner_plan);
	}
	else
	{
		/* the feature table's columns are read straight from its heap */
		List	   *vars = NIL;
		ListCell   *lc;

		vars = AsofAddRelVars(vars, (Node *) rel->reltarget->exprs, index->rel->relid);
		foreach(lc, cand)
			vars = AsofAddRelVars(vars, (Node *) ((RestrictInfo *) lfirst(lc))->clause, index->rel->relid);
		foreach(lc, post)
			vars = AsofAddRelVars(vars, (Node *) ((RestrictInfo *) lfirst(lc))->clause, index->rel->relid);
		foreach(lc, mono)
			vars = AsofAddRelVars(vars, (Node *) ((RestrictInfo *) lfirst(lc))->clause, index->rel->relid);
		vars = AsofAddRelVars(vars, (Node *) tlist, index->rel->relid);
		vars = AsofAddRelVars(vars, (Node *) key_inner, index->rel->relid);
		vars = AsofAddRelVars(vars, (Node *) feature_ts, index->rel->relid);
		base_quals = AsofOrderedBaseQuals(index->rel->baserestrictinfo);
		vars = AsofAddRelVars(vars, (Node *) base_quals, index->rel->relid);
		foreach(lc, vars)
		{
			Var		   *v = lfirst(lc);

			if (!IsA(v, Var) || v->varattno <= 0)
				elog(ERROR, "unexpected column in as-of index probe");
			probe_cols = lappend_int(probe_cols, v->varattno);
			inner_vars = lappend(inner_vars, v);
			scan_tlist = lappend(scan_tlist,
								 makeTargetEntry((Expr *) copyObject(v),
												 list_length(scan_tlist) + 1, NULL, false));
		}
		cscan->custom_plans = list_make1(outer_plan);
		tsle = get_opfamily_member(tce->btree_opf, tstype, tstype,
								   strict ? BTLessStrategyNumber : BTLessEqualStrategyNumber);
		tsle = get_opcode(tsle);
	}
	inner_natts = list_length(scan_tlist) - outer_natts;

	/* per key: comparison support */
	k = 0;
	forthree(lc1, keys, lc2, key_outer, lc3, key_inner)
	{
		RestrictInfo *ri = lfirst(lc1);
		OpExpr	   *op = (OpExpr *) ri->clause;
		Oid			otype = exprType(lfirst(lc2));
		Oid			itype = exprType(lfirst(lc3));
		Oid			opfamily = InvalidOid;
		Oid			cmp;
		int			kflags = 0;
		PathKey    *pk = list_nth(key_pks, k);

		/* the merge ordering of this key is that of its outer pathkey */
		opfamily = pk->pk_opfamily;
		if (pk->pk_nulls_first)
			kflags |= 1;
		if (pk->pk_strategy == BTGreaterStrategyNumber)
			kflags |= 2;
		cmp = get_opfamily_proc(opfamily, otype, itype, BTORDER_PROC);
		if (!OidIsValid(cmp))
			elog(ERROR, "missing comparison function for as-of join key");
		procs = lappend_oid(procs, cmp);
		colls = lappend_oid(colls, op->inputcollid);
		flags = lappend_int(flags, kflags);
		display = lappend(display, copyObject(lfirst(lc2)));
		display = lappend(display, copyObject(lfirst(lc3)));
		if (strategy == ASOF_PROBE)
		{
			/* the index column holding key k, and its equality function */
			int			col = -1;
			Oid			eqop;
			int			c;

			for (c = 0; c < list_length(key_order); c++)
			{
				if (list_nth_int(key_order, c) == k)
				{
					col = c;
					break;
				}
			}
			if (col < 0)
				elog(ERROR, "as-of key missing from the probe index");
			eqop = get_opfamily_member(index->opfamily[col], index->opcintype[col],
									   otype, BTEqualStrategyNumber);
			if (!OidIsValid(eqop))
				elog(ERROR, "missing equality operator for as-of index probe");
			eqprocs = lappend_oid(eqprocs, get_opcode(eqop));
			/* for a probe, the "inner attno" of a key is its index column */
			inner_att = lappend_int(inner_att, col + 1);
		}
		k++;
	}
	display = lappend(display, copyObject(spine_ts));
	display = lappend(display, copyObject(feature_ts));

	if (strategy == ASOF_MERGE_RANGES)
	{
		/* both sorts, and the comparison of feature keys with the bounds */
		TypeCacheEntry *lt = lookup_type_cache(tstype, TYPECACHE_LT_OPR);
		PathKey    *pk0 = linitial(key_pks);
		Oid			btype = exprType(linitial(key_inner));

		k = 0;
		forboth(lc1, key_outer, lc2, key_inner)
		{
			PathKey    *pk = list_nth(key_pks, k);
			Oid			otype = exprType(lfirst(lc1));
			Oid			itype = exprType(lfirst(lc2));

			sortops = lappend_oid(sortops,
								  get_opfamily_member(pk->pk_opfamily, otype, otype,
													  BTLessStrategyNumber));
			inner_sortops = lappend_oid(inner_sortops,
										get_opfamily_member(pk->pk_opfamily, itype, itype,
															BTLessStrategyNumber));
			k++;
		}
		sortops = lappend_oid(sortops, lt->lt_opr);
		inner_sortops = lappend_oid(inner_sortops, lt->lt_opr);
		bound_proc = list_make1_oid(get_opfamily_proc(pk0->pk_opfamily, btype, btype,
													  BTORDER_PROC));
	}

	if (strategy == ASOF_MERGE_INDEX)
	{
		/* feature columns by position in the heap column list; spine sort */
		ListCell   *lk;
		TypeCacheEntry *lt = lookup_type_cache(tstype, TYPECACHE_LT_OPR);

		inner_att = NIL;
		foreach(lk, key_inner)
		{
			Node	   *e = lfirst(lk);
			int			pos;

			while (IsA(e, RelabelType))
				e = (Node *) ((RelabelType *) e)->arg;
			pos = AsofListPosition(inner_vars, e);

			if (pos < 0)
				elog(ERROR, "as-of key is not a column of the feature table");
			inner_att = lappend_int(inner_att, pos + 1);
		}
		if (AsofListPosition(inner_vars, feature_ts) < 0)
			elog(ERROR, "as-of time is not a column of the feature table");
		inner_ts_att = AsofListPosition(inner_vars, feature_ts) + 1;
		k = 0;
		foreach(lk, key_outer)
		{
			PathKey    *pk = list_nth(key_pks, k);
			Oid			otype = exprType(lfirst(lk));

			sortops = lappend_oid(sortops,
								  get_opfamily_member(pk->pk_opfamily, otype, otype,
													  BTLessStrategyNumber));
			k++;
		}
		sortops = lappend_oid(sortops, lt->lt_opr);
	}

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = extract_actual_clauses(post, false);
	cscan->scan.scanrelid = 0;
	cscan->flags = best_path->flags;
	cscan->custom_scan_tlist = scan_tlist;
	cscan->custom_exprs = list_make4(extract_actual_clauses(cand, false), display, base_quals,
									 extract_actual_clauses(mono, false));
	{
		List	   *header = NIL;

		header = lappend_int(header, strategy);
		header = lappend_int(header, jointype);
		header = lappend_int(header, strict);
		header = lappend_int(header, outer_natts);
		header = lappend_int(header, inner_natts);
		header = lappend_int(header, tce->cmp_proc);
		header = lappend_int(header, exprCollation((Node *) spine_ts));
		header = lappend_int(header, outer_ts_att);
		header = lappend_int(header, inner_ts_att);
		header = lappend_int(header, index ? index->indexoid : InvalidOid);
		header = lappend_int(header, index ? planner_rt_fetch(index->rel->relid, root)->relid : InvalidOid);
		header = lappend_int(header, tsle);
		cscan->custom_private = list_make1(header);
		cscan->custom_private = lappend(cscan->custom_private, outer_att);
		cscan->custom_private = lappend(cscan->custom_private, inner_att);
		cscan->custom_private = lappend(cscan->custom_private, procs);
		cscan->custom_private = lappend(cscan->custom_private, colls);
		cscan->custom_private = lappend(cscan->custom_private, flags);
		cscan->custom_private = lappend(cscan->custom_private, eqprocs);
		cscan->custom_private = lappend(cscan->custom_private, probe_cols);
		cscan->custom_private = lappend(cscan->custom_private, sortops);
		cscan->custom_private = lappend(cscan->custom_private, copyObject(bounds));
		cscan->custom_private = lappend(cscan->custom_private, inner_sortops);
		cscan->custom_private = lappend(cscan->custom_private, bound_proc);
	}
	cscan->methods = &AsofScanMethods;
	return &cscan->scan.plan;
}

/* Installs the planner hooks and registers the plan node. */
void
AsofPlannerInit(void)
{
	DefineCustomEnumVariable("feature_store.asof_strategy",
							 "Strategies the planner may use for as-of joins.",
							 "auto lets the planner choose by cost; merge or index_probe restricts it to one (index_probe needs a btree index on the feature table's keys then time).",
							 &asof_strategy_choice,
							 ASOF_CHOICE_AUTO,
							 asof_strategy_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	prev_planner_hook = planner_hook;
	planner_hook = AsofPlanner;
	prev_join_pathlist_hook = set_join_pathlist_hook;
	set_join_pathlist_hook = AsofJoinPathlist;
	RegisterCustomScanMethods(&AsofScanMethods);
}
