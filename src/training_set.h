/*
 * training_set.h
 *		Training sets: the column chunk format (training_set_codec.c), the
 *		builder that stores a retrieval (training_set_build.c) and the
 *		foreign-data wrapper that reads it back (training_set_fdw.c).
 *
 * A version's rows are cut into chunk groups of at most TS_GROUP_ROWS rows of
 * one split; each column of a group is one chunk, a row of
 * fs_internal.training_chunks with a CRC-32C of its bytes.  A chunk is a
 * fixed little-endian header followed by the payload, zstd-compressed unless
 * that does not make it smaller:
 *
 *	 header (TS_CHUNK_HEADER_SIZE bytes)
 *		uint8	format		TS_CHUNK_FORMAT
 *		uint8	codec		TsCodec
 *		uint8	flags		TS_CHUNK_NULLS, TS_CHUNK_ZSTD
 *		uint8	transform	TS_XFORM_DELTA (integers)
 *		uint8	exponent	decimal exponent of TS_CODEC_DECIMAL
 *		uint8	planes		the byte planes stored (bit b: byte b of the values)
 *		uint8	reserved[2]	zero
 *		uint32	nrows		rows in the chunk
 *		uint32	nvalues		rows that are not NULL
 *		uint32	raw_size	payload bytes before compression
 *	 payload
 *		null bitmap			(nrows + 7) / 8 bytes when TS_CHUNK_NULLS; bit set = NULL
 *		values				nvalues values, by codec:
 *			BOOL		one byte each, 0 or 1
 *			INT			uint64 each (zigzag of the value, or of the difference
 *						from the previous one with TS_XFORM_DELTA), byte planes
 *			DECIMAL		float8 values that are integers times 10^-exponent:
 *						those integers as INT
 *			FLOAT4/8	the IEEE bits, byte planes
 *			TEXT/BYTES	uint32 lengths (byte planes), then the bytes
 *			SEND		uint32 lengths (byte planes), then each value as the
 *						type's binary send function writes it
 *
 * "Byte planes" means the first bytes of every value, then the second bytes
 * and so on, leaving out the planes that are all zero (the high bytes of
 * small numbers): less for zstd to store and to reproduce.
 *
 * Decoding trusts nothing: every length is checked before it is used, and a
 * chunk that does not check out is reported as corrupted.  A reader opens a
 * chunk once per group (checks, decompresses) and decodes its rows
 * TS_BATCH_ROWS at a time, so that a row's values are still in cache when
 * the row is returned.
 */
#ifndef TRAINING_SET_H
#define TRAINING_SET_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"

#define TS_CHUNK_FORMAT			1
#define TS_CHUNK_HEADER_SIZE	20

/* Rows per chunk group; a group also closes when a column holds this many bytes. */
#define TS_GROUP_ROWS			16384
#define TS_GROUP_MAX_BYTES		(16 * 1024 * 1024)

/* Rows decoded at a time from an open chunk. */
#define TS_BATCH_ROWS			256

/* chunk flags */
#define TS_CHUNK_NULLS			0x01
#define TS_CHUNK_ZSTD			0x02

/* value transforms */
#define TS_XFORM_DELTA			0x01

typedef enum TsCodec
{
	TS_CODEC_BOOL = 1,
	TS_CODEC_INT,
	TS_CODEC_DECIMAL,
	TS_CODEC_FLOAT4,
	TS_CODEC_FLOAT8,
	TS_CODEC_TEXT,
	TS_CODEC_BYTES,
	TS_CODEC_SEND
} TsCodec;

/* How a column's values are stored: chosen from its type alone. */
typedef struct TsColumnType
{
	Oid			type;
	int32		typmod;
	TsCodec		codec;			/* DECIMAL is chosen per chunk for FLOAT8 */
	int16		width;			/* bytes of a fixed-width value (INT, FLOAT*) */
	/* SEND columns: the type's binary I/O */
	FmgrInfo	send;
	FmgrInfo	recv;
	Oid			ioparam;
} TsColumnType;

/* A chunk being filled: the values of one column of one group. */
typedef struct TsColumnBuffer
{
	int			nrows;
	int			nvalues;
	StringInfoData nulls;		/* one byte per row: 1 = NULL */
	StringInfoData values;		/* fixed: 8 (INT) or width bytes per value; else bytes */
	StringInfoData lengths;		/* TEXT, BYTES, SEND: uint32 per value */
} TsColumnBuffer;

/* Where a chunk lives, for error messages (set_name NULL: a chunk on its own). */
typedef struct TsChunkId
{
	const char *set_name;
	int32		version;
	int32		chunk_no;
	int32		column_no;
} TsChunkId;

/*
 * A chunk opened for reading: its header and sizes checked, its payload
 * decompressed; its rows are then decoded in order, a batch at a time.  A
 * reader is reused from chunk to chunk of its column, so its buffers are
 * allocated (and mapped by the kernel) once: they grow, never shrink.
 */
typedef struct TsChunkReader
{
	TsColumnType *ct;
	MemoryContext cxt;			/* where the buffers live */
	TsChunkId	id;
	uint8		codec;
	uint8		transform;
	uint8		exponent;
	uint8		planes;
	bool		ascii;			/* TEXT values that are all ASCII */
	int			nrows;
	int			nvalues;
	const unsigned char *bitmap;	/* NULL flags, or NULL without NULLs */
	const unsigned char *data;	/* byte planes (fixed width) or the value bytes */
	int			row;			/* the next row to decode */
	int			value;			/* and its value */
	int64		prev;			/* the last integer decoded (deltas) */
	Size		offset;			/* bytes of the values decoded (varlena) */
	uint32	   *lens;			/* TS_GROUP_ROWS value lengths (varlena) */
	char	   *raw;			/* the decompressed payload */
	Size		raw_size;
	char	   *block;			/* TEXT and BYTES values of the last batch */
	Size		block_size;
	uint64		codes[TS_BATCH_ROWS];
} TsChunkReader;

/* training_set_codec.c */
extern void TsColumnTypeInit(TsColumnType *ct, Oid type, int32 typmod);
extern void TsColumnBufferInit(TsColumnBuffer *buf);
extern void TsColumnBufferReset(TsColumnBuffer *buf);
extern uint64 TsColumnAppend(TsColumnType *ct, TsColumnBuffer *buf, Datum value, bool isnull);
extern bytea *TsChunkEncode(TsColumnType *ct, TsColumnBuffer *buf, void *zstd_cctx, int level);
extern void *TsZstdDecompressor(MemoryContext owner);
extern void TsChunkReaderInit(TsChunkReader *r, TsColumnType *ct, MemoryContext cxt);
extern void TsChunkOpen(TsChunkReader *r, const char *data, Size len, void *zstd_dctx, const TsChunkId *id);
extern void TsChunkRead(TsChunkReader *r, int n, Datum *values, bool *isnull, int stride);
extern Size TsChunkReaderMemory(TsChunkReader *r);
extern uint32 TsChunkChecksum(const char *data, Size len);
extern void TsCorrupt(const TsChunkId *id, const char *detail, const char *detail_log) pg_attribute_noreturn();
extern uint64 TsHashMix(uint64 h);
extern void *TsZstdCompressor(MemoryContext owner);

/* training_set_fdw.c */
struct Plan;
extern bool TsIsTrainingSetScan(struct Plan *plan);

/* training_set_copy.c */
extern void TsCopyInit(void);

#endif							/* TRAINING_SET_H */
