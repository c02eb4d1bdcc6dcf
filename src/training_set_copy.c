/*
 * training_set_copy.c
 *		COPY (SELECT ... FROM <training set>) TO STDOUT (FORMAT binary): the
 *		export path of training sets, without a function call per value.
 *
 * PostgreSQL's COPY TO calls each column's binary send function for every
 * value: an fmgr call, a StringInfo allocated and copied per value.  For the
 * few fixed-width types a training set mostly holds (bool, int2/4/8,
 * float4/8, date, timestamp[tz]) and for text, varchar, bpchar and bytea,
 * the bytes those functions produce are simply the value in network byte
 * order, or the value's own bytes; writing them straight into the row's
 * CopyData message takes most of the cost out of an export.  Every other
 * type still goes through its send function.
 *
 * The utility hook takes over a COPY only when it is exactly
 * COPY (SELECT ...) TO STDOUT (FORMAT binary) from a client connection,
 * of one relation whose plan is a scan of a training set; anything else,
 * including the same statement over an ordinary table, is left to
 * PostgreSQL.  The query is analysed, planned and run as COPY would
 * (locks, privileges, row security, snapshot, progress in
 * pg_stat_progress_copy), and the bytes sent are those COPY sends: the same
 * CopyOutResponse, one CopyData message per row (the first carrying the
 * file header), the trailer in a message of its own, CopyDone.  Text goes
 * out unconverted only when the client encoding needs no conversion (the
 * database's, or SQL_ASCII); otherwise textsend converts it as usual.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "commands/progress.h"
#include "executor/executor.h"
#include "libpq/libpq.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "port/pg_bswap.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/backend_progress.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "training_set.h"

/* How a column's values are written. */
typedef enum TsSendKind
{
	TS_SEND_CALL,				/* its send function */
	TS_SEND_BOOL,				/* one byte, 0 or 1 */
	TS_SEND_INT2,				/* network byte order */
	TS_SEND_INT4,
	TS_SEND_INT8,
	TS_SEND_BYTES				/* a varlena's own bytes */
} TsSendKind;

/* The DestReceiver that writes the rows of a binary COPY. */
typedef struct TsCopyReceiver
{
	DestReceiver pub;
	int			natts;
	TsSendKind *kinds;
	FmgrInfo   *send;			/* TS_SEND_CALL columns */
	int			fixed_bytes;	/* a row's bytes, varlena data aside */
	StringInfoData row;			/* the CopyData message being built */
	MemoryContext row_cxt;		/* send functions and detoasting; reset per row */
	bool		row_cxt_used;
	uint64		rows;
	uint64		bytes;
} TsCopyReceiver;

static ProcessUtility_hook_type ts_prev_utility = NULL;

/* The file header of binary COPY: signature, flags, header extension length. */
static const char ts_copy_signature[11] = "PGCOPY\n\377\r\n\0";

/* How values of a type are written, from its binary send function. */
static TsSendKind
send_kind(Oid type, FmgrInfo *send)
{
	Oid			func;
	bool		isvarlena;
	int			client = pg_get_client_encoding();

	getTypeBinaryOutputInfo(type, &func, &isvarlena);
	fmgr_info(func, send);
	switch (func)
	{
		case F_BOOLSEND:
			return TS_SEND_BOOL;
		case F_INT2SEND:
			return TS_SEND_INT2;
		case F_INT4SEND:
		case F_DATE_SEND:
			return TS_SEND_INT4;
		case F_FLOAT4SEND:
			/* a float4 Datum holds the value's bits in its low half */
			return TS_SEND_INT4;
		case F_INT8SEND:
		case F_FLOAT8SEND:
		case F_TIMESTAMP_SEND:
		case F_TIMESTAMPTZ_SEND:
			return TS_SEND_INT8;
		case F_BYTEASEND:
			return TS_SEND_BYTES;
		case F_TEXTSEND:
		case F_VARCHARSEND:
		case F_BPCHARSEND:
			/* textsend converts to the client encoding unless it is the database's */
			if (client == GetDatabaseEncoding() || client == PG_SQL_ASCII)
				return TS_SEND_BYTES;
			return TS_SEND_CALL;
		default:
			return TS_SEND_CALL;
	}
}

/* Writes v at p in network byte order; returns the end of what was written (so for the next two). */
static inline char *
put_u16(char *p, uint16 v)
{
	v = pg_hton16(v);
	memcpy(p, &v, 2);
	return p + 2;
}

static inline char *
put_u32(char *p, uint32 v)
{
	v = pg_hton32(v);
	memcpy(p, &v, 4);
	return p + 4;
}

static inline char *
put_u64(char *p, uint64 v)
{
	v = pg_hton64(v);
	memcpy(p, &v, 8);
	return p + 8;
}

/* Appends a value's length and bytes to the row, keeping room for the rest of it. */
static char *
put_bytes(TsCopyReceiver *r, char *p, const char *data, int len)
{
	StringInfo	row = &r->row;

	row->len = p - row->data;
	enlargeStringInfo(row, 4 + len + r->fixed_bytes);
	p = put_u32(row->data + row->len, (uint32) len);
	memcpy(p, data, len);
	return p + len;
}

/* A value through its send function, in the row's memory context. */
static char *
put_sent(TsCopyReceiver *r, char *p, int att, Datum value)
{
	MemoryContext old = MemoryContextSwitchTo(r->row_cxt);
	bytea	   *out = SendFunctionCall(&r->send[att], value);

	MemoryContextSwitchTo(old);
	r->row_cxt_used = true;
	return put_bytes(r, p, VARDATA(out), VARSIZE(out) - VARHDRSZ);
}

/* Writes one row as a CopyData message. */
static bool
copy_receive(TupleTableSlot *slot, DestReceiver *self)
{
	TsCopyReceiver *r = (TsCopyReceiver *) self;
	StringInfo	row = &r->row;
	static const int progress[2] = {PROGRESS_COPY_BYTES_PROCESSED, PROGRESS_COPY_TUPLES_PROCESSED};
	int64		values[2];
	char	   *p;
	int			i;

	slot_getallattrs(slot);
	enlargeStringInfo(row, r->fixed_bytes);
	p = put_u16(row->data + row->len, (uint16) r->natts);
	for (i = 0; i < r->natts; i++)
	{
		Datum		v = slot->tts_values[i];

		if (slot->tts_isnull[i])
		{
			p = put_u32(p, (uint32) -1);
			continue;
		}
		switch (r->kinds[i])
		{
			case TS_SEND_BOOL:
				p = put_u32(p, 1);
				*p++ = DatumGetBool(v) ? 1 : 0;
				break;
			case TS_SEND_INT2:
				p = put_u32(p, 2);
				p = put_u16(p, (uint16) DatumGetInt16(v));
				break;
			case TS_SEND_INT4:
				p = put_u32(p, 4);
				p = put_u32(p, (uint32) DatumGetInt32(v));
				break;
			case TS_SEND_INT8:
				p = put_u32(p, 8);
				p = put_u64(p, (uint64) DatumGetInt64(v));
				break;
			case TS_SEND_BYTES:
				{
					struct varlena *t = (struct varlena *) DatumGetPointer(v);

					if (VARATT_IS_EXTERNAL(t) || VARATT_IS_COMPRESSED(t))
					{
						MemoryContext old = MemoryContextSwitchTo(r->row_cxt);

						t = detoast_attr(t);
						MemoryContextSwitchTo(old);
						r->row_cxt_used = true;
					}
					p = put_bytes(r, p, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
					break;
				}
			case TS_SEND_CALL:
				p = put_sent(r, p, i, v);
				break;
		}
	}
	row->len = p - row->data;
	(void) pq_putmessage('d', row->data, row->len);

	r->bytes += row->len;
	r->rows++;
	values[0] = r->bytes;
	values[1] = r->rows;
	pgstat_progress_update_multi_param(2, progress, values);
	resetStringInfo(row);
	if (r->row_cxt_used)
	{
		MemoryContextReset(r->row_cxt);
		r->row_cxt_used = false;
	}
	return true;
}

/* Nothing to set up: training_set_copy did it before running the query. */
static void
copy_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

/* Nothing to finish: training_set_copy sends the trailer. */
static void
copy_shutdown(DestReceiver *self)
{
}

/* Nothing to free: the receiver lives in the COPY's memory context. */
static void
copy_destroy(DestReceiver *self)
{
}

/* Whether the options are exactly FORMAT binary. */
static bool
binary_only(List *options)
{
	DefElem    *d;

	if (list_length(options) != 1)
		return false;
	d = linitial_node(DefElem, options);
	return strcmp(d->defname, "format") == 0 && d->arg != NULL && IsA(d->arg, String) &&
		strcmp(strVal(d->arg), "binary") == 0;
}

/*
 * The plan of a COPY's query when the hook should run it: a binary COPY to
 * the client of a query over one relation, planned as a training set scan.
 * NULL otherwise, and PostgreSQL runs the COPY.
 */
static PlannedStmt *
training_set_copy_plan(CopyStmt *stmt, PlannedStmt *pstmt, const char *query_string)
{
	SelectStmt *select;
	RawStmt    *raw;
	List	   *rewritten;
	Query	   *query;
	PlannedStmt *plan;

	if (stmt->is_from || stmt->query == NULL || stmt->filename != NULL || stmt->is_program ||
		!IsA(stmt->query, SelectStmt) || !binary_only(stmt->options))
		return NULL;
	select = (SelectStmt *) stmt->query;
	if (select->op != SETOP_NONE || select->intoClause != NULL || select->withClause != NULL ||
		list_length(select->fromClause) != 1 || !IsA(linitial(select->fromClause), RangeVar))
		return NULL;

	/* as COPY does it: analysis and rewriting take the locks */
	raw = makeNode(RawStmt);
	raw->stmt = copyObject(stmt->query);
	raw->stmt_location = pstmt->stmt_location;
	raw->stmt_len = pstmt->stmt_len;
	rewritten = pg_analyze_and_rewrite_fixedparams(raw, query_string, NULL, 0, NULL);
	if (list_length(rewritten) != 1)
		return NULL;
	query = linitial_node(Query, rewritten);
	if (query->commandType != CMD_SELECT || query->utilityStmt != NULL)
		return NULL;
	plan = pg_plan_query(query, query_string, CURSOR_OPT_PARALLEL_OK, NULL);
	return TsIsTrainingSetScan(plan->planTree) ? plan : NULL;
}

/* Runs a planned binary COPY to the client; returns the rows sent. */
static uint64
training_set_copy(PlannedStmt *plan, const char *query_string)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "training set COPY", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	TsCopyReceiver *r = palloc0(sizeof(TsCopyReceiver));
	const int	progress[2] = {PROGRESS_COPY_COMMAND, PROGRESS_COPY_TYPE};
	const int64 progress_values[2] = {PROGRESS_COPY_COMMAND_TO, PROGRESS_COPY_TYPE_PIPE};
	QueryDesc  *qd;
	TupleDesc	desc;
	StringInfoData msg;
	uint64		rows;
	int			i;

	r->pub.receiveSlot = copy_receive;
	r->pub.rStartup = copy_startup;
	r->pub.rShutdown = copy_shutdown;
	r->pub.rDestroy = copy_destroy;
	r->pub.mydest = DestCopyOut;

	/* the query sees what the statements before it did */
	PushCopiedSnapshot(GetActiveSnapshot());
	UpdateActiveSnapshotCommandId();
	qd = CreateQueryDesc(plan, query_string, GetActiveSnapshot(), InvalidSnapshot, &r->pub, NULL, NULL, 0);
	ExecutorStart(qd, 0);
	desc = qd->tupDesc;

	pgstat_progress_start_command(PROGRESS_COMMAND_COPY, InvalidOid);
	pgstat_progress_update_multi_param(2, progress, progress_values);

	r->natts = desc->natts;
	r->kinds = palloc(sizeof(TsSendKind) * r->natts);
	r->send = palloc0(sizeof(FmgrInfo) * r->natts);
	r->fixed_bytes = 2;
	for (i = 0; i < r->natts; i++)
	{
		r->kinds[i] = send_kind(TupleDescAttr(desc, i)->atttypid, &r->send[i]);
		r->fixed_bytes += 4 + (r->kinds[i] == TS_SEND_BOOL ? 1 :
							   r->kinds[i] == TS_SEND_INT2 ? 2 :
							   r->kinds[i] == TS_SEND_INT4 ? 4 :
							   r->kinds[i] == TS_SEND_INT8 ? 8 : 0);
	}
	r->row_cxt = AllocSetContextCreate(cxt, "training set COPY row", ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&r->row);

	/* CopyOutResponse: binary, every column binary */
	pq_beginmessage(&msg, 'H');
	pq_sendbyte(&msg, 1);
	pq_sendint16(&msg, r->natts);
	for (i = 0; i < r->natts; i++)
		pq_sendint16(&msg, 1);
	pq_endmessage(&msg);

	/* the file header goes out with the first row */
	appendBinaryStringInfo(&r->row, ts_copy_signature, sizeof(ts_copy_signature));
	pq_sendint32(&r->row, 0);
	pq_sendint32(&r->row, 0);

	ExecutorRun(qd, ForwardScanDirection, 0L, true);

	/* the trailer, then CopyDone */
	pq_sendint16(&r->row, (uint16) -1);
	(void) pq_putmessage('d', r->row.data, r->row.len);
	r->bytes += r->row.len;
	pgstat_progress_update_param(PROGRESS_COPY_BYTES_PROCESSED, r->bytes);
	pq_putemptymessage('c');
	rows = r->rows;

	ExecutorFinish(qd);
	ExecutorEnd(qd);
	FreeQueryDesc(qd);
	PopActiveSnapshot();
	pgstat_progress_end_command();
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return rows;
}

/* The utility hook: a binary COPY of a training set to the client is run here. */
static void
training_set_utility(PlannedStmt *pstmt, const char *query_string, bool read_only_tree,
					 ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *query_env,
					 DestReceiver *dest, QueryCompletion *qc)
{
	if (IsA(pstmt->utilityStmt, CopyStmt) && context == PROCESS_UTILITY_TOPLEVEL &&
		whereToSendOutput == DestRemote)
	{
		PlannedStmt *plan = training_set_copy_plan((CopyStmt *) pstmt->utilityStmt, pstmt, query_string);

		if (plan != NULL)
		{
			uint64		rows = training_set_copy(plan, query_string);

			if (qc)
				SetQueryCompletion(qc, CMDTAG_COPY, rows);
			return;
		}
	}
	if (ts_prev_utility)
		ts_prev_utility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
	else
		standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
}

/* Installs the utility hook (from _PG_init). */
void
TsCopyInit(void)
{
	ts_prev_utility = ProcessUtility_hook;
	ProcessUtility_hook = training_set_utility;
}
