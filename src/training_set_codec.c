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
#include "port/pg_bitutils.h"
#include "port/pg_crc32c.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "training_set.h"
#include "training_set_codec.h"

/* Largest decimal exponent tried for float8 chunks (values are < 2^52 / 10^e). */

const double ts_pow10_table[TS_MAX_DECIMAL_EXP + 1] = {
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


static inline uint64
zigzag(int64 v)
{
	return ((uint64) v << 1) ^ (uint64) (v >> 63);
}


/* Bits needed for v (0 for 0). */
static inline int
bit_width(uint64 v)
{
	return v == 0 ? 0 : 64 - __builtin_clzll(v);
}

/*
 * Appends n unsigned values of width bytes as byte planes, little-endian:
 * byte 0 of every value, then byte 1, and so on, leaving out the planes
 * whose bytes are all zero.  Returns the mask of the planes written.
 */
static uint8
append_planes(StringInfo out, const uint64 *vals, int n, int width)
{
	uint64		any = 0;
	uint8		mask = 0;
	unsigned char *p;
	int			b,
				i;

	for (i = 0; i < n; i++)
		any |= vals[i];
	for (b = 0; b < width; b++)
		if ((any >> (8 * b)) & 0xff)
			mask |= 1 << b;
	enlargeStringInfo(out, n * pg_popcount32(mask));
	p = (unsigned char *) out->data + out->len;
	for (b = 0; b < width; b++)
	{
		int			shift = 8 * b;

		if (!(mask & (1 << b)))
			continue;
		for (i = 0; i < n; i++)
			*p++ = (vals[i] >> shift) & 0xff;
	}
	out->len = (char *) p - out->data;
	out->data[out->len] = '\0';
	return mask;
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

/*
 * Makes a zstd context (or reports it missing) live as long as the memory
 * context owner, with cb (allocated there before the zstd context).
 */
static void *
tie_to_context(MemoryContext owner, MemoryContextCallback *cb, void *zstd, void (*release) (void *))
{
	if (zstd == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create a zstd context")));
	cb->func = release;
	cb->arg = zstd;
	MemoryContextRegisterResetCallback(owner, cb);
	return zstd;
}

/* A zstd compression context that lives as long as the memory context owner. */
void *
TsZstdCompressor(MemoryContext owner)
{
	MemoryContextCallback *cb = MemoryContextAlloc(owner, sizeof(MemoryContextCallback));

	return tie_to_context(owner, cb, ZSTD_createCCtx(), free_cctx);
}

/* A zstd decompression context that lives as long as the memory context owner. */
void *
TsZstdDecompressor(MemoryContext owner)
{
	MemoryContextCallback *cb = MemoryContextAlloc(owner, sizeof(MemoryContextCallback));

	return tie_to_context(owner, cb, ZSTD_createDCtx(), free_dctx);
}

/* A reader for the chunks of a column of type ct, with its buffers in cxt. */
void
TsChunkReaderInit(TsChunkReader *r, TsColumnType *ct, MemoryContext cxt)
{
	memset(r, 0, sizeof(*r));
	r->ct = ct;
	r->cxt = cxt;
}

/* The memory a reader holds. */
Size
TsChunkReaderMemory(TsChunkReader *r)
{
	return sizeof(*r) + r->raw_size + r->block_size + (r->lens ? sizeof(uint32) * TS_GROUP_ROWS : 0);
}

/* A buffer of at least need bytes in cxt: buf if it is large enough, else a larger one. */
char *
TsGrowBuffer(MemoryContext cxt, char *buf, Size *size, Size need)
{
	if (need <= *size && buf != NULL)
		return buf;
	if (buf != NULL)
		pfree(buf);
	*size = Max(need, Min(2 * *size, MaxAllocHugeSize));
	return MemoryContextAllocExtended(cxt, Max(*size, 1), MCXT_ALLOC_HUGE);
}

/* The name of a codec, for messages. */
const char *
TsCodecName(int codec)
{
	static const char *const names[] = {"?", "bool", "int", "decimal", "float4", "float8", "text", "bytes", "send"};

	return codec >= 0 && codec < lengthof(names) ? names[codec] : "?";
}

/* The bytes per value of the byte planes of a codec's chunks (0: none). */
int
TsPlanedWidth(int codec)
{
	switch (codec)
	{
		case TS_CODEC_INT:
		case TS_CODEC_DECIMAL:
		case TS_CODEC_FLOAT8:
			return 8;			/* values */
		case TS_CODEC_FLOAT4:
		case TS_CODEC_TEXT:
		case TS_CODEC_BYTES:
		case TS_CODEC_SEND:
			return 4;			/* values, or lengths */
		default:
			return 0;
	}
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
int
TsServerEncodingBegin(void)
{
	int			client = pg_get_client_encoding();

	if (client != GetDatabaseEncoding())
		SetClientEncoding(GetDatabaseEncoding());
	return client;
}

void
TsServerEncodingEnd(int client)
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
	int			client = TsServerEncodingBegin();
	bytea	   *volatile b = NULL;

	PG_TRY();
	{
		b = SendFunctionCall(&ct->send, value);
	}
	PG_FINALLY();
	{
		TsServerEncodingEnd(client);
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
		double		scale = ts_pow10_table[e];

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
	uint8		planes = 0;
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
				planes = append_planes(&raw, codes, n, 8);
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
				planes = append_planes(&raw, codes, n, 4);
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
				planes = append_planes(&raw, lens, n, 4);
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
	header[5] = planes;
	header[6] = header[7] = 0;
	put_u32(header + 8, buf->nrows);
	put_u32(header + 12, n);
	put_u32(header + 16, raw.len);
	memcpy(VARDATA(result), header, TS_CHUNK_HEADER_SIZE);
	SET_VARSIZE(result, VARHDRSZ + TS_CHUNK_HEADER_SIZE + csize);
	pfree(raw.data);
	return result;
}

