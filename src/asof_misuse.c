/*
 * asof_misuse.c
 *		Checks of the parse tree before planning: where an as-of operator may
 *		appear, and which conditions may not filter an as-of join's feature
 *		side.
 *
 * An as-of operator may only be a top-level AND condition of the ON clause of
 * an INNER, LEFT or RIGHT join, comparing the spine side (left operand) with
 * the feature side (right operand), and no condition outside that ON clause
 * may filter the feature side in a way the planner could push below the join:
 * the planner would then pick the latest row among fewer candidates.  Every
 * query level is checked, sub-queries and CTEs included.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"

#include "asof_planner.h"

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
	if (AsofIsAsofOperatorNode(node, &strict))
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
 * Checks the CTEs of a query level; returns, per CTE, the output columns
 * derived from an as-of feature side (NULL for a materialized CTE, which is
 * a fence: nothing is pushed into it).
 */
static Bitmapset **
AsofCheckCtes(AsofQueryCheck *qc)
{
	Bitmapset **ctederived;
	ListCell   *lc;

	if (qc->query->cteList == NIL)
		return NULL;
	ctederived = palloc0(sizeof(Bitmapset *) * list_length(qc->query->cteList));
	foreach(lc, qc->query->cteList)
	{
		CommonTableExpr *cte = lfirst(lc);

		if (cte->ctequery && IsA(cte->ctequery, Query))
		{
			Bitmapset  *d = AsofCheckQuery((Query *) cte->ctequery, &qc->found);

			if (cte->ctematerialized != CTEMaterializeAlways)
				ctederived[foreach_current_index(lc)] = d;
		}
	}
	return ctederived;
}

/*
 * Checks the range table entries of a query level (sub-queries, functions,
 * VALUES), and records in qc->derived the feature-derived output columns of
 * each sub-query or CTE that outer conditions may reach; qc->derived stays
 * NULL when there are none.
 */
static void
AsofCheckRangeTable(AsofQueryCheck *qc, Bitmapset **ctederived)
{
	Query	   *query = qc->query;
	bool		any_derived = false;
	ListCell   *lc;

	qc->derived = palloc0(sizeof(Bitmapset *) * (list_length(query->rtable) + 1));
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		int			rti = foreach_current_index(lc) + 1;

		switch (rte->rtekind)
		{
			case RTE_SUBQUERY:
				qc->derived[rti] = AsofCheckQuery(rte->subquery, &qc->found);
				/* LIMIT/OFFSET keeps outer conditions out of a sub-query */
				if (rte->subquery->limitCount != NULL ||
					rte->subquery->limitOffset != NULL)
					qc->derived[rti] = NULL;
				break;
			case RTE_CTE:
				if (rte->ctelevelsup == 0 && ctederived)
				{
					ListCell   *lc2;

					foreach(lc2, query->cteList)
					{
						CommonTableExpr *cte = lfirst(lc2);

						if (strcmp(cte->ctename, rte->ctename) == 0)
							qc->derived[rti] = ctederived[foreach_current_index(lc2)];
					}
				}
				break;
			case RTE_FUNCTION:
				AsofRejectMisplaced((Node *) rte->functions, "in a FROM-clause function", &qc->found);
				break;
			case RTE_VALUES:
				AsofRejectMisplaced((Node *) rte->values_lists, "in VALUES", &qc->found);
				break;
			case RTE_TABLEFUNC:
				AsofRejectMisplaced((Node *) rte->tablefunc, "in a table function", &qc->found);
				break;
			default:
				break;
		}
		if (qc->derived[rti] != NULL)
			any_derived = true;
	}
	if (!any_derived)
		qc->derived = NULL;
}

/* Fails on an as-of operator in a clause of a query level that is no join. */
static void
AsofCheckOtherClauses(AsofQueryCheck *qc)
{
	Query	   *query = qc->query;
	ListCell   *lc;

	AsofRejectMisplaced((Node *) query->targetList, "in a select list", &qc->found);
	AsofRejectMisplaced(query->havingQual, "in a HAVING clause", &qc->found);
	AsofRejectMisplaced((Node *) query->returningList, "in a RETURNING list", &qc->found);
	AsofRejectMisplaced(query->limitCount, "in a LIMIT clause", &qc->found);
	AsofRejectMisplaced(query->limitOffset, "in an OFFSET clause", &qc->found);
	AsofRejectMisplaced((Node *) query->onConflict, "in an ON CONFLICT clause", &qc->found);
	AsofRejectMisplaced((Node *) query->mergeActionList, "in a MERGE action", &qc->found);
	foreach(lc, query->windowClause)
	{
		WindowClause *wc = lfirst(lc);

		AsofRejectMisplaced(wc->startOffset, "in a window frame", &qc->found);
		AsofRejectMisplaced(wc->endOffset, "in a window frame", &qc->found);
	}
}

/* Fails on a HAVING condition reading a feature side: it may be moved into WHERE. */
static void
AsofCheckHaving(AsofQueryCheck *qc)
{
	ListCell   *lh;

	foreach(lh, AsofConjuncts(qc->query->havingQual))
	{
		ListCell   *lj;

		foreach(lj, qc->joins)
		{
			AsofJoinInfo *info = lfirst(lj);

			if (AsofRefersToFeature(qc, lfirst(lh), info->feature_rtis, NULL))
				AsofRejectOuterFilter(info->strict);
		}
	}
}

/*
 * Checks one query level and its sub-queries; returns the output columns
 * derived from an as-of feature side (for the level above), and sets *found
 * when an as-of operator appears anywhere.
 */
Bitmapset *
AsofCheckQuery(Query *query, bool *found)
{
	AsofQueryCheck qc;
	Bitmapset **ctederived;
	Bitmapset  *result = NULL;

	check_stack_depth();
	memset(&qc, 0, sizeof(qc));
	qc.query = query;

	/* CTEs first: their derived columns matter where they are referenced */
	ctederived = AsofCheckCtes(&qc);
	AsofCheckRangeTable(&qc, ctederived);
	AsofCheckOtherClauses(&qc);

	AsofCheckJoinTree(&qc, (Node *) query->jointree);
	if (qc.joins != NIL || qc.derived != NULL)
	{
		AsofCheckAbove(&qc, (Node *) query->jointree, NIL);
		if (query->havingQual)
			AsofCheckHaving(&qc);
		result = AsofDerivedColumns(&qc);
	}
	if (qc.found)
		*found = true;
	return result;
}
