/* sweep.c - the third layer of reaping: at session open (and by hand,
 * `wpdock cleanup --harness`) remove what carries io.wpdock.session and
 * belongs to an owner that is gone (a process of this host and boot that
 * ended or was replaced by another with the same pid, or another boot of
 * this host), or whose owner cannot be asked (another host) and whose
 * io.wpdock.expires passed. A live owner's resources are never touched. With a session id (the
 * watchdog, `--session ID`): everything of that session. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness_private.h"

static int read_small(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return 0;
}

int hx_owner_of(pid_t pid, char *out, size_t len)
{
    char boot[64], path[64], stat[1024];
    if (read_small("/proc/sys/kernel/random/boot_id", boot, sizeof boot) != 0)
        return -1;
    boot[strcspn(boot, "\n")] = '\0';
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if (read_small(path, stat, sizeof stat) != 0)
        return -1;
    /* field 22 (starttime); fields after the ")" of comm start at 3 */
    char *p = strrchr(stat, ')');
    if (!p)
        return -1;
    p++;
    int field = 2;
    char *tok = strtok(p, " ");
    while (tok && ++field < 22)
        tok = strtok(NULL, " ");
    if (!tok)
        return -1;
    snprintf(out, len, "%s/%ld/%s", boot, (long)pid, tok);
    return 0;
}

/* Does the resource belong to a dead owner, or (owner unknown: another
 * host's, or no readable owner label) is its lease over? A live owner of
 * this host keeps its resources past the expiry. */
static bool reapable(const hx_list_item *it, const char *host, const char *boot)
{
    char *end;
    long long exp = strtoll(it->expires, &end, 10);
    bool expired = *it->expires && !*end && exp > 0 && (long long)time(NULL) > exp;
    if (strcmp(it->host, host) != 0)
        return expired; /* another machine's: only its expiry counts */
    char ob[64];
    long pid;
    char st[32];
    if (sscanf(it->owner, "%63[^/]/%ld/%31s", ob, &pid, st) != 3 || pid <= 0)
        return expired; /* no owner to ask */
    if (strcmp(ob, boot) != 0)
        return true; /* this host rebooted since */
    char now[200];
    if (hx_owner_of((pid_t)pid, now, sizeof now) != 0)
        return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    return strcmp(now, it->owner) != 0; /* the pid was reused */
}

int hx_sweep_run(wpd_engine *e, const char *session_id, bool dry_run, wpd_leftover_fn fn, void *arg,
                 size_t *found, wpd_error *err)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "unknown");
    char boot[64] = "";
    if (read_small("/proc/sys/kernel/random/boot_id", boot, sizeof boot) == 0)
        boot[strcspn(boot, "\n")] = '\0';
    char *flt =
        session_id ? wpd_xasprintf("%s=%s", HX_L_SESSION, session_id) : wpd_xstrdup(HX_L_SESSION);
    wpd_pair filter = {"label", flt};
    size_t n_found = 0;
    int rc = 0;
    static const char *const kinds[] = {"container", "volume", "network"};
    for (size_t k = 0; k < 3 && rc == 0; k++) {
        hx_list_item *items = NULL;
        size_t n = 0;
        if (hx_sync_list(e, kinds[k], &filter, 1, &items, &n, err) != 0) {
            wpd_error_prefix(err, "listing %ss labelled %s", kinds[k], flt);
            rc = -1;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (!session_id && !reapable(&items[i], host, boot))
                continue;
            n_found++;
            wpd_leftover lo = {kinds[k], items[i].display, items[i].name, false, NULL};
            wpd_error rerr;
            if (!dry_run) {
                if (hx_sync_remove(e, kinds[k], items[i].name, &rerr) == 0)
                    lo.removed = true;
                else
                    lo.error = rerr.message;
            }
            if (fn)
                fn(&lo, arg);
        }
        hx_list_free(items, n);
    }
    free(flt);
    if (found)
        *found = n_found;
    return rc;
}

int wpd_harness_sweep(wpd_engine *e, const char *session_id, bool dry_run, wpd_leftover_fn fn,
                      void *arg, size_t *found, wpd_error *err)
{
    if (!e)
        return wpd_error_set(err, WPD_ERR_USAGE, 0, "wpd_harness_sweep: the engine is NULL");
    if (session_id && !*session_id)
        return wpd_error_set(err, WPD_ERR_USAGE, 0, "wpd_harness_sweep: the session id is empty");
    return hx_sweep_run(e, session_id, dry_run, fn, arg, found, err);
}
