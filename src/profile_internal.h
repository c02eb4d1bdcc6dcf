/*
 * profile_internal.h
 *		Declarations shared by the files of the fs.profile type.  The
 *		interface to the rest of the extension is profile.h.
 *
 * The type, file by file:
 *	 profile.c				states (create, merge), the canonical encoding, and
 *							ProfileInconsistency, the one consistency check of
 *							every profile read or written
 *	 profile_bytes.c		the byte stream: varints, fixed-width integers
 *	 profile_exact.c		exact sums of doubles and of their squares
 *	 profile_sketch.c		the quantile sketch's bucket stores
 *	 profile_text.c			distinct text values and their sample
 *	 profile_stats.c		statistics derived from a state
 *	 profile_sql.c			SQL: text and binary I/O; the internal-state aggregate
 *							functions of releases up to 0.3
 *	 profile_agg.c			SQL: the aggregates, their state an expanded fs.profile
 *	 profile_accessors.c	SQL: the accessors
 */
#ifndef FS_PROFILE_INTERNAL_H
#define FS_PROFILE_INTERNAL_H

#include "profile.h"

#include <math.h>

#include "lib/stringinfo.h"

/* Multiplier of the bucket mapping: 1 / ln((1 + alpha) / (1 - alpha)). */
#define BUCKET_MULTIPLIER	99.99916666111281
/* Bucket indexes any finite double can reach, with margin. */
#define BUCKET_INDEX_LIMIT	120000

/* A position in a profile byte stream being read. */
typedef struct ProfileReader
{
	const uint8 *p;
	const uint8 *end;
} ProfileReader;

/* profile_bytes.c */
extern void CorruptProfile(const char *detail) pg_attribute_noreturn();
extern void PutVarint(StringInfo buf, uint64 v);
extern void PutSVarint(StringInfo buf, int64 v);
extern void PutFixed(StringInfo buf, uint64 v, int nbytes);
extern void PutDouble(StringInfo buf, double d);
extern void ReaderNeed(ProfileReader *r, Size n);
extern uint64 GetVarint(ProfileReader *r);
extern int64 GetCount(ProfileReader *r);
extern int64 GetSVarint(ProfileReader *r);
extern uint64 GetFixed(ProfileReader *r, int nbytes);
extern double GetDouble(ProfileReader *r);
extern int64 AddCount(int64 a, int64 b);

/* profile_exact.c */
extern void ExactNormalize(ExactSum *s);
extern void StageFlush(ProfileState *s);
extern void StageGrow(ProfileState *s, int be);
extern void ProfileSums(const ProfileState *s, ExactSum *sum, ExactSum *sumsq);
extern void ExactMerge(ExactSum *dst, const ExactSum *src);
extern bool ExactMagnitude(ExactSum *t);
extern double ExactToDouble(const ExactSum *s, int bias);
extern void ExactEncode(StringInfo buf, const ExactSum *s);
extern void ExactDecode(ProfileReader *r, ExactSum *s, int maxlimbs);
extern double TwoProductError(double a, double b, double p);
extern bool ExactAddProduct(ExactSum *s, double a, double b, int bias);
extern void ExactShiftDown(ExactSum *s, int j);
extern void ExactSetProduct(ExactSum *s, int64 n, double x, bool squared, int bias);
extern int	ExactCompare(const ExactSum *a, const ExactSum *b);

/* profile_sketch.c */
extern double BucketLower(int32 i);
extern double BucketUpper(int32 i);
extern double BucketValue(int32 i);
extern void StoreAdd(MemoryContext ctx, BucketStore *b, int32 i, int64 c);
extern int32 StoreNonzero(const BucketStore *b);
extern void StoreEncode(StringInfo buf, const BucketStore *b);
extern int64 StoreDecode(ProfileReader *r, MemoryContext ctx, BucketStore *b);
extern int64 StoreTotal(const BucketStore *b);
extern int32 StoreEdge(const BucketStore *b, bool lowest);

/* profile_text.c */
extern uint64 TextHash(const char *data, int32 len);
extern int	TextEntryCmp(const void *a, const void *b);
extern void TextRebuildSlots(ProfileState *s, int32 want);
extern TextEntry **TextSorted(const ProfileState *s);
extern void TextAdd(ProfileState *s, const char *data, int32 len, int64 c);
extern int32 TextShorten(const char *data, int32 len, char *out);

/* profile.c */
extern void ProfileMergeInto(ProfileState *dst, const ProfileState *src);
extern const char *ProfileInconsistency(const ProfileState *s);
extern bytea *ProfileEncode(const ProfileState *s);

/*
 * Maps a positive finite double, given by its biased exponent and fraction
 * bits, to its bucket index: ceil(multiplier * (e + m - 1)) for x = m 2^e,
 * m in [1, 2), a piecewise-linear log2 that needs no libm call.  Inline: the
 * aggregates call it for every value.
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

/* The bucket index of a positive finite double. */
static inline int32
BucketIndexOf(double x)
{
	uint64		bits;

	memcpy(&bits, &x, sizeof(bits));
	return BucketIndexParts((int) ((bits >> 52) & 0x7ff), bits & ((UINT64CONST(1) << 52) - 1), x);
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

/* Number of finite values in a numeric state. */
static inline int64
ProfileFinite(const ProfileState *s)
{
	return s->count - s->nan - s->posinf - s->neginf;
}

/* Adds one non-NULL double to a numeric state (inline: called for every value). */
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

#endif							/* FS_PROFILE_INTERNAL_H */
