/* SPDX-License-Identifier: MIT */
/*
 * Shared between store.c, store-views.c and store-export.c only: the files
 * allowed to include sqlite3.h. Nothing outside them may include this header.
 */
#ifndef CCR_STORE_PRIVATE_H
#define CCR_STORE_PRIVATE_H

#include <sqlite3.h>

#include "store.h"

/* The connection behind a store; it stays owned by the store. */
sqlite3 *ccr_store_db(struct ccr_store *st);

#endif
