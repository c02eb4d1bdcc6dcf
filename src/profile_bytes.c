/*
 * profile_bytes.c
 *		The byte stream of fs.profile values: canonical LEB128 varints,
 *		zigzag varints and big-endian fixed-width integers, written and read
 *		back; the reader trusts nothing and reports every defect.
 */
#include "postgres.h"

#include "common/int.h"

#include "profile_internal.h"

/* Reports a profile that failed validation. */
void
CorruptProfile(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid fs.profile value: %s", detail),
			 errhint("fs.profile values are produced by the fs.profile() and fs.profile_merge() aggregates.")));
}

/* Appends an unsigned LEB128 varint. */
void
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
void
PutSVarint(StringInfo buf, int64 v)
{
	PutVarint(buf, ((uint64) v << 1) ^ (uint64) (v >> 63));
}

/* Appends a big-endian unsigned integer of nbytes bytes. */
void
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
void
PutDouble(StringInfo buf, double d)
{
	uint64		bits;

	memcpy(&bits, &d, sizeof(bits));
	PutFixed(buf, bits, 8);
}

/* Ensures n more bytes can be read. */
void
ReaderNeed(ProfileReader *r, Size n)
{
	if ((Size) (r->end - r->p) < n)
		CorruptProfile("truncated");
}

/* Reads a canonical unsigned varint. */
uint64
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
int64
GetCount(ProfileReader *r)
{
	uint64		v = GetVarint(r);

	if (v > (uint64) PG_INT64_MAX)
		CorruptProfile("count out of range");
	return (int64) v;
}

/* Reads a zigzag varint. */
int64
GetSVarint(ProfileReader *r)
{
	uint64		v = GetVarint(r);

	return (int64) (v >> 1) ^ -(int64) (v & 1);
}

/* Reads a big-endian unsigned integer of nbytes bytes. */
uint64
GetFixed(ProfileReader *r, int nbytes)
{
	uint64		v = 0;

	ReaderNeed(r, nbytes);
	for (int i = 0; i < nbytes; i++)
		v = (v << 8) | *r->p++;
	return v;
}

/* Reads a double by its IEEE bits. */
double
GetDouble(ProfileReader *r)
{
	uint64		bits = GetFixed(r, 8);
	double		d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* Adds two counts, rejecting overflow. */
int64
AddCount(int64 a, int64 b)
{
	int64		r;

	if (pg_add_s64_overflow(a, b, &r))
		CorruptProfile("counts overflow");
	return r;
}
