/*
 * asof_planner.h
 *		Declarations shared by the files of the as-of join planner.  The
 *		interface to the rest of the extension is asof.h.
 *
 * The planner, file by file:
 *	 asof_planner.c		AsofPlannerInit: the setting, the hooks, the plan node
 *	 asof_misuse.c		checks of the parse tree before planning
 *	 asof_plancheck.c	the planner hook and the check of the finished plan
 *	 asof_clauses.c		the clauses of a candidate join sorted into keys,
 *						candidate restrictions and filters; the indexes used
 *	 asof_paths.c		the AsofJoin paths and their costs (join path hook)
 *	 asof_plan.c		an AsofPath turned into a CustomScan
 */
#ifndef ASOF_PLANNER_H
#define ASOF_PLANNER_H

#include "asof.h"

#include "optimizer/paths.h"
#include "optimizer/planner.h"

/* Setting feature_store.asof_strategy: which strategies the planner may use. */
typedef enum AsofStrategyChoice
{
	ASOF_CHOICE_AUTO,
	ASOF_CHOICE_MERGE,
	ASOF_CHOICE_PROBE,
	ASOF_CHOICE_MERGE_INDEX		/* only the merge over index (tests) */
} AsofStrategyChoice;

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

/*
 * An AsofJoin path: a CustomPath (custom_private unused) carrying what plan
 * creation needs, by name.  Paths are never copied or read back from text,
 * so it may point at planner structures.
 */
typedef struct AsofPath
{
	CustomPath	cpath;
	AsofStrategy strategy;
	JoinType	jointype;
	AsofJoinClauses *clauses;	/* shared by the paths of one join split */
	IndexOptInfo *index;		/* probe and merge over index: the index */
	List	   *key_order;		/* probe: key number per index column */
	List	   *bounds;			/* parallel merges: Const key-range bounds */
} AsofPath;

/* Penalty that prices out a join path evaluating an as-of operator. */
#define ASOF_PENALTY 1.0e10

/* asof_planner.c */
extern int	asof_strategy_choice;
extern int	asof_planning_depth;
extern planner_hook_type asof_prev_planner_hook;
extern set_join_pathlist_hook_type asof_prev_join_pathlist_hook;

/* asof_misuse.c */
extern Bitmapset *AsofCheckQuery(Query *query, bool *found);

/* asof_plancheck.c */
extern PlannedStmt *AsofPlanner(Query *parse, const char *query_string,
								int cursorOptions, ParamListInfo boundParams);

/* asof_clauses.c */
extern bool AsofClassifyClauses(PlannerInfo *root, RelOptInfo *joinrel,
								RelOptInfo *outerrel, RelOptInfo *innerrel,
								JoinType jointype, List *restrictlist,
								RestrictInfo *asof_rinfo, AsofJoinClauses *jc);
extern IndexOptInfo *AsofFindProbeIndex(PlannerInfo *root, RelOptInfo *innerrel,
										AsofJoinClauses *jc, List **key_order);
extern IndexOptInfo *AsofFindMergeIndex(PlannerInfo *root, RelOptInfo *innerrel,
										AsofJoinClauses *jc);
extern bool AsofIndexCoversRel(RelOptInfo *rel, IndexOptInfo *index);
extern bool AsofIndexCoversQuals(RelOptInfo *rel, IndexOptInfo *index, List *clauses);
extern List *AsofChunkBounds(PlannerInfo *root, RelOptInfo *innerrel,
							 AsofJoinClauses *jc, int nchunks);

/* asof_paths.c */
extern void AsofJoinPathlist(PlannerInfo *root, RelOptInfo *joinrel,
							 RelOptInfo *outerrel, RelOptInfo *innerrel,
							 JoinType jointype, JoinPathExtraData *extra);

/* asof_plan.c */
extern Plan *AsofPlanCustomPath(PlannerInfo *root, RelOptInfo *rel,
								CustomPath *best_path, List *tlist,
								List *clauses, List *custom_plans);

#endif							/* ASOF_PLANNER_H */
