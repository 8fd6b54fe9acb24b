/* A deck doer in C: each tick it takes items from deck `from`, appends
 * " <tag>" and pushes them onto deck `to`, at most `rate` a tick. A full
 * `to` deck is back pressure: the item waits in hand for a later tick and
 * nothing is lost. Done once it has passed on `count` items. Options:
 * `from` (default "in"), `to` (default "out"), `tag` (default "c"),
 * `count` (integer >= 0, default 10), `rate` (integer >= 1, default 1). */
#include <stdlib.h>
#include <string.h>

#include "hio_doer.h"

typedef struct {
  char *from, *to, *tag;
  int64_t count, rate, passed;
  uint8_t *held; /* the item in hand, or NULL */
  size_t held_len;
} relay_t;

static const char *const OPTIONS[] = {"from", "to", "tag", "count", "rate", NULL};

static char *text_or(const hio_options_t *o, const char *name, const char *fallback, bool *ok,
                     hio_err_t *err) {
  char *v = NULL;
  int r = hio_opt_text(o, name, &v, err);
  if (r < 0) *ok = false;
  return r == 1 ? v : strdup(fallback);
}

static void drop(relay_t *r) {
  free(r->from);
  free(r->to);
  free(r->tag);
  free(r->held);
  free(r);
}

static bool enter(const hio_options_t *o, void **self, hio_err_t *err) {
  if (!hio_only(o, OPTIONS, err)) return false;
  relay_t *r = calloc(1, sizeof *r);
  if (r == NULL) return hio_fail(err, "out of memory");
  bool ok = true;
  r->from = text_or(o, "from", "in", &ok, err);
  if (ok) r->to = text_or(o, "to", "out", &ok, err);
  if (ok) r->tag = text_or(o, "tag", "c", &ok, err);
  r->count = 10;
  r->rate = 1;
  if (ok && hio_opt_integer(o, "count", &r->count, err) < 0) ok = false;
  if (ok && hio_opt_integer(o, "rate", &r->rate, err) < 0) ok = false;
  if (ok && (r->count < 0 || r->rate < 1)) {
    ok = hio_fail(err, "options `count` >= 0 and `rate` >= 1");
  }
  if (!ok) {
    drop(r);
    return false;
  }
  *self = r;
  return true;
}

static bool validate(const hio_options_t *o, hio_err_t *err) {
  void *r = NULL;
  if (!enter(o, &r, err)) return false;
  drop(r);
  return true;
}

static hio_progress_t recur(void *self, double tyme, hio_err_t *err) {
  (void)tyme;
  relay_t *r = self;
  hio_deck_error_t why;
  for (int64_t i = 0; i < r->rate && r->passed < r->count; i++) {
    if (r->held == NULL) {
      uint8_t *item;
      size_t len;
      int got = hio_pull(r->from, &item, &len, &why);
      if (got < 0) {
        hio_fail(err, "%s: %s", r->from, hio_deck_error_name(why));
        return HIO_FAILED;
      }
      if (got == 0) break;
      size_t tag = strlen(r->tag);
      r->held = realloc(item, len + 1 + tag);
      if (r->held == NULL) abort();
      r->held[len] = ' ';
      memcpy(r->held + len + 1, r->tag, tag);
      r->held_len = len + 1 + tag;
    }
    if (!hio_push(r->to, r->held, r->held_len, &why)) {
      if (why != HIO_DECK_FULL) {
        hio_fail(err, "%s: %s", r->to, hio_deck_error_name(why));
        return HIO_FAILED;
      }
      hio_log(HIO_DEBUG, "%s full, %.*s waits", r->to, (int)r->held_len, (const char *)r->held);
      break;
    }
    hio_log(HIO_INFO, "passed %.*s", (int)r->held_len, (const char *)r->held);
    free(r->held);
    r->held = NULL;
    r->passed += 1;
  }
  return r->passed == r->count ? HIO_DONE : HIO_RUNNING;
}

static bool exit_hook(void *self, hio_err_t *err) {
  (void)err;
  drop(self);
  return true;
}

HIO_EXPORT_DOER(.options = OPTIONS, .validate = validate, .enter = enter, .recur = recur,
                .exit = exit_hook);
