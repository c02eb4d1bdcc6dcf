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

/* Writes the canonical bytes of a state after the varlena header room. */
bytea *
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
