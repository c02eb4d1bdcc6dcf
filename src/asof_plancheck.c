/*
 * asof_plancheck.c
 *		The planner hook of the as-of join, and the check of the plan it
 *		returns.
 *
 * The hook checks the parse tree first (asof_misuse.c); a query without an
 * as-of operator is planned as if the extension were not there.  A query
 * with one is planned, and the finished plan must then not evaluate the
 * operator anywhere: if the join carrying it did not become an AsofJoin, the
 * query fails instead of returning rows that differ from the as-of meaning.
 *
 * Under a distributed planner (Citus), each node checks what it runs.  The
 * coordinator checks the parse tree of the whole query and the plan it
 * executes itself: the combine plan around the distributed scan is walked
 * like any plan, and whatever else it runs locally (sub-plans, tasks on
 * local shards, the SELECT of an INSERT ... SELECT it pulls up) is planned
 * through planner() again, so through this hook.  The queries a distributed
 * scan sends to other nodes are not evaluated here: each worker, with the
 * library preloaded, checks the query it receives as its own (parse tree and
 * plan) and refuses misuse there; and the operators' functions refuse to run
 * row by row, so no node ever evaluates them with other semantics.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/nodeFuncs.h"

#include "asof_planner.h"

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
	if (AsofIsAsofOperatorNode(node, &strict))
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

/*
 * The custom scans of Citus that carry queries for other nodes in their
 * private data: what they send is checked where it runs (see above).
 */
static const char *const asof_distributed_scans[] = {
	"Citus Adaptive",
	"Citus INSERT ... SELECT",
	"Citus MERGE INTO ...",
};

/*
 * Tells whether a custom scan is one of Citus's distributed scans: its
 * methods are the ones registered under one of their names.
 */
static bool
AsofIsDistributedScan(CustomScan *cscan)
{
	const char *name = cscan->methods ? cscan->methods->CustomName : NULL;

	if (name == NULL)
		return false;
	for (int i = 0; i < (int) lengthof(asof_distributed_scans); i++)
	{
		if (strcmp(name, asof_distributed_scans[i]) == 0)
			return GetCustomScanMethods(name, true) == cscan->methods;
	}
	return false;
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
			if (((CustomScan *) plan)->methods != &AsofScanMethods &&
				!AsofIsDistributedScan((CustomScan *) plan))
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
PlannedStmt *
AsofPlanner(Query *parse, const char *query_string, int cursorOptions,
			ParamListInfo boundParams)
{
	PlannedStmt *result;
	bool		found = false;

	if (AsofOperatorsExist())
		(void) AsofCheckQuery(parse, &found);

	if (!found)
	{
		if (asof_prev_planner_hook)
			return asof_prev_planner_hook(parse, query_string, cursorOptions, boundParams);
		return standard_planner(parse, query_string, cursorOptions, boundParams);
	}

	asof_planning_depth++;
	PG_TRY();
	{
		if (asof_prev_planner_hook)
			result = asof_prev_planner_hook(parse, query_string, cursorOptions, boundParams);
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
