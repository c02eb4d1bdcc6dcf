/*
 * profile.c
 *		The fs.profile type: its in-memory state (ProfileState), which is also
 *		the aggregates' transition state, merging states, and the canonical
 *		byte stream a state is written as and read back from.
 *
 * See profile.h for the format, and profile_internal.h for the files that
 * implement its parts.  The serial form of a transition state is the very byte
 * stream of an fs.profile, so a partial state can travel anywhere a profile
 * can, and every state that reaches the server from outside goes through
 * ProfileDecode.  The encoding is canonical: a state's bytes depend only on
 * the multiset of inputs, never on how they were split between partial
 * aggregates.
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "profile_internal.h"

/* Creates an empty state of the given kind in ctx. */
ProfileState *
ProfileStateCreate(MemoryContext ctx, uint8 kind)
{
	ProfileState *s = MemoryContextAllocZero(ctx, sizeof(ProfileState));

	s->ctx = ctx;
	s->kind = kind;
	return s;
}

/* Merges src into dst (same kind). */
void
ProfileMergeInto(ProfileState *dst, const ProfileState *src)
{
	int64		count,
				nulls;

	if (dst->kind != src->kind)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("cannot merge a numeric fs.profile with a text fs.profile")));
	/* every other count is bounded by these: check them before changing dst */
	if (pg_add_s64_overflow(dst->count, src->count, &count) ||
		pg_add_s64_overflow(dst->nulls, src->nulls, &nulls))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cannot merge fs.profile values: they count more than %lld values",
						(long long) PG_INT64_MAX)));
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

		dst->flags |= src->flags & PROFILE_FLAG_SHORTENED;

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
	dst->count = count;
	dst->nulls = nulls;
}

/*
 * Tells whether the buckets of one sign hold what the extreme magnitudes of
 * that sign imply: the highest used bucket is that of the largest magnitude,
 * and when the smallest magnitude is known (0 if not) the lowest is its
 * bucket, or the collapse floor PROFILE_MAX_SPAN below the highest.
 */
static bool
StoreMatchesBounds(const BucketStore *b, double largest, double smallest)
{
	int32		hi = StoreEdge(b, false);

	if (hi != BucketIndexOf(largest))
		return false;
	if (smallest > 0 &&
		StoreEdge(b, true) != Max(BucketIndexOf(smallest), hi - PROFILE_MAX_SPAN + 1))
		return false;
	return true;
}

/* Adds n x, or n x^2 when squared, exactly to an exact sum (n >= 0, x finite). */
static void
ExactAddMultiple(ExactSum *acc, int64 n, double x, bool squared, int bias)
{
	ExactSum	t;

	ExactSetProduct(&t, n, x, squared, bias);
	ExactMerge(acc, &t);
}

/*
 * Checks the exact sums of a numeric state against its counts and bounds.
 * min and max are two of the finite values (the only one when there is
 * one); each other negative value lies in [min, min(max, 0)), each other
 * positive one in (max(min, 0), max].  So the sum lies between
 * min + max + rn min + rp max(min, 0) and min + max + rp max + rn min(max, 0),
 * rn and rp counting the other negative and positive values, and the sum of
 * squares likewise; a state that passes has its mean in [min, max].  Those
 * bounds add up under merging, so a merge of states that pass passes, and
 * its sums stay within the range the format can encode.  Returns NULL or
 * what is wrong.
 */
static const char *
ProfileSumsInconsistency(const ProfileState *s, int64 finite, int64 nneg, int64 npos)
{
	int64		rn = nneg - (s->min < 0) - (s->max < 0);
	int64		rp = npos - (s->min > 0) - (s->max > 0);
	ExactSum	sum,
				sumsq,
				lo,
				hi;

	ProfileSums(s, &sum, &sumsq);
	memset(&lo, 0, sizeof(lo));
	memset(&hi, 0, sizeof(hi));
	if (finite == 0)
	{
		if (ExactCompare(&sum, &lo) != 0 || ExactCompare(&sumsq, &lo) != 0)
			return "exact sums of no values are not zero";
		return NULL;
	}
	if (finite == 1)
	{
		/* the one value is min (= max) */
		ExactAddMultiple(&lo, 1, s->min, false, SUM_BIAS);
		ExactAddMultiple(&hi, 1, s->min, true, SQ_BIAS);
		if (ExactCompare(&sum, &lo) != 0)
			return "sum disagrees with minimum, maximum or counts";
		if (ExactCompare(&sumsq, &hi) != 0)
			return "sum of squares disagrees with minimum, maximum or counts";
		return NULL;
	}
	if (rn < 0 || rp < 0)
		return "buckets disagree with minimum or maximum";

	/* the sum */
	ExactAddMultiple(&lo, 1, s->min, false, SUM_BIAS);
	ExactAddMultiple(&lo, 1, s->max, false, SUM_BIAS);
	hi = lo;
	ExactAddMultiple(&lo, rn, s->min, false, SUM_BIAS);
	ExactAddMultiple(&lo, rp, Max(s->min, 0.0), false, SUM_BIAS);
	ExactAddMultiple(&hi, rp, s->max, false, SUM_BIAS);
	ExactAddMultiple(&hi, rn, Min(s->max, 0.0), false, SUM_BIAS);
	if (ExactCompare(&sum, &lo) < 0 || ExactCompare(&sum, &hi) > 0)
		return "sum disagrees with minimum, maximum or counts";

	/* the sum of squares */
	memset(&lo, 0, sizeof(lo));
	ExactAddMultiple(&lo, 1, s->min, true, SQ_BIAS);
	ExactAddMultiple(&lo, 1, s->max, true, SQ_BIAS);
	hi = lo;
	ExactAddMultiple(&lo, rn, Min(s->max, 0.0), true, SQ_BIAS);
	ExactAddMultiple(&lo, rp, Max(s->min, 0.0), true, SQ_BIAS);
	ExactAddMultiple(&hi, rn, s->min, true, SQ_BIAS);
	ExactAddMultiple(&hi, rp, s->max, true, SQ_BIAS);
	if (ExactCompare(&sumsq, &lo) < 0 || ExactCompare(&sumsq, &hi) > 0)
		return "sum of squares disagrees with minimum, maximum or counts";
	return NULL;
}

/* The consistency check of a numeric state (see ProfileInconsistency). */
static const char *
ProfileNumericInconsistency(const ProfileState *s)
{
	int64		special;
	int64		finite;
	int64		nneg = StoreTotal(&s->neg);
	int64		npos = StoreTotal(&s->pos);
	int64		inbuckets;

	if (pg_add_s64_overflow(s->nan, s->posinf, &special) ||
		pg_add_s64_overflow(special, s->neginf, &special) || special > s->count)
		return "special values exceed count";
	finite = s->count - special;
	if (finite > 0 ? (!isfinite(s->min) || !isfinite(s->max) || s->min > s->max ||
					  (finite == 1 && s->min != s->max))
		: (s->min != 0.0 || s->max != 0.0))
		return "bad minimum or maximum";
	if ((s->min == 0.0 && signbit(s->min)) || (s->max == 0.0 && signbit(s->max)))
		return "negative zero bound";
	if (nneg < 0 || npos < 0 || pg_add_s64_overflow(nneg, npos, &inbuckets) ||
		pg_add_s64_overflow(inbuckets, s->zeros, &inbuckets) || inbuckets != finite)
		return "bucket counts do not add up";
	if (s->neg.used != (finite > 0 && s->min < 0) ||
		s->pos.used != (finite > 0 && s->max > 0) ||
		(s->zeros > 0 && (s->min > 0 || s->max < 0)) ||
		(finite > 0 && (s->min == 0 || s->max == 0) && s->zeros == 0))
		return "buckets disagree with minimum or maximum";
	if ((s->neg.used && !StoreMatchesBounds(&s->neg, -s->min, s->max < 0 ? -s->max : 0.0)) ||
		(s->pos.used && !StoreMatchesBounds(&s->pos, s->max, s->min > 0 ? s->min : 0.0)))
		return "buckets disagree with minimum or maximum";
	return ProfileSumsInconsistency(s, finite, nneg, npos);
}

/* The consistency check of a text state (see ProfileInconsistency). */
static const char *
ProfileTextInconsistency(const ProfileState *s)
{
	int64		listed = 0;

	for (int32 i = 0; i < s->nentries; i++)
	{
		if (s->entries[i].count <= 0)
			return "text value with zero count";
		if (pg_add_s64_overflow(listed, s->entries[i].count, &listed))
			return "counts overflow";
	}
	if (!(s->flags & PROFILE_FLAG_SAMPLED))
	{
		if (s->nentries > PROFILE_TEXT_CAP)
			return "too many text values";
		if (listed != s->count)
			return "text counts do not add up";
	}
	else
	{
		/* a sample leaves out at least one value */
		if (s->nentries < PROFILE_TEXT_CAP)
			return "sampled text profile of the wrong size";
		if (listed >= s->count)
			return "text counts exceed count";
	}
	return NULL;
}

/*
 * The one consistency check of fs.profile: every profile read from outside
 * must pass it (ProfileDecode), and so must every profile written here
 * (ProfileEncode), so that whatever is accepted or produced can be read
 * back.  It is closed under merging: merging states that pass gives one that
 * passes.  Returns NULL, or what is wrong.
 */
const char *
ProfileInconsistency(const ProfileState *s)
{
	if (s->count < 0 || s->nulls < 0)
		return "count out of range";
	if (s->kind == PROFILE_KIND_NUMERIC)
		return ProfileNumericInconsistency(s);
	return ProfileTextInconsistency(s);
}

/* Writes the canonical bytes of a state after the varlena header room. */
bytea *
ProfileEncode(const ProfileState *s)
{
	StringInfoData buf;
	const char *detail = ProfileInconsistency(s);

	if (detail)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot produce an fs.profile value: %s", detail),
				 errdetail("The value would not be accepted back as an fs.profile.")));
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

/* Reads the numeric part of a profile byte stream into s: counts, bounds, sums, sketch. */
static void
ProfileDecodeNumeric(ProfileReader *r, ProfileState *s)
{
	s->nan = GetCount(r);
	s->posinf = GetCount(r);
	s->neginf = GetCount(r);
	s->zeros = GetCount(r);
	s->min = GetDouble(r);
	s->max = GetDouble(r);
	ExactDecode(r, &s->sum, SUM_USED_LIMBS);
	ExactDecode(r, &s->sumsq, SQ_USED_LIMBS);
	if (GetFixed(r, 2) != PROFILE_ALPHA_CODE)
		CorruptProfile("unknown sketch accuracy");
	(void) StoreDecode(r, s->ctx, &s->neg);
	(void) StoreDecode(r, s->ctx, &s->pos);
}

/* Reads the text part of a profile byte stream into s: the listed values, in canonical order. */
static void
ProfileDecodeText(ProfileReader *r, ProfileState *s)
{
	uint64		n = GetVarint(r);
	TextEntry	prev = {0};

	if (n > PROFILE_TEXT_CAP)
		CorruptProfile("too many text values");
	s->cutoff = PG_UINT64_MAX;	/* admit everything listed */
	for (uint64 i = 0; i < n; i++)
	{
		uint64		vlen = GetVarint(r);
		TextEntry	cur;
		const TextEntry *pa = &prev,
				   *pb = &cur;
		int64		c;

		if (vlen > MaxAllocSize)
			CorruptProfile("text value too long");
		ReaderNeed(r, vlen);
		pg_verifymbstr((const char *) r->p, (int) vlen, false);
		cur.data = (char *) r->p;
		cur.len = (int32) vlen;
		cur.hash = TextHash((const char *) r->p, (int32) vlen);
		if (i > 0 && TextEntryCmp(&pa, &pb) >= 0)
			CorruptProfile("text values out of order");
		r->p += vlen;
		c = GetCount(r);
		if (c == 0)
			CorruptProfile("text value with zero count");
		/* insert without triggering sampling: the set is canonical already */
		TextAdd(s, cur.data, cur.len, c);
		prev = cur;
	}
	/* a sample lists the values of the smallest hashes, up to the last one listed */
	if (s->flags & PROFILE_FLAG_SAMPLED)
		s->cutoff = prev.hash;
}

/*
 * Validates a profile byte stream and returns its state, allocated in ctx.
 * The one entry point for bytes from outside: text input, binary input,
 * deserialization, fs.profile_merge's inputs and every accessor.  The stream
 * must be well formed, and the state it describes must pass
 * ProfileInconsistency, the check every profile produced here passes too.
 */
ProfileState *
ProfileDecode(const char *data, Size len, MemoryContext ctx)
{
	ProfileReader r;
	ProfileState *s;
	uint8		version,
				kind,
				flags;
	const char *detail;

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
		(kind == PROFILE_KIND_NUMERIC && (flags & (PROFILE_FLAG_SAMPLED | PROFILE_FLAG_SHORTENED))))
		CorruptProfile("unknown flags");

	s = ProfileStateCreate(ctx, kind);
	s->flags = flags;
	s->count = GetCount(&r);
	s->nulls = GetCount(&r);
	if (kind == PROFILE_KIND_NUMERIC)
		ProfileDecodeNumeric(&r, s);
	else
		ProfileDecodeText(&r, s);
	if (r.p != r.end)
		CorruptProfile("trailing bytes");
	detail = ProfileInconsistency(s);
	if (detail)
		CorruptProfile(detail);
	return s;
}

/* Decodes a profile datum into a state allocated in ctx. */
ProfileState *
ProfileFromDatum(Datum d, MemoryContext ctx)
{
	bytea	   *b = (bytea *) PG_DETOAST_DATUM_PACKED(d);

	return ProfileDecode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), ctx);
}
