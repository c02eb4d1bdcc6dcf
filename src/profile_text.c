/*
 * profile_text.c
 *		Distinct text values of text profiles: counted exactly up to
 *		PROFILE_TEXT_CAP values, then the PROFILE_TEXT_CAP values with the
 *		smallest hash are kept (a coordinated sample whose counts stay exact)
 *		and the rest are accounted for as "other".  Values over
 *		PROFILE_TEXT_MAX_VALUE bytes are stored shortened, which bounds a
 *		state's memory.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "profile_internal.h"

/* FNV-1a 64-bit parameters (the hash of text values) */
#define FNV_OFFSET			UINT64CONST(0xcbf29ce484222325)
#define FNV_PRIME			UINT64CONST(0x100000001b3)

/*
 * Hash of a text value: FNV-1a over the bytes, then a 64-bit avalanche
 * finalizer so that every bit is uniform (the sample keeps the smallest
 * hashes).  Byte-wise, so the same on every platform: profiles made on one
 * machine validate on any other.
 */
uint64
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

/*
 * Writes the stored form of a text value longer than PROFILE_TEXT_MAX_VALUE
 * bytes into out (PROFILE_TEXT_MAX_VALUE + 1 bytes): its first whole
 * characters, then "...#" and the hex hash of the whole value.  Returns its
 * length.  A function of the value alone, so partial aggregates agree.
 */
int32
TextShorten(const char *data, int32 len, char *out)
{
	int32		keep = pg_mbcliplen(data, len, PROFILE_TEXT_MAX_VALUE - PROFILE_TEXT_SHORT_SUFFIX);

	memcpy(out, data, keep);
	snprintf(out + keep, PROFILE_TEXT_SHORT_SUFFIX + 1, "...#%016" INT64_MODIFIER "x",
			 TextHash(data, len));
	return keep + PROFILE_TEXT_SHORT_SUFFIX;
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
int
TextEntryCmp(const void *a, const void *b)
{
	return TextEntryCompare(*(const TextEntry *const *) a, *(const TextEntry *const *) b);
}

/* Rebuilds the hash index of the text entries. */
void
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
TextEntry **
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
void
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
