/*
 * feature_ref.h
 *		The fs.feature_ref type: view:feature, view@N:feature, view:*, view@N:*.
 */
#ifndef FEATURE_REF_H
#define FEATURE_REF_H

#include "postgres.h"
#include "fmgr.h"

/* On-disk format number, stored in every value so the layout can evolve. */
#define FEATURE_REF_FORMAT	1

/* flags */
#define FEATURE_REF_ALL		0x01	/* view:* (no feature name) */

typedef struct FeatureRef
{
	int32		vl_len_;		/* varlena header */
	uint8		format;			/* FEATURE_REF_FORMAT */
	uint8		flags;			/* FEATURE_REF_* */
	uint16		reserved;		/* zero */
	int32		version;		/* pinned version, 0 = latest */
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* view NUL feature NUL */
} FeatureRef;

#define DatumGetFeatureRef(d)		((FeatureRef *) PG_DETOAST_DATUM(d))
#define PG_GETARG_FEATURE_REF(n)	DatumGetFeatureRef(PG_GETARG_DATUM(n))

extern FeatureRef *FeatureRefBuild(const char *input, const char *view,
								   int64 version, const char *feature);
extern const char *FeatureRefFeature(const FeatureRef *ref);
extern char *FeatureRefToString(const FeatureRef *ref);

#endif							/* FEATURE_REF_H */
