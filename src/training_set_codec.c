/*
 * training_set_codec.c
 *		Column chunks of training sets: encoding, zstd, CRC-32C, decoding.
 *
 * The format is described in training_set.h.  Encoding is driven by the
 * builder (training_set_build.c), which appends each row's values to one
 * TsColumnBuffer per column and turns a full buffer into a chunk; decoding by
 * the reader (training_set_fdw.c).  Nothing read from a chunk is used before
 * it is checked: header fields against each other and against the chunk
 * size, the decompressed size against the header, each length against what
 * is left, text against the database encoding, and values of other types
 * through their binary receive functions, which validate their input.
 */
#include "postgres.h"

#include <math.h>
#include <zstd.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "port/pg_crc32c.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "training_set.h"

/* Largest decimal exponent tried for float8 chunks (values are < 2^52 / 10^e). */
#define TS_MAX_DECIMAL_EXP		10

static const double pow10_table[TS_MAX_DECIMAL_EXP + 1] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10
};

/* Seeds that keep the hashes of different kinds of values apart. */
#define HASH_NULL				UINT64CONST(0x9e3779b97f4a7c15)
#define HASH_SEED_BOOL			UINT64CONST(0x6a09e667f3bcc908)
#define HASH_SEED_INT			UINT64CONST(0xbb67ae8584caa73b)
#define HASH_SEED_FLOAT4		UINT64CONST(0x3c6ef372fe94f82b)
#define HASH_SEED_FLOAT8		UINT64CONST(0xa54ff53a5f1d36f1)
#define HASH_SEED_BYTES			UINT64CONST(0x510e527fade682d1)

/* ----------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------- */

/* A 64-bit finalizer (splitmix64): every input bit affects every output bit. */
uint64
TsHashMix(uint64 h)
{
	h ^= h >> 30;
	h *= UINT64CONST(0xbf58476d1ce4e5b9);
	h ^= h >> 27;
	h *= UINT64CONST(0x94d049bb133111eb);
	h ^= h >> 31;
	return h;
}

/* CRC-32C of a chunk's bytes, as stored beside it. */
uint32
TsChunkChecksum(const char *data, Size len)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, data, len);
	FIN_CRC32C(crc);
	return crc;
}

static inline void
put_u32(unsigned char *p, uint32 v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static inline uint32
get_u32(const unsigned char *p)
{
	return (uint32) p[0] | ((uint32) p[1] << 8) | ((uint32) p[2] << 16) | ((uint32) p[3] << 24);
}

static inline uint64
zigzag(int64 v)
{
	return ((uint64) v << 1) ^ (uint64) (v >> 63);
}

static inline int64
unzigzag(uint64 v)
{
	return (int64) (v >> 1) ^ -(int64) (v & 1);
}

/* Bits needed for v (0 for 0). */
static inline int
bit_width(uint64 v)
{
	return v == 0 ? 0 : 64 - __builtin_clzll(v);
}

/*
 * Appends n unsigned values of width bytes as byte planes, little-endian:
 * byte 0 of every value, then byte 1, and so on.
 */
static void
append_planes(StringInfo out, const uint64 *vals, int n, int width)
{
	unsigned char *p;
	int			b,
				i;

	enlargeStringInfo(out, n * width);
	p = (unsigned char *) out->data + out->len;
	for (b = 0; b < width; b++)
	{
		int			shift = 8 * b;

		for (i = 0; i < n; i++)
			*p++ = (vals[i] >> shift) & 0xff;
	}
	out->len += n * width;
	out->data[out->len] = '\0';
}

/* Reads n values of width bytes from byte planes at p (n * width bytes). */
static void
read_planes(const unsigned char *p, int n, int width, uint64 *vals)
{
	int			b,
				i;

	memset(vals, 0, sizeof(uint64) * n);
	for (b = 0; b < width; b++)
	{
		int			shift = 8 * b;

		for (i = 0; i < n; i++)
			vals[i] |= (uint64) *p++ << shift;
	}
}

/* ----------------------------------------------------------------
 * zstd contexts, freed with the memory context that owns them
 * ---------------------------------------------------------------- */

static void
free_cctx(void *arg)
{
	ZSTD_freeCCtx((ZSTD_CCtx *) arg);
}

static void
free_dctx(void *arg)
{
	ZSTD_freeDCtx((ZSTD_DCtx *) arg);
}

/* A zstd compression context that lives as long as the memory context owner. */
void *
TsZstdCompressor(MemoryContext owner)
{
	ZSTD_CCtx  *cctx = ZSTD_createCCtx();
	MemoryContextCallback *cb;

	if (cctx == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create a zstd compression context")));
	cb = MemoryContextAlloc(owner, sizeof(MemoryContextCallback));
	cb->func = free_cctx;
	cb->arg = cctx;
	MemoryContextRegisterResetCallback(owner, cb);
	return cctx;
}

/* A decoder whose buffers and zstd context live as long as the memory context cxt. */
void
TsDecoderInit(TsDecoder *dec, MemoryContext cxt)
{
	ZSTD_DCtx  *dctx = ZSTD_createDCtx();
	MemoryContextCallback *cb;

	if (dctx == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create a zstd decompression context")));
	cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
	cb->func = free_dctx;
	cb->arg = dctx;
	MemoryContextRegisterResetCallback(cxt, cb);
	dec->cxt = cxt;
	dec->zstd = dctx;
	dec->raw = NULL;
	dec->raw_size = 0;
	dec->codes = MemoryContextAlloc(cxt, sizeof(uint64) * TS_GROUP_ROWS);
}

/* The arrays a column's decoded chunks reuse, in memory context cxt. */
void
TsDecodedChunkInit(TsDecodedChunk *chunk, MemoryContext cxt)
{
	chunk->nrows = 0;
	chunk->values = MemoryContextAlloc(cxt, sizeof(Datum) * TS_GROUP_ROWS);
	chunk->isnull = MemoryContextAlloc(cxt, sizeof(bool) * TS_GROUP_ROWS);
	chunk->block = NULL;
	chunk->block_size = 0;
}

/* A buffer of at least need bytes in cxt: buf if it is large enough, else a larger one. */
static char *
grow_buffer(MemoryContext cxt, char *buf, Size *size, Size need)
{
	if (need <= *size && buf != NULL)
		return buf;
	if (buf != NULL)
		pfree(buf);
	*size = Max(need, Min(2 * *size, MaxAllocHugeSize));
	return MemoryContextAllocExtended(cxt, Max(*size, 1), MCXT_ALLOC_HUGE);
}

/* The name of a codec, for messages. */
static const char *
codec_name(int codec)
{
	static const char *const names[] = {"?", "bool", "int", "decimal", "float4", "float8", "text", "bytes", "send"};

	return codec >= 0 && codec < lengthof(names) ? names[codec] : "?";
}

/* ----------------------------------------------------------------
 * Column types
 * ---------------------------------------------------------------- */

/* Chooses how values of a type are stored; the choice depends on the type only. */
void
TsColumnTypeInit(TsColumnType *ct, Oid type, int32 typmod)
{
	int32		basemod = typmod;
	Oid			base = getBaseTypeAndTypmod(type, &basemod);

	memset(ct, 0, sizeof(*ct));
	ct->type = type;
	ct->typmod = typmod;
	switch (base)
	{
		case BOOLOID:
			ct->codec = TS_CODEC_BOOL;
			ct->width = 1;
			break;
		case INT2OID:
			ct->codec = TS_CODEC_INT;
			ct->width = 2;
			break;
		case INT4OID:
		case DATEOID:
			ct->codec = TS_CODEC_INT;
			ct->width = 4;
			break;
		case INT8OID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			ct->codec = TS_CODEC_INT;
			ct->width = 8;
			break;
		case FLOAT4OID:
			ct->codec = TS_CODEC_FLOAT4;
			ct->width = 4;
			break;
		case FLOAT8OID:
			ct->codec = TS_CODEC_FLOAT8;
			ct->width = 8;
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			ct->codec = TS_CODEC_TEXT;
			break;
		case BYTEAOID:
			ct->codec = TS_CODEC_BYTES;
			break;
		default:
			{
				Oid			sendfn,
							recvfn;
				bool		isvarlena;

				ct->codec = TS_CODEC_SEND;
				getTypeBinaryOutputInfo(base, &sendfn, &isvarlena);
				getTypeBinaryInputInfo(base, &recvfn, &ct->ioparam);
				fmgr_info(sendfn, &ct->send);
				fmgr_info(recvfn, &ct->recv);
				ct->typmod = basemod;
				break;
			}
	}
}

/*
 * Binary send and receive functions of text-like types convert between the
 * server and the client encoding.  Chunks hold server-encoded bytes, so the
 * conversion is switched off around those calls when the encodings differ.
 */
static int
server_encoding_begin(void)
{
	int			client = pg_get_client_encoding();

	if (client != GetDatabaseEncoding())
		SetClientEncoding(GetDatabaseEncoding());
	return client;
}

static void
server_encoding_end(int client)
{
	if (client != GetDatabaseEncoding())
		SetClientEncoding(client);
}

/* ----------------------------------------------------------------
 * Encoding
 * ---------------------------------------------------------------- */

void
TsColumnBufferInit(TsColumnBuffer *buf)
{
	buf->nrows = 0;
	buf->nvalues = 0;
	initStringInfo(&buf->nulls);
	initStringInfo(&buf->values);
	initStringInfo(&buf->lengths);
}

void
TsColumnBufferReset(TsColumnBuffer *buf)
{
	buf->nrows = 0;
	buf->nvalues = 0;
	resetStringInfo(&buf->nulls);
	resetStringInfo(&buf->values);
	resetStringInfo(&buf->lengths);
}

/* A value in its type's binary send format, server-encoded. */
static bytea *
send_value(TsColumnType *ct, Datum value)
{
	int			client = server_encoding_begin();
	bytea	   *volatile b = NULL;

	PG_TRY();
	{
		b = SendFunctionCall(&ct->send, value);
	}
	PG_FINALLY();
	{
		server_encoding_end(client);
	}
	PG_END_TRY();
	return b;
}

static inline void
append_u32(StringInfo s, uint32 v)
{
	unsigned char b[4];

	put_u32(b, v);
	appendBinaryStringInfo(s, (char *) b, 4);
}

/*
 * Appends one value to a column buffer; returns the hash of the value (the
 * same for equal values of any integer width, independent of storage).
 */
uint64
TsColumnAppend(TsColumnType *ct, TsColumnBuffer *buf, Datum value, bool isnull)
{
	uint64		h;

	appendStringInfoChar(&buf->nulls, isnull ? 1 : 0);
	buf->nrows++;
	if (isnull)
		return HASH_NULL;
	buf->nvalues++;

	switch (ct->codec)
	{
		case TS_CODEC_BOOL:
			{
				char		b = DatumGetBool(value) ? 1 : 0;

				appendStringInfoChar(&buf->values, b);
				return TsHashMix(HASH_SEED_BOOL ^ (uint64) b);
			}
		case TS_CODEC_INT:
			{
				int64		v;

				if (ct->width == 2)
					v = DatumGetInt16(value);
				else if (ct->width == 4)
					v = DatumGetInt32(value);
				else
					v = DatumGetInt64(value);
				appendBinaryStringInfo(&buf->values, (char *) &v, sizeof(v));
				return TsHashMix(HASH_SEED_INT ^ (uint64) v);
			}
		case TS_CODEC_FLOAT4:
			{
				float4		f = DatumGetFloat4(value);
				uint32		bits;

				memcpy(&bits, &f, 4);
				appendBinaryStringInfo(&buf->values, (char *) &f, 4);
				return TsHashMix(HASH_SEED_FLOAT4 ^ bits);
			}
		case TS_CODEC_FLOAT8:
		case TS_CODEC_DECIMAL:
			{
				float8		f = DatumGetFloat8(value);
				uint64		bits;

				memcpy(&bits, &f, 8);
				appendBinaryStringInfo(&buf->values, (char *) &f, 8);
				return TsHashMix(HASH_SEED_FLOAT8 ^ bits);
			}
		case TS_CODEC_TEXT:
		case TS_CODEC_BYTES:
			{
				struct varlena *v = PG_DETOAST_DATUM_PACKED(value);
				const char *p = VARDATA_ANY(v);
				uint32		len = VARSIZE_ANY_EXHDR(v);

				append_u32(&buf->lengths, len);
				appendBinaryStringInfo(&buf->values, p, len);
				h = hash_bytes_extended((const unsigned char *) p, len, HASH_SEED_BYTES);
				if ((Pointer) v != DatumGetPointer(value))
					pfree(v);
				return h;
			}
		case TS_CODEC_SEND:
			{
				bytea	   *b = send_value(ct, value);

				append_u32(&buf->lengths, VARSIZE(b) - VARHDRSZ);
				appendBinaryStringInfo(&buf->values, VARDATA(b), VARSIZE(b) - VARHDRSZ);
				h = hash_bytes_extended((const unsigned char *) VARDATA(b), VARSIZE(b) - VARHDRSZ,
										HASH_SEED_BYTES);
				pfree(b);
				return h;
			}
	}
	elog(ERROR, "unknown training set codec %d", ct->codec);
	return 0;
}

/*
 * The decimal exponent e (0..TS_MAX_DECIMAL_EXP) such that every value is an
 * integer n divided by 10^e, exactly as decoding computes it, or -1.
 */
static int
decimal_exponent(const float8 *vals, int n, int64 *ints)
{
	int			e,
				i;

	for (e = 0; e <= TS_MAX_DECIMAL_EXP; e++)
	{
		double		scale = pow10_table[e];

		for (i = 0; i < n; i++)
		{
			double		x = vals[i] * scale;
			double		back;

			if (!(fabs(x) < 4503599627370496.0))	/* 2^52; also NaN and infinities */
				return -1;		/* larger exponents only make it larger */
			ints[i] = (int64) rint(x);
			back = (double) ints[i] / scale;
			if (memcmp(&back, &vals[i], sizeof(double)) != 0)	/* -0.0 fails */
				break;
		}
		if (i == n)
			return e;
	}
	return -1;
}

/*
 * Integer values as zigzag codes, of the differences from the previous value
 * when that needs fewer bits; returns the transform used.
 */
static uint8
int_codes(const int64 *ints, int n, uint64 *codes)
{
	uint64		raw_or = 0,
				delta_or = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		raw_or |= zigzag(ints[i]);
		delta_or |= zigzag(i == 0 ? ints[0] : (int64) ((uint64) ints[i] - (uint64) ints[i - 1]));
	}
	if (bit_width(delta_or) < bit_width(raw_or))
	{
		for (i = n - 1; i > 0; i--)
			codes[i] = zigzag((int64) ((uint64) ints[i] - (uint64) ints[i - 1]));
		if (n > 0)
			codes[0] = zigzag(ints[0]);
		return TS_XFORM_DELTA;
	}
	for (i = 0; i < n; i++)
		codes[i] = zigzag(ints[i]);
	return 0;
}

/*
 * Turns a full column buffer into a chunk (header, then the payload, zstd
 * compressed at level unless that does not make it smaller).  The result is
 * palloc'd in the current memory context.
 */
bytea *
TsChunkEncode(TsColumnType *ct, TsColumnBuffer *buf, void *zstd_cctx, int level)
{
	StringInfoData raw;
	unsigned char header[TS_CHUNK_HEADER_SIZE];
	uint8		codec = ct->codec;
	uint8		flags = 0;
	uint8		transform = 0;
	uint8		exponent = 0;
	int			n = buf->nvalues;
	int			i;
	bytea	   *result;
	size_t		bound;
	size_t		csize;

	initStringInfo(&raw);
	if (n < buf->nrows)
	{
		int			nbytes = (buf->nrows + 7) / 8;
		unsigned char *bitmap;

		flags |= TS_CHUNK_NULLS;
		enlargeStringInfo(&raw, nbytes);
		bitmap = (unsigned char *) raw.data;
		memset(bitmap, 0, nbytes);
		for (i = 0; i < buf->nrows; i++)
			if (buf->nulls.data[i])
				bitmap[i / 8] |= 1 << (i % 8);
		raw.len = nbytes;
	}

	switch (ct->codec)
	{
		case TS_CODEC_BOOL:
			appendBinaryStringInfo(&raw, buf->values.data, n);
			break;
		case TS_CODEC_INT:
		case TS_CODEC_FLOAT8:
		case TS_CODEC_DECIMAL:
			{
				uint64	   *codes = palloc(sizeof(uint64) * Max(n, 1));
				int64	   *ints = palloc(sizeof(int64) * Max(n, 1));
				int			e = -1;

				if (ct->codec == TS_CODEC_INT)
					memcpy(ints, buf->values.data, sizeof(int64) * n);
				else
					e = decimal_exponent((const float8 *) buf->values.data, n, ints);
				if (ct->codec == TS_CODEC_INT || e >= 0)
				{
					if (e >= 0)
					{
						codec = TS_CODEC_DECIMAL;
						exponent = e;
					}
					transform = int_codes(ints, n, codes);
				}
				else
					memcpy(codes, buf->values.data, sizeof(uint64) * n);
				append_planes(&raw, codes, n, 8);
				pfree(codes);
				pfree(ints);
				break;
			}
		case TS_CODEC_FLOAT4:
			{
				uint64	   *codes = palloc(sizeof(uint64) * Max(n, 1));

				for (i = 0; i < n; i++)
				{
					uint32		bits;

					memcpy(&bits, buf->values.data + 4 * i, 4);
					codes[i] = bits;
				}
				append_planes(&raw, codes, n, 4);
				pfree(codes);
				break;
			}
		case TS_CODEC_TEXT:
		case TS_CODEC_BYTES:
		case TS_CODEC_SEND:
			{
				uint64	   *lens = palloc(sizeof(uint64) * Max(n, 1));

				for (i = 0; i < n; i++)
					lens[i] = get_u32((unsigned char *) buf->lengths.data + 4 * i);
				append_planes(&raw, lens, n, 4);
				appendBinaryStringInfo(&raw, buf->values.data, buf->values.len);
				pfree(lens);
				break;
			}
	}

	bound = ZSTD_compressBound(raw.len);
	result = palloc(VARHDRSZ + TS_CHUNK_HEADER_SIZE + Max(bound, (size_t) raw.len));
	csize = ZSTD_compressCCtx((ZSTD_CCtx *) zstd_cctx,
							  VARDATA(result) + TS_CHUNK_HEADER_SIZE, bound,
							  raw.data, raw.len, level);
	if (ZSTD_isError(csize))
		elog(ERROR, "zstd compression failed: %s", ZSTD_getErrorName(csize));
	if (csize < (size_t) raw.len)
		flags |= TS_CHUNK_ZSTD;
	else
	{
		memcpy(VARDATA(result) + TS_CHUNK_HEADER_SIZE, raw.data, raw.len);
		csize = raw.len;
	}

	header[0] = TS_CHUNK_FORMAT;
	header[1] = codec;
	header[2] = flags;
	header[3] = transform;
	header[4] = exponent;
	header[5] = header[6] = header[7] = 0;
	put_u32(header + 8, buf->nrows);
	put_u32(header + 12, n);
	put_u32(header + 16, raw.len);
	memcpy(VARDATA(result), header, TS_CHUNK_HEADER_SIZE);
	SET_VARSIZE(result, VARHDRSZ + TS_CHUNK_HEADER_SIZE + csize);
	pfree(raw.data);
	return result;
}

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
 * Decodes the values of a TEXT, BYTES or SEND chunk: nvalues uint32 lengths
 * as byte planes, then the values, from p to end (out->isnull is filled).
 */
static void
decode_varlena_values(TsColumnType *ct, uint8 codec, const unsigned char *p, const unsigned char *end,
					  uint32 nvalues, TsDecoder *dec, const TsChunkId *id, TsDecodedChunk *out)
{
	uint64	   *lens = dec->codes;
	uint64		total = 0;
	char	   *block = NULL;
	StringInfoData si;
	int			i,
				v;

	if ((Size) (end - p) < (Size) nvalues * 4)
		corrupt(id, "The payload is shorter than its value lengths.");
	read_planes(p, nvalues, 4, lens);
	p += (Size) nvalues * 4;
	for (v = 0; v < (int) nvalues; v++)
	{
		if (lens[v] > MaxAllocSize - VARHDRSZ)
			corrupt(id, "A value is longer than any value can be.");
		total += lens[v];
	}
	if (total != (uint64) (end - p))
		corrupt(id, "The value lengths do not add up to the payload size.");

	if (codec == TS_CODEC_SEND)
		initStringInfo(&si);
	else
	{
		/* one block holds every value, each INTALIGNed with a 4-byte header */
		out->block = grow_buffer(dec->cxt, out->block, &out->block_size, total + (Size) nvalues * (VARHDRSZ + 3));
		block = out->block;
	}
	for (i = 0, v = 0; i < out->nrows; i++)
	{
		uint32		l;

		if (out->isnull[i])
		{
			out->values[i] = (Datum) 0;
			continue;
		}
		l = (uint32) lens[v++];
		if (codec == TS_CODEC_SEND)
		{
			resetStringInfo(&si);
			appendBinaryStringInfo(&si, (const char *) p, l);
			out->values[i] = ReceiveFunctionCall(&ct->recv, &si, ct->ioparam, ct->typmod);
		}
		else
		{
			struct varlena *t = (struct varlena *) block;

			if (codec == TS_CODEC_TEXT && !pg_verifymbstr((const char *) p, l, true))
				corrupt(id, "A text value is not valid in the database encoding.");
			SET_VARSIZE(t, VARHDRSZ + l);
			memcpy(VARDATA(t), p, l);
			out->values[i] = PointerGetDatum(t);
			block += INTALIGN(VARHDRSZ + l);
		}
		p += l;
	}
	if (codec == TS_CODEC_SEND)
		pfree(si.data);
}

/*
 * decode_varlena_values, with receive functions reading server-encoded
 * bytes; a value they reject (a data or message format error) makes the
 * chunk corrupted.
 */
static void
decode_varlena(TsColumnType *ct, uint8 codec, const unsigned char *p, const unsigned char *end,
			   uint32 nvalues, TsDecoder *dec, const TsChunkId *id, TsDecodedChunk *out)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			client;

	if (codec != TS_CODEC_SEND)
	{
		decode_varlena_values(ct, codec, p, end, nvalues, dec, id, out);
		return;
	}
	client = server_encoding_begin();
	PG_TRY();
	{
		decode_varlena_values(ct, codec, p, end, nvalues, dec, id, out);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		server_encoding_end(client);
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_PROTOCOL_VIOLATION &&
			ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		corrupt(id, psprintf("A value does not decode as %s: %s", format_type_be(ct->type), edata->message));
	}
	PG_END_TRY();
	server_encoding_end(client);
}

/*
 * Decodes a chunk of a column of type ct into out (arrays allocated in the
 * current memory context; values point into memory allocated there too).
 * data/len are the chunk's bytes, whose checksum the caller has verified.
 */
void
TsChunkDecode(TsColumnType *ct, const char *data, Size len, TsDecoder *dec,
			  const TsChunkId *id, TsDecodedChunk *out)
{
	const unsigned char *h = (const unsigned char *) data;
	uint8		codec,
				flags,
				transform,
				exponent;
	uint32		nrows,
				nvalues,
				raw_size;
	const unsigned char *raw;
	const unsigned char *p;
	const unsigned char *end;
	Size		nbitmap;
	int			i,
				v;
	ErrorContextCallback errcb;

	errcb.callback = decode_error_context;
	errcb.arg = (void *) id;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (len < TS_CHUNK_HEADER_SIZE)
		corrupt(id, psprintf("The chunk has %zu bytes, fewer than its header.", len));
	if (h[0] != TS_CHUNK_FORMAT)
		corrupt(id, psprintf("Unknown chunk format %d.", h[0]));
	codec = h[1];
	flags = h[2];
	transform = h[3];
	exponent = h[4];
	nrows = get_u32(h + 8);
	nvalues = get_u32(h + 12);
	raw_size = get_u32(h + 16);
	if ((flags & ~(TS_CHUNK_NULLS | TS_CHUNK_ZSTD)) != 0 || (transform & ~TS_XFORM_DELTA) != 0 ||
		h[5] != 0 || h[6] != 0 || h[7] != 0)
		corrupt(id, "The chunk header has unknown flags.");
	if (!(codec == ct->codec || (codec == TS_CODEC_DECIMAL && ct->codec == TS_CODEC_FLOAT8)))
		corrupt(id, psprintf("The chunk is stored as %s, but its column's type is stored as %s.",
							 codec_name(codec), codec_name(ct->codec)));
	if ((transform != 0 && codec != TS_CODEC_INT && codec != TS_CODEC_DECIMAL) ||
		(codec == TS_CODEC_DECIMAL ? exponent > TS_MAX_DECIMAL_EXP : exponent != 0))
		corrupt(id, psprintf("The chunk has transform %d and exponent %d.", transform, exponent));
	if (nrows == 0 || nrows > TS_GROUP_ROWS || nvalues > nrows)
		corrupt(id, psprintf("The chunk claims %u rows with %u values.", nrows, nvalues));
	if (((flags & TS_CHUNK_NULLS) != 0) != (nvalues < nrows))
		corrupt(id, "The chunk's null flag does not match its value count.");
	if (raw_size >= MaxAllocSize)
		corrupt(id, psprintf("The chunk claims a payload of %u bytes.", raw_size));

	/* The payload, decompressed to exactly raw_size bytes. */
	if (flags & TS_CHUNK_ZSTD)
	{
		unsigned long long content = ZSTD_getFrameContentSize(data + TS_CHUNK_HEADER_SIZE,
															  len - TS_CHUNK_HEADER_SIZE);
		size_t		got;

		if (content != raw_size)
			corrupt(id, "The compressed payload does not have the size its header gives.");
		dec->raw = grow_buffer(dec->cxt, dec->raw, &dec->raw_size, raw_size);
		got = ZSTD_decompressDCtx((ZSTD_DCtx *) dec->zstd, dec->raw, raw_size,
								  data + TS_CHUNK_HEADER_SIZE, len - TS_CHUNK_HEADER_SIZE);
		if (ZSTD_isError(got))
			corrupt(id, psprintf("zstd: %s.", ZSTD_getErrorName(got)));
		if (got != raw_size)
			corrupt(id, "The compressed payload does not have the size its header gives.");
		raw = (const unsigned char *) dec->raw;
	}
	else
	{
		if (len - TS_CHUNK_HEADER_SIZE != raw_size)
			corrupt(id, "The payload does not have the size its header gives.");
		raw = h + TS_CHUNK_HEADER_SIZE;
	}
	p = raw;
	end = raw + raw_size;

	out->nrows = nrows;

	/* NULLs */
	nbitmap = (flags & TS_CHUNK_NULLS) ? (nrows + 7) / 8 : 0;
	if ((Size) (end - p) < nbitmap)
		corrupt(id, "The payload is shorter than its null bitmap.");
	if (nbitmap > 0)
	{
		uint32		nulls = 0;

		for (i = 0; i < (int) nrows; i++)
		{
			out->isnull[i] = (p[i / 8] >> (i % 8)) & 1;
			nulls += out->isnull[i];
		}
		if ((nrows % 8) != 0 && (p[nbitmap - 1] >> (nrows % 8)) != 0)
			corrupt(id, "The null bitmap has bits past the last row.");
		if (nrows - nulls != nvalues)
			corrupt(id, "The null bitmap does not match the value count.");
		p += nbitmap;
	}
	else
		memset(out->isnull, 0, sizeof(bool) * nrows);

	switch (codec)
	{
		case TS_CODEC_BOOL:
			if ((Size) (end - p) != nvalues)
				corrupt(id, "The boolean values do not fill the payload.");
			for (i = 0, v = 0; i < (int) nrows; i++)
				out->values[i] = out->isnull[i] ? (Datum) 0 : BoolGetDatum(p[v++] != 0);
			break;
		case TS_CODEC_INT:
		case TS_CODEC_DECIMAL:
		case TS_CODEC_FLOAT8:
		case TS_CODEC_FLOAT4:
			{
				int			width = codec == TS_CODEC_FLOAT4 ? 4 : 8;
				uint64	   *codes;

				if ((Size) (end - p) != (Size) nvalues * width)
					corrupt(id, "The fixed-width values do not fill the payload.");
				codes = dec->codes;
				read_planes(p, nvalues, width, codes);
				if (codec == TS_CODEC_INT || codec == TS_CODEC_DECIMAL)
				{
					int64		prev = 0;

					for (v = 0; v < (int) nvalues; v++)
					{
						int64		x = unzigzag(codes[v]);

						if (transform & TS_XFORM_DELTA)
							x = v == 0 ? x : (int64) ((uint64) prev + (uint64) x);
						prev = x;
						codes[v] = (uint64) x;
					}
				}
				for (i = 0, v = 0; i < (int) nrows; i++)
				{
					uint64		c;

					if (out->isnull[i])
					{
						out->values[i] = (Datum) 0;
						continue;
					}
					c = codes[v++];
					if (codec == TS_CODEC_DECIMAL)
						out->values[i] = Float8GetDatum((double) (int64) c / pow10_table[exponent]);
					else if (codec == TS_CODEC_FLOAT8)
					{
						float8		f;

						memcpy(&f, &c, 8);
						out->values[i] = Float8GetDatum(f);
					}
					else if (codec == TS_CODEC_FLOAT4)
					{
						uint32		bits = (uint32) c;
						float4		f;

						memcpy(&f, &bits, 4);
						out->values[i] = Float4GetDatum(f);
					}
					else if (ct->width == 2)
						out->values[i] = Int16GetDatum((int16) (int64) c);
					else if (ct->width == 4)
						out->values[i] = Int32GetDatum((int32) (int64) c);
					else
						out->values[i] = Int64GetDatum((int64) c);
				}
				break;
			}
		case TS_CODEC_TEXT:
		case TS_CODEC_BYTES:
		case TS_CODEC_SEND:
			decode_varlena(ct, codec, p, end, nvalues, dec, id, out);
			break;
		default:
			corrupt(id, psprintf("Unknown codec %d.", codec));
	}
	error_context_stack = errcb.previous;
}

/* ----------------------------------------------------------------
 * Inspection
 * ---------------------------------------------------------------- */

PG_FUNCTION_INFO_V1(training_chunk_codec);
PG_FUNCTION_INFO_V1(training_chunk_values);

/*
 * fs_internal.training_chunk_codec(data bytea) RETURNS text: how a chunk is
 * stored, e.g. "decimal(2) delta zstd nulls rows=8192 values=8000".
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
	appendStringInfoString(&s, codec_name(h[1]));
	if (h[1] == TS_CODEC_DECIMAL)
		appendStringInfo(&s, "(%d)", h[4]);
	if (h[3] & TS_XFORM_DELTA)
		appendStringInfoString(&s, " delta");
	if (h[2] & TS_CHUNK_ZSTD)
		appendStringInfoString(&s, " zstd");
	if (h[2] & TS_CHUNK_NULLS)
		appendStringInfoString(&s, " nulls");
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
	TsDecoder	dec;
	TsDecodedChunk chunk;
	Datum	   *texts;
	Oid			outfn;
	bool		isvarlena;
	FmgrInfo	out;
	int			dims[1];
	int			lbs[1] = {1};
	int			i;

	TsColumnTypeInit(&ct, type, typmod);
	TsDecoderInit(&dec, CurrentMemoryContext);
	TsDecodedChunkInit(&chunk, CurrentMemoryContext);
	TsChunkDecode(&ct, VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), &dec, NULL, &chunk);
	getTypeOutputInfo(type, &outfn, &isvarlena);
	fmgr_info(outfn, &out);
	texts = palloc(sizeof(Datum) * chunk.nrows);
	for (i = 0; i < chunk.nrows; i++)
		texts[i] = chunk.isnull[i] ? (Datum) 0 : CStringGetTextDatum(OutputFunctionCall(&out, chunk.values[i]));
	dims[0] = chunk.nrows;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(texts, chunk.isnull, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(training_chunk_checksum);

/* fs_internal.training_chunk_checksum(data bytea) RETURNS bigint: the CRC-32C stored with a chunk. */
Datum
training_chunk_checksum(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_INT64((int64) TsChunkChecksum(VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data)));
}
