/*
 * security.c
 *		The two doors through which feature_store changes identity.
 *
 * fs_internal.write(op, args...) is the only write path to the catalog.  The
 * catalog tables grant nothing but SELECT to other roles, so no role can
 * update, delete, insert or lock catalog rows directly.  A write is one of
 * the extension's own operations: a SECURITY DEFINER function
 * fs_internal.w_<op>(caller regrole, ...) owned by the extension's owner,
 * with a pinned search_path and no EXECUTE for anyone else.  This function,
 * running as the caller, looks the operation up, makes sure it is one of
 * those, and calls it with the caller's identity as its first argument: the
 * operation decides what that caller may do.  Nobody can call an operation
 * directly, so nobody can claim another identity.
 *
 * fs_internal.enter_role(role) / fs_internal.leave_role(token) run a
 * stretch of a function as another role, the way PostgreSQL runs VACUUM or
 * REFRESH MATERIALIZED VIEW as a table's owner: the user id changes and the
 * stretch is a security-restricted operation, so code it runs (a feature
 * view's source, a monitored query) cannot SET ROLE back or otherwise reach
 * the caller's rights.  A caller may only enter a role whose privileges it
 * already has, so this only ever narrows rights.  Leaving needs the token
 * that entering returned, which the code in the stretch never sees.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "port.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "feature_store.h"

PG_FUNCTION_INFO_V1(fs_write);
PG_FUNCTION_INFO_V1(fs_enter_role);
PG_FUNCTION_INFO_V1(fs_leave_role);

#define WRITE_OP_PREFIX "w_"
#define MAX_ROLE_DEPTH 16

/* The identities entered and not yet left, innermost last. */
typedef struct RoleFrame
{
	uint64		token;			/* what leave_role must be given */
	Oid			saved_user;		/* identity to restore */
	int			saved_context;
	int			nest_level;		/* transaction nest level when entered */
} RoleFrame;

static RoleFrame role_stack[MAX_ROLE_DEPTH];
static int	role_depth = 0;
static bool callbacks_registered = false;

/*
 * Forgets frames of an aborted (sub)transaction: PostgreSQL has already
 * restored the user id it had when that (sub)transaction started.
 */
static void
ForgetRoleFrames(int nest_level)
{
	while (role_depth > 0 && role_stack[role_depth - 1].nest_level >= nest_level)
		role_depth--;
}

/* Drops frames left by an aborted subtransaction. */
static void
RoleSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		ForgetRoleFrames(GetCurrentTransactionNestLevel());
}

/* Drops every frame at the end of a transaction, whatever its outcome. */
static void
RoleXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
		role_depth = 0;
}

/* The owner of the feature_store extension: the owner of the schema it creates, fs_internal. */
static Oid
ExtensionOwner(void)
{
	Oid			nsp = get_namespace_oid("fs_internal", false);
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * fs_internal.write(op text, VARIADIC "any") RETURNS bigint: calls the
 * catalog operation fs_internal.w_<op>(caller, args...) with the caller's
 * identity.  Only the extension's own SECURITY DEFINER operations returning
 * bigint can be called this way.
 */
Datum
fs_write(PG_FUNCTION_ARGS)
{
	char	   *op;
	char	   *fname;
	int			nargs = PG_NARGS();
	Oid			argtypes[FUNC_MAX_ARGS];
	Oid			fn;
	HeapTuple	tup;
	Form_pg_proc proc;
	FmgrInfo	flinfo;
	LOCAL_FCINFO(call, FUNC_MAX_ARGS);
	Datum		result;
	int			i;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature_store catalog operation must not be null")));
	op = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (nargs > FUNC_MAX_ARGS)
		elog(ERROR, "too many arguments for catalog operation %s", op);
	fname = psprintf("%s%s", WRITE_OP_PREFIX, op);

	/* Argument 0 of the operation is the caller; then the given arguments. */
	argtypes[0] = REGROLEOID;
	for (i = 1; i < nargs; i++)
	{
		argtypes[i] = get_fn_expr_argtype(fcinfo->flinfo, i);
		if (!OidIsValid(argtypes[i]) || argtypes[i] == UNKNOWNOID)
			elog(ERROR, "argument %d of catalog operation %s has no type", i, op);
	}
	fn = LookupFuncName(list_make2(makeString("fs_internal"), makeString(fname)),
						nargs, argtypes, true);
	if (!OidIsValid(fn))
		elog(ERROR, "no catalog operation %s for these argument types", op);

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", fn);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (!proc->prosecdef || proc->proowner != ExtensionOwner() ||
		proc->prorettype != INT8OID || proc->proretset)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("function fs_internal.%s is not a feature_store catalog operation", fname)));
	ReleaseSysCache(tup);

	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*call, &flinfo, nargs, InvalidOid, NULL, NULL);
	call->args[0].value = ObjectIdGetDatum(GetUserId());
	call->args[0].isnull = false;
	for (i = 1; i < nargs; i++)
	{
		call->args[i].value = PG_GETARG_DATUM(i);
		call->args[i].isnull = PG_ARGISNULL(i);
		if (call->args[i].isnull && flinfo.fn_strict)
			PG_RETURN_NULL();
	}
	result = FunctionCallInvoke(call);
	if (call->isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * fs_internal.enter_role(role regrole) RETURNS bigint: runs as role until
 * fs_internal.leave_role(token) with the returned token, in a
 * security-restricted operation.  The caller must have the role's privileges.
 */
Datum
fs_enter_role(PG_FUNCTION_ARGS)
{
	Oid			role = PG_GETARG_OID(0);
	Oid			user;
	int			context;
	uint64		token;
	RoleFrame  *frame;

	GetUserIdAndSecContext(&user, &context);
	if (!has_privs_of_role(user, role))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to run as role \"%s\"", GetUserNameFromId(role, false)),
				 errdetail("Feature views, monitors and expectations run as their owner role; "
						   "only members of that role (or superusers) may run them.")));
	if (role_depth >= MAX_ROLE_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("feature_store role switches nested too deeply")));
	if (!callbacks_registered)
	{
		RegisterXactCallback(RoleXactCallback, NULL);
		RegisterSubXactCallback(RoleSubXactCallback, NULL);
		callbacks_registered = true;
	}
	if (!pg_strong_random(&token, sizeof(token)))
		elog(ERROR, "could not generate a random token");

	frame = &role_stack[role_depth++];
	frame->token = token;
	frame->saved_user = user;
	frame->saved_context = context;
	frame->nest_level = GetCurrentTransactionNestLevel();
	SetUserIdAndSecContext(role, context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_RETURN_INT64((int64) token);
}

/* fs_internal.leave_role(token bigint): returns to the identity entered from. */
Datum
fs_leave_role(PG_FUNCTION_ARGS)
{
	uint64		token = (uint64) PG_GETARG_INT64(0);
	RoleFrame  *frame;

	if (role_depth == 0 || role_stack[role_depth - 1].token != token)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("not inside the feature_store role switch this token opened")));
	frame = &role_stack[--role_depth];
	SetUserIdAndSecContext(frame->saved_user, frame->saved_context);
	PG_RETURN_VOID();
}
