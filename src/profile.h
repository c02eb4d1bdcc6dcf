/*
 * profile.h
 *		The fs.profile type: a mergeable, plan-independent summary of one column.
 *
 * A profile is a varlena whose payload is a self-describing byte stream
 * (big-endian integers, LEB128 varints), the same bytes on disk, on the wire
 * (send/recv) and, hex-encoded, in text form.  Every path that reads one goes
 * through ProfileDecode, which trusts nothing: the bytes must be well formed
 * and the profile they describe consistent (ProfileInconsistency: counts add
 * up, sums and sketch agree with min and max), a check every profile written
 * passes too, so that whatever is accepted or produced reads back.
 *
 * Layout, format version 1:
 *
 *	 "FSP" magic, u8 version (1), u8 kind (1 numeric, 2 text), u8 flags
 *	 varint count (non-NULL inputs), varint nulls
 *	 numeric:  varint nan, posinf, neginf, zeros; f64 min, max (finite values)
 *			   exact sum, exact sum of squares (sign-magnitude base-2^32 digits)
 *			   u16 accuracy (relative accuracy in units of 1e-4, only 50 known)
 *			   negative and positive bucket stores: varint n, then n pairs of
 *			   (zigzag delta of the bucket index, count), indexes ascending
 *	 text:	   varint n, then n entries (varint length, bytes, varint count),
 *			   ordered by (hash, bytes)
 *
 * Numeric moments are kept as exact sums (a fixed-point superaccumulator that
 * covers every finite double), so merging is exact and order-independent:
 * mean and M2 are derived from them when read.  The distribution sketch is a
 * DDSketch-style store over an interpolated log2 mapping with relative accuracy
 * PROFILE_ALPHA; it collapses its lowest buckets beyond PROFILE_MAX_SPAN, a rule
 * whose result does not depend on input order.  Text profiles count every
 * distinct value exactly up to PROFILE_TEXT_CAP values, then keep the
 * PROFILE_TEXT_CAP values with the smallest hash (a coordinated sample whose
 * counts stay exact) and account for the rest as "other".
 */
#ifndef FS_PROFILE_H
#define FS_PROFILE_H

#include "postgres.h"

#include "fmgr.h"

#define PROFILE_FORMAT_VERSION	1
#define PROFILE_KIND_NUMERIC	1
#define PROFILE_KIND_TEXT		2

/* flags */
#define PROFILE_FLAG_SAMPLED		0x01	/* text: more than PROFILE_TEXT_CAP distinct values */
#define PROFILE_FLAG_SHORTENED		0x02	/* text: a value over PROFILE_TEXT_MAX_VALUE
											 * bytes was aggregated (stored
											 * shortened) */
#define PROFILE_FLAGS_KNOWN			0x03

/* Relative accuracy of quantiles, and its code in the format (units of 1e-4). */
#define PROFILE_ALPHA			0.005
#define PROFILE_ALPHA_CODE		50
/* Widest run of buckets per sign kept before the lowest ones are collapsed. */
#define PROFILE_MAX_SPAN		8192
/* Distinct text values counted exactly. */
#define PROFILE_TEXT_CAP		10000

/*
 * Longest text value the aggregate stores as it is.  A longer one is stored
 * as its first whole characters, "...#" and the 16 hex digits of its hash
 * (TextShorten), PROFILE_TEXT_MAX_VALUE bytes at most: distinct values stay
 * distinct (up to a hash collision), and a state's values take at most
 * 2 * PROFILE_TEXT_CAP * PROFILE_TEXT_MAX_VALUE bytes (about 5 MB), however
 * long the inputs.
 */
#define PROFILE_TEXT_MAX_VALUE	256
/* The "...#" marker and the hash that end a shortened value. */
#define PROFILE_TEXT_SHORT_SUFFIX	20

/*
 * Exact accumulators: limb k weighs 2^(32k - bias).  The sum of values uses
 * SUM_BIAS and reaches at most SUM_USED_LIMBS limbs (2^-1074 .. 2^1024 times
 * 2^64 values); the sum of squares uses SQ_BIAS and SQ_USED_LIMBS
 * (2^-2148 .. 2^2048 times 2^64), so squares never overflow or round.
 */
#define EXACT_LIMBS				136
#define SUM_BIAS				1152
#define SUM_USED_LIMBS			70
#define SQ_BIAS					2176
#define SQ_USED_LIMBS			134
/* Values staged per exponent before they are folded into the exact sums. */
#define PROFILE_STAGE_BATCH		512

/* An exact sum of doubles. */
typedef struct ExactSum
{
	int64		limb[EXACT_LIMBS];
	int32		pending;		/* additions since the last carry propagation */
} ExactSum;

/* A dense run of bucket counts for one sign. */
typedef struct BucketStore
{
	int64	   *counts;			/* counts[i - base] */
	int32		base;
	int32		alloc;
	int32		lo;				/* lowest and highest used index, if used */
	int32		hi;
	bool		used;
} BucketStore;

/* One distinct text value and its count. */
typedef struct TextEntry
{
	uint64		hash;
	char	   *data;
	int32		len;
	int64		count;
} TextEntry;

/* The in-memory form of a profile, also the aggregates' transition state. */
typedef struct ProfileState
{
	MemoryContext ctx;			/* where everything below lives */
	uint8		kind;
	uint8		flags;
	int64		count;
	int64		nulls;
	/* numeric */
	int64		nan;
	int64		posinf;
	int64		neginf;
	int64		zeros;
	double		min;
	double		max;
	ExactSum	sum;
	ExactSum	sumsq;
	/* staging: per biased exponent, the sum of signed mantissas and of their squares */
	int64	   *stage_sum;
	uint128    *stage_sq;
	int32		stage_lo;
	int32		stage_len;
	int32		staged;
	BucketStore neg;
	BucketStore pos;
	/* text */
	TextEntry  *entries;
	int32		nentries;
	int32		maxentries;
	int32	   *slots;			/* open addressing: entry index + 1, 0 empty */
	int32		nslots;
	uint64		cutoff;			/* sampled: admit only hashes <= cutoff */
} ProfileState;

/* The piecewise-uniform distribution a numeric profile stands for. */
typedef struct ProfileSegment
{
	double		lo;
	double		hi;
	double		mass;			/* share of finite values, sums to 1 */
} ProfileSegment;

typedef struct ProfileDist
{
	ProfileSegment *seg;		/* ascending, disjoint except touching ends */
	int			nseg;
	int64		n;				/* finite values */
} ProfileDist;

extern ProfileState *ProfileStateCreate(MemoryContext ctx, uint8 kind);
extern int	TextEntryCompare(const TextEntry *x, const TextEntry *y);
extern ProfileState *ProfileDecode(const char *buf, Size len, MemoryContext ctx);
extern ProfileState *ProfileFromDatum(Datum d, MemoryContext ctx);
extern double ProfileMean(const ProfileState *s);
extern double ProfileVariance(const ProfileState *s, bool sample);
extern double ProfileQuantile(const ProfileState *s, double q);
extern void ProfileBuildDist(const ProfileState *s, ProfileDist *dist);
extern double ProfileDistCdf(const ProfileDist *d, double x);
extern double ProfileDistQuantile(const ProfileDist *d, double q);

#endif							/* FS_PROFILE_H */
