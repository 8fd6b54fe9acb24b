/* An HTTP hello server in C: answers `GET /` (and `HEAD /`) with 200 and
 * `hello\n`, anything else with 404, as the Rust hello does. Options:
 * `addr` (default `127.0.0.1:8080`), `tls` (default false: HTTPS with the
 * granted certificate). Never done. */
#include <stdlib.h>
#include <string.h>

#include "hio_http.h"

static const char *const OPTIONS[] = {"addr", "tls", NULL};

static bool enter(const hio_options_t *o, void **self, hio_err_t *err) {
  if (!hio_only(o, OPTIONS, err)) return false;
  char *addr = NULL;
  bool tls = false;
  int has_addr = hio_opt_text(o, "addr", &addr, err);
  if (has_addr < 0 || hio_opt_boolean(o, "tls", &tls, err) < 0) {
    free(addr);
    return false;
  }
  hio_server_t *server = malloc(sizeof *server);
  if (server == NULL) abort();
  bool ok = hio_listen(has_addr == 1 ? addr : "127.0.0.1:8080", tls, server, err);
  free(addr);
  if (!ok) {
    free(server);
    return false;
  }
  char *bound = hio_server_address(*server);
  hio_log(HIO_DEBUG, "listening on %s", bound);
  free(bound);
  *self = server;
  return true;
}

static hio_progress_t recur(void *self, double tyme, hio_err_t *err) {
  (void)tyme;
  (void)err;
  hio_server_t *server = self;
  hio_request_t request;
  while (hio_next(*server, &request)) {
    char *target = hio_request_target(request);
    bool found = strcmp(target, "/") == 0;
    const char *body = found ? "hello\n" : "not found\n";
    hio_err_t why = {0};
    if (!hio_reply(request, found ? 200 : 404, "text/plain", body, strlen(body), &why)) {
      /* A client that went away is no failure of the server. */
      char *method = hio_request_method(request);
      hio_log(HIO_DEBUG, "%s %s: not answered: %.*s", method, target, (int)why.len,
              (const char *)why.ptr);
      free(method);
      http_doer_string_free(&why);
    }
    free(target);
    hio_request_drop(request);
  }
  return HIO_RUNNING;
}

static bool exit_hook(void *self, hio_err_t *err) {
  (void)err;
  hio_server_t *server = self;
  hio_doer_http_server_drop_own(*server);
  free(server);
  return true;
}

HIO_EXPORT_DOER(.options = OPTIONS, .enter = enter, .recur = recur, .exit = exit_hook);
