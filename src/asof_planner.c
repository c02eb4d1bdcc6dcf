/*
 * asof_planner.c
 *		Planner support of the as-of join: its setting, its hooks and its
 *		plan node, installed by AsofPlannerInit.
 *
 * Before planning, the planner hook checks the parse tree (asof_misuse.c).
 * During join search, the join path hook prices out every ordinary join path
 * that would evaluate an as-of operator as a filter and adds AsofJoin paths
 * (asof_clauses.c, asof_paths.c), which become CustomScans (asof_plan.c).
 * After planning, the finished plan must not contain the operator anywhere:
 * if it does, the query fails (asof_plancheck.c).  asof_planner.h lists what
 * these files share.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "asof_planner.h"

/* The hooks that were installed before ours, called first. */
planner_hook_type asof_prev_planner_hook = NULL;
set_join_pathlist_hook_type asof_prev_join_pathlist_hook = NULL;

/* Values of feature_store.asof_strategy. */
static const struct config_enum_entry asof_strategy_options[] = {
	{"auto", ASOF_CHOICE_AUTO, false},
	{"merge", ASOF_CHOICE_MERGE, false},
	{"index_probe", ASOF_CHOICE_PROBE, false},
	{"merge_over_index", ASOF_CHOICE_MERGE_INDEX, false},
	{NULL, 0, false}
};

/* feature_store.asof_strategy: an AsofStrategyChoice. */
int			asof_strategy_choice = ASOF_CHOICE_AUTO;

/* Nesting depth of planner calls whose parse tree was checked. */
int			asof_planning_depth = 0;

/* Installs the planner hooks and registers the plan node. */
void
AsofPlannerInit(void)
{
	DefineCustomEnumVariable("feature_store.asof_strategy",
							 "Strategies the planner may use for as-of joins.",
							 "auto lets the planner choose by cost; merge, index_probe or merge_over_index restricts it (merge: the merges; index_probe and merge_over_index need a btree index on the feature table's keys then time).",
							 &asof_strategy_choice,
							 ASOF_CHOICE_AUTO,
							 asof_strategy_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	asof_prev_planner_hook = planner_hook;
	planner_hook = AsofPlanner;
	asof_prev_join_pathlist_hook = set_join_pathlist_hook;
	set_join_pathlist_hook = AsofJoinPathlist;
	RegisterCustomScanMethods(&AsofScanMethods);
}
