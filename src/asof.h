/*
 * asof.h
 *		The as-of join: operators, planner support and executor node.
 *
 * "spine_ts @>= feature_ts" matches, for each spine row, the feature row with
 * the greatest feature_ts <= spine_ts among the rows that pass every other
 * join condition ("@>" the same with a strict inequality).  The operators are
 * markers: they are never evaluated row by row.  The planner replaces the join
 * that carries one with a CustomScan (asof_planner.c and the files listed in
 * asof_planner.h) executed by asof_exec.c (and those listed in asof_exec.h);
 * anywhere that cannot happen the query fails.
 */
#ifndef ASOF_H
#define ASOF_H

#include "postgres.h"

#include "nodes/extensible.h"
#include "nodes/pathnodes.h"
#include "nodes/primnodes.h"

/* Name of the custom scan node, as EXPLAIN shows it. */
#define ASOF_NODE_NAME "AsofJoin"

/* Execution strategies. */
typedef enum AsofStrategy
{
	ASOF_MERGE = 0,				/* both inputs in (keys, time) order */
	ASOF_PROBE = 1,				/* one backward index probe per spine row */
	ASOF_MERGE_INDEX = 2,		/* merge reading the feature index itself,
								 * sorting the spine itself; can run in
								 * parallel over key ranges */
	ASOF_MERGE_RANGES = 3		/* parallel merge sorting both inputs itself,
								 * one key range at a time (no index) */
} AsofStrategy;

/*
 * Positions of the fields of CustomScan.custom_private for an AsofJoin: a
 * list of ASOF_PRIV_NFIELDS lists of integers, OIDs or Consts, so that
 * copyObject, outfuncs and readfuncs work (parallel workers read the plan
 * back from text).
 */
enum
{
	ASOF_PRIV_HEADER = 0,		/* strategy, jointype, strict, outer natts,
								 * inner natts, time cmp proc, time collation,
								 * outer ts attno, inner ts attno, index oid,
								 * heap oid, time scan-key proc (probe) */
	ASOF_PRIV_KEY_OUTER,		/* per key: outer attno */
	ASOF_PRIV_KEY_INNER,		/* per key: inner attno (probe: index column) */
	ASOF_PRIV_KEY_PROC,			/* per key: btree comparison proc */
	ASOF_PRIV_KEY_COLL,			/* per key: collation */
	ASOF_PRIV_KEY_FLAGS,		/* per key: bit 0 nulls first, bit 1 desc */
	ASOF_PRIV_KEY_EQPROC,		/* per key: equality proc (probe scan keys) */
	ASOF_PRIV_PROBE_COLS,		/* probe: inner heap attno per inner column */
	ASOF_PRIV_SORTOPS,			/* merges over index or ranges: spine sort
								 * operators */
	ASOF_PRIV_BOUNDS,			/* merges over index or ranges: Const key
								 * range bounds (none: one range) */
	ASOF_PRIV_INNER_SORTOPS,	/* merge over ranges: feature sort operators */
	ASOF_PRIV_BOUND_PROC,		/* merge over ranges: feature key vs bound */
	ASOF_PRIV_LOWER_PROC,		/* probe: per time lower bound, its scan-key
								 * proc */
	ASOF_PRIV_LOWER_STRAT,		/* probe: per time lower bound, its btree
								 * strategy (> or >=) */
	ASOF_PRIV_NFIELDS
};

/* Positions of the fields of the ASOF_PRIV_HEADER integer list. */
enum
{
	ASOF_H_STRATEGY = 0,
	ASOF_H_JOINTYPE,
	ASOF_H_STRICT,
	ASOF_H_OUTER_NATTS,
	ASOF_H_INNER_NATTS,
	ASOF_H_TIME_PROC,
	ASOF_H_TIME_COLL,
	ASOF_H_OUTER_TS,
	ASOF_H_INNER_TS,
	ASOF_H_INDEX,
	ASOF_H_HEAP,
	ASOF_H_TIME_LEPROC,
	ASOF_H_MONO_IN_INDEX,		/* probe: every TTL-like condition is a time
								 * lower bound of the index scan */
	ASOF_H_NFIELDS
};

/*
 * Positions of the lists in CustomScan.custom_exprs of an AsofJoin.  Its
 * custom_scan_tlist is the spine input's columns followed by the feature
 * columns.
 */
enum
{
	ASOF_EXPRS_CAND = 0,		/* the other join conditions, evaluated per
								 * candidate pair */
	ASOF_EXPRS_DISPLAY,			/* for EXPLAIN: (outer key, inner key) per
								 * key, then spine time, feature time */
	ASOF_EXPRS_BASE,			/* the feature table's own filters when the
								 * node reads it itself (probe, merge over
								 * index) */
	ASOF_EXPRS_MONO,			/* TTL-like conditions, checked on the latest
								 * candidate only */
	ASOF_EXPRS_LOWER,			/* probe: per time lower bound (a TTL window
								 * "feature_ts >= x"), x over the spine */
	ASOF_EXPRS_NFIELDS
};

/* asof_ops.c */
extern bool AsofIsAsofOperator(Oid opno, bool *strict);
extern bool AsofIsAsofOperatorNode(Node *node, bool *strict);
extern OpExpr *AsofAsOpExpr(Node *node, bool *strict);
extern bool AsofOperatorsExist(void);
extern const char *AsofOperatorName(bool strict);

/* asof_planner.c (the other asof_*.c files of the planner: asof_planner.h) */
extern void AsofPlannerInit(void);

/* asof_exec.c */
extern CustomScanMethods AsofScanMethods;
extern Node *AsofCreateScanState(CustomScan *cscan);

#endif							/* ASOF_H */
