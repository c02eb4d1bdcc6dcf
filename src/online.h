/*
 * online.h
 *		Online reads: what a set of feature references resolves to, kept per
 *		backend (online_cache.c) and executed as primary-key probes (online.c).
 */
#ifndef FS_ONLINE_H
#define FS_ONLINE_H

#include "postgres.h"

#include "access/attnum.h"
#include "access/htup.h"
#include "datatype/timestamp.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/relcache.h"

/* A request of more keys than this is refused (documented in the README). */
#define ONLINE_MAX_KEYS		100000
/* A request of more features than this (after view:* expands) is refused. */
#define ONLINE_MAX_FEATURES	10000

/* How a requested key becomes a value of a view's key type. */
typedef enum OnlineKeyCoercion
{
	ONLINE_KEY_AS_IS,			/* same type, or binary-coercible */
	ONLINE_KEY_FUNC,			/* an implicit cast function */
	ONLINE_KEY_IO				/* an implicit cast through text */
} OnlineKeyCoercion;

/* How a feature value becomes a JSON value (as to_jsonb would do it). */
typedef enum OnlineJsonKind
{
	ONLINE_JSON_BOOL,
	ONLINE_JSON_INT2,
	ONLINE_JSON_INT4,
	ONLINE_JSON_INT8,
	ONLINE_JSON_FLOAT4,
	ONLINE_JSON_FLOAT8,
	ONLINE_JSON_NUMERIC,
	ONLINE_JSON_TEXT,
	ONLINE_JSON_OTHER			/* through to_jsonb */
} OnlineJsonKind;

/* One online table (one feature view version) of a request. */
typedef struct OnlineTable
{
	/* From the catalog: valid while the catalog generation is unchanged. */
	Oid			relid;
	char	   *view;			/* view name and version, for messages */
	int			version;
	char	   *key_column;
	Oid			key_type;
	char	   *ts_column;
	bool		has_ttl;
	Interval	ttl;
	OnlineKeyCoercion coercion;
	FmgrInfo	coerce_fn;		/* cast function, or the key type's input */
	int			coerce_nargs;	/* arguments of the cast function (1 to 3) */
	FmgrInfo	elem_out;		/* ONLINE_KEY_IO: output of the keys' type */
	Oid			key_ioparam;	/* ONLINE_KEY_IO */
	uint32		cast_hash;		/* syscache hashes of the cast and its function */
	uint32		castfunc_hash;

	/*
	 * From the relation: re-read when a relcache invalidation hits the table
	 * or its primary-key index (rel_valid false).
	 */
	bool		rel_valid;
	MemoryContext relcxt;		/* what the fields below allocate */
	NameData	relname;		/* name and schema when resolved: a table */
	Oid			relnamespace;	/* renamed since is resolved again */
	Oid			indexrelid;
	AttrNumber	key_attno;
	AttrNumber	ts_attno;		/* when has_ttl */
	Oid			ts_type;
	AttrNumber	max_attno;		/* highest column read */
	Oid			collation;		/* of the primary-key index */
	FmgrInfo	eq_fn;			/* its equality */
	/* a table Citus manages is read with a query (online_distributed.c) */
	bool		distributed;
	char	   *remote_sql;		/* the query up to its keys */
	FmgrInfo	cmp_fn;			/* the primary key's btree comparison */
	int16		key_len;
	bool		key_byval;
	char		key_align;
} OnlineTable;

/* One requested feature (a view:* reference gives one per feature). */
typedef struct OnlineFeature
{
	int			table;			/* index in OnlineEntry.tables */
	char	   *column;
	char	   *ref;			/* canonical reference: the JSON key */
	int			ref_len;
	/* from the relation, like OnlineTable's second part */
	AttrNumber	attno;
	Oid			type;
	OnlineJsonKind kind;
	FmgrInfo	json_fn;		/* output function, or to_jsonb */
} OnlineFeature;

/* Everything a request needs, for one references array and keys type. */
typedef struct OnlineEntry
{
	MemoryContext cxt;			/* holds the entry and all it points to */
	uint64		refs_hash;
	char	   *refs;			/* the references array, byte for byte */
	Size		refs_len;
	Oid			keys_type;		/* array type of the keys */
	Oid			elem_type;		/* its element type */

	/* the catalog version the entry was built from */
	Oid			catalog_relid;	/* fs.catalog_state */
	int64		generation;
	TransactionId generation_xmin;	/* of the fs.catalog_state row */
	bool		valid;			/* false: resolve again (a cast changed) */

	int			ntables;
	OnlineTable *tables;
	int			nfeatures;
	OnlineFeature *features;	/* in request order */
	int			njson;
	int		   *json_order;		/* distinct references, in jsonb key order */
} OnlineEntry;

/* Rows of a table Citus manages, read for one request, sorted by key. */
typedef struct OnlineRemoteRows
{
	int			n;
	HeapTuple  *rows;
	Datum	   *keys;
} OnlineRemoteRows;

/* online_cache.c */
extern OnlineEntry *OnlineEntryFor(ArrayType *refs, Oid refs_type, Oid keys_type);
extern void OnlineCallEnter(void);
extern void OnlineCallExit(void);

/* online_distributed.c */
extern bool OnlineTableDistributed(Oid relid);
extern void OnlineRemoteSetup(OnlineTable *t, Relation rel, Relation idx);
extern OnlineRemoteRows *OnlineRemoteFetch(OnlineTable *t, Datum *keys, int nkeys);
extern bool OnlineRemoteFind(OnlineTable *t, OnlineRemoteRows *r, Datum key,
							 TupleTableSlot *slot);

#endif							/* FS_ONLINE_H */
