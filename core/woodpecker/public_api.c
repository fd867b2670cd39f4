/* public_api.c - the exported wrappers of wpdock/runtime.h around the
 * internal workflow and settings types. */
#include <stdlib.h>
#include <wpdock/runtime.h>

#include "util/buf.h"
#include "woodpecker/config.h"
#include "woodpecker/settings.h"

static const char *env_getenv(const char *name)
{
    return getenv(name);
}

wpd_settings *wpd_settings_new(wpd_error *err)
{
    wpd_settings *s = wpd_xcalloc(1, sizeof *s);
    if (wpd_settings_load(s, env_getenv, err) != 0) {
        wpd_settings_free(s);
        free(s);
        return NULL;
    }
    return s;
}

int wpd_settings_validate(const wpd_settings *s, wpd_error *err)
{
    return wpd_settings_check(s, err);
}

void wpd_settings_destroy(wpd_settings *s)
{
    if (!s)
        return;
    wpd_settings_free(s);
    free(s);
}

size_t wpd_workflow_warning_count(const wpd_workflow *wf)
{
    return wf->warnings.n;
}

const char *wpd_workflow_warning(const wpd_workflow *wf, size_t i)
{
    return i < wf->warnings.n ? wf->warnings.v[i] : NULL;
}

const char *wpd_workflow_label(const wpd_workflow *wf)
{
    return wf->label;
}
