/*
 * catalog.c
 *		C support for the feature catalog: validating a feature view's source
 *		and describing the columns it yields.
 *
 * The catalog logic itself is SQL (src/sql/); what needs the parser lives
 * here.  A source is either a relation name, resolved now to a
 * schema-qualified name so that it is looked up by name each time it runs
 * (dbt rebuilds a model by renaming), or one plain SELECT statement.
 *
 * Registration also asks whether the source's event time is the start of a
 * window over aggregated rows (fs_internal.source_time_truncation): such a
 * row holds values from the whole window, so stamped at its start it would
 * leak them to spine times inside the window (README "Materialization").
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "parser/scansup.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/elog.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"
#include "utils/regproc.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(fs_describe_source);
PG_FUNCTION_INFO_V1(fs_check_key_type);
PG_FUNCTION_INFO_V1(fs_source_time_truncation);
PG_FUNCTION_INFO_V1(fs_source_rereadable);

/* True when the source text starts like a query rather than a name. */
static bool
LooksLikeQuery(const char *src)
{
	static const char *const starts[] = {"select", "with", "values", "table", "("};
	int			i;

	for (i = 0; i < lengthof(starts); i++)
	{
		int			n = strlen(starts[i]);

		if (pg_strncasecmp(src, starts[i], n) == 0 &&
			(starts[i][0] == '(' || src[n] == '\0' || !(isalnum((unsigned char) src[n]) || src[n] == '_')))
			return true;
	}
	return false;
}

/* True when the source text is a (possibly qualified, quoted) relation name. */
static bool
IsQualifiedName(const char *src)
{
	char	   *copy = pstrdup(src);
	List	   *parts = NIL;

	return SplitIdentifierString(copy, '.', &parts) && list_length(parts) <= 3;
}

/*
 * Checks that a source query is exactly one SELECT that reads data and
 * changes nothing, so that it can be wrapped as a subquery.
 */
static void
CheckSourceQuery(const char *what, const char *src)
{
	List	   *stmts = NIL;
	RawStmt    *raw;
	SelectStmt *select;
	ListCell   *lc;
	MemoryContext oldcxt = CurrentMemoryContext;

	/*
	 * The parser only allocates memory, so its error can be caught here and
	 * reported as a bad source without a subtransaction.
	 */
	PG_TRY();
	{
		stmts = raw_parser(src, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s is not valid SQL: %s", what, edata->message),
				 errhint("Give a table or view name, or one SELECT statement.")));
	}
	PG_END_TRY();

	if (list_length(stmts) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a single SELECT statement", what),
				 errdetail("It contains %d statements.", list_length(stmts))));
	raw = linitial_node(RawStmt, stmts);
	if (!IsA(raw->stmt, SelectStmt))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a SELECT statement", what)));
	select = (SelectStmt *) raw->stmt;
	if (select->intoClause != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not use SELECT INTO", what)));
	if (select->withClause != NULL)
	{
		foreach(lc, select->withClause->ctes)
		{
			CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

			if (!IsA(cte->ctequery, SelectStmt))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s must not modify data", what),
						 errdetail("WITH query \"%s\" is not a SELECT.", cte->ctename)));
		}
	}
	if (select->lockingClause != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not lock rows", what)));
}

/*
 * fs_internal.describe_source(what, source) returns (query, column_names,
 * column_types, relation): the query to run for a feature view's source or a
 * spine, the columns it yields, and the qualified relation when the source
 * is a relation name.  The query is planned and started with LIMIT 0 as the
 * caller, so missing objects and missing privileges are reported now.  What
 * names the object in errors ("source of feature view "x"", "spine").
 */
Datum
fs_describe_source(PG_FUNCTION_ARGS)
{
	char	   *what = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *src = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *query;
	char	   *relation = NULL;
	StringInfoData probe;
	TupleDesc	desc;
	TupleDesc	result_desc;
	Datum	   *names;
	Datum	   *types;
	int			ncols = 0;
	int			i;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char	   *p;

	/* Trim white space and one trailing semicolon. */
	while (*src && isspace((unsigned char) *src))
		src++;
	p = src + strlen(src);
	while (p > src && isspace((unsigned char) p[-1]))
		p--;
	if (p > src && p[-1] == ';')
		p--;
	*p = '\0';
	if (*src == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is empty", what)));

	if (LooksLikeQuery(src) || !IsQualifiedName(src))
	{
		CheckSourceQuery(what, src);
		query = src;
	}
	else
	{
		List	   *names_list = stringToQualifiedNameList(src);
		RangeVar   *rv = makeRangeVarFromNameList(names_list);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		Oid			nsp;

		/*
		 * Named as PostgreSQL names a missing relation: its parts, unquoted,
		 * inside one pair of quotes (src may carry quotes of its own).
		 */
		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation \"%s\" named as the %s does not exist",
							NameListToString(names_list), what)));
		/* Qualified; one's own temporary schema is spelled pg_temp. */
		nsp = get_rel_namespace(relid);
		relation = quote_qualified_identifier(isTempNamespace(nsp) ? "pg_temp" : get_namespace_name(nsp),
											  get_rel_name(relid));
		query = psprintf("SELECT * FROM %s", relation);
	}

	/* Plan and start it (LIMIT 0 reads nothing) to learn its columns. */
	initStringInfo(&probe);
	appendStringInfo(&probe, "SELECT * FROM (\n%s\n) AS fs_source LIMIT 0", query);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(probe.data, true, 0) != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s does not return rows", what)));
	desc = SPI_tuptable->tupdesc;
	names = palloc(sizeof(Datum) * Max(desc->natts, 1));
	types = palloc(sizeof(Datum) * Max(desc->natts, 1));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		names[ncols] = PointerGetDatum(cstring_to_text(NameStr(att->attname)));
		types[ncols] = ObjectIdGetDatum(att->atttypid);
		ncols++;
	}

	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = PointerGetDatum(cstring_to_text(query));
	values[1] = PointerGetDatum(construct_array(names, ncols, TEXTOID, -1, false, TYPALIGN_INT));
	values[2] = PointerGetDatum(construct_array(types, ncols, REGTYPEOID, 4, true, TYPALIGN_INT));
	if (relation)
		values[3] = PointerGetDatum(cstring_to_text(relation));
	else
		nulls[3] = true;
	/* The result is built before SPI_finish so it lives in our context. */
	{
		HeapTuple	tuple;
		Datum		result;

		result_desc = BlessTupleDesc(result_desc);
		tuple = heap_form_tuple(result_desc, values, nulls);
		result = SPI_datumTransfer(HeapTupleGetDatum(tuple), false, -1);
		SPI_finish();
		PG_RETURN_DATUM(result);
	}
}

/*
 * fs_internal.check_key_type(entity, type): an entity's key must be comparable for
 * equality and orderable, since storage is keyed and joins merge on it.
 */
Datum
fs_check_key_type(PG_FUNCTION_ARGS)
{
	char	   *entity = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			type = PG_GETARG_OID(1);
	TypeCacheEntry *tc = lookup_type_cache(type, TYPECACHE_EQ_OPR | TYPECACHE_BTREE_OPFAMILY);

	if (type == InvalidOid || get_typtype(type) == TYPTYPE_PSEUDO)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key type of entity \"%s\" must be a concrete data type", entity)));
	if (!OidIsValid(tc->eq_opr) || !OidIsValid(tc->btree_opf))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("key type %s of entity \"%s\" has no default btree ordering",
						format_type_be(type), entity),
				 errhint("Entity keys must be comparable and orderable, like bigint, text or uuid.")));
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * Event times that are the start of an aggregation window
 * ------------------------------------------------------------------------
 */

/* What TraceTruncation found. */
typedef struct TimeTruncation
{
	const char *how;			/* "date_trunc('day')", "date_bin", "a cast to date" */
	char	   *window;			/* the window's length as interval text, or NULL */
	bool		aggregated;		/* some query level on the way aggregates rows */
} TimeTruncation;

/* Whether a query level collapses rows: aggregates, GROUP BY, window functions, DISTINCT. */
static bool
QueryAggregates(Query *query)
{
	return query->hasAggs || query->groupClause != NIL || query->groupingSets != NIL ||
		query->hasWindowFuncs || query->distinctClause != NIL;
}

/* The length of a date_trunc unit, as interval text (NULL if unknown). */
static char *
TruncUnitLength(Node *unit)
{
	char	   *lower;
	int			type;
	int			val = 0;

	if (!IsA(unit, Const) || ((Const *) unit)->constisnull || ((Const *) unit)->consttype != TEXTOID)
		return NULL;
	lower = TextDatumGetCString(((Const *) unit)->constvalue);
	lower = downcase_truncate_identifier(lower, strlen(lower), false);
	type = DecodeUnits(0, lower, &val);
	if (type != UNITS)
		return NULL;
	switch (val)
	{
		case DTK_MICROSEC:
			return "1 microsecond";
		case DTK_MILLISEC:
			return "1 millisecond";
		case DTK_SECOND:
			return "1 second";
		case DTK_MINUTE:
			return "1 minute";
		case DTK_HOUR:
			return "1 hour";
		case DTK_DAY:
			return "1 day";
		case DTK_WEEK:
			return "7 days";
		case DTK_MONTH:
			return "1 month";
		case DTK_QUARTER:
			return "3 months";
		case DTK_YEAR:
			return "1 year";
		case DTK_DECADE:
			return "10 years";
		case DTK_CENTURY:
			return "100 years";
		case DTK_MILLENNIUM:
			return "1000 years";
	}
	return NULL;
}

/*
 * Follows the expression of an output column down to where its value is
 * computed: through casts, AT TIME ZONE, and columns of subqueries, views
 * (the query is rewritten), CTEs and joins.  Returns true when it is a
 * truncation of a time (date_trunc, date_bin, a cast to date), filling *t;
 * t->aggregated tells whether a query level on the way collapses rows.
 */
static bool
TraceTruncation(Query *query, Node *expr, TimeTruncation *t)
{
	if (QueryAggregates(query))
		t->aggregated = true;
	for (;;)
	{
		if (expr == NULL)
			return false;
		if (IsA(expr, RelabelType))
		{
			expr = (Node *) ((RelabelType *) expr)->arg;
			continue;
		}
		if (IsA(expr, FuncExpr))
		{
			FuncExpr   *f = (FuncExpr *) expr;

			switch (f->funcid)
			{
				case F_DATE_TRUNC_TEXT_TIMESTAMPTZ:
				case F_DATE_TRUNC_TEXT_TIMESTAMP:
				case F_DATE_TRUNC_TEXT_TIMESTAMPTZ_TEXT:
					t->window = TruncUnitLength(linitial(f->args));
					t->how = "date_trunc";
					return true;
				case F_DATE_BIN_INTERVAL_TIMESTAMP_TIMESTAMP:
				case F_DATE_BIN_INTERVAL_TIMESTAMPTZ_TIMESTAMPTZ:
					{
						Node	   *stride = linitial(f->args);

						if (IsA(stride, Const) && !((Const *) stride)->constisnull)
							t->window = DatumGetCString(DirectFunctionCall1(interval_out,
																			((Const *) stride)->constvalue));
						t->how = "date_bin";
						return true;
					}
				case F_DATE_TIMESTAMPTZ:
				case F_DATE_TIMESTAMP:
					t->window = "1 day";
					t->how = "a cast to date";
					return true;
				case F_TIMEZONE_TEXT_TIMESTAMPTZ:
				case F_TIMEZONE_TEXT_TIMESTAMP:
					expr = lsecond(f->args);
					continue;
			}
			/* other casts between time types keep what they convert */
			if ((f->funcformat == COERCE_IMPLICIT_CAST || f->funcformat == COERCE_EXPLICIT_CAST) &&
				list_length(f->args) >= 1)
			{
				expr = linitial(f->args);
				continue;
			}
			return false;
		}
		if (IsA(expr, Var))
		{
			Var		   *var = (Var *) expr;
			RangeTblEntry *rte;

			if (var->varlevelsup != 0 || var->varattno <= 0 ||
				var->varno < 1 || var->varno > list_length(query->rtable))
				return false;
			rte = rt_fetch(var->varno, query->rtable);
			if (rte->rtekind == RTE_JOIN)
			{
				if (var->varattno > list_length(rte->joinaliasvars))
					return false;
				expr = list_nth(rte->joinaliasvars, var->varattno - 1);
				continue;
			}
			if (rte->rtekind == RTE_SUBQUERY || rte->rtekind == RTE_CTE)
			{
				Query	   *sub = NULL;
				TargetEntry *te;

				if (rte->rtekind == RTE_SUBQUERY)
					sub = rte->subquery;
				else if (rte->ctelevelsup == 0)
				{
					ListCell   *lc;

					foreach(lc, query->cteList)
					{
						CommonTableExpr *cte = lfirst_node(CommonTableExpr, lc);

						if (strcmp(cte->ctename, rte->ctename) == 0 && IsA(cte->ctequery, Query))
							sub = (Query *) cte->ctequery;
					}
				}
				if (sub == NULL || sub->commandType != CMD_SELECT)
					return false;
				te = get_tle_by_resno(sub->targetList, var->varattno);
				if (te == NULL || te->resjunk)
					return false;
				return TraceTruncation(sub, (Node *) te->expr, t);
			}
			return false;
		}
		return false;
	}
}

/*
 * fs_internal.source_time_truncation(query text, ts_column text, OUT how
 * text, OUT window_length interval): when the column ts_column of a
 * feature view's source query is a truncated time (date_trunc, date_bin, a
 * cast to date) and some level of the query aggregates rows (aggregates,
 * GROUP BY, window functions, DISTINCT), how it is truncated and the length
 * of the window when known; NULLs otherwise.  The query is parsed, analyzed
 * and rewritten (views expanded) as the caller, in the current search_path.
 */
Datum
fs_source_time_truncation(PG_FUNCTION_ARGS)
{
	char	   *src = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *column = text_to_cstring(PG_GETARG_TEXT_PP(1));
	List	   *raw;
	List	   *queries;
	Query	   *query;
	ListCell   *lc;
	TimeTruncation t = {NULL, NULL, false};
	bool		found = false;
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {true, true};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	raw = raw_parser(src, RAW_PARSE_DEFAULT);
	if (list_length(raw) == 1)
	{
		queries = pg_analyze_and_rewrite_fixedparams(linitial_node(RawStmt, raw), src, NULL, 0, NULL);
		query = list_length(queries) == 1 ? linitial_node(Query, queries) : NULL;
		if (query != NULL && query->commandType == CMD_SELECT && query->utilityStmt == NULL)
		{
			foreach(lc, query->targetList)
			{
				TargetEntry *te = lfirst_node(TargetEntry, lc);

				if (!te->resjunk && te->resname != NULL && strcmp(te->resname, column) == 0)
				{
					found = TraceTruncation(query, (Node *) te->expr, &t);
					break;
				}
			}
		}
	}
	if (found && t.aggregated)
	{
		values[0] = CStringGetTextDatum(t.how);
		nulls[0] = false;
		if (t.window != NULL)
		{
			values[1] = DirectFunctionCall3(interval_in, CStringGetDatum(t.window),
											ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
			nulls[1] = false;
		}
	}
	desc = BlessTupleDesc(desc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * Walker for fs_source_rereadable: true when some part of the query may
 * yield other rows when read again in the same snapshot: a foreign table (its
 * rows are not under the snapshot) or a table sample without REPEATABLE.
 * Volatile functions are found by contain_volatile_functions.
 */
static bool
RereadDiffersWalker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

			if (rte->rtekind == RTE_RELATION &&
				(rte->relkind == RELKIND_FOREIGN_TABLE ||
				 (rte->tablesample != NULL && rte->tablesample->repeatable == NULL)))
				return true;
		}
		return query_tree_walker(query, RereadDiffersWalker, context, 0);
	}
	return expression_tree_walker(node, RereadDiffersWalker, context);
}

/*
 * fs_internal.source_rereadable(query text) returns whether reading a
 * source query twice in one statement (one snapshot) yields the same rows
 * both times: it is one SELECT whose expanded tree (views included) calls no
 * volatile function and reads no foreign table or unrepeatable sample.  Run
 * as the view's owner in its search_path (the materialization's caller
 * does), so it resolves names as the source does.  Materialization gates a
 * batch in the statement that publishes it when this holds (one read to
 * check the expectations, one to write), and stages it otherwise.
 */
Datum
fs_source_rereadable(PG_FUNCTION_ARGS)
{
	char	   *src = text_to_cstring(PG_GETARG_TEXT_PP(0));
	List	   *raw;
	List	   *queries;
	Query	   *query;

	raw = raw_parser(src, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		PG_RETURN_BOOL(false);
	queries = pg_analyze_and_rewrite_fixedparams(linitial_node(RawStmt, raw), src, NULL, 0, NULL);
	if (list_length(queries) != 1)
		PG_RETURN_BOOL(false);
	query = linitial_node(Query, queries);
	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL || query->rowMarks != NIL ||
		query->hasModifyingCTE)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(!contain_volatile_functions((Node *) query) &&
				   !RereadDiffersWalker((Node *) query, NULL));
}
