/* fuzz_config.c - the workflow Config decoder (wpd_workflow_parse,
 * core/woodpecker/config*.c) and what the runtime derives from a decoded
 * step: its environment, the container create body (convert.c), the
 * networks it joins, its volume specs, its image reference and the secret
 * masker.
 *
 * Asserts: a refused document is a WPD_ERR_INPUT error naming the file; a
 * decoded one has every string field set; the create body wpdock would
 * send is valid JSON (an object), or a refusal with a message; a volume
 * entry splits as spec 4.1 says (itself without a ':', else non-empty
 * parts shorter than the entry). */
#include <string.h>

#include "fuzz.h"
#include "engine/imageref.h"
#include "util/json.h"
#include "woodpecker/config.h"
#include "woodpecker/convert.h"
#include "woodpecker/lines.h"
#include "woodpecker/settings.h"
#include "woodpecker/stepenv.h"

static const char *no_env(const char *name)
{
    (void)name;
    return NULL;
}

static void check_strlist(const wpd_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        FZ_ASSERT(l->v[i] != NULL);
}

static void check_step(const wpd_step *st, const wpd_settings *settings)
{
    FZ_ASSERT(st->name && st->uuid && st->type && st->image && st->working_dir);
    FZ_ASSERT(st->workspace_base && st->failure && st->auth_username && st->auth_password);
    FZ_ASSERT(st->network_mode && st->user);
    check_strlist(&st->entrypoint);
    check_strlist(&st->commands);
    check_strlist(&st->volumes);
    check_strlist(&st->tmpfs);
    check_strlist(&st->devices);
    check_strlist(&st->dns);
    check_strlist(&st->dns_search);
    for (size_t i = 0; i < st->environment.n; i++)
        FZ_ASSERT(st->environment.v[i].key && st->environment.v[i].value);

    wpd_envlist env = {0};
    wpd_step_env_ctx ctx = {"fuzz-host", "linux/amd64", false, 1700000000, 1700000001};
    wpd_step_env_build(&env, st, &ctx);
    wpd_error err;
    char *body = wpd_convert_create_body(st, env.v, env.n, settings, &err);
    if (body) {
        wpd_json j;
        FZ_ASSERT(wpd_json_parse(&j, body, strlen(body), NULL) == 0);
        FZ_ASSERT(wpd_json_type_of(&j, 0) == WPD_JSON_OBJECT);
        wpd_json_free(&j);
        free(body);
    } else {
        FZ_ASSERT(err.message[0]);
    }
    wpd_env_free(&env);

    wpd_join joins[4];
    size_t n = wpd_convert_joins(st, settings, joins, 4);
    for (size_t i = 0; i < n && i < 4; i++)
        FZ_ASSERT(joins[i].network != NULL);

    for (size_t i = 0; i < st->volumes.n; i++) {
        char **parts = NULL;
        size_t np = wpd_volume_split(st->volumes.v[i], &parts);
        /* spec 4.1: without a ':' the one part is the entry itself (even
         * when empty); otherwise empty captures are dropped */
        if (!strchr(st->volumes.v[i], ':'))
            FZ_ASSERT(np == 1 && strcmp(parts[0], st->volumes.v[i]) == 0);
        for (size_t k = 0; k < np && strchr(st->volumes.v[i], ':'); k++)
            FZ_ASSERT(parts[k] && parts[k][0] && strlen(parts[k]) < strlen(st->volumes.v[i]));
        wpd_strv_free(parts, np);
    }

    wpd_image_ref ref;
    if (wpd_image_ref_parse(st->image, &ref, &err) == 0) {
        FZ_ASSERT(ref.from_image);
        wpd_image_ref_free(&ref);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wpd_settings settings;
    static int loaded;
    if (!loaded) {
        wpd_error e;
        FZ_ASSERT(wpd_settings_load(&settings, no_env, &e) == 0);
        loaded = 1;
    }
    wpd_error err;
    wpd_workflow *wf = wpd_workflow_parse("fuzz.json", (const char *)data, size, &err);
    if (!wf) {
        FZ_ASSERT(err.kind == WPD_ERR_INPUT);
        FZ_ASSERT(strncmp(err.message, "fuzz.json", 9) == 0);
        return 0;
    }
    FZ_ASSERT(wf->label && wf->id && wf->network && wf->volume);
    check_strlist(&wf->secrets);
    check_strlist(&wf->warnings);
    for (size_t s = 0; s < wf->n_stages; s++)
        for (size_t i = 0; i < wf->stages[s].n_steps; i++)
            check_step(&wf->stages[s].steps[i], &settings);
    wpd_masker *m = wpd_masker_new((const char *const *)wf->secrets.v, wf->secrets.n);
    wpd_masker_free(m);
    wpd_workflow_free(wf);
    return 0;
}
