/*
 * time_rule.c
 *		The as-of operators between two different time types: refused.
 *
 * The as-of operators exist for one time type on both sides.  Without more,
 * "label_ts @> f.day" with a timestamptz label and a date feature would be
 * resolved through PostgreSQL's implicit cast of the date to timestamptz, at
 * midnight in the session's time zone: the same query would give other rows
 * in another session.  So every pair of different time types (timestamptz,
 * timestamp, date) has its own @>= and @> operators in pg_catalog whose
 * functions refuse, when the query is planned, with a hint naming the
 * explicit form that fs.historical_features uses for the same pair (README
 * "One rule for event times").  Their functions live in pg_catalog, not in
 * the extension's schemas: the planner takes every @>= / @> operator whose
 * function is in fs or fs_internal for an as-of join.
 *
 * The refusal happens at planning, through the functions' planner support
 * (SupportRequestSimplify is asked for every call the planner simplifies),
 * so it does not depend on the data: an empty table is refused too.  The
 * functions also refuse if they are ever called.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(fs_mixed_time);
PG_FUNCTION_INFO_V1(fs_mixed_time_support);

/* The explicit form of "spine OP feature" for a pair of time types. */
static const char *
MixedTimeHint(Oid spine, Oid feature)
{
	if (spine == TIMESTAMPTZOID && feature == DATEOID)
		return "Say which time zone the dates are in, and compare as timestamps: "
			"(spine_ts AT TIME ZONE 'UTC') %s feature_day::timestamp.";
	if (spine == DATEOID && feature == TIMESTAMPTZOID)
		return "Say which time zone the dates are in: "
			"(spine_day::timestamp AT TIME ZONE 'UTC') %s feature_ts.";
	if (spine == TIMESTAMPTZOID && feature == TIMESTAMPOID)
		return "Say which time zone the timestamps are in: "
			"(spine_ts AT TIME ZONE 'UTC') %s feature_ts.";
	if (spine == TIMESTAMPOID && feature == TIMESTAMPTZOID)
		return "Say which time zone the timestamps are in: "
			"(spine_ts AT TIME ZONE 'UTC') %s feature_ts.";
	if (spine == TIMESTAMPOID && feature == DATEOID)
		return "A date is the midnight that starts it: spine_ts %s feature_day::timestamp.";
	if (spine == DATEOID && feature == TIMESTAMPOID)
		return "A date is the midnight that starts it: spine_day::timestamp %s feature_ts.";
	return "Cast one side to the other's type.";
}

/* Raises the refusal for the operator behind function fn on these types. */
static void
RefuseMixedTime(Oid fn, Oid spine, Oid feature)
{
	char	   *name = get_func_name(fn);
	const char *op = (name && strstr(name, "_gt") != NULL) ? "@>" : "@>=";
	bool		zone = (spine == TIMESTAMPTZOID) != (feature == TIMESTAMPTZOID);

	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("operator %s cannot compare %s and %s", op,
					format_type_be(spine), format_type_be(feature)),
			 zone ?
			 errdetail("Which rows match would depend on the session's time zone.") :
			 errdetail("Cast one side, so that the comparison is the one fs.historical_features makes."),
			 errhint(MixedTimeHint(spine, feature), op)));
}

/* Body of the mixed-type operators: a refusal (planning refuses first). */
Datum
fs_mixed_time(PG_FUNCTION_ARGS)
{
	RefuseMixedTime(fcinfo->flinfo->fn_oid,
					get_fn_expr_argtype(fcinfo->flinfo, 0),
					get_fn_expr_argtype(fcinfo->flinfo, 1));
	PG_RETURN_NULL();
}

/* Planner support of the mixed-type operators: refuses any use. */
Datum
fs_mixed_time_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestSimplify))
	{
		SupportRequestSimplify *req = (SupportRequestSimplify *) rawreq;
		FuncExpr   *call = req->fcall;

		if (list_length(call->args) == 2)
			RefuseMixedTime(call->funcid, exprType(linitial(call->args)),
							exprType(lsecond(call->args)));
	}
	PG_RETURN_POINTER(NULL);
}
