/*
 * training_set_build.c
 *		Stores the rows of a retrieval as a training set version.
 *
 * fs_internal.training_set_store runs the retrieval SQL as the caller
 * through a cursor, a batch of rows at a time, and deals each row to the
 * chunk group of its split; a full group is encoded column by column
 * (training_set_codec.c), written through the catalog operation
 * fs_internal.write('training_set_chunks', ...), and profiled.  Memory is
 * bounded by one open group per split, whatever the size of the set.
 *
 * In the same pass it computes, independent of row order, chunking and
 * compression:
 *	- the content checksum: a sum of per-row hashes (a multiset hash) over
 *	  every column, seeded with the column names and types;
 *	- the spine hash: the same over the spine columns only;
 *	- the profile of each numeric and text feature column: each group is
 *	  profiled with fs.profile() over arrays of its values and merged into
 *	  the running profile with fs.profile_merge(), which gives the same bytes
 *	  as one pass over the whole column.
 */
#include "postgres.h"

#include <zstd.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "training_set.h"

PG_FUNCTION_INFO_V1(training_set_store);

/* Rows fetched from the retrieval cursor at a time. */
#define TS_FETCH_ROWS		2000

/* Splits a set may have (each has an open chunk group while building). */
#define TS_MAX_SPLITS		16

/* Seeds of the two halves of the content checksum. */
#define CHECKSUM_SEED_1		UINT64CONST(0x243f6a8885a308d3)
#define CHECKSUM_SEED_2		UINT64CONST(0x13198a2e03707344)

typedef enum TsSplitKind
{
	TS_SPLIT_NONE,
	TS_SPLIT_HASH,				/* by a hash of the entity key */
	TS_SPLIT_TIME				/* by the spine time */
} TsSplitKind;

/* The open chunk group of one split. */
typedef struct TsGroup
{
	MemoryContext cxt;			/* reset after each flush */
	TsColumnBuffer *cols;
	Datum	  **pvals;			/* per profiled column: values of the group */
	bool	  **pnulls;
	int			nrows;
} TsGroup;

/* A multiset hash: the sums of two hashes of every element. */
typedef struct TsSetHash
{
	uint64		a;
	uint64		b;
} TsSetHash;

typedef struct TsBuilder
{
	MemoryContext cxt;
	char	   *set_name;
	int32		version;
	int			level;
	void	   *cctx;

	int			ncols;
	int			nspine;
	TsColumnType *types;
	int			key_col;
	int			ts_col;
	Oid			ts_type;

	TsSplitKind split_kind;
	int			nsplits;
	Datum	   *split_names;	/* text */
	uint64	   *split_hash;
	float8	   *split_bounds;	/* hash: cumulative fractions */
	TimestampTz *split_starts;	/* time: ascending starts */
	uint64		split_seed;
	TsColumnBuffer scratch;		/* to hash a key the way it is stored */

	TsGroup    *groups;			/* one per split, or one */
	int32		next_chunk;
	int64		rows;
	int64	   *split_rows;
	TsSetHash	content;
	TsSetHash	spine;

	int			nprof;
	int		   *prof_col;
	Oid		   *prof_elem;		/* element type of the arrays profiled */
	Datum	   *prof_running;
	bool	   *prof_running_null;
	SPIPlanPtr	prof_plan;
	Oid			profile_type;

	SPIPlanPtr	write_plan;
} TsBuilder;

/* Adds an element's hash to a multiset hash. */
static void
sethash_add(TsSetHash *s, uint64 h)
{
	s->a += TsHashMix(h ^ CHECKSUM_SEED_1);
	s->b += TsHashMix(h ^ CHECKSUM_SEED_2);
}

/* A multiset hash and a signature as 32 hex digits. */
static char *
sethash_text(TsSetHash *s, uint64 signature)
{
	return psprintf("%016llx%016llx",
					(unsigned long long) (s->a ^ signature),
					(unsigned long long) (s->b + TsHashMix(signature)));
}

/*
 * The hash of a column's name and type (qualified, so whatever the
 * search_path), mixed into the checksums.
 */
static uint64
column_signature(uint64 sig, const char *name, Oid type, int32 typmod)
{
	char	   *t = format_type_extended(type, typmod, FORMAT_TYPE_TYPEMOD_GIVEN | FORMAT_TYPE_FORCE_QUALIFY);

	sig = TsHashMix(sig ^ hash_bytes_extended((const unsigned char *) name, strlen(name), 1));
	sig = TsHashMix(sig ^ hash_bytes_extended((const unsigned char *) t, strlen(t), 2));
	pfree(t);
	return sig;
}

/* The element type profiled for a feature column of type t, or InvalidOid. */
static Oid
profiled_type(Oid t)
{
	switch (getBaseType(t))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
			return FLOAT8OID;
		case NUMERICOID:
			return NUMERICOID;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			return TEXTOID;
		default:
			return InvalidOid;
	}
}

/* Sets up an empty chunk group in its memory context. */
static void
group_init(TsBuilder *b, TsGroup *g)
{
	MemoryContext old = MemoryContextSwitchTo(g->cxt);
	int			i;

	g->nrows = 0;
	g->cols = palloc(sizeof(TsColumnBuffer) * b->ncols);
	for (i = 0; i < b->ncols; i++)
		TsColumnBufferInit(&g->cols[i]);
	g->pvals = palloc(sizeof(Datum *) * Max(b->nprof, 1));
	g->pnulls = palloc(sizeof(bool *) * Max(b->nprof, 1));
	for (i = 0; i < b->nprof; i++)
	{
		g->pvals[i] = palloc(sizeof(Datum) * TS_GROUP_ROWS);
		g->pnulls[i] = palloc(sizeof(bool) * TS_GROUP_ROWS);
	}
	MemoryContextSwitchTo(old);
}

/* Profiles a group's values and merges them into the running profiles. */
static void
profile_group(TsBuilder *b, TsGroup *g)
{
	Datum	   *args = palloc(sizeof(Datum) * 2 * b->nprof);
	char	   *nulls = palloc(2 * b->nprof);
	int			dims[1] = {g->nrows};
	int			lbs[1] = {1};
	int			i;
	int			rc;
	HeapTuple	tup;
	TupleDesc	desc;
	MemoryContext old;

	for (i = 0; i < b->nprof; i++)
	{
		int16		typlen;
		bool		typbyval;
		char		typalign;

		get_typlenbyvalalign(b->prof_elem[i], &typlen, &typbyval, &typalign);
		args[i] = PointerGetDatum(construct_md_array(g->pvals[i], g->pnulls[i], 1, dims, lbs,
													 b->prof_elem[i], typlen, typbyval, typalign));
		nulls[i] = ' ';
		args[b->nprof + i] = b->prof_running[i];
		nulls[b->nprof + i] = b->prof_running_null[i] ? 'n' : ' ';
	}
	rc = SPI_execute_plan(b->prof_plan, args, nulls, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "profiling a chunk group failed: %s", SPI_result_code_string(rc));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(b->cxt);
	for (i = 0; i < b->nprof; i++)
	{
		bool		isnull;
		Datum		p = heap_getattr(tup, i + 1, desc, &isnull);

		if (!b->prof_running_null[i])
			pfree(DatumGetPointer(b->prof_running[i]));
		b->prof_running[i] = isnull ? (Datum) 0 : datumCopy(p, false, -1);
		b->prof_running_null[i] = isnull;
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
}

/* Encodes, writes and profiles an open group, then empties it. */
static void
flush_group(TsBuilder *b, int split)
{
	TsGroup    *g = &b->groups[split];
	Datum	   *chunks;
	Datum	   *crcs;
	Datum		args[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int			i;
	int			rc;
	MemoryContext old;

	if (g->nrows == 0)
		return;
	old = MemoryContextSwitchTo(g->cxt);
	chunks = palloc(sizeof(Datum) * b->ncols);
	crcs = palloc(sizeof(Datum) * b->ncols);
	for (i = 0; i < b->ncols; i++)
	{
		bytea	   *c = TsChunkEncode(&b->types[i], &g->cols[i], b->cctx, b->level);

		chunks[i] = PointerGetDatum(c);
		crcs[i] = Int64GetDatum((int64) TsChunkChecksum(VARDATA(c), VARSIZE(c) - VARHDRSZ));
		/* the values are no longer needed once encoded */
		TsColumnBufferReset(&g->cols[i]);
	}
	args[0] = CStringGetTextDatum(b->set_name);
	args[1] = Int32GetDatum(b->version);
	args[2] = Int32GetDatum(b->next_chunk);
	if (b->split_kind == TS_SPLIT_NONE)
	{
		args[3] = (Datum) 0;
		nulls[3] = 'n';
	}
	else
		args[3] = b->split_names[split];
	args[4] = Int32GetDatum(g->nrows);
	args[5] = PointerGetDatum(construct_array(crcs, b->ncols, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[6] = PointerGetDatum(construct_array(chunks, b->ncols, BYTEAOID, -1, false, TYPALIGN_INT));
	MemoryContextSwitchTo(old);

	rc = SPI_execute_plan(b->write_plan, args, nulls, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "writing chunk group %d failed: %s", b->next_chunk, SPI_result_code_string(rc));
	SPI_freetuptable(SPI_tuptable);
	elog(DEBUG1, "training set \"%s\" version %d: chunk group %d written, %d rows",
		 b->set_name, b->version, b->next_chunk, g->nrows);
	b->next_chunk++;

	if (b->nprof > 0)
		profile_group(b, g);

	MemoryContextReset(g->cxt);
	group_init(b, g);
}

/* The split of a row. */
static int
row_split(TsBuilder *b, Datum *values, bool *isnull)
{
	int			s;

	if (b->split_kind == TS_SPLIT_HASH)
	{
		uint64		h;
		double		u;

		h = TsColumnAppend(&b->types[b->key_col], &b->scratch, values[b->key_col], isnull[b->key_col]);
		TsColumnBufferReset(&b->scratch);
		h = TsHashMix(h ^ b->split_seed);
		u = (double) (h >> 11) * (1.0 / 9007199254740992.0);	/* [0, 1) */
		for (s = 0; s < b->nsplits - 1; s++)
			if (u < b->split_bounds[s])
				break;
		return s;
	}
	if (b->split_kind == TS_SPLIT_TIME)
	{
		Datum		ts = values[b->ts_col];

		if (isnull[b->ts_col])
			return 0;
		for (s = b->nsplits - 1; s > 0; s--)
		{
			int			cmp;
			Datum		start = TimestampTzGetDatum(b->split_starts[s]);

			if (b->ts_type == TIMESTAMPTZOID)
				cmp = DatumGetInt32(DirectFunctionCall2(timestamp_cmp, ts, start));
			else if (b->ts_type == TIMESTAMPOID)
				cmp = DatumGetInt32(DirectFunctionCall2(timestamp_cmp_timestamptz, ts, start));
			else
				cmp = DatumGetInt32(DirectFunctionCall2(date_cmp_timestamptz, ts, start));
			if (cmp >= 0)
				break;
		}
		return s;
	}
	return 0;
}

/* A value of an integer or real column as float8, to profile it. */
static Datum
as_float8(TsColumnType *ct, Datum v)
{
	if (ct->codec == TS_CODEC_FLOAT8)
		return v;
	if (ct->codec == TS_CODEC_FLOAT4)
		return Float8GetDatum((float8) DatumGetFloat4(v));
	Assert(ct->codec == TS_CODEC_INT);
	if (ct->width == 2)
		return Float8GetDatum((float8) DatumGetInt16(v));
	if (ct->width == 4)
		return Float8GetDatum((float8) DatumGetInt32(v));
	return Float8GetDatum((float8) DatumGetInt64(v));
}

/* Deals one retrieved row to its split's group. */
static void
add_row(TsBuilder *b, Datum *values, bool *isnull)
{
	int			split = row_split(b, values, isnull);
	TsGroup    *g = &b->groups[split];
	uint64		row = 0;
	bool		full = false;
	int			i,
				p = 0;
	MemoryContext old = MemoryContextSwitchTo(g->cxt);

	for (i = 0; i < b->ncols; i++)
	{
		TsColumnBuffer *buf = &g->cols[i];
		uint64		h = TsColumnAppend(&b->types[i], buf, values[i], isnull[i]);

		row = TsHashMix(row + h + (uint64) i);
		if (i == b->nspine - 1)
			sethash_add(&b->spine, row);
		if (buf->values.len >= TS_GROUP_MAX_BYTES)
			full = true;
		if (p < b->nprof && b->prof_col[p] == i)
		{
			Datum		v = values[i];

			g->pnulls[p][g->nrows] = isnull[i];
			if (isnull[i])
				v = (Datum) 0;
			else if (b->prof_elem[p] == FLOAT8OID)
				v = as_float8(&b->types[i], v);
			else
				v = PointerGetDatum(PG_DETOAST_DATUM_COPY(v));
			g->pvals[p][g->nrows] = v;
			p++;
		}
	}
	if (b->split_kind != TS_SPLIT_NONE)
		row = TsHashMix(row + b->split_hash[split]);
	sethash_add(&b->content, row);
	MemoryContextSwitchTo(old);

	g->nrows++;
	b->rows++;
	b->split_rows[split]++;
	if (g->nrows >= TS_GROUP_ROWS || full)
		flush_group(b, split);
}

/* Prepares the statements that write chunk groups and profile them. */
static void
prepare_statements(TsBuilder *b)
{
	Oid			wtypes[7] = {TEXTOID, INT4OID, INT4OID, TEXTOID, INT4OID, INT8ARRAYOID, BYTEAARRAYOID};
	StringInfoData sql;
	Oid		   *ptypes;
	int			i;

	b->write_plan = SPI_prepare("SELECT fs_internal.write('training_set_chunks', $1, $2, $3, $4, $5, $6, $7)",
								7, wtypes);
	if (b->write_plan == NULL)
		elog(ERROR, "could not prepare the chunk write: %s", SPI_result_code_string(SPI_result));
	if (b->nprof == 0)
		return;

	/*
	 * SELECT fs.profile_merge(x.p1), ... FROM (SELECT fs.profile(u.c1), ...
	 * FROM (SELECT unnest($1) AS c1, ...) u UNION ALL SELECT $n+1, ...) x:
	 * the unnests in a target list stream their arrays in step (a FROM-list
	 * function scan would first copy every row into a tuplestore).
	 */
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (i = 0; i < b->nprof; i++)
		appendStringInfo(&sql, "%sfs.profile_merge(x.p%d)", i ? ", " : "", i + 1);
	appendStringInfoString(&sql, " FROM (SELECT ");
	for (i = 0; i < b->nprof; i++)
		appendStringInfo(&sql, "%sfs.profile(u.c%d)", i ? ", " : "", i + 1);
	appendStringInfoString(&sql, " FROM (SELECT ");
	for (i = 0; i < b->nprof; i++)
		appendStringInfo(&sql, "%spg_catalog.unnest($%d) AS c%d", i ? ", " : "", i + 1, i + 1);
	appendStringInfoString(&sql, ") AS u UNION ALL SELECT ");
	for (i = 0; i < b->nprof; i++)
		appendStringInfo(&sql, "%s$%d", i ? ", " : "", b->nprof + i + 1);
	appendStringInfoString(&sql, ") AS x(");
	for (i = 0; i < b->nprof; i++)
		appendStringInfo(&sql, "%sp%d", i ? ", " : "", i + 1);
	appendStringInfoChar(&sql, ')');

	ptypes = palloc(sizeof(Oid) * 2 * b->nprof);
	for (i = 0; i < b->nprof; i++)
	{
		ptypes[i] = get_array_type(b->prof_elem[i]);
		ptypes[b->nprof + i] = b->profile_type;
	}
	b->prof_plan = SPI_prepare(sql.data, 2 * b->nprof, ptypes);
	if (b->prof_plan == NULL)
		elog(ERROR, "could not prepare the profile statement: %s", SPI_result_code_string(SPI_result));
}

/* Reads the split arguments (validated and ordered by the SQL caller). */
static void
init_splits(TsBuilder *b, FunctionCallInfo fcinfo)
{
	char	   *kind = PG_ARGISNULL(6) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(6));
	bool	   *nulls;
	int			n,
				i;

	b->split_kind = TS_SPLIT_NONE;
	b->nsplits = 1;
	if (kind == NULL)
		return;
	if (strcmp(kind, "hash") == 0)
		b->split_kind = TS_SPLIT_HASH;
	else if (strcmp(kind, "time") == 0)
		b->split_kind = TS_SPLIT_TIME;
	else
		elog(ERROR, "unknown split kind \"%s\"", kind);
	if (PG_ARGISNULL(7))
		elog(ERROR, "split names missing");
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(7), TEXTOID, -1, false, TYPALIGN_INT, &b->split_names, &nulls, &n);
	if (n < 1 || n > TS_MAX_SPLITS)
		elog(ERROR, "a training set has 1 to %d splits, not %d", TS_MAX_SPLITS, n);
	for (i = 0; i < n; i++)
		if (nulls[i])
			elog(ERROR, "split names must not be null");
	b->nsplits = n;
	b->split_hash = palloc(sizeof(uint64) * n);
	for (i = 0; i < n; i++)
	{
		text	   *t = DatumGetTextPP(b->split_names[i]);

		b->split_hash[i] = hash_bytes_extended((const unsigned char *) VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), 3);
	}
	if (b->split_kind == TS_SPLIT_HASH)
	{
		Datum	   *d;
		int			m;

		if (PG_ARGISNULL(8))
			elog(ERROR, "split fractions missing");
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(8), FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &d, &nulls, &m);
		if (m != n || array_contains_nulls(PG_GETARG_ARRAYTYPE_P(8)))
			elog(ERROR, "split fractions do not match the split names");
		b->split_bounds = palloc(sizeof(float8) * n);
		for (i = 0; i < n; i++)
			b->split_bounds[i] = DatumGetFloat8(d[i]);
		b->split_seed = PG_ARGISNULL(10) ? 0 : (uint64) PG_GETARG_INT64(10);
	}
	else
	{
		Datum	   *d;
		int			m;

		if (PG_ARGISNULL(9))
			elog(ERROR, "split starts missing");
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(9), TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &d, &nulls, &m);
		if (m != n || array_contains_nulls(PG_GETARG_ARRAYTYPE_P(9)))
			elog(ERROR, "split starts do not match the split names");
		b->split_starts = palloc(sizeof(TimestampTz) * n);
		for (i = 0; i < n; i++)
			b->split_starts[i] = DatumGetTimestampTz(d[i]);
	}
}

/* Finds a spine column by name among the first nspine columns. */
static int
spine_column(TupleDesc desc, int nspine, const char *name)
{
	int			i;

	for (i = 0; i < nspine; i++)
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("spine has no column \"%s\"", name)));
	return -1;
}

/*
 * fs_internal.training_set_store(name, version, sql, n_features, key_column,
 * ts_column, split_kind, split_names, split_bounds, split_starts, split_seed,
 * compression_level) RETURNS record: runs sql (the retrieval; spine columns,
 * then n_features feature columns) as the caller and stores its rows as
 * chunks of training set name, version (being built in this transaction).
 */
Datum
training_set_store(PG_FUNCTION_ARGS)
{
	TsBuilder  *b;
	char	   *sql;
	int			nfeatures;
	SPIPlanPtr	plan;
	Portal		portal;
	TupleDesc	desc;
	TupleDesc	result_desc;
	Datum	   *values;
	bool	   *isnull;
	uint64		signature = 0;
	uint64		spine_signature = 0;
	Datum		out[9];
	bool		outnull[9] = {false, false, false, false, false, false, false, false, false};
	Datum	   *names,
			   *types,
			   *typmods,
			   *profiles;
	bool	   *profile_nulls;
	int			dims[1];
	int			lbs[1] = {1};
	int			i,
				p;
	MemoryContext caller_cxt = CurrentMemoryContext;
	HeapTuple	result;

	for (i = 0; i < 6; i++)
		if (PG_ARGISNULL(i))
			elog(ERROR, "argument %d of training_set_store must not be null", i + 1);
	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "training_set_store must return a record");

	b = palloc0(sizeof(TsBuilder));
	b->cxt = AllocSetContextCreate(CurrentMemoryContext, "training set build", ALLOCSET_DEFAULT_SIZES);
	b->set_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	b->version = PG_GETARG_INT32(1);
	sql = text_to_cstring(PG_GETARG_TEXT_PP(2));
	nfeatures = PG_GETARG_INT32(3);
	if (PG_ARGISNULL(11))
		elog(ERROR, "compression level of training_set_store must not be null");
	b->level = PG_GETARG_INT32(11);
	if (b->level < 1 || b->level > ZSTD_maxCLevel())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("compression level %d is out of range", b->level),
				 errhint("zstd levels go from 1 to %d.", ZSTD_maxCLevel())));
	init_splits(b, fcinfo);
	b->cctx = TsZstdCompressor(b->cxt);
	b->profile_type = get_element_type(TupleDescAttr(result_desc, 8)->atttypid);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* planned for all rows (no fast-start plan, as a cursor would get) */
	plan = SPI_prepare_cursor(sql, 0, NULL, 0);
	if (plan == NULL)
		elog(ERROR, "could not prepare the retrieval: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, false);
	desc = portal->tupDesc;

	b->ncols = desc->natts;
	b->nspine = b->ncols - nfeatures;
	if (b->nspine < 1 || nfeatures < 0)
		elog(ERROR, "the retrieval has %d columns, fewer than its %d features", b->ncols, nfeatures);
	b->key_col = spine_column(desc, b->nspine, text_to_cstring(PG_GETARG_TEXT_PP(4)));
	b->ts_col = spine_column(desc, b->nspine, text_to_cstring(PG_GETARG_TEXT_PP(5)));
	b->ts_type = getBaseType(TupleDescAttr(desc, b->ts_col)->atttypid);
	if (b->split_kind == TS_SPLIT_TIME &&
		b->ts_type != TIMESTAMPTZOID && b->ts_type != TIMESTAMPOID && b->ts_type != DATEOID)
		elog(ERROR, "a time split needs a timestamptz, timestamp or date spine time");

	MemoryContextSwitchTo(b->cxt);
	b->types = palloc(sizeof(TsColumnType) * b->ncols);
	b->prof_col = palloc(sizeof(int) * b->ncols);
	b->prof_elem = palloc(sizeof(Oid) * b->ncols);
	names = palloc(sizeof(Datum) * b->ncols);
	types = palloc(sizeof(Datum) * b->ncols);
	typmods = palloc(sizeof(Datum) * b->ncols);
	for (i = 0; i < b->ncols; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (b->split_kind != TS_SPLIT_NONE && strcmp(NameStr(att->attname), "split") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("the training set would have two columns named \"split\""),
					 errhint("Rename the spine column, or create the set without a split.")));
		TsColumnTypeInit(&b->types[i], att->atttypid, att->atttypmod);
		names[i] = CStringGetTextDatum(NameStr(att->attname));
		types[i] = ObjectIdGetDatum(att->atttypid);
		typmods[i] = Int32GetDatum(att->atttypmod);
		signature = column_signature(signature, NameStr(att->attname), att->atttypid, att->atttypmod);
		if (i < b->nspine)
			spine_signature = signature;
		else if (OidIsValid(profiled_type(att->atttypid)))
		{
			b->prof_col[b->nprof] = i;
			b->prof_elem[b->nprof] = profiled_type(att->atttypid);
			b->nprof++;
		}
	}
	if (b->split_kind != TS_SPLIT_NONE)
		signature = column_signature(signature, "split", TEXTOID, -1);
	b->prof_running = palloc(sizeof(Datum) * Max(b->nprof, 1));
	b->prof_running_null = palloc(sizeof(bool) * Max(b->nprof, 1));
	for (i = 0; i < b->nprof; i++)
		b->prof_running_null[i] = true;
	TsColumnBufferInit(&b->scratch);
	b->split_rows = palloc0(sizeof(int64) * b->nsplits);
	b->groups = palloc0(sizeof(TsGroup) * b->nsplits);
	for (i = 0; i < b->nsplits; i++)
	{
		b->groups[i].cxt = AllocSetContextCreate(b->cxt, "training set chunk group", ALLOCSET_DEFAULT_SIZES);
		group_init(b, &b->groups[i]);
	}
	values = palloc(sizeof(Datum) * b->ncols);
	isnull = palloc(sizeof(bool) * b->ncols);
	prepare_statements(b);

	/* Stream the retrieval, a batch at a time. */
	for (;;)
	{
		SPITupleTable *batch;
		uint64		n,
					r;

		SPI_cursor_fetch(portal, true, TS_FETCH_ROWS);
		batch = SPI_tuptable;
		n = SPI_processed;
		if (n == 0)
			break;
		for (r = 0; r < n; r++)
		{
			heap_deform_tuple(batch->vals[r], batch->tupdesc, values, isnull);
			add_row(b, values, isnull);
		}
		SPI_freetuptable(batch);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
	for (i = 0; i < b->nsplits; i++)
		flush_group(b, i);

	/* The result, in the caller's memory context. */
	MemoryContextSwitchTo(caller_cxt);
	dims[0] = b->ncols;
	out[0] = PointerGetDatum(construct_md_array(names, NULL, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	out[1] = PointerGetDatum(construct_md_array(types, NULL, 1, dims, lbs, REGTYPEOID, 4, true, TYPALIGN_INT));
	out[2] = PointerGetDatum(construct_md_array(typmods, NULL, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
	out[3] = Int64GetDatum(b->rows);
	out[4] = Int32GetDatum(b->next_chunk);
	if (b->split_kind == TS_SPLIT_NONE)
		outnull[5] = true;
	else
	{
		Datum	   *counts = palloc(sizeof(Datum) * b->nsplits);

		for (i = 0; i < b->nsplits; i++)
			counts[i] = Int64GetDatum(b->split_rows[i]);
		out[5] = PointerGetDatum(construct_array(counts, b->nsplits, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}
	out[6] = CStringGetTextDatum(sethash_text(&b->content, signature));
	out[7] = CStringGetTextDatum(sethash_text(&b->spine, spine_signature));
	profiles = palloc(sizeof(Datum) * b->ncols);
	profile_nulls = palloc(sizeof(bool) * b->ncols);
	for (i = 0, p = 0; i < b->ncols; i++)
	{
		profile_nulls[i] = true;
		profiles[i] = (Datum) 0;
		if (p < b->nprof && b->prof_col[p] == i)
		{
			if (!b->prof_running_null[p])
			{
				profiles[i] = datumCopy(b->prof_running[p], false, -1);
				profile_nulls[i] = false;
			}
			p++;
		}
	}
	{
		int16		typlen;
		bool		typbyval;
		char		typalign;

		get_typlenbyvalalign(b->profile_type, &typlen, &typbyval, &typalign);
		out[8] = PointerGetDatum(construct_md_array(profiles, profile_nulls, 1, dims, lbs, b->profile_type,
													typlen, typbyval, typalign));
	}
	result = heap_form_tuple(result_desc, out, outnull);

	SPI_finish();
	MemoryContextDelete(b->cxt);
	PG_RETURN_DATUM(HeapTupleGetDatum(result));
}
