/*
 * catalog.c
 *		C support for the feature catalog: validating a feature view's source
 *		and describing the columns it yields.
 *
 * The catalog logic itself is SQL (src/sql/); what needs the parser lives
 * here.  A source is either a relation name, resolved now to a
 * schema-qualified name so that it is looked up by name each time it runs
 * (dbt rebuilds a model by renaming), or one plain SELECT statement.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"
#include "utils/regproc.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(fs_describe_source);
PG_FUNCTION_INFO_V1(fs_check_key_type);

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
