/*
 * profile_sketch.c
 *		The quantile sketch of numeric profiles: per sign, a dense run of
 *		bucket counts over an interpolated log2 mapping with relative accuracy
 *		PROFILE_ALPHA (DDSketch-style), collapsing its lowest buckets beyond
 *		PROFILE_MAX_SPAN by a rule whose result does not depend on input
 *		order.  The mapping itself (BucketIndexParts) and the common case of
 *		adding one value are inline in profile_internal.h.
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "utils/memutils.h"

#include "profile_internal.h"

//* Inverts the mapping: the x whose interpolated log2 is y. */
static double
BucketMapInverse(double y)
{
	double		e = floor(y);

	return ldexp(1.0 + (y - e), (int) e);
}

/* Lower bound of bucket i. */
double
BucketLower(int32 i)
{
	return BucketMapInverse((double) (i - 1) / BUCKET_MULTIPLIER);
}

/* Upper bound of bucket i. */
double
BucketUpper(int32 i)
{
	return BucketMapInverse((double) i / BUCKET_MULTIPLIER);
}

/* The value standing for bucket i, within PROFILE_ALPHA of all its members. */
double
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
void
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

/* Counts the nonzero buckets of a store. */
int32
StoreNonzero(const BucketStore *b)
{
	int32		n = 0;

	if (b->used)
		for (int32 k = b->lo; k <= b->hi; k++)
			n += b->counts[k - b->base] != 0;
	return n;
}

/* Writes the nonzero buckets of a store, indexes delta-coded. */
void
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
int64
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

/* Sum of the counts of a store, or -1 if it overflows. */
int64
StoreTotal(const BucketStore *b)
{
	int64		total = 0;

	if (b->used)
	{
		for (int32 k = b->lo; k <= b->hi; k++)
		{
			if (pg_add_s64_overflow(total, b->counts[k - b->base], &total))
				return -1;
		}
	}
	return total;
}

/* Lowest (highest if !lowest) index of a used store that holds a count. */
int32
StoreEdge(const BucketStore *b, bool lowest)
{
	Assert(b->used);
	if (lowest)
	{
		for (int32 k = b->lo; k < b->hi; k++)
		{
			if (b->counts[k - b->base] != 0)
				return k;
		}
		return b->hi;
	}
	for (int32 k = b->hi; k > b->lo; k--)
	{
		if (b->counts[k - b->base] != 0)
			return k;
	}
	return b->lo;
}
