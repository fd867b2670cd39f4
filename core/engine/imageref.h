/* imageref.h - parsing image references for the pull call. No I/O. */
#ifndef WPDOCK_ENGINE_IMAGEREF_H
#define WPDOCK_ENGINE_IMAGEREF_H

#include <wpdock/error.h>

/* Image reference -> pull call parameters (spec 2.3.4), normalised like the
 * Docker client: `alpine` -> from_image `docker.io/library/alpine`, tag
 * `latest`; a digest reference puts the digest (`sha256:...`) in tag.
 * registry is the reference's domain (`docker.io` for Docker Hub). An
 * invalid reference fails with WPD_ERR_INPUT naming the image. */
typedef struct wpd_image_ref {
    char *from_image;
    char *tag;
    char *registry;
} wpd_image_ref;

int wpd_image_ref_parse(const char *image, wpd_image_ref *out, wpd_error *err);
void wpd_image_ref_free(wpd_image_ref *r);

#endif
