/*
 * profile_exact.c
 *		Exact sums of doubles and of their squares: a fixed-point
 *		superaccumulator of 32-bit limbs that covers every finite double (see
 *		ExactSum in profile.h), the staging that makes adding one value cheap,
 *		and their encoding.
 *
 * Merging exact sums is exact and order-independent, so a profile's bytes do
 * not depend on how its inputs were split between partial aggregates.
 */
#include "postgres.h"

#include <math.h>

#include "profile_internal.h"

/* Additions to a limb between carry propagations, safely below overflow. */
#define EXACT_PENDING_MAX	(1 << 29)

/* Propagates carries so every limb but the top one lies in [0, 2^32). */
void
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
void
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
void
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
void
ProfileSums(const ProfileState *s, ExactSum *sum, ExactSum *sumsq)
{
	*sum = s->sum;
	*sumsq = s->sumsq;
	StageFold(s, sum, sumsq);
}

/* Adds one exact sum into another. */
void
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
bool
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
double
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
void
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
void
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
double
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
bool
ExactAddProduct(ExactSum *s, double a, double b, int bias)
{
	double		p = a * b;

	if (!isfinite(p))
		return false;
	ExactAdd(s, p, bias);
	ExactAdd(s, TwoProductError(a, b, p), bias);
	return true;
}

/* Divides an exact sum by 2^(32 j), dropping the bits that fall below limb 0. */
void
ExactShiftDown(ExactSum *s, int j)
{
	if (j <= 0)
		return;
	ExactNormalize(s);
	for (int k = 0; k < EXACT_LIMBS; k++)
		s->limb[k] = k + j < EXACT_LIMBS ? s->limb[k + j] : 0;
}

/* Sets s to n x, or to n x^2 when squared, exactly; x is a finite double and n >= 0. */
void
ExactSetProduct(ExactSum *s, int64 n, double x, bool squared, int bias)
{
	int			biased,
				e2;
	uint64		mant;

	memset(s, 0, sizeof(*s));
	if (n == 0 || x == 0.0)
		return;
	mant = DoubleParts(x, &biased, &e2);
	if (squared)
	{
		/* n mant^2 needs 169 bits: split mant into 26 and 27 bits */
		uint64		mh = mant >> 27;
		uint64		ml = mant & ((UINT64CONST(1) << 27) - 1);

		ExactAddWide(s, (uint128) n * (mh * mh), 2 * e2 + 54 + bias);
		ExactAddWide(s, (uint128) n * (2 * mh * ml), 2 * e2 + 27 + bias);
		ExactAddWide(s, (uint128) n * (ml * ml), 2 * e2 + bias);
		return;
	}
	ExactAddWide(s, (uint128) n * mant, e2 + bias);
	if (x < 0)
	{
		for (int i = 0; i < EXACT_LIMBS; i++)
			s->limb[i] = -s->limb[i];
	}
}

/* Compares two exact sums: negative, zero or positive as a < b, a = b or a > b. */
int
ExactCompare(const ExactSum *a, const ExactSum *b)
{
	ExactSum	d = *a;
	ExactSum	t = *b;

	ExactNormalize(&d);
	ExactNormalize(&t);
	for (int i = 0; i < EXACT_LIMBS; i++)
		d.limb[i] -= t.limb[i];
	ExactNormalize(&d);
	/* every limb but the top one now lies in [0, 2^32): the top one has the sign */
	if (d.limb[EXACT_LIMBS - 1] < 0)
		return -1;
	for (int i = 0; i < EXACT_LIMBS; i++)
	{
		if (d.limb[i] != 0)
			return 1;
	}
	return 0;
}
