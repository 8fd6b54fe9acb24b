/* A template for a C doer: copy this file, rename it, and build it as
 * plugins/langs.sh builds plugins/c/recorder.c (docs/languages.md gives the
 * commands: wit-bindgen c, zig cc, component new).
 *
 * It counts its recurs and logs each; done after `stop` (default 3). */
#include <stdlib.h>

#include "hio_doer.h"

typedef struct {
  int64_t stop, count;
} counter_t;

/* Any other option is refused by validate. */
static const char *const OPTIONS[] = {"stop", NULL};

/* The enter hook: makes the doer's state, or fails with a reason. */
static bool enter(const hio_options_t *o, void **self, hio_err_t *err) {
  if (!hio_only(o, OPTIONS, err)) return false;
  counter_t *c = calloc(1, sizeof *c);
  if (c == NULL) return hio_fail(err, "out of memory");
  c->stop = 3;
  if (hio_opt_integer(o, "stop", &c->stop, err) < 0) {
    free(c);
    return false;
  }
  if (c->stop < 0) {
    hio_fail(err, "option `stop` must be >= 0, got %lld", (long long)c->stop);
    free(c);
    return false;
  }
  *self = c;
  return true;
}

/* Once per due tick. */
static hio_progress_t recur(void *self, double now, hio_err_t *err) {
  (void)err;
  counter_t *c = self;
  c->count += 1;
  char t[HIO_NUMBER_MAX], tock[HIO_NUMBER_MAX];
  hio_log(HIO_INFO, "count %lld at tyme %s (tock %s)", (long long)c->count, hio_number(now, t),
          hio_number(hio_tock(), tock));
  return c->count >= c->stop ? HIO_DONE : HIO_RUNNING;
}

/* validate runs enter for a throwaway state; exit frees each doer's. */
static bool validate(const hio_options_t *o, hio_err_t *err) {
  void *self = NULL;
  if (!enter(o, &self, err)) return false;
  free(self);
  return true;
}

HIO_EXPORT_DOER(.options = OPTIONS, .validate = validate, .enter = enter, .recur = recur);
