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

/* A zstd decompression context that lives as long as the memory context owner. */
void *
TsZstdDecompressor(MemoryContext owner)
{
	ZSTD_DCtx  *dctx = ZSTD_createDCtx();
	MemoryContextCallback *cb;

	if (dctx == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not create a zstd decompression context")));
	cb = MemoryContextAlloc(owner, sizeof(MemoryContextCallback));
	cb->func = free_dctx;
	cb->arg = dctx;
	MemoryContextRegisterResetCallback(owner, cb);
	return dctx;
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

/* The bytes per value of the byte planes of a codec's chunks (0: none). */
static int
planed_width(int codec)
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
							  codec_name(codec), codec_name(ct->codec)));
	if ((r->transform != 0 && codec != TS_CODEC_INT && codec != TS_CODEC_DECIMAL) ||
		(codec == TS_CODEC_DECIMAL ? r->exponent > TS_MAX_DECIMAL_EXP : r->exponent != 0))
		corrupt(cid, psprintf("The chunk has transform %d and exponent %d.", r->transform, r->exponent));
	if ((r->planes >> planed_width(codec)) != 0)
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
		r->raw = grow_buffer(r->cxt, r->raw, &r->raw_size, raw_size);
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
		r->raw = grow_buffer(r->cxt, r->raw, &r->raw_size, raw_size);
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
	double		scale = pow10_table[r->exponent];
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
		r->block = grow_buffer(r->cxt, r->block, &r->block_size, total + (Size) k * (VARHDRSZ + 3) + 3);
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
	int			client = server_encoding_begin();

	PG_TRY();
	{
		read_varlena(r, n, k, vals, isnull, stride);
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
		corrupt(&r->id, psprintf("A value does not decode as %s: %s", format_type_be(r->ct->type), edata->message));
	}
	PG_END_TRY();
	server_encoding_end(client);
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
	appendStringInfoString(&s, codec_name(h[1]));
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
