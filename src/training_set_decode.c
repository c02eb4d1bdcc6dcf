/*
 * training_set_decode.c
 *		Decoding training set chunks: every length is checked before it is
 *		trusted, and anything that does not check out is a corruption error
 *		naming the set, version and chunk.
 */
#include "postgres.h"

#include <math.h>
#include <zstd.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "port/pg_bitutils.h"
#include "port/pg_crc32c.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "training_set.h"
#include "training_set_codec.h"

/* ----------------------------------------------------------------
 * Decoding
 * ---------------------------------------------------------------- */

/*
 * Reports a chunk that does not check out, naming it when id does; detail_log
 * (or NULL) goes to the server log only.
 */
void
TsCorrupt(const TsChunkId *id, const char *detail, const char *detail_log)
{
	if (id && id->set_name)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("training set \"%s\" version %d is corrupted: chunk group %d, column %d",
						id->set_name, id->version, id->chunk_no, id->column_no),
				 errdetail("%s", detail),
				 detail_log ? errdetail_log("%s", detail_log) : 0,
				 errhint("Recreate the training set with fs.create_training_set().")));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("training set chunk is corrupted"),
			 errdetail("%s", detail)));
}

/* TsCorrupt without a log detail. */
static void
pg_attribute_noreturn()
corrupt(const TsChunkId *id, const char *detail)
{
	TsCorrupt(id, detail, NULL);
	pg_unreachable();
}

/* Context line for errors raised while decoding (e.g. by a receive function). */
static void
decode_error_context(void *arg)
{
	const TsChunkId *id = (const TsChunkId *) arg;

	if (id && id->set_name)
		errcontext("decoding chunk group %d, column %d of training set \"%s\" version %d",
				   id->chunk_no, id->column_no, id->set_name, id->version);
}

/*
 * Reads k values, from the first-th on, out of the byte planes in mask at
 * data, which hold nvalues values each.
 */
static void
read_planes(const unsigned char *data, int nvalues, uint8 mask, int first, int k, uint64 *vals)
{
	int			b,
				i,
				j = 0;

	if (mask == 1)
	{
		/* one byte per value, the common case of small numbers and lengths */
		for (i = 0; i < k; i++)
			vals[i] = data[first + i];
		return;
	}
	memset(vals, 0, sizeof(uint64) * k);
	for (b = 0; b < 8; b++)
	{
		const unsigned char *src;
		int			shift = 8 * b;

		if (!(mask & (1 << b)))
			continue;
		src = data + (Size) j++ * nvalues + first;
		for (i = 0; i < k; i++)
			vals[i] |= (uint64) src[i] << shift;
	}
}

/* Whether n bytes are all ASCII characters other than NUL. */
static bool
all_ascii(const unsigned char *p, Size n)
{
	unsigned char bad = 0;
	Size		i;

	for (i = 0; i < n; i++)
		bad |= (p[i] & 0x80) | (p[i] == 0);
	return bad == 0;
}

/*
 * Opens a chunk of r's column: checks its header against its size and its
 * column's type, decompresses its payload into r's buffer, and checks the
 * payload's layout (the NULL bitmap, the size of the values, every length
 * of varlena values).  data/len are the chunk's bytes, whose checksum the
 * caller has verified; the reader keeps no pointer into them.
 */
void
TsChunkOpen(TsChunkReader *r, const char *data, Size len, void *zstd_dctx, const TsChunkId *id)
{
	const unsigned char *h = (const unsigned char *) data;
	TsColumnType *ct = r->ct;
	const TsChunkId *cid = &r->id;
	uint8		codec,
				flags;
	uint32		nrows,
				nvalues,
				raw_size;
	const unsigned char *p;
	const unsigned char *end;
	Size		nbitmap;
	int			planes_bytes;

	if (id)
		r->id = *id;
	else
		memset(&r->id, 0, sizeof(r->id));

	if (len < TS_CHUNK_HEADER_SIZE)
		corrupt(cid, psprintf("The chunk has %zu bytes, fewer than its header.", len));
	if (h[0] != TS_CHUNK_FORMAT)
		corrupt(cid, psprintf("Unknown chunk format %d.", h[0]));
	codec = h[1];
	flags = h[2];
	r->transform = h[3];
	r->exponent = h[4];
	r->planes = h[5];
	nrows = get_u32(h + 8);
	nvalues = get_u32(h + 12);
	raw_size = get_u32(h + 16);
	if ((flags & ~(TS_CHUNK_NULLS | TS_CHUNK_ZSTD)) != 0 || (r->transform & ~TS_XFORM_DELTA) != 0 ||
		h[6] != 0 || h[7] != 0)
		corrupt(cid, "The chunk header has unknown flags.");
	if (!(codec == ct->codec || (codec == TS_CODEC_DECIMAL && ct->codec == TS_CODEC_FLOAT8)))
		corrupt(cid, psprintf("The chunk is stored as %s, but its column's type is stored as %s.",
							  TsCodecName(codec), TsCodecName(ct->codec)));
	if ((r->transform != 0 && codec != TS_CODEC_INT && codec != TS_CODEC_DECIMAL) ||
		(codec == TS_CODEC_DECIMAL ? r->exponent > TS_MAX_DECIMAL_EXP : r->exponent != 0))
		corrupt(cid, psprintf("The chunk has transform %d and exponent %d.", r->transform, r->exponent));
	if ((r->planes >> TsPlanedWidth(codec)) != 0)
		corrupt(cid, psprintf("The chunk has byte planes 0x%02x.", r->planes));
	if (nrows == 0 || nrows > TS_GROUP_ROWS || nvalues > nrows)
		corrupt(cid, psprintf("The chunk claims %u rows with %u values.", nrows, nvalues));
	if (((flags & TS_CHUNK_NULLS) != 0) != (nvalues < nrows))
		corrupt(cid, "The chunk's null flag does not match its value count.");
	if (raw_size >= MaxAllocSize)
		corrupt(cid, psprintf("The chunk claims a payload of %u bytes.", raw_size));

	/* The payload, decompressed to exactly raw_size bytes. */
	if (flags & TS_CHUNK_ZSTD)
	{
		unsigned long long content = ZSTD_getFrameContentSize(data + TS_CHUNK_HEADER_SIZE,
															  len - TS_CHUNK_HEADER_SIZE);
		size_t		got;

		if (content != raw_size)
			corrupt(cid, "The compressed payload does not have the size its header gives.");
		r->raw = TsGrowBuffer(r->cxt, r->raw, &r->raw_size, raw_size);
		got = ZSTD_decompressDCtx((ZSTD_DCtx *) zstd_dctx, r->raw, raw_size,
								  data + TS_CHUNK_HEADER_SIZE, len - TS_CHUNK_HEADER_SIZE);
		if (ZSTD_isError(got))
			corrupt(cid, psprintf("zstd: %s.", ZSTD_getErrorName(got)));
		if (got != raw_size)
			corrupt(cid, "The compressed payload does not have the size its header gives.");
		p = (const unsigned char *) r->raw;
	}
	else
	{
		if (len - TS_CHUNK_HEADER_SIZE != raw_size)
			corrupt(cid, "The payload does not have the size its header gives.");
		r->raw = TsGrowBuffer(r->cxt, r->raw, &r->raw_size, raw_size);
		memcpy(r->raw, h + TS_CHUNK_HEADER_SIZE, raw_size);
		p = (const unsigned char *) r->raw;
	}
	end = p + raw_size;

	/* NULLs */
	nbitmap = (flags & TS_CHUNK_NULLS) ? (nrows + 7) / 8 : 0;
	if ((Size) (end - p) < nbitmap)
		corrupt(cid, "The payload is shorter than its null bitmap.");
	r->bitmap = NULL;
	if (nbitmap > 0)
	{
		uint32		nulls = 0;
		Size		i;

		for (i = 0; i < nbitmap; i++)
			nulls += pg_popcount32(p[i]);
		if ((nrows % 8) != 0 && (p[nbitmap - 1] >> (nrows % 8)) != 0)
			corrupt(cid, "The null bitmap has bits past the last row.");
		if (nrows - nulls != nvalues)
			corrupt(cid, "The null bitmap does not match the value count.");
		r->bitmap = p;
		p += nbitmap;
	}

	/* The values: their size, or every length and their sum. */
	planes_bytes = pg_popcount32(r->planes);
	switch (codec)
	{
		case TS_CODEC_BOOL:
			if ((Size) (end - p) != nvalues)
				corrupt(cid, "The boolean values do not fill the payload.");
			break;
		case TS_CODEC_INT:
		case TS_CODEC_DECIMAL:
		case TS_CODEC_FLOAT8:
		case TS_CODEC_FLOAT4:
			if ((Size) (end - p) != (Size) nvalues * planes_bytes)
				corrupt(cid, "The fixed-width values do not fill the payload.");
			break;
		case TS_CODEC_TEXT:
		case TS_CODEC_BYTES:
		case TS_CODEC_SEND:
			{
				uint64		total = 0;
				int			v,
							k,
							i;

				if ((Size) (end - p) < (Size) nvalues * planes_bytes)
					corrupt(cid, "The payload is shorter than its value lengths.");
				if (r->lens == NULL)
					r->lens = MemoryContextAlloc(r->cxt, sizeof(uint32) * TS_GROUP_ROWS);
				for (v = 0; v < (int) nvalues; v += k)
				{
					k = Min(TS_BATCH_ROWS, (int) nvalues - v);
					read_planes(p, nvalues, r->planes, v, k, r->codes);
					for (i = 0; i < k; i++)
					{
						if (r->codes[i] > MaxAllocSize - VARHDRSZ)
							corrupt(cid, "A value is longer than any value can be.");
						r->lens[v + i] = (uint32) r->codes[i];
						total += r->codes[i];
					}
				}
				p += (Size) nvalues * planes_bytes;
				if (total != (uint64) (end - p))
					corrupt(cid, "The value lengths do not add up to the payload size.");
				/* plain ASCII text (the common case) is valid in any server encoding */
				r->ascii = codec == TS_CODEC_TEXT && all_ascii(p, total);
				break;
			}
		default:
			corrupt(cid, psprintf("Unknown codec %d.", codec));
	}
	r->codec = codec;
	r->nrows = nrows;
	r->nvalues = nvalues;
	r->data = p;
	r->row = 0;
	r->value = 0;
	r->prev = 0;
	r->offset = 0;
}

/*
 * Decodes the next n rows of an INT or DECIMAL chunk (k of them not NULL, as
 * isnull says) into values[i * stride]: byte planes, zigzag, differences
 * and the decimal scale undone in one pass.
 */
static void
read_ints(TsChunkReader *r, int n, int k, Datum *values, const bool *isnull, int stride)
{
	bool		delta = (r->transform & TS_XFORM_DELTA) != 0;
	bool		decimal = r->codec == TS_CODEC_DECIMAL;
	double		scale = ts_pow10_table[r->exponent];
	int			width = r->ct->width;
	int64		prev = r->prev;
	int			i,
				v = 0;

	read_planes(r->data, r->nvalues, r->planes, r->value, k, r->codes);
	for (i = 0; i < n; i++)
	{
		int64		x;

		if (k < n && isnull[i * stride])
		{
			values[i * stride] = (Datum) 0;
			continue;
		}
		x = unzigzag(r->codes[v]);
		if (delta && r->value + v > 0)
			x = (int64) ((uint64) prev + (uint64) x);
		prev = x;
		v++;
		if (decimal)
			values[i * stride] = Float8GetDatum((double) x / scale);
		else if (width == 8)
			values[i * stride] = Int64GetDatum(x);
		else if (width == 4)
			values[i * stride] = Int32GetDatum((int32) x);
		else
			values[i * stride] = Int16GetDatum((int16) x);
	}
	r->prev = prev;
}

/*
 * Decodes k TEXT, BYTES or SEND values into vals[i * stride] (NULL rows
 * skipped by isnull, over n rows).  TEXT and BYTES values go to r->block, SEND values
 * are allocated in the current memory context.
 */
static void
read_varlena(TsChunkReader *r, int n, int k, Datum *vals, const bool *isnull, int stride)
{
	const unsigned char *src = r->data + r->offset;
	const uint32 *lens = r->lens + r->value;
	char	   *block = NULL;
	StringInfoData si;
	int			i,
				v = 0;

	if (r->codec == TS_CODEC_SEND)
		initStringInfo(&si);
	else
	{
		Size		total = 0;

		for (i = 0; i < k; i++)
			total += lens[i];
		/* at most a 4-byte header and 3 bytes of alignment per value */
		r->block = TsGrowBuffer(r->cxt, r->block, &r->block_size, total + (Size) k * (VARHDRSZ + 3) + 3);
		block = r->block;
	}
	for (i = 0; i < n; i++)
	{
		uint32		l;

		if (isnull[i * stride])
		{
			vals[i * stride] = (Datum) 0;
			continue;
		}
		l = lens[v++];
		if (r->codec == TS_CODEC_SEND)
		{
			resetStringInfo(&si);
			appendBinaryStringInfo(&si, (const char *) src, l);
			vals[i * stride] = ReceiveFunctionCall(&r->ct->recv, &si, r->ct->ioparam, r->ct->typmod);
		}
		else
		{
			struct varlena *t;

			if (r->codec == TS_CODEC_TEXT && !r->ascii && !pg_verifymbstr((const char *) src, l, true))
				corrupt(&r->id, "A text value is not valid in the database encoding.");
			if (VARHDRSZ_SHORT + l <= VARATT_SHORT_MAX)
			{
				/* a short value gets a 1-byte header, as in a heap tuple */
				t = (struct varlena *) block;
				SET_VARSIZE_SHORT(t, VARHDRSZ_SHORT + l);
				memcpy(VARDATA_SHORT(t), src, l);
				block += VARHDRSZ_SHORT + l;
			}
			else
			{
				t = (struct varlena *) INTALIGN(block);
				SET_VARSIZE(t, VARHDRSZ + l);
				memcpy(VARDATA(t), src, l);
				block = (char *) t + VARHDRSZ + l;
			}
			vals[i * stride] = PointerGetDatum(t);
		}
		src += l;
		r->offset += l;
	}
	if (r->codec == TS_CODEC_SEND)
		pfree(si.data);
}

/*
 * read_varlena for SEND values: receive functions read server-encoded
 * bytes, and a value they reject (a data or message format error) makes
 * the chunk corrupted.
 */
static void
read_send(TsChunkReader *r, int n, int k, Datum *vals, const bool *isnull, int stride)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			client = TsServerEncodingBegin();

	PG_TRY();
	{
		read_varlena(r, n, k, vals, isnull, stride);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		TsServerEncodingEnd(client);
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_PROTOCOL_VIOLATION &&
			ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		corrupt(&r->id, psprintf("A value does not decode as %s: %s", format_type_be(r->ct->type), edata->message));
	}
	PG_END_TRY();
	TsServerEncodingEnd(client);
}

/*
 * Sets values[i * stride] for the n rows of a batch from the k decoded codes
 * in r->codes, with expr computing a value from the code c; NULL rows get 0.
 */
#define FILL_VALUES(expr) \
	do { \
		if (k == n) \
			for (i = 0; i < n; i++) \
			{ \
				uint64		c = r->codes[i]; \
				values[i * stride] = (expr); \
			} \
		else \
			for (i = 0, v = 0; i < n; i++) \
			{ \
				uint64		c; \
				if (isnull[i * stride]) \
				{ \
					values[i * stride] = (Datum) 0; \
					continue; \
				} \
				c = r->codes[v++]; \
				values[i * stride] = (expr); \
			} \
	} while (0)

/* The float8 whose bits are c. */
static inline Datum
float8_bits(uint64 c)
{
	float8		f;

	memcpy(&f, &c, 8);
	return Float8GetDatum(f);
}

/* The float4 whose bits are the low half of c. */
static inline Datum
float4_bits(uint64 c)
{
	uint32		bits = (uint32) c;
	float4		f;

	memcpy(&f, &bits, 4);
	return Float4GetDatum(f);
}

/*
 * Decodes the next n rows (at most TS_BATCH_ROWS) of an open chunk into
 * values[i * stride] and isnull[i * stride] (i < n): a batch of rows laid out
 * row by row.  TEXT and BYTES values stay valid until the next call.
 */
void
TsChunkRead(TsChunkReader *r, int n, Datum *values, bool *isnull, int stride)
{
	ErrorContextCallback errcb;
	int			k = 0;
	int			i,
				v;

	Assert(n > 0 && n <= TS_BATCH_ROWS && r->row + n <= r->nrows);
	errcb.callback = decode_error_context;
	errcb.arg = (void *) &r->id;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (r->bitmap)
	{
		/* batches start at multiples of TS_BATCH_ROWS: a byte of flags at a time */
		const unsigned char *bits = r->bitmap + r->row / 8;

		StaticAssertStmt(TS_BATCH_ROWS % 8 == 0, "batches must start on a byte of the null bitmap");
		Assert(r->row % 8 == 0);
		for (i = 0; i < n; i += 8)
		{
			unsigned int b = bits[i / 8];
			int			j;

			for (j = 0; j < 8 && i + j < n; j++)
				isnull[(i + j) * stride] = (b >> j) & 1;
			k += Min(8, n - i) - pg_popcount32(b);
		}
	}
	else
	{
		for (i = 0; i < n; i++)
			isnull[i * stride] = false;
		k = n;
	}

	switch (r->codec)
	{
		case TS_CODEC_BOOL:
			{
				const unsigned char *src = r->data + r->value;

				for (i = 0, v = 0; i < n; i++)
					values[i * stride] = isnull[i * stride] ? (Datum) 0 : BoolGetDatum(src[v++] != 0);
				break;
			}
		case TS_CODEC_DECIMAL:
		case TS_CODEC_INT:
			read_ints(r, n, k, values, isnull, stride);
			break;
		case TS_CODEC_FLOAT8:
			read_planes(r->data, r->nvalues, r->planes, r->value, k, r->codes);
			FILL_VALUES(float8_bits(c));
			break;
		case TS_CODEC_FLOAT4:
			read_planes(r->data, r->nvalues, r->planes, r->value, k, r->codes);
			FILL_VALUES(float4_bits(c));
			break;
		case TS_CODEC_TEXT:
		case TS_CODEC_BYTES:
			read_varlena(r, n, k, values, isnull, stride);
			break;
		case TS_CODEC_SEND:
			read_send(r, n, k, values, isnull, stride);
			break;
	}
	r->row += n;
	r->value += k;
	error_context_stack = errcb.previous;
}

/* ----------------------------------------------------------------
 * Inspection
 * ---------------------------------------------------------------- */

PG_FUNCTION_INFO_V1(training_chunk_codec);
PG_FUNCTION_INFO_V1(training_chunk_values);

/*
 * fs_internal.training_chunk_codec(data bytea) RETURNS text: how a chunk is
 * stored, e.g. "decimal(2) delta zstd nulls planes=3 rows=16384 values=16000".
 */
Datum
training_chunk_codec(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	const unsigned char *h = (const unsigned char *) VARDATA_ANY(data);
	StringInfoData s;

	if (VARSIZE_ANY_EXHDR(data) < TS_CHUNK_HEADER_SIZE)
		corrupt(NULL, "The chunk is shorter than its header.");
	initStringInfo(&s);
	appendStringInfoString(&s, TsCodecName(h[1]));
	if (h[1] == TS_CODEC_DECIMAL)
		appendStringInfo(&s, "(%d)", h[4]);
	if (h[3] & TS_XFORM_DELTA)
		appendStringInfoString(&s, " delta");
	if (h[2] & TS_CHUNK_ZSTD)
		appendStringInfoString(&s, " zstd");
	if (h[2] & TS_CHUNK_NULLS)
		appendStringInfoString(&s, " nulls");
	if (h[1] != TS_CODEC_BOOL)
		appendStringInfo(&s, " planes=%d", pg_popcount32(h[5]));
	appendStringInfo(&s, " rows=%u values=%u", get_u32(h + 8), get_u32(h + 12));
	PG_RETURN_TEXT_P(cstring_to_text(s.data));
}

/*
 * fs_internal.training_chunk_values(data bytea, type regtype, typmod int)
 * RETURNS text[]: the values of a chunk decoded as a column of that type
 * would be, in their text form.  No checksum is checked: this is the decoder
 * alone, which must reject anything malformed with an error.
 */
Datum
training_chunk_values(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	Oid			type = PG_GETARG_OID(1);
	int32		typmod = PG_GETARG_INT32(2);
	TsColumnType ct;
	TsChunkReader *r = palloc(sizeof(TsChunkReader));
	Datum	   *values;
	bool	   *isnull;
	Datum	   *texts;
	Oid			outfn;
	bool		isvarlena;
	FmgrInfo	out;
	int			dims[1];
	int			lbs[1] = {1};
	int			i,
				n;

	TsColumnTypeInit(&ct, type, typmod);
	TsChunkReaderInit(r, &ct, CurrentMemoryContext);
	TsChunkOpen(r, VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), TsZstdDecompressor(CurrentMemoryContext), NULL);
	values = palloc(sizeof(Datum) * TS_BATCH_ROWS);
	isnull = palloc(sizeof(bool) * r->nrows);
	texts = palloc(sizeof(Datum) * r->nrows);
	getTypeOutputInfo(type, &outfn, &isvarlena);
	fmgr_info(outfn, &out);
	for (n = 0; n < r->nrows; n += i)
	{
		int			k = Min(TS_BATCH_ROWS, r->nrows - n);

		TsChunkRead(r, k, values, isnull + n, 1);
		for (i = 0; i < k; i++)
			texts[n + i] = isnull[n + i] ? (Datum) 0 : CStringGetTextDatum(OutputFunctionCall(&out, values[i]));
	}
	dims[0] = r->nrows;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(texts, isnull, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(training_chunk_checksum);

/* fs_internal.training_chunk_checksum(data bytea) RETURNS bigint: the CRC-32C stored with a chunk. */
Datum
training_chunk_checksum(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_INT64((int64) TsChunkChecksum(VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data)));
}
