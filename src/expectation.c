/*-------------------------------------------------------------------------
 *
 * expectation.c
 *		What an expectation's batch condition observes.
 *
 * A batch condition such as "count(*) BETWEEN 1000 AND 1e6" or
 * "avg((spend IS NULL)::int) <= 0.01" compares one measured expression with
 * bounds.  fs_internal.condition_subject returns the text of that measured
 * expression (the left side of a top-level comparison or BETWEEN), so that
 * each run can record the value it observed next to pass or fail.  Anything
 * else has no single subject and yields NULL.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(fs_condition_subject);
PG_FUNCTION_INFO_V1(fs_condition_is_expression);

#define CONDITION_PREFIX "SELECT "

/*
 * The expression of a condition: "SELECT <condition>" parsed, which must be
 * one statement with one target and nothing else.  NULL when it is not (a
 * syntax error included: validation reports that when it plans it).
 */
static Node *
ParseCondition(const char *query)
{
	List	   *parsed = NIL;
	RawStmt    *raw;
	SelectStmt *select;
	ResTarget  *target;
	MemoryContext oldcontext = CurrentMemoryContext;

	PG_TRY();
	{
		parsed = raw_parser(query, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		FlushErrorState();
		parsed = NIL;
	}
	PG_END_TRY();

	if (list_length(parsed) != 1)
		return NULL;
	raw = linitial_node(RawStmt, parsed);
	if (!IsA(raw->stmt, SelectStmt))
		return NULL;
	select = (SelectStmt *) raw->stmt;
	if (select->op != SETOP_NONE || select->fromClause != NIL || select->whereClause != NULL ||
		select->groupClause != NIL || select->havingClause != NULL || select->windowClause != NIL ||
		select->sortClause != NIL || select->limitCount != NULL || select->limitOffset != NULL ||
		select->lockingClause != NIL || select->withClause != NULL || select->intoClause != NULL ||
		select->distinctClause != NIL || select->valuesLists != NIL ||
		list_length(select->targetList) != 1)
		return NULL;
	target = linitial_node(ResTarget, select->targetList);
	if (target->name != NULL)
		return NULL;
	return target->val;
}

/*
 * fs_internal.condition_is_expression(condition text) returns boolean:
 * whether the condition is exactly one SQL expression, so that it cannot
 * reach out of the parentheses it is placed in.
 */
Datum
fs_condition_is_expression(PG_FUNCTION_ARGS)
{
	char	   *cond = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *query = psprintf("%s%s", CONDITION_PREFIX, cond);
	char	   *wrapped = psprintf("%s(%s)", CONDITION_PREFIX, cond);

	/* both alone and inside parentheses, as it is used */
	PG_RETURN_BOOL(ParseCondition(query) != NULL && ParseCondition(wrapped) != NULL);
}

/* The comparison operators whose left side is the measured value. */
static bool
IsComparison(List *name)
{
	static const char *const ops[] = {"<", "<=", ">", ">=", "=", "<>", "!="};
	const char *op;
	int			i;

	if (list_length(name) != 1)
		return false;
	op = strVal(linitial(name));
	for (i = 0; i < lengthof(ops); i++)
		if (strcmp(op, ops[i]) == 0)
			return true;
	return false;
}

/*
 * fs_internal.condition_subject(condition text) returns text: the measured
 * expression of a condition, or NULL.  The condition is only parsed (never
 * run): a condition that does not parse yields NULL, its validation reports
 * the error.
 */
Datum
fs_condition_subject(PG_FUNCTION_ARGS)
{
	char	   *cond = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *prefix = CONDITION_PREFIX;
	char	   *query = psprintf("%s%s", prefix, cond);
	Node	   *val = ParseCondition(query);
	A_Expr	   *expr;
	int			start;
	int			finish;
	int			depth = 0;
	int			i;
	char	   *subject;

	if (val == NULL || !IsA(val, A_Expr))
		PG_RETURN_NULL();
	expr = (A_Expr *) val;
	if (!((expr->kind == AEXPR_OP && IsComparison(expr->name)) ||
		  expr->kind == AEXPR_BETWEEN || expr->kind == AEXPR_NOT_BETWEEN) ||
		expr->lexpr == NULL)
		PG_RETURN_NULL();

	/* From the left side's first token up to the operator. */
	start = exprLocation(expr->lexpr);
	finish = expr->location;
	if (start < (int) strlen(prefix) || finish <= start)
		PG_RETURN_NULL();
	while (finish > start && isspace((unsigned char) query[finish - 1]))
		finish--;
	/* "NOT BETWEEN" is located at its BETWEEN: leave the NOT out. */
	if (expr->kind == AEXPR_NOT_BETWEEN && finish - start > 3 &&
		pg_strncasecmp(query + finish - 3, "not", 3) == 0)
	{
		finish -= 3;
		while (finish > start && isspace((unsigned char) query[finish - 1]))
			finish--;
	}
	/*
	 * A left side that starts inside parentheses (its location is that of
	 * what they enclose) is cut unbalanced: no subject then.
	 */
	for (i = start; i < finish; i++)
	{
		if (query[i] == '(')
			depth++;
		else if (query[i] == ')' && --depth < 0)
			PG_RETURN_NULL();
	}
	if (depth != 0 || finish <= start)
		PG_RETURN_NULL();
	subject = pnstrdup(query + start, finish - start);
	PG_RETURN_TEXT_P(cstring_to_text(subject));
}
