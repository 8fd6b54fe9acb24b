/* The recorder doer in C: the same options and behaviour as the Rust
 * recorder (plugins/recorder), so either serves in any manifest. It counts
 * its recurs; the host writes the trace. Options: `stop` (integer >= 0,
 * default 3), `fail_at` (integer >= 1), `tock` (number >= 0, set at
 * enter), `retock_at` (integer >= 1) with `retock` (number >= 0). */
#include <math.h>
#include <stdlib.h>

#include "hio_doer.h"

typedef struct {
  int64_t stop, fail_at, retock_at, count;
  double retock, start_tock;
  bool has_start_tock;
} recorder_t;

static const char *const OPTIONS[] = {"stop", "fail_at", "tock", "retock_at", "retock", NULL};

/* An integer option >= low: 1 given, 0 absent, -1 refused. */
static int at_least(const hio_options_t *o, const char *name, int64_t low, int64_t *out,
                    hio_err_t *err) {
  int r = hio_opt_integer(o, name, out, err);
  if (r == 1 && *out < low) {
    hio_fail(err, "option `%s` must be >= %lld, got %lld", name, (long long)low,
             (long long)*out);
    return -1;
  }
  return r;
}

static int tock(const hio_options_t *o, const char *name, double *out, hio_err_t *err) {
  int r = hio_opt_float(o, name, out, err);
  if (r == 1 && !(isfinite(*out) && *out >= 0.0)) {
    char n[HIO_NUMBER_MAX];
    hio_fail(err, "option `%s` must be a finite number >= 0, got %s", name, hio_number(*out, n));
    return -1;
  }
  return r;
}

static bool parse(const hio_options_t *o, recorder_t *r, hio_err_t *err) {
  *r = (recorder_t){.stop = 3};
  if (!hio_only(o, OPTIONS, err)) return false;
  int has_stop = at_least(o, "stop", 0, &r->stop, err);
  if (has_stop < 0) return false;
  if (at_least(o, "fail_at", 1, &r->fail_at, err) < 0) return false;
  int t = tock(o, "tock", &r->start_tock, err);
  if (t < 0) return false;
  r->has_start_tock = t == 1;
  int at = at_least(o, "retock_at", 1, &r->retock_at, err);
  if (at < 0) return false;
  int to = tock(o, "retock", &r->retock, err);
  if (to < 0) return false;
  if (at == 1 && to == 0) return hio_fail(err, "option `retock_at` needs `retock`");
  if (at == 0 && to == 1) return hio_fail(err, "option `retock` needs `retock_at`");
  return true;
}

static bool validate(const hio_options_t *o, hio_err_t *err) {
  recorder_t r;
  return parse(o, &r, err);
}

static bool enter(const hio_options_t *o, void **self, hio_err_t *err) {
  recorder_t *r = malloc(sizeof *r);
  if (r == NULL) return hio_fail(err, "out of memory");
  if (!parse(o, r, err) || (r->has_start_tock && !hio_set_tock(r->start_tock, err))) {
    free(r);
    return false;
  }
  *self = r;
  return true;
}

static hio_progress_t recur(void *self, double tyme, hio_err_t *err) {
  (void)tyme;
  recorder_t *r = self;
  r->count += 1;
  if (r->retock_at == r->count && !hio_set_tock(r->retock, err)) return HIO_FAILED;
  if (r->fail_at == r->count) {
    hio_fail(err, "fail_at %lld", (long long)r->count);
    return HIO_FAILED;
  }
  return r->count > r->stop ? HIO_DONE : HIO_RUNNING;
}

HIO_EXPORT_DOER(.options = OPTIONS, .validate = validate, .enter = enter, .recur = recur);
