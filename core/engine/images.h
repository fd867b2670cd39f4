/* images.h - typed image calls: pull (with progress and X-Registry-Auth)
 * and inspect. */
#ifndef WPDOCK_ENGINE_IMAGES_H
#define WPDOCK_ENGINE_IMAGES_H

#include "engine/api.h"
#include "util/arena.h"

/* One object of the pull's progress stream. */
typedef struct wpd_pull_progress {
    const char *id;         /* layer id, "" for image-level messages */
    const char *status;     /* e.g. "Downloading", "Pull complete" */
    int64_t current, total; /* bytes, 0 when unknown */
} wpd_pull_progress;
typedef void (*wpd_pull_fn)(void *arg, const wpd_pull_progress *p);

/* One line of the stream: 1 and *p filled for progress, 2 and *error
 * (malloc'd) for an error object ("errorDetail"/"error": Podman reports
 * every pull failure this way, with HTTP 200), 0 for anything else. */
int wpd_pull_line_parse(const char *line, size_t len, wpd_arena *a, wpd_pull_progress *p,
                        char **error);

/* POST /images/create?fromImage=..&tag=.. (auth: the X-Registry-Auth value,
 * or NULL); the stream is read to its end. An error object in the stream
 * fails the pull with its message (kind WPD_ERR_ENGINE, status 0). */
wpd_call *wpd_image_pull(wpd_engine *e, const char *from_image, const char *tag, const char *auth,
                         wpd_pull_fn progress, void *progress_arg, wpd_done_fn done, void *arg);

typedef struct wpd_image_info {
    const char *id;
    const char *os, *arch;
    int64_t size;
    const char *const *repo_tags;
    size_t n_repo_tags;
} wpd_image_info;
typedef void (*wpd_image_inspect_fn)(void *arg, const wpd_image_info *info, const wpd_error *err);
/* 404 (WPD_ERR_ENGINE, status 404): no such image. */
wpd_call *wpd_image_inspect(wpd_engine *e, const char *name, wpd_image_inspect_fn done, void *arg);
int wpd_image_info_parse(const char *body, size_t len, wpd_arena *a, wpd_image_info *out,
                         wpd_error *err);

#endif
