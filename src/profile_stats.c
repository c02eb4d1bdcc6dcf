/*
 * profile_stats.c
 *		Statistics derived from a numeric profile state: mean and variance
 *		from the exact sums, quantiles from the sketch, and the
 *		piecewise-uniform distribution the sketch stands for (used by drift
 *		metrics).
 */
#include "postgres.h"

#include <math.h>

#include "utils/float.h"

#include "profile_internal.h"


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
