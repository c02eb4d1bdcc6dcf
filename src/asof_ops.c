/*
 * asof_ops.c
 *		The as-of operators @>= and @>: recognition and their (refusing)
 *		row-by-row implementation.
 *
 * The operators only mean something as the condition of an as-of join, which
 * the planner turns into an AsofJoin node; evaluating one for a single pair of
 * values has no meaning, so the functions behind them raise an error.  Their
 * selectivity estimators live here too: being C functions of this library,
 * they also make sure the library (and its planner hooks) is loaded before a
 * query using the operators is planned.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_operator.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/inval.h"
#include "utils/selfuncs.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "asof.h"

PG_FUNCTION_INFO_V1(fs_asof_ge);
PG_FUNCTION_INFO_V1(fs_asof_gt);
PG_FUNCTION_INFO_V1(fs_asof_restrict_sel);
PG_FUNCTION_INFO_V1(fs_asof_join_sel);

/* Cached OIDs of the as-of operators (both flavours, every type). */
#define ASOF_MAX_OPS 64
static Oid	asof_ops[ASOF_MAX_OPS];
static bool asof_ops_strict[ASOF_MAX_OPS];
static int	asof_nops = 0;
static bool asof_cache_valid = false;
static bool asof_callback_registered = false;

/* Forgets the cached operator OIDs when pg_operator changes. */
static void
AsofInvalidateCache(Datum arg, int cacheid, uint32 hashvalue)
{
	asof_cache_valid = false;
}

/*
 * Adds every operator called name whose function lives in namespace nsp (the
 * extension's schema) to the cache.  The operators themselves are created in
 * pg_catalog, which holds other operators of the same names.
 */
static void
AsofCacheOperators(const char *name, Oid nsp, bool strict)
{
	CatCList   *catlist;
	int			i;

	catlist = SearchSysCacheList1(OPERNAMENSP, CStringGetDatum(name));
	for (i = 0; i < catlist->n_members; i++)
	{
		HeapTuple	tup = &catlist->members[i]->tuple;
		Form_pg_operator op = (Form_pg_operator) GETSTRUCT(tup);

		if (!OidIsValid(op->oprcode) || get_func_namespace(op->oprcode) != nsp ||
			asof_nops >= ASOF_MAX_OPS)
			continue;
		asof_ops[asof_nops] = op->oid;
		asof_ops_strict[asof_nops] = strict;
		asof_nops++;
	}
	ReleaseSysCacheList(catlist);
}

/*
 * Loads the OIDs of the operators whose functions are the extension's, if
 * needed: in schema fs_internal since 0.3, in fs before (a 0.2 install whose
 * library is already the new one, until ALTER EXTENSION UPDATE).
 */
static void
AsofLoadCache(void)
{
	static const char *const schemas[] = {"fs_internal", "fs"};
	Oid			nsp;
	int			i;

	if (asof_cache_valid)
		return;
	if (!asof_callback_registered)
	{
		CacheRegisterSyscacheCallback(OPEROID, AsofInvalidateCache, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, AsofInvalidateCache, (Datum) 0);
		CacheRegisterSyscacheCallback(PROCOID, AsofInvalidateCache, (Datum) 0);
		asof_callback_registered = true;
	}
	asof_nops = 0;
	for (i = 0; i < lengthof(schemas); i++)
	{
		nsp = get_namespace_oid(schemas[i], true);
		if (OidIsValid(nsp))
		{
			AsofCacheOperators("@>=", nsp, false);
			AsofCacheOperators("@>", nsp, true);
		}
	}
	asof_cache_valid = true;
}

/* Tells whether opno is one of the as-of operators, and which flavour. */
bool
AsofIsAsofOperator(Oid opno, bool *strict)
{
	int			i;

	if (!IsTransactionState())
		return false;
	AsofLoadCache();
	for (i = 0; i < asof_nops; i++)
	{
		if (asof_ops[i] == opno)
		{
			if (strict)
				*strict = asof_ops_strict[i];
			return true;
		}
	}
	return false;
}

/* Tells whether node is an operator clause (plain or ANY/ALL) of an as-of operator. */
bool
AsofIsAsofOperatorNode(Node *node, bool *strict)
{
	if (node == NULL)
		return false;
	if (IsA(node, OpExpr))
		return AsofIsAsofOperator(((OpExpr *) node)->opno, strict);
	if (IsA(node, ScalarArrayOpExpr))
		return AsofIsAsofOperator(((ScalarArrayOpExpr *) node)->opno, strict);
	return false;
}

/* Returns node as an as-of condition (an OpExpr of an as-of operator), else NULL. */
OpExpr *
AsofAsOpExpr(Node *node, bool *strict)
{
	if (node && IsA(node, OpExpr) &&
		AsofIsAsofOperator(((OpExpr *) node)->opno, strict))
		return (OpExpr *) node;
	return NULL;
}

/* Tells whether the as-of operators exist in this database at all. */
bool
AsofOperatorsExist(void)
{
	if (!IsTransactionState())
		return false;
	AsofLoadCache();
	return asof_nops > 0;
}

/* Returns the SQL name of an as-of operator flavour. */
const char *
AsofOperatorName(bool strict)
{
	return strict ? "@>" : "@>=";
}

/* Raises the error for an as-of operator evaluated outside an as-of join. */
static void
AsofRefuseEvaluation(bool strict)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("operator %s can only be used as an as-of join condition",
					AsofOperatorName(strict)),
			 errdetail("The as-of operators are executed by the AsofJoin plan node, never row by row."),
			 errhint("Write it in the ON clause of a LEFT or INNER JOIN, ANDed with the key equalities, with the feature_store library loaded.")));
}

/* Row-by-row body of "@>=": always an error. */
Datum
fs_asof_ge(PG_FUNCTION_ARGS)
{
	AsofRefuseEvaluation(false);
	PG_RETURN_BOOL(false);
}

/* Row-by-row body of "@>": always an error. */
Datum
fs_asof_gt(PG_FUNCTION_ARGS)
{
	AsofRefuseEvaluation(true);
	PG_RETURN_BOOL(false);
}

/* Restriction selectivity of an as-of operator: that of an inequality. */
Datum
fs_asof_restrict_sel(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(DEFAULT_INEQ_SEL);
}

/* Join selectivity of an as-of operator: that of an inequality. */
Datum
fs_asof_join_sel(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(DEFAULT_INEQ_SEL);
}
