/* hio's guest SDK for C doers: a thin layer over the bindings that
 * `wit-bindgen c --world http-doer` generates (http_doer.h), so a doer is
 * a table of hooks and a few calls, and errors read as the Rust SDK's.
 *
 * A doer defines its hooks and exports them once:
 *
 *     static bool enter(const hio_options_t *o, void **self, hio_err_t *err);
 *     static hio_progress_t recur(void *self, double tyme, hio_err_t *err);
 *     static const char *const OPTIONS[] = {"stop", NULL};
 *     HIO_EXPORT_DOER(.options = OPTIONS, .enter = enter, .recur = recur);
 *
 * Each doer is a `doer` resource of hio:doer/hooks@0.4.1, and one instance
 * may hold many of them (the manifest's `share`): enter runs once per doer
 * and the `*self` it makes is that doer's alone, handed back to every later
 * hook of that doer (the layer keeps it, and the reason of the doer's last
 * failed recur, in the resource, not in globals). The layer also gives each
 * doer the small id the host passes to `recur` (a function of the id, not a
 * method) and finds the doer by it; an author never sees the id. So keep
 * all of a doer's state behind `self`: a global or a `static` is shared by
 * every doer of the instance. validate makes no doer and gets no `self`.
 *
 * A hook fails by returning false (HIO_FAILED from recur) after
 * `hio_fail(err, "format", ...)` sets the reason. Hooks left NULL have the
 * defaults: validate accepts only the listed options, the others succeed,
 * and exit frees `self` with free(). exit is the last hook of a doer; the
 * host then drops it (a doer dropped without exit gets its exit run then,
 * its error unreported). Strings the host hands a hook are not
 * NUL-terminated (ptr, len); the helpers here return C strings the caller
 * frees. Build: docs/languages.md gives the commands (plugins/langs.sh
 * runs them for the doers here). */
#ifndef HIO_DOER_H
#define HIO_DOER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_doer.h"

typedef exports_hio_doer_hooks_options_t hio_options_t;
typedef http_doer_string_t hio_err_t;

typedef enum { HIO_RUNNING, HIO_DONE, HIO_FAILED } hio_progress_t;

typedef struct hio_doer {
  /* Accepted option names, NULL-terminated (NULL: none). */
  const char *const *options;
  bool (*validate)(const hio_options_t *options, hio_err_t *err);
  /* Makes one doer's state (`*self`, handed to every later hook of that
   * doer; each doer of the instance has its own). */
  bool (*enter)(const hio_options_t *options, void **self, hio_err_t *err);
  hio_progress_t (*recur)(void *self, double tyme, hio_err_t *err);
  bool (*clean)(void *self, hio_err_t *err);
  bool (*cease)(void *self, hio_err_t *err);
  void (*abort)(void *self, const char *reason);
  /* The doer's last hook; it owns `self` (the default frees it). */
  bool (*exit)(void *self, hio_err_t *err);
} hio_doer_t;

/* The doer this component exports (HIO_EXPORT_DOER defines it). */
extern const hio_doer_t hio_exported_doer;
#define HIO_EXPORT_DOER(...) const hio_doer_t hio_exported_doer = {__VA_ARGS__}

/* Sets the hook's failure reason (printf format); returns false. */
bool hio_fail(hio_err_t *err, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Options. Each getter returns 1 and sets *out when the option is given,
 * 0 when it is absent, and -1 (with the reason in err, naming the option)
 * when it holds another type. A float getter accepts an integer. */
bool hio_only(const hio_options_t *o, const char *const *allowed, hio_err_t *err);
int hio_opt_integer(const hio_options_t *o, const char *name, int64_t *out, hio_err_t *err);
int hio_opt_float(const hio_options_t *o, const char *name, double *out, hio_err_t *err);
int hio_opt_boolean(const hio_options_t *o, const char *name, bool *out, hio_err_t *err);
/* A string option as a new C string the caller frees. */
int hio_opt_text(const hio_options_t *o, const char *name, char **out, hio_err_t *err);

/* A float as the Rust SDK's messages print it (no exponent, no trailing
 * ".0"), into buf. Returns buf. Without an exponent a double takes up to
 * 343 characters (5e-324), so buf holds HIO_NUMBER_MAX. */
#define HIO_NUMBER_MAX 350
char *hio_number(double v, char buf[static HIO_NUMBER_MAX]);

/* Tyme. */
double hio_now(void);
double hio_tock(void);
/* Sets this doer's tock; false (with the host's reason in err) when the
 * value is not finite and >= 0. */
bool hio_set_tock(double tock, hio_err_t *err);

/* The host log. */
typedef enum { HIO_ERROR, HIO_WARN, HIO_INFO, HIO_DEBUG, HIO_TRACE } hio_level_t;
void hio_log(hio_level_t level, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Decks. */
typedef enum {
  HIO_DECK_FULL,
  HIO_DECK_TOO_LARGE,
  HIO_DECK_NOT_GRANTED,
  HIO_DECK_UNKNOWN,
} hio_deck_error_t;
/* "full", "too-large", "not-granted", "unknown-deck". */
const char *hio_deck_error_name(hio_deck_error_t e);
/* Appends an item; false with *why set when the deck refuses it. */
bool hio_push(const char *deck, const void *item, size_t len, hio_deck_error_t *why);
/* 1: *item (malloc'd, the caller frees) and *len set; 0: the deck is
 * empty; -1: refused, *why set. */
int hio_pull(const char *deck, uint8_t **item, size_t *len, hio_deck_error_t *why);
/* Why this doer's last push on `deck` was refused, in words (a remote
 * deck's server unreachable, and why), malloc'd (the caller frees); NULL
 * once a push is taken. */
char *hio_refusal(const char *deck);

/* A host string as a new C string (the host's copy is freed). */
char *hio_take_string(http_doer_string_t *s);

#endif
