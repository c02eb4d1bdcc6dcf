/*
 * profile.c
 *		The fs.profile type, its aggregates and accessors.
 *
 * See profile.h for the format.  The aggregates keep a ProfileState (internal)
 * as transition state; the serial form of that state is the very byte stream
 * of an fs.profile, so a partial state can travel anywhere a profile can, and
 * every state that reaches the server from outside goes through ProfileDecode.
 * The encoding is canonical: a state's bytes depend only on the multiset of
 * inputs, never on how they were split between partial aggregates.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"

#include "profile.h"

PG_FUNCTION_INFO_V1(profile_in);
PG_FUNCTION_INFO_V1(profile_out);
PG_FUNCTION_INFO_V1(profile_recv);
PG_FUNCTION_INFO_V1(profile_send);
PG_FUNCTION_INFO_V1(profile_float8_sfunc);
PG_FUNCTION_INFO_V1(profile_numeric_sfunc);
PG_FUNCTION_INFO_V1(profile_text_sfunc);
PG_FUNCTION_INFO_V1(profile_merge_sfunc);
PG_FUNCTION_INFO_V1(profile_combine);
PG_FUNCTION_INFO_V1(profile_serialize);
PG_FUNCTION_INFO_V1(profile_deserialize);
PG_FUNCTION_INFO_V1(profile_final_numeric);
PG_FUNCTION_INFO_V1(profile_final_text);
PG_FUNCTION_INFO_V1(profile_final_merge);
PG_FUNCTION_INFO_V1(profile_kind);
PG_FUNCTION_INFO_V1(profile_count);
PG_FUNCTION_INFO_V1(profile_nulls);
PG_FUNCTION_INFO_V1(profile_nan_count);
PG_FUNCTION_INFO_V1(profile_inf_count);
PG_FUNCTION_INFO_V1(profile_mean);
PG_FUNCTION_INFO_V1(profile_stddev);
PG_FUNCTION_INFO_V1(profile_variance);
PG_FUNCTION_INFO_V1(profile_min);
PG_FUNCTION_INFO_V1(profile_max);
PG_FUNCTION_INFO_V1(profile_quantile);
PG_FUNCTION_INFO_V1(profile_histogram);
PG_FUNCTION_INFO_V1(profile_distinct);
PG_FUNCTION_INFO_V1(profile_top_values);

/* Multiplier of the bucket mapping: 1 / ln((1 + alpha) / (1 - alpha)). */
#define BUCKET_MULTIPLIER	99.99916666111281
/* Bucket indexes any finite double can reach, with margin. */
#define BUCKET_INDEX_LIMIT	120000
/* FNV-1a 64-bit parameters (the hash of text values) */
#define FNV_OFFSET			UINT64CONST(0xcbf29ce484222325)
#define FNV_PRIME			UINT64CONST(0x100000001b3)
#define EXACT_PENDING_MAX	(1 << 29)

/* ---------- errors ---------- */

static void CorruptProfile(const char *detail) pg_attribute_noreturn();

/* Reports a profile that failed validation. */
static void
CorruptProfile(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid fs.profile value: %s", detail),
			 errhint("fs.profile values are produced by the fs.profile() and fs.profile_merge() aggregates.")));
}

/* ---------- byte stream ---------- */

typedef struct ProfileReader
{
	const uint8 *p;
	const uint8 *end;
} ProfileReader;

/* Appends an unsigned LEB128 varint. */
static void
PutVarint(StringInfo buf, uint64 v)
{
	uint8		b[10];
	int			n = 0;

	do
	{
		b[n] = v & 0x7f;
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	appendBinaryStringInfo(buf, (char *) b, n);
}

/* Appends a signed integer as a zigzag varint. */
static void
PutSVarint(StringInfo buf, int64 v)
{
	PutVarint(buf, ((uint64) v << 1) ^ (uint64) (v >> 63));
}

/* Appends a big-endian unsigned integer of nbytes bytes. */
static void
PutFixed(StringInfo buf, uint64 v, int nbytes)
{
	uint8		b[8];

	for (int i = nbytes - 1; i >= 0; i--)
	{
		b[i] = v & 0xff;
		v >>= 8;
	}
	appendBinaryStringInfo(buf, (char *) b, nbytes);
}

/* Appends a double by its IEEE bits. */
static void
PutDouble(StringInfo buf, double d)
{
	uint64		bits;

	memcpy(&bits, &d, sizeof(bits));
	PutFixed(buf, bits, 8);
}

/* Ensures n more bytes can be read. */
static void
ReaderNeed(ProfileReader *r, Size n)
{
	if ((Size) (r->end - r->p) < n)
		CorruptProfile("truncated");
}

/* Reads a canonical unsigned varint. */
static uint64
GetVarint(ProfileReader *r)
{
	uint64		v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8		b;

		ReaderNeed(r, 1);
		b = *r->p++;
		if (shift == 63 && b > 1)
			CorruptProfile("varint overflows 64 bits");
		v |= (uint64) (b & 0x7f) << shift;
		if (!(b & 0x80))
		{
			if (b == 0 && shift > 0)
				CorruptProfile("non-canonical varint");
			return v;
		}
	}
	CorruptProfile("varint too long");
}

/* Reads a non-negative count that fits int64. */
static int64
GetCount(ProfileReader *r)
{
	uint64		v = GetVarint(r);

	if (v > (uint64) PG_INT64_MAX)
		CorruptProfile("count out of range");
	return (int64) v;
}

/* Reads a zigzag varint. */
static int64
GetSVarint(ProfileReader *r)
{
	uint64		v = GetVarint(r);

	return (int64) (v >> 1) ^ -(int64) (v & 1);
}

/* Reads a big-endian unsigned integer of nbytes bytes. */
static uint64
GetFixed(ProfileReader *r, int nbytes)
{
	uint64		v = 0;

	ReaderNeed(r, nbytes);
	for (int i = 0; i < nbytes; i++)
		v = (v << 8) | *r->p++;
	return v;
}

/* Reads a double by its IEEE bits. */
static double
GetDouble(ProfileReader *r)
{
	uint64		bits = GetFixed(r, 8);
	double		d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* Adds two counts, rejecting overflow. */
static int64
AddCount(int64 a, int64 b)
{
	int64		r;

	if (pg_add_s64_overflow(a, b, &r))
		CorruptProfile("counts overflow");
	return r;
}

/* ---------- exact sums ---------- */

/* Propagates carries so every limb but the top one lies in [0, 2^32). */
static void
ExactNormalize(ExactSum *s)
{
	for (int i = 0; i < EXACT_LIMBS - 1; i++)
	{
		int64		carry = s->limb[i] >> 32;	/* arithmetic shift: floor */

		s->limb[i] -= carry * ((int64) 1 << 32);
		s->limb[i + 1] += carry;
	}
	s->pending = 0;
}

/* Adds magnitude mag (below 2^63), negated if neg, at bit position pos. */
static inline void
ExactAddBits(ExactSum *s, uint64 mag, bool neg, int pos)
{
	int			li = pos >> 5;
	int			sh = pos & 31;
	uint64		hi;
	int64		d0,
				d1,
				d2;

	d0 = (int64) ((mag << sh) & 0xffffffff);
	hi = sh ? (mag >> (32 - sh)) : (mag >> 32);
	d1 = (int64) (hi & 0xffffffff);
	d2 = (int64) (hi >> 32);
	if (neg)
	{
		s->limb[li] -= d0;
		s->limb[li + 1] -= d1;
		s->limb[li + 2] -= d2;
	}
	else
	{
		s->limb[li] += d0;
		s->limb[li + 1] += d1;
		s->limb[li + 2] += d2;
	}
	if (++s->pending >= EXACT_PENDING_MAX)
		ExactNormalize(s);
}

/* Splits a finite double into mantissa and the bit position of its unit, x = mant 2^e2. */
static inline uint64
DoubleParts(double x, int *biased, int *e2)
{
	uint64		bits;
	uint64		mant;

	memcpy(&bits, &x, sizeof(bits));
	*biased = (int) ((bits >> 52) & 0x7ff);
	mant = bits & ((UINT64CONST(1) << 52) - 1);
	if (*biased == 0)
		*e2 = -1074;
	else
	{
		mant |= UINT64CONST(1) << 52;
		*e2 = *biased - 1075;
	}
	return mant;
}

/* Adds a finite double exactly into an accumulator whose limb 0 weighs 2^-bias. */
static inline void
ExactAdd(ExactSum *s, double x, int bias)
{
	int			biased,
				e2;
	uint64		mant;

	if (x == 0.0)
		return;
	mant = DoubleParts(x, &biased, &e2);
	ExactAddBits(s, mant, x < 0, e2 + bias);
}

/* Adds an unsigned 128-bit integer times 2^pos exactly. */
static void
ExactAddWide(ExactSum *s, uint128 v, int pos)
{
	for (int j = 0; v != 0; j++, v >>= 32)
	{
		uint64		digit = (uint64) (v & 0xffffffff);

		if (digit)
			ExactAddBits(s, digit, false, pos + 32 * j);
	}
}

/*
 * Folds staged per-exponent sums (see ProfileState) into exact sums; the
 * staging arrays are indexed by the biased exponent of the inputs.
 */
static void
StageFold(const ProfileState *s, ExactSum *sum, ExactSum *sumsq)
{
	for (int k = 0; k < s->stage_len; k++)
	{
		int			be = s->stage_lo + k;
		int			e2 = be == 0 ? -1074 : be - 1075;
		int64		v = s->stage_sum[k];

		if (v != 0)
			ExactAddBits(sum, v < 0 ? -(uint64) v : (uint64) v, v < 0, e2 + SUM_BIAS);
		if (s->stage_sq[k] != 0)
			ExactAddWide(sumsq, s->stage_sq[k], 2 * e2 + SQ_BIAS);
	}
}

/* Empties the staging arrays into the state's own exact sums. */
static void
StageFlush(ProfileState *s)
{
	StageFold(s, &s->sum, &s->sumsq);
	if (s->stage_len > 0)
	{
		memset(s->stage_sum, 0, sizeof(int64) * s->stage_len);
		memset(s->stage_sq, 0, sizeof(uint128) * s->stage_len);
	}
	s->staged = 0;
}

/* Widens the staging arrays to cover biased exponent be. */
static void
StageGrow(ProfileState *s, int be)
{
	int			lo = s->stage_len ? Min(s->stage_lo, be) : be;
	int			hi = s->stage_len ? Max(s->stage_lo + s->stage_len - 1, be) : be;

	StageFlush(s);
	/* a little slack on each side, within the 2047 exponents there are */
	lo = Max(0, lo - 4);
	hi = Min(2046, hi + 4);
	if (s->stage_sum)
	{
		pfree(s->stage_sum);
		pfree(s->stage_sq);
	}
	s->stage_lo = lo;
	s->stage_len = hi - lo + 1;
	s->stage_sum = MemoryContextAllocZero(s->ctx, sizeof(int64) * s->stage_len);
	s->stage_sq = MemoryContextAllocZero(s->ctx, sizeof(uint128) * s->stage_len);
}

/* Copies the state's exact sums with everything staged folded in; the state is not changed. */
static void
ProfileSums(const ProfileState *s, ExactSum *sum, ExactSum *sumsq)
{
	*sum = s->sum;
	*sumsq = s->sumsq;
	StageFold(s, sum, sumsq);
}

/* Adds one exact sum into another. */
static void
ExactMerge(ExactSum *dst, const ExactSum *src)
{
	ExactSum	t = *src;

	ExactNormalize(&t);
	ExactNormalize(dst);
	for (int i = 0; i < EXACT_LIMBS; i++)
		dst->limb[i] += t.limb[i];
	dst->pending = 1;
}

/* Turns an exact sum into its magnitude (digits in [0, 2^32)); returns true if it was negative. */
static bool
ExactMagnitude(ExactSum *t)
{
	bool		neg;

	ExactNormalize(t);
	neg = t->limb[EXACT_LIMBS - 1] < 0;
	if (neg)
	{
		for (int i = 0; i < EXACT_LIMBS; i++)
			t->limb[i] = -t->limb[i];
		ExactNormalize(t);
	}
	return neg;
}

/* Rounds an exact sum to a double (within one unit in the last place). */
static double
ExactToDouble(const ExactSum *s, int bias)
{
	ExactSum	t = *s;
	bool		neg = ExactMagnitude(&t);
	int			top;
	double		v = 0.0;

	for (top = EXACT_LIMBS - 1; top >= 0 && t.limb[top] == 0; top--)
		;
	for (int k = top; k >= 0 && k >= top - 2; k--)
		v += ldexp((double) t.limb[k], 32 * k - bias);
	return neg ? -v : v;
}

/* Writes an exact sum as sign and magnitude digits. */
static void
ExactEncode(StringInfo buf, const ExactSum *s)
{
	ExactSum	t = *s;
	bool		neg = ExactMagnitude(&t);
	int			lo,
				hi;

	for (hi = EXACT_LIMBS - 1; hi >= 0 && t.limb[hi] == 0; hi--)
		;
	if (hi < 0)
	{
		PutVarint(buf, 0);		/* no digits */
		return;
	}
	for (lo = 0; t.limb[lo] == 0; lo++)
		;
	PutVarint(buf, hi - lo + 1);
	PutVarint(buf, lo);
	appendStringInfoChar(buf, neg ? 1 : 0);
	for (int i = lo; i <= hi; i++)
		PutFixed(buf, (uint64) t.limb[i], 4);
}

/* Reads an exact sum written by ExactEncode. */
static void
ExactDecode(ProfileReader *r, ExactSum *s, int maxlimbs)
{
	uint64		ndigits = GetVarint(r);
	uint64		lo;
	uint8		sign;

	memset(s, 0, sizeof(*s));
	if (ndigits == 0)
		return;
	lo = GetVarint(r);
	if (ndigits > (uint64) maxlimbs || lo > (uint64) maxlimbs - ndigits)
		CorruptProfile("exact sum out of range");
	ReaderNeed(r, 1);
	sign = *r->p++;
	if (sign > 1)
		CorruptProfile("bad sign of exact sum");
	for (uint64 i = 0; i < ndigits; i++)
	{
		int64		d = (int64) GetFixed(r, 4);

		if ((i == 0 || i == ndigits - 1) && d == 0)
			CorruptProfile("non-canonical exact sum");
		s->limb[lo + i] = sign ? -d : d;
	}
	s->pending = 1;
}

/* Returns the rounding error of a * b, so that a * b == p + error exactly. */
static inline double
TwoProductError(double a, double b, double p)
{
#ifdef FP_FAST_FMA
	return fma(a, b, -p);
#else
	double		c,
				ah,
				al,
				bh,
				bl;

	c = 134217729.0 * a;
	ah = c - (c - a);
	al = a - ah;
	c = 134217729.0 * b;
	bh = c - (c - b);
	bl = b - bh;
	return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
}

/* Adds a * b exactly (barring underflow) into an exact sum; false if it overflows. */
static bool
ExactAddProduct(ExactSum *s, double a, double b, int bias)
{
	double		p = a * b;

	if (!isfinite(p))
		return false;
	ExactAdd(s, p, bias);
	ExactAdd(s, TwoProductError(a, b, p), bias);
	return true;
}

/* ---------- bucket stores ---------- */

/*
 * Maps a positive finite double, given by its biased exponent and fraction
 * bits, to its bucket index: ceil(multiplier * (e + m - 1)) for x = m 2^e,
 * m in [1, 2), a piecewise-linear log2 that needs no libm call.
 */
static inline int32
BucketIndexParts(int biased, uint64 frac, double x)
{
	double		f;
	double		v;
	int32		i;

	if (likely(biased != 0))
		f = (double) (biased - 1023) + (double) frac * (1.0 / 4503599627370496.0);
	else
	{
		int			e;
		double		m = frexp(x, &e);	/* subnormal: x = m 2^e, m in [0.5, 1) */

		f = (double) (e - 1) + (2.0 * m - 1.0);
	}
	/* ceil without a libm call: truncation is the ceiling for negatives */
	v = f * BUCKET_MULTIPLIER;
	i = (int32) v;
	return i + (v > (double) i);
}

/* Inverts the mapping: the x whose interpolated log2 is y. */
static double
BucketMapInverse(double y)
{
	double		e = floor(y);

	return ldexp(1.0 + (y - e), (int) e);
}

/* Lower bound of bucket i. */
static double
BucketLower(int32 i)
{
	return BucketMapInverse((double) (i - 1) / BUCKET_MULTIPLIER);
}

/* Upper bound of bucket i. */
static double
BucketUpper(int32 i)
{
	return BucketMapInverse((double) i / BUCKET_MULTIPLIER);
}

/* The value standing for bucket i, within PROFILE_ALPHA of all its members. */
static double
BucketValue(int32 i)
{
	double		lo = BucketLower(i),
				hi = BucketUpper(i);

	return 2.0 * lo * hi / (lo + hi);
}

/* Makes sure indexes lo..hi have room, keeping the counts already stored. */
static void
StoreEnsure(MemoryContext ctx, BucketStore *b, int32 lo, int32 hi)
{
	int32		need = hi - lo + 1;
	int32		alloc;
	int32		base;
	int64	   *counts;

	if (b->counts && lo >= b->base && hi < b->base + b->alloc)
		return;
	alloc = Max(64, need * 2);
	alloc = Min(alloc, PROFILE_MAX_SPAN + 64);
	Assert(alloc >= need);
	base = lo - (alloc - need) / 2;
	counts = MemoryContextAllocZero(ctx, sizeof(int64) * alloc);
	if (b->used)
	{
		Assert(b->lo >= lo && b->hi <= hi);
		memcpy(counts + (b->lo - base), b->counts + (b->lo - b->base),
			   sizeof(int64) * (b->hi - b->lo + 1));
	}
	if (b->counts)
		pfree(b->counts);
	b->counts = counts;
	b->base = base;
	b->alloc = alloc;
}

/*
 * Adds c to bucket i, collapsing buckets more than PROFILE_MAX_SPAN below the
 * highest into the lowest kept one.  Every count ends in max(i, top - span + 1)
 * whatever the insertion order, so the result is order-independent.
 */
static void
StoreAdd(MemoryContext ctx, BucketStore *b, int32 i, int64 c)
{
	if (!b->used)
	{
		StoreEnsure(ctx, b, i, i);
		b->used = true;
		b->lo = b->hi = i;
	}
	else if (i > b->hi)
	{
		int32		floor_idx = i - PROFILE_MAX_SPAN + 1;

		if (floor_idx > b->lo)
		{
			int64		acc = 0;
			int32		end = Min(b->hi, floor_idx - 1);

			for (int32 k = b->lo; k <= end; k++)
			{
				acc += b->counts[k - b->base];
				b->counts[k - b->base] = 0;
			}
			if (b->hi < floor_idx)
			{
				/* everything collapsed: start over with acc at floor_idx */
				b->used = false;
				StoreEnsure(ctx, b, floor_idx, i);
				b->used = true;
				b->hi = floor_idx;
			}
			else
			{
				b->lo = floor_idx;
				StoreEnsure(ctx, b, floor_idx, i);
			}
			b->lo = floor_idx;
			b->counts[floor_idx - b->base] += acc;
		}
		StoreEnsure(ctx, b, b->lo, i);
		b->hi = i;
	}
	else
	{
		int32		floor_idx = b->hi - PROFILE_MAX_SPAN + 1;

		if (i < floor_idx)
			i = floor_idx;
		if (i < b->lo)
		{
			StoreEnsure(ctx, b, i, b->hi);
			b->lo = i;
		}
	}
	b->counts[i - b->base] += c;
}

/* Adds one value to bucket i: the common case inline, the rest in StoreAdd. */
static inline void
StoreAddOne(MemoryContext ctx, BucketStore *b, int32 i)
{
	if (likely(i >= b->lo && i <= b->hi && b->used))
		b->counts[i - b->base]++;
	else
		StoreAdd(ctx, b, i, 1);
}

/* Counts the nonzero buckets of a store. */
static int32
StoreNonzero(const BucketStore *b)
{
	int32		n = 0;

	if (b->used)
		for (int32 k = b->lo; k <= b->hi; k++)
			n += b->counts[k - b->base] != 0;
	return n;
}

/* Writes the nonzero buckets of a store, indexes delta-coded. */
static void
StoreEncode(StringInfo buf, const BucketStore *b)
{
	int64		prev = 0;

	PutVarint(buf, StoreNonzero(b));
	if (!b->used)
		return;
	for (int32 k = b->lo; k <= b->hi; k++)
	{
		int64		c = b->counts[k - b->base];

		if (c == 0)
			continue;
		PutSVarint(buf, (int64) k - prev);
		PutVarint(buf, (uint64) c);
		prev = k;
	}
}

/* Reads a store written by StoreEncode; returns the sum of its counts. */
static int64
StoreDecode(ProfileReader *r, MemoryContext ctx, BucketStore *b)
{
	uint64		n = GetVarint(r);
	int64		idx = 0;
	int64		first = 0;
	int64		total = 0;

	if (n > PROFILE_MAX_SPAN)
		CorruptProfile("too many buckets");
	for (uint64 j = 0; j < n; j++)
	{
		int64		delta = GetSVarint(r);
		int64		c;

		if (j > 0 && delta <= 0)
			CorruptProfile("buckets out of order");
		if (delta < -2 * BUCKET_INDEX_LIMIT || delta > 2 * BUCKET_INDEX_LIMIT)
			CorruptProfile("bucket index out of range");
		idx += delta;
		if (idx < -BUCKET_INDEX_LIMIT || idx > BUCKET_INDEX_LIMIT)
			CorruptProfile("bucket index out of range");
		if (j == 0)
			first = idx;
		else if (idx - first >= PROFILE_MAX_SPAN)
			CorruptProfile("buckets span too wide");
		c = GetCount(r);
		if (c == 0)
			CorruptProfile("empty bucket");
		total = AddCount(total, c);
		StoreAdd(ctx, b, (int32) idx, c);
	}
	return total;
}

/* ---------- text values ---------- */

/*
 * Hash of a text value: FNV-1a over the bytes, then a 64-bit avalanche
 * finalizer so that every bit is uniform (the sample keeps the smallest
 * hashes).  Byte-wise, so the same on every platform: profiles made on one
 * machine validate on any other.
 */
static inline uint64
TextHash(const char *data, int32 len)
{
	uint64		h = FNV_OFFSET;

	for (int32 i = 0; i < len; i++)
	{
		h ^= (uint8) data[i];
		h *= FNV_PRIME;
	}
	h ^= (uint64) len;
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/* Orders text entries by hash, then bytes: the order a profile lists them in. */
int
TextEntryCompare(const TextEntry *x, const TextEntry *y)
{
	int			c;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	c = memcmp(x->data, y->data, Min(x->len, y->len));
	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* qsort comparator over pointers to text entries. */
static int
TextEntryCmp(const void *a, const void *b)
{
	return TextEntryCompare(*(const TextEntry *const *) a, *(const TextEntry *const *) b);
}

/* Rebuilds the hash index of the text entries. */
static void
TextRebuildSlots(ProfileState *s, int32 want)
{
	int32		nslots = 64;

	while (nslots < want * 2)
		nslots *= 2;
	if (s->slots == NULL || s->nslots != nslots)
	{
		if (s->slots)
			pfree(s->slots);
		s->slots = MemoryContextAlloc(s->ctx, sizeof(int32) * nslots);
		s->nslots = nslots;
	}
	memset(s->slots, 0, sizeof(int32) * nslots);
	for (int32 i = 0; i < s->nentries; i++)
	{
		uint32		k = (uint32) s->entries[i].hash & (nslots - 1);

		while (s->slots[k] != 0)
			k = (k + 1) & (nslots - 1);
		s->slots[k] = i + 1;
	}
}

/* Returns the entries sorted by (hash, bytes), as pointers. */
static TextEntry **
TextSorted(const ProfileState *s)
{
	TextEntry **v = palloc(sizeof(TextEntry *) * Max(s->nentries, 1));

	for (int32 i = 0; i < s->nentries; i++)
		v[i] = &s->entries[i];
	qsort(v, s->nentries, sizeof(TextEntry *), TextEntryCmp);
	return v;
}

/* Keeps the PROFILE_TEXT_CAP entries with the smallest hashes (sampled mode). */
static void
TextTruncate(ProfileState *s)
{
	TextEntry **v;
	TextEntry  *kept;
	int32		n = Min(s->nentries, PROFILE_TEXT_CAP);

	s->flags |= PROFILE_FLAG_SAMPLED;
	v = TextSorted(s);
	kept = MemoryContextAlloc(s->ctx, sizeof(TextEntry) * s->maxentries);
	for (int32 i = 0; i < s->nentries; i++)
	{
		if (i < n)
			kept[i] = *v[i];
		else
			pfree(v[i]->data);
	}
	s->cutoff = kept[n - 1].hash;
	pfree(v);
	pfree(s->entries);
	s->entries = kept;
	s->nentries = n;
	TextRebuildSlots(s, s->maxentries);
}

/* Adds c occurrences of a text value. */
static void
TextAdd(ProfileState *s, const char *data, int32 len, int64 c)
{
	uint64		h = TextHash(data, len);
	uint32		k;
	TextEntry  *e;

	if ((s->flags & PROFILE_FLAG_SAMPLED) && h > s->cutoff)
		return;
	if (s->slots == NULL)
	{
		s->maxentries = 16;
		s->entries = MemoryContextAlloc(s->ctx, sizeof(TextEntry) * s->maxentries);
		TextRebuildSlots(s, s->maxentries);
	}
	k = (uint32) h & (s->nslots - 1);
	while (s->slots[k] != 0)
	{
		e = &s->entries[s->slots[k] - 1];
		if (e->hash == h && e->len == len && memcmp(e->data, data, len) == 0)
		{
			e->count += c;
			return;
		}
		k = (k + 1) & (s->nslots - 1);
	}
	if (s->nentries == s->maxentries)
	{
		s->maxentries *= 2;
		s->entries = repalloc(s->entries, sizeof(TextEntry) * s->maxentries);
		TextRebuildSlots(s, s->maxentries);
		k = (uint32) h & (s->nslots - 1);
		while (s->slots[k] != 0)
			k = (k + 1) & (s->nslots - 1);
	}
	e = &s->entries[s->nentries];
	e->hash = h;
	e->len = len;
	e->count = c;
	e->data = MemoryContextAlloc(s->ctx, Max(len, 1));
	memcpy(e->data, data, len);
	s->slots[k] = ++s->nentries;

	/* Over the cap: sample; while sampling, trim in batches. */
	if (!(s->flags & PROFILE_FLAG_SAMPLED) ? s->nentries > PROFILE_TEXT_CAP
		: s->nentries >= 2 * PROFILE_TEXT_CAP)
		TextTruncate(s);
}

/* ---------- states ---------- */

/* Creates an empty state of the given kind in ctx. */
ProfileState *
ProfileStateCreate(MemoryContext ctx, uint8 kind)
{
	ProfileState *s = MemoryContextAllocZero(ctx, sizeof(ProfileState));

	s->ctx = ctx;
	s->kind = kind;
	return s;
}

/* Number of finite values in a numeric state. */
static inline int64
ProfileFinite(const ProfileState *s)
{
	return s->count - s->nan - s->posinf - s->neginf;
}

/* Adds one non-NULL double to a numeric state. */
static inline void
ProfileAddDouble(ProfileState *s, double x)
{
	uint64		bits;
	uint64		frac;
	uint64		mant;
	int			be;
	bool		negative;
	int			k;

	s->count++;
	memcpy(&bits, &x, sizeof(bits));
	be = (int) ((bits >> 52) & 0x7ff);
	frac = bits & ((UINT64CONST(1) << 52) - 1);
	if (unlikely(be == 0x7ff))
	{
		if (frac != 0)
			s->nan++;
		else if (bits >> 63)
			s->neginf++;
		else
			s->posinf++;
		return;
	}
	if (unlikely(be == 0 && frac == 0))
	{
		x = 0.0;				/* -0 and +0 are one value: keeps min/max canonical */
		s->zeros++;
	}
	if (ProfileFinite(s) == 1)
		s->min = s->max = x;
	else if (x < s->min)
		s->min = x;
	else if (x > s->max)
		s->max = x;
	if (unlikely(x == 0.0))
		return;					/* zeros add nothing to the sums and have no bucket */

	/* stage x and x^2 exactly, per exponent; folded into the exact sums in batches */
	negative = (bits >> 63) != 0;
	mant = be ? frac | (UINT64CONST(1) << 52) : frac;
	if (unlikely(be < s->stage_lo || be >= s->stage_lo + s->stage_len))
		StageGrow(s, be);
	k = be - s->stage_lo;
	s->stage_sum[k] += negative ? -(int64) mant : (int64) mant;
	s->stage_sq[k] += (uint128) mant * mant;
	if (unlikely(++s->staged >= PROFILE_STAGE_BATCH))
		StageFlush(s);

	StoreAddOne(s->ctx, negative ? &s->neg : &s->pos, BucketIndexParts(be, frac, fabs(x)));
}

/* Merges src into dst (same kind). */
static void
ProfileMergeInto(ProfileState *dst, const ProfileState *src)
{
	if (dst->kind != src->kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot merge a numeric fs.profile with a text fs.profile")));
	if (dst->kind == PROFILE_KIND_NUMERIC)
	{
		int64		fd = ProfileFinite(dst),
					fs = ProfileFinite(src);

		if (fs > 0)
		{
			if (fd == 0)
			{
				dst->min = src->min;
				dst->max = src->max;
			}
			else
			{
				dst->min = Min(dst->min, src->min);
				dst->max = Max(dst->max, src->max);
			}
		}
		dst->nan = AddCount(dst->nan, src->nan);
		dst->posinf = AddCount(dst->posinf, src->posinf);
		dst->neginf = AddCount(dst->neginf, src->neginf);
		dst->zeros = AddCount(dst->zeros, src->zeros);
		dst->flags |= src->flags;
		{
			ExactSum	sum,
						sumsq;

			ProfileSums(src, &sum, &sumsq);
			ExactMerge(&dst->sum, &sum);
			ExactMerge(&dst->sumsq, &sumsq);
		}
		if (src->pos.used)
			for (int32 k = src->pos.lo; k <= src->pos.hi; k++)
				if (src->pos.counts[k - src->pos.base])
					StoreAdd(dst->ctx, &dst->pos, k, src->pos.counts[k - src->pos.base]);
		if (src->neg.used)
			for (int32 k = src->neg.lo; k <= src->neg.hi; k++)
				if (src->neg.counts[k - src->neg.base])
					StoreAdd(dst->ctx, &dst->neg, k, src->neg.counts[k - src->neg.base]);
	}
	else
	{
		bool		src_sampled = (src->flags & PROFILE_FLAG_SAMPLED) != 0;

		if (src_sampled &&
			(!(dst->flags & PROFILE_FLAG_SAMPLED) || src->cutoff < dst->cutoff))
		{
			/* values above src's cutoff cannot be among the final sample */
			int32		j = 0;

			for (int32 i = 0; i < dst->nentries; i++)
			{
				if (dst->entries[i].hash <= src->cutoff)
					dst->entries[j++] = dst->entries[i];
				else
					pfree(dst->entries[i].data);
			}
			dst->nentries = j;
			dst->flags |= PROFILE_FLAG_SAMPLED;
			dst->cutoff = src->cutoff;
			if (dst->slots)
				TextRebuildSlots(dst, dst->maxentries);
		}
		for (int32 i = 0; i < src->nentries; i++)
			TextAdd(dst, src->entries[i].data, src->entries[i].len, src->entries[i].count);
	}
	dst->count = AddCount(dst->count, src->count);
	dst->nulls = AddCount(dst->nulls, src->nulls);
}

/* ---------- encoding ---------- */

/* Writes the canonical bytes of a state after the varlena header room. */
static bytea *
ProfileEncode(const ProfileState *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	appendBinaryStringInfo(&buf, "FSP", 3);
	appendStringInfoChar(&buf, PROFILE_FORMAT_VERSION);
	appendStringInfoChar(&buf, s->kind);
	appendStringInfoChar(&buf, s->flags);
	PutVarint(&buf, s->count);
	PutVarint(&buf, s->nulls);
	if (s->kind == PROFILE_KIND_NUMERIC)
	{
		PutVarint(&buf, s->nan);
		PutVarint(&buf, s->posinf);
		PutVarint(&buf, s->neginf);
		PutVarint(&buf, s->zeros);
		PutDouble(&buf, ProfileFinite(s) > 0 ? s->min : 0.0);
		PutDouble(&buf, ProfileFinite(s) > 0 ? s->max : 0.0);
		{
			ExactSum	sum,
						sumsq;

			ProfileSums(s, &sum, &sumsq);
			ExactEncode(&buf, &sum);
			ExactEncode(&buf, &sumsq);
		}
		PutFixed(&buf, PROFILE_ALPHA_CODE, 2);
		StoreEncode(&buf, &s->neg);
		StoreEncode(&buf, &s->pos);
	}
	else
	{
		TextEntry **v = TextSorted(s);
		int32		n = s->nentries;

		if (s->flags & PROFILE_FLAG_SAMPLED)
			n = Min(n, PROFILE_TEXT_CAP);
		PutVarint(&buf, n);
		for (int32 i = 0; i < n; i++)
		{
			PutVarint(&buf, v[i]->len);
			appendBinaryStringInfo(&buf, v[i]->data, v[i]->len);
			PutVarint(&buf, v[i]->count);
		}
		pfree(v);
	}
	SET_VARSIZE(buf.data, buf.len);
	return (bytea *) buf.data;
}

/*
 * Validates a profile byte stream and returns its state, allocated in ctx.
 * The one entry point for bytes from outside: text input, binary input,
 * deserialization and every accessor.
 */
ProfileState *
ProfileDecode(const char *data, Size len, MemoryContext ctx)
{
	ProfileReader r;
	ProfileState *s;
	uint8		version,
				kind,
				flags;

	r.p = (const uint8 *) data;
	r.end = r.p + len;
	ReaderNeed(&r, 6);
	if (memcmp(r.p, "FSP", 3) != 0)
		CorruptProfile("bad magic");
	r.p += 3;
	version = *r.p++;
	kind = *r.p++;
	flags = *r.p++;
	if (version != PROFILE_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported fs.profile format version %d", version),
				 errhint("This build reads format version %d.", PROFILE_FORMAT_VERSION)));
	if (kind != PROFILE_KIND_NUMERIC && kind != PROFILE_KIND_TEXT)
		CorruptProfile("unknown kind");
	if ((flags & ~PROFILE_FLAGS_KNOWN) ||
		(kind == PROFILE_KIND_NUMERIC && (flags & PROFILE_FLAG_SAMPLED)))
		CorruptProfile("unknown flags");

	s = ProfileStateCreate(ctx, kind);
	s->flags = flags;
	s->count = GetCount(&r);
	s->nulls = GetCount(&r);
	if (kind == PROFILE_KIND_NUMERIC)
	{
		int64		special;
		int64		finite;
		int64		inbuckets;

		s->nan = GetCount(&r);
		s->posinf = GetCount(&r);
		s->neginf = GetCount(&r);
		s->zeros = GetCount(&r);
		special = AddCount(AddCount(s->nan, s->posinf), s->neginf);
		if (special > s->count)
			CorruptProfile("special values exceed count");
		finite = s->count - special;
		s->min = GetDouble(&r);
		s->max = GetDouble(&r);
		if (finite > 0 ? (!isfinite(s->min) || !isfinite(s->max) || s->min > s->max)
			: (s->min != 0.0 || s->max != 0.0))
			CorruptProfile("bad minimum or maximum");
		if (finite > 0 && ((s->min == 0.0 && signbit(s->min)) ||
						   (s->max == 0.0 && signbit(s->max))))
			CorruptProfile("negative zero bound");
		ExactDecode(&r, &s->sum, SUM_USED_LIMBS);
		ExactDecode(&r, &s->sumsq, SQ_USED_LIMBS);
		if (GetFixed(&r, 2) != PROFILE_ALPHA_CODE)
			CorruptProfile("unknown sketch accuracy");
		inbuckets = StoreDecode(&r, ctx, &s->neg);
		inbuckets = AddCount(inbuckets, StoreDecode(&r, ctx, &s->pos));
		if (AddCount(inbuckets, s->zeros) != finite)
			CorruptProfile("bucket counts do not add up");
		if (s->neg.used != (finite > 0 && s->min < 0) ||
			s->pos.used != (finite > 0 && s->max > 0) ||
			(s->zeros > 0 && (s->min > 0 || s->max < 0)) ||
			(finite > 0 && (s->min == 0 || s->max == 0) && s->zeros == 0))
			CorruptProfile("buckets disagree with minimum or maximum");
	}
	else
	{
		uint64		n = GetVarint(&r);
		int64		listed = 0;
		TextEntry	prev = {0};

		if (n > PROFILE_TEXT_CAP)
			CorruptProfile("too many text values");
		if ((flags & PROFILE_FLAG_SAMPLED) && n != PROFILE_TEXT_CAP)
			CorruptProfile("sampled text profile of the wrong size");
		s->cutoff = PG_UINT64_MAX;	/* admit everything listed */
		for (uint64 i = 0; i < n; i++)
		{
			uint64		vlen = GetVarint(&r);
			TextEntry	cur;
			const TextEntry *pa = &prev,
					   *pb = &cur;
			int64		c;

			if (vlen > MaxAllocSize)
				CorruptProfile("text value too long");
			ReaderNeed(&r, vlen);
			pg_verifymbstr((const char *) r.p, (int) vlen, false);
			cur.data = (char *) r.p;
			cur.len = (int32) vlen;
			cur.hash = TextHash((const char *) r.p, (int32) vlen);
			if (i > 0 && TextEntryCmp(&pa, &pb) >= 0)
				CorruptProfile("text values out of order");
			r.p += vlen;
			c = GetCount(&r);
			if (c == 0)
				CorruptProfile("text value with zero count");
			listed = AddCount(listed, c);
			/* insert without triggering sampling: the set is canonical already */
			TextAdd(s, cur.data, cur.len, c);
			prev = cur;
		}
		if (flags & PROFILE_FLAG_SAMPLED)
		{
			if (listed > s->count)
				CorruptProfile("text counts exceed count");
			s->cutoff = prev.hash;
		}
		else if (listed != s->count)
			CorruptProfile("text counts do not add up");
	}
	if (r.p != r.end)
		CorruptProfile("trailing bytes");
	return s;
}

/* Decodes a profile datum into a state allocated in ctx. */
ProfileState *
ProfileFromDatum(Datum d, MemoryContext ctx)
{
	bytea	   *b = (bytea *) PG_DETOAST_DATUM_PACKED(d);

	return ProfileDecode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), ctx);
}

/* ---------- derived statistics ---------- */

/* Divides an exact sum by 2^(32 j), dropping the bits that fall below limb 0. */
static void
ExactShiftDown(ExactSum *s, int j)
{
	if (j <= 0)
		return;
	ExactNormalize(s);
	for (int k = 0; k < EXACT_LIMBS; k++)
		s->limb[k] = k + j < EXACT_LIMBS ? s->limb[k + j] : 0;
}

/*
 * The scale, in limbs of 32 bits, by which sums are divided before they are
 * turned into doubles: zero unless values exceed 2^480, so that squares and
 * products of huge values stay finite.
 */
static int
ProfileScale(const ProfileState *s)
{
	double		maxabs = Max(fabs(s->min), fabs(s->max));
	int			e;

	if (!(maxabs > 0x1p480))
		return 0;
	(void) frexp(maxabs, &e);
	return (e - 480 + 31) / 32;
}

/* Mean of the finite values (NaN when there are none). */
double
ProfileMean(const ProfileState *s)
{
	int64		n = ProfileFinite(s);
	int			j = ProfileScale(s);
	ExactSum	sum,
				sumsq;

	if (n == 0)
		return get_float8_nan();
	ProfileSums(s, &sum, &sumsq);
	ExactShiftDown(&sum, j);
	return ldexp(ExactToDouble(&sum, SUM_BIAS) / (double) n, 32 * j);
}

/*
 * Variance of the finite values, from the exact sums:
 * M2 = sum((x - m)^2) - r^2 / n with m the rounded mean and r = S - n m, all
 * accumulated exactly, so cancellation costs nothing.  Huge values are scaled
 * down by a power of two first.
 */
double
ProfileVariance(const ProfileState *s, bool sample)
{
	int64		n = ProfileFinite(s);
	int			j = ProfileScale(s);
	double		m;
	double		r;
	double		m2;
	double		mm,
				mm_err;
	ExactSum	sum,
				acc;
	bool		neg;

	if (n == 0 || (sample && n < 2))
		return get_float8_nan();
	m = ldexp(ProfileMean(s), -32 * j);		/* the mean, scaled */
	if (!isfinite(m))
		return get_float8_infinity();
	ProfileSums(s, &sum, &acc);
	ExactShiftDown(&sum, j);
	ExactShiftDown(&acc, 2 * j);

	/* Q - 2 m S + n m^2, with S taken limb by limb */
	mm = m * m;
	mm_err = TwoProductError(m, m, mm);
	if (!ExactAddProduct(&acc, (double) n, mm, SQ_BIAS) ||
		!ExactAddProduct(&acc, (double) n, mm_err, SQ_BIAS))
		return get_float8_infinity();
	neg = ExactMagnitude(&sum);
	for (int k = 0; k < EXACT_LIMBS; k++)
	{
		if (sum.limb[k] != 0)
		{
			double		term = ldexp((double) (neg ? -sum.limb[k] : sum.limb[k]),
									 32 * k - SUM_BIAS);

			if (!isfinite(term) || !ExactAddProduct(&acc, -2.0 * m, term, SQ_BIAS))
				return get_float8_infinity();
		}
	}
	m2 = ExactToDouble(&acc, SQ_BIAS);

	/* minus r^2 / n, r = S - n m */
	ProfileSums(s, &sum, &acc);
	ExactShiftDown(&sum, j);
	if (!ExactAddProduct(&sum, -(double) n, m, SUM_BIAS))
		return get_float8_infinity();
	r = ExactToDouble(&sum, SUM_BIAS);
	m2 -= r * r / (double) n;
	if (m2 < 0)
		m2 = 0;
	return ldexp(m2 / (double) (sample ? n - 1 : n), 64 * j);
}

/* The DDSketch quantile: a value within PROFILE_ALPHA of the order statistic at rank floor(q (n - 1)). */
double
ProfileQuantile(const ProfileState *s, double q)
{
	int64		n = ProfileFinite(s);
	int64		rank;
	int64		seen = 0;
	double		v;

	if (n == 0)
		return get_float8_nan();
	if (q <= 0)
		return s->min;
	if (q >= 1)
		return s->max;
	rank = (int64) floor(q * (double) (n - 1));
	if (s->neg.used)
		for (int32 k = s->neg.hi; k >= s->neg.lo; k--)
		{
			seen += s->neg.counts[k - s->neg.base];
			if (seen > rank)
			{
				v = -BucketValue(k);
				goto found;
			}
		}
	seen += s->zeros;
	if (seen > rank)
	{
		v = 0.0;
		goto found;
	}
	if (s->pos.used)
		for (int32 k = s->pos.lo; k <= s->pos.hi; k++)
		{
			seen += s->pos.counts[k - s->pos.base];
			if (seen > rank)
			{
				v = BucketValue(k);
				goto found;
			}
		}
	v = s->max;
found:
	return Max(s->min, Min(s->max, v));
}

/* Appends one segment to a distribution under construction, clipped to [min, max]. */
static void
DistAppend(ProfileDist *d, const ProfileState *s, double lo, double hi, int64 count)
{
	ProfileSegment *g = &d->seg[d->nseg++];

	lo = Max(lo, s->min);
	hi = Min(hi, s->max);
	if (lo > hi)
	{
		/* rounding pushed the bucket outside [min, max]: pin it */
		lo = hi = (hi < s->min) ? s->min : s->max;
	}
	g->lo = lo;
	g->hi = hi;
	g->mass = (double) count / (double) d->n;
}

/*
 * Builds the distribution a numeric profile stands for: each bucket's values
 * spread uniformly over the bucket (clipped to [min, max]), zeros as a point.
 */
void
ProfileBuildDist(const ProfileState *s, ProfileDist *d)
{
	int			cap = 1 + StoreNonzero(&s->neg) + StoreNonzero(&s->pos);

	d->n = ProfileFinite(s);
	d->nseg = 0;
	d->seg = palloc(sizeof(ProfileSegment) * cap);
	if (d->n == 0)
		return;
	if (s->neg.used)
		for (int32 k = s->neg.hi; k >= s->neg.lo; k--)
		{
			int64		c = s->neg.counts[k - s->neg.base];
			double		upper = -BucketLower(k);

			if (c == 0)
				continue;
			/* a collapsed lowest bucket reaches up to zero */
			if (k == s->neg.lo && s->neg.hi - s->neg.lo + 1 == PROFILE_MAX_SPAN)
				upper = 0.0;
			DistAppend(d, s, -BucketUpper(k), upper, c);
		}
	if (s->zeros > 0)
		DistAppend(d, s, 0.0, 0.0, s->zeros);
	if (s->pos.used)
		for (int32 k = s->pos.lo; k <= s->pos.hi; k++)
		{
			int64		c = s->pos.counts[k - s->pos.base];
			double		lower = BucketLower(k);

			if (c == 0)
				continue;
			if (k == s->pos.lo && s->pos.hi - s->pos.lo + 1 == PROFILE_MAX_SPAN)
				lower = 0.0;
			DistAppend(d, s, lower, BucketUpper(k), c);
		}
}

/* P(X <= x) under the distribution. */
double
ProfileDistCdf(const ProfileDist *d, double x)
{
	double		f = 0.0;

	/* segments are few thousand at most; callers that sweep use their own loop */
	for (int i = 0; i < d->nseg; i++)
	{
		const ProfileSegment *g = &d->seg[i];

		if (g->hi <= x)
			f += g->mass;
		else if (g->lo < x)
			f += g->mass * (x - g->lo) / (g->hi - g->lo);
		else
			break;
	}
	return Min(f, 1.0);
}

/* The x with P(X <= x) = q, interpolating within segments. */
double
ProfileDistQuantile(const ProfileDist *d, double q)
{
	double		cum = 0.0;

	if (d->nseg == 0)
		return get_float8_nan();
	for (int i = 0; i < d->nseg; i++)
	{
		const ProfileSegment *g = &d->seg[i];

		if (cum + g->mass >= q)
		{
			double		t = g->mass > 0 ? (q - cum) / g->mass : 0.0;

			t = Max(0.0, Min(1.0, t));
			return g->lo + t * (g->hi - g->lo);
		}
		cum += g->mass;
	}
	return d->seg[d->nseg - 1].hi;
}

/* ---------- SQL: I/O ---------- */

/* Returns the argument as a varlena profile after validating it. */
static bytea *
ProfileFromBytes(const char *data, Size len)
{
	bytea	   *result;
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "fs.profile check",
											  ALLOCSET_DEFAULT_SIZES);

	ProfileDecode(data, len, tmp);
	MemoryContextDelete(tmp);
	result = palloc(len + VARHDRSZ);
	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), data, len);
	return result;
}

/* Text input: the hex form of the profile's bytes. */
Datum
profile_in(PG_FUNCTION_ARGS)
{
	const char *str = PG_GETARG_CSTRING(0);
	Size		slen = strlen(str);
	char	   *bytes;

	if (slen % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type fs.profile: odd number of hex digits")));
	bytes = palloc(slen / 2 + 1);
	for (Size i = 0; i < slen; i += 2)
	{
		int			v[2];

		for (int j = 0; j < 2; j++)
		{
			char		c = str[i + j];

			if (c >= '0' && c <= '9')
				v[j] = c - '0';
			else if (c >= 'a' && c <= 'f')
				v[j] = c - 'a' + 10;
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid input syntax for type fs.profile: bad hex digit at position %d",
								(int) (i + j + 1)),
						 errhint("The text form of fs.profile is lowercase hexadecimal.")));
		}
		bytes[i / 2] = (char) (v[0] * 16 + v[1]);
	}
	PG_RETURN_BYTEA_P(ProfileFromBytes(bytes, slen / 2));
}

/* Text output: the profile's bytes in lowercase hex. */
Datum
profile_out(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	Size		len = VARSIZE_ANY_EXHDR(b);
	char	   *out = palloc(len * 2 + 1);

	hex_encode(VARDATA_ANY(b), len, out);
	out[len * 2] = '\0';
	PG_RETURN_CSTRING(out);
}

/* Binary input: the profile's bytes, validated. */
Datum
profile_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	Size		len = buf->len - buf->cursor;
	const char *data = pq_getmsgbytes(buf, len);

	PG_RETURN_BYTEA_P(ProfileFromBytes(data, len));
}

/* Binary output: the profile's bytes. */
Datum
profile_send(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_P_COPY(0);

	PG_RETURN_BYTEA_P(b);
}

/* ---------- SQL: aggregates ---------- */

/* Returns the aggregate context, or fails when not called as an aggregate. */
static MemoryContext
ProfileAggContext(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggctx;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s called in non-aggregate context", fname)));
	return aggctx;
}

/* Transition of fs.profile(float8). */
Datum
profile_float8_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_float8_sfunc");
	ProfileState *s = PG_ARGISNULL(0) ? ProfileStateCreate(aggctx, PROFILE_KIND_NUMERIC)
		: (ProfileState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
		s->nulls++;
	else
		ProfileAddDouble(s, PG_GETARG_FLOAT8(1));
	PG_RETURN_POINTER(s);
}

/* Transition of fs.profile(numeric): values are profiled as float8. */
Datum
profile_numeric_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_numeric_sfunc");
	ProfileState *s = PG_ARGISNULL(0) ? ProfileStateCreate(aggctx, PROFILE_KIND_NUMERIC)
		: (ProfileState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
		s->nulls++;
	else
		ProfileAddDouble(s, DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
															   PG_GETARG_DATUM(1))));
	PG_RETURN_POINTER(s);
}

/* Transition of fs.profile(text). */
Datum
profile_text_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_text_sfunc");
	ProfileState *s = PG_ARGISNULL(0) ? ProfileStateCreate(aggctx, PROFILE_KIND_TEXT)
		: (ProfileState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
		s->nulls++;
	else
	{
		text	   *t = PG_GETARG_TEXT_PP(1);

		s->count++;
		TextAdd(s, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), 1);
	}
	PG_RETURN_POINTER(s);
}

/* Transition of fs.profile_merge(fs.profile): NULL profiles are skipped. */
Datum
profile_merge_sfunc(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_merge_sfunc");
	ProfileState *s = PG_ARGISNULL(0) ? NULL : (ProfileState *) PG_GETARG_POINTER(0);
	MemoryContext tmp;
	ProfileState *in;

	if (PG_ARGISNULL(1))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s);
	}
	tmp = AllocSetContextCreate(CurrentMemoryContext, "fs.profile merge",
								ALLOCSET_DEFAULT_SIZES);
	in = ProfileFromDatum(PG_GETARG_DATUM(1), tmp);
	if (s == NULL)
		s = ProfileStateCreate(aggctx, in->kind);
	ProfileMergeInto(s, in);
	MemoryContextDelete(tmp);
	PG_RETURN_POINTER(s);
}

/* Combines two partial states; a NULL first state takes a copy of the second. */
Datum
profile_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_combine");
	ProfileState *a = PG_ARGISNULL(0) ? NULL : (ProfileState *) PG_GETARG_POINTER(0);
	ProfileState *b = PG_ARGISNULL(1) ? NULL : (ProfileState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = ProfileStateCreate(aggctx, b->kind);
	ProfileMergeInto(a, b);
	PG_RETURN_POINTER(a);
}

/* Serializes a state to the bytes of the equivalent fs.profile. */
Datum
profile_serialize(PG_FUNCTION_ARGS)
{
	ProfileState *s = (ProfileState *) PG_GETARG_POINTER(0);

	(void) ProfileAggContext(fcinfo, "profile_serialize");
	PG_RETURN_BYTEA_P(ProfileEncode(s));
}

/* Deserializes a state, validating it like any other profile bytes. */
Datum
profile_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = ProfileAggContext(fcinfo, "profile_deserialize");

	PG_RETURN_POINTER(ProfileFromDatum(PG_GETARG_DATUM(0), aggctx));
}

/* Final function of fs.profile(float8/numeric): an empty input gives an empty profile. */
Datum
profile_final_numeric(PG_FUNCTION_ARGS)
{
	ProfileState *s = PG_ARGISNULL(0) ? NULL : (ProfileState *) PG_GETARG_POINTER(0);

	if (s == NULL)
		s = ProfileStateCreate(CurrentMemoryContext, PROFILE_KIND_NUMERIC);
	PG_RETURN_BYTEA_P(ProfileEncode(s));
}

/* Final function of fs.profile(text): an empty input gives an empty profile. */
Datum
profile_final_text(PG_FUNCTION_ARGS)
{
	ProfileState *s = PG_ARGISNULL(0) ? NULL : (ProfileState *) PG_GETARG_POINTER(0);

	if (s == NULL)
		s = ProfileStateCreate(CurrentMemoryContext, PROFILE_KIND_TEXT);
	PG_RETURN_BYTEA_P(ProfileEncode(s));
}

/* Final function of fs.profile_merge: NULL when no profile was merged. */
Datum
profile_final_merge(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(ProfileEncode((ProfileState *) PG_GETARG_POINTER(0)));
}

/* ---------- SQL: accessors ---------- */

/* Decodes argument 0 into a state in the current context. */
static ProfileState *
ProfileArg(FunctionCallInfo fcinfo)
{
	return ProfileFromDatum(PG_GETARG_DATUM(0), CurrentMemoryContext);
}

/* Decodes argument 0 and insists it is numeric. */
static ProfileState *
NumericProfileArg(FunctionCallInfo fcinfo, const char *what)
{
	ProfileState *s = ProfileArg(fcinfo);

	if (s->kind != PROFILE_KIND_NUMERIC)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs a numeric fs.profile, not a text one", what)));
	return s;
}

/* 'numeric' or 'text'. */
Datum
profile_kind(PG_FUNCTION_ARGS)
{
	ProfileState *s = ProfileArg(fcinfo);

	PG_RETURN_TEXT_P(cstring_to_text(s->kind == PROFILE_KIND_NUMERIC ? "numeric" : "text"));
}

/* Number of non-NULL inputs. */
Datum
profile_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(ProfileArg(fcinfo)->count);
}

/* Number of NULL inputs. */
Datum
profile_nulls(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(ProfileArg(fcinfo)->nulls);
}

/* Number of NaN inputs. */
Datum
profile_nan_count(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(NumericProfileArg(fcinfo, "fs.profile_nan_count")->nan);
}

/* Number of infinite inputs of either sign. */
Datum
profile_inf_count(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_inf_count");

	PG_RETURN_INT64(s->posinf + s->neginf);
}

/* Mean of the finite values; NULL when there are none. */
Datum
profile_mean(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_mean");

	if (ProfileFinite(s) == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(ProfileMean(s));
}

/* Sample standard deviation of the finite values; NULL below two. */
Datum
profile_stddev(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_stddev");

	if (ProfileFinite(s) < 2)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sqrt(ProfileVariance(s, true)));
}

/* Sample variance of the finite values; NULL below two. */
Datum
profile_variance(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_variance");

	if (ProfileFinite(s) < 2)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(ProfileVariance(s, true));
}

/* Smallest finite value; NULL when there are none. */
Datum
profile_min(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_min");

	if (ProfileFinite(s) == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s->min);
}

/* Largest finite value; NULL when there are none. */
Datum
profile_max(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_max");

	if (ProfileFinite(s) == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(s->max);
}

/* Quantile q of the finite values, within PROFILE_ALPHA relative error. */
Datum
profile_quantile(PG_FUNCTION_ARGS)
{
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_quantile");
	double		q = PG_GETARG_FLOAT8(1);

	if (isnan(q) || q < 0 || q > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quantile must be between 0 and 1, not %g", q)));
	if (ProfileFinite(s) == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(ProfileQuantile(s, q));
}

/*
 * Equal-width histogram of the finite values between min and max: each sketch
 * bucket's count goes to the bin holding the bucket's value.
 */
Datum
profile_histogram(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ProfileState *s = NumericProfileArg(fcinfo, "fs.profile_histogram");
	int32		nbins = PG_GETARG_INT32(1);
	int64	   *counts;
	double		width;

	if (nbins < 1 || nbins > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of histogram bins must be between 1 and 10000, not %d", nbins)));
	InitMaterializedSRF(fcinfo, 0);
	if (ProfileFinite(s) == 0)
		PG_RETURN_NULL();
	counts = palloc0(sizeof(int64) * nbins);
	width = (s->max - s->min) / nbins;

#define HIST_ADD(v, c) \
	do { \
		double	_v = Max(s->min, Min(s->max, (v))); \
		int		_b = width > 0 ? (int) floor((_v - s->min) / width) : 0; \
		counts[Max(0, Min(nbins - 1, _b))] += (c); \
	} while (0)

	if (s->neg.used)
		for (int32 k = s->neg.lo; k <= s->neg.hi; k++)
			if (s->neg.counts[k - s->neg.base])
				HIST_ADD(-BucketValue(k), s->neg.counts[k - s->neg.base]);
	if (s->zeros)
		HIST_ADD(0.0, s->zeros);
	if (s->pos.used)
		for (int32 k = s->pos.lo; k <= s->pos.hi; k++)
			if (s->pos.counts[k - s->pos.base])
				HIST_ADD(BucketValue(k), s->pos.counts[k - s->pos.base]);
#undef HIST_ADD

	for (int i = 0; i < nbins; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = Int32GetDatum(i + 1);
		values[1] = Float8GetDatum(s->min + width * i);
		values[2] = Float8GetDatum(i == nbins - 1 ? s->max : s->min + width * (i + 1));
		values[3] = Int64GetDatum(counts[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}

/* Distinct non-NULL values: exact for text below the cap, else estimated. */
Datum
profile_distinct(PG_FUNCTION_ARGS)
{
	ProfileState *s = ProfileArg(fcinfo);

	if (s->kind != PROFILE_KIND_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("fs.profile_distinct needs a text fs.profile, not a numeric one")));
	if (!(s->flags & PROFILE_FLAG_SAMPLED))
		PG_RETURN_FLOAT8((double) s->nentries);
	/* KMV: k - 1 values below the k-th smallest hash, as a fraction of the hash space */
	PG_RETURN_FLOAT8((double) (PROFILE_TEXT_CAP - 1) /
					 (((double) s->cutoff + 1.0) / 18446744073709551616.0));
}

/* Orders text entries by count descending, then bytes. */
static int
TextCountCmp(const void *a, const void *b)
{
	const TextEntry *x = *(const TextEntry *const *) a;
	const TextEntry *y = *(const TextEntry *const *) b;
	int			c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = memcmp(x->data, y->data, Min(x->len, y->len));
	if (c != 0)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* The most frequent listed text values, then one NULL-valued row for the other values. */
Datum
profile_top_values(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ProfileState *s = ProfileArg(fcinfo);
	int32		limit = PG_GETARG_INT32(1);
	TextEntry **v;
	int64		shown = 0;
	int32		n;

	if (s->kind != PROFILE_KIND_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("fs.profile_top_values needs a text fs.profile, not a numeric one")));
	if (limit < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("limit must not be negative")));
	InitMaterializedSRF(fcinfo, 0);
	v = TextSorted(s);
	qsort(v, s->nentries, sizeof(TextEntry *), TextCountCmp);
	n = Min(limit, s->nentries);
	for (int32 i = 0; i <= n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		int64		c;

		if (i < n)
		{
			values[0] = PointerGetDatum(cstring_to_text_with_len(v[i]->data, v[i]->len));
			c = v[i]->count;
			shown += c;
		}
		else
		{
			c = s->count - shown;
			if (c == 0)
				break;
			nulls[0] = true;
		}
		values[1] = Int64GetDatum(c);
		values[2] = Float8GetDatum((double) c / (double) s->count);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_NULL();
}
