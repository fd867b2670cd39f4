/* settings_opts.c - the backend setting flags shared by `wpdock exec` and
 * `wpdock agent`. */
#include "settings_opts.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const setting_flags[CLI_N_SETTING_FLAGS] = {
    "network",       "volumes",        "ipv6",           "stop-timeout",    "apparmor-profile",
    "limit-mem",     "limit-mem-swap", "limit-shm-size", "limit-cpu-quota", "limit-cpu-shares",
    "limit-cpu-set", "cert-path",      "tls-verify",     "api-version",     "reconcile-logs"};

size_t cli_setting_options(struct option *opts, size_t n, int val)
{
    for (size_t i = 0; i < CLI_N_SETTING_FLAGS; i++)
        opts[n++] = (struct option){setting_flags[i], required_argument, 0, val};
    return n;
}

void cli_help_settings(FILE *out)
{
    fputs("Backend options (flag overrides the environment variable):\n"
          "      --network NAME        also connect every step to this existing network\n"
          "                            (WOODPECKER_BACKEND_DOCKER_NETWORK)\n"
          "      --volumes LIST        comma-separated binds added to every step\n"
          "                            (WOODPECKER_BACKEND_DOCKER_VOLUMES)\n"
          "      --ipv6 BOOL           EnableIPv6 on the workflow network\n"
          "                            (WOODPECKER_BACKEND_DOCKER_ENABLE_IPV6)\n"
          "      --stop-timeout SECS   grace before SIGKILL when stopping steps, default 20\n"
          "                            (WOODPECKER_BACKEND_DOCKER_STOP_TIMEOUT)\n"
          "      --apparmor-profile P  (WOODPECKER_BACKEND_DOCKER_APPARMOR_PROFILE)\n"
          "      --limit-mem BYTES     (WOODPECKER_BACKEND_DOCKER_LIMIT_MEM)\n"
          "      --limit-mem-swap BYTES (WOODPECKER_BACKEND_DOCKER_LIMIT_MEM_SWAP)\n"
          "      --limit-shm-size BYTES (WOODPECKER_BACKEND_DOCKER_LIMIT_SHM_SIZE)\n"
          "      --limit-cpu-quota N   (WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_QUOTA)\n"
          "      --limit-cpu-shares N  (WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SHARES)\n"
          "      --limit-cpu-set CPUS  (WOODPECKER_BACKEND_DOCKER_LIMIT_CPU_SET)\n"
          "      --cert-path DIR       TLS client files ca.pem cert.pem key.pem\n"
          "                            (..._CERT_PATH, DOCKER_CERT_PATH)\n"
          "      --tls-verify BOOL     verify the engine's certificate, default true\n"
          "                            (..._TLS_VERIFY, DOCKER_TLS_VERIFY)\n"
          "      (the WOODPECKER_LIMIT_* spellings of the limits are honoured too)\n"
          "      --reconcile-logs WHEN re-read a step's whole log after it ended and deliver\n"
          "                            what the live stream missed: auto (default: on\n"
          "                            Podman when the stream broke off), always, never\n"
          "                            (WPDOCK_RECONCILE_LOGS)\n",
          out);
}

wpd_settings *cli_settings_build(const char *cmd, const char *const *names,
                                 const char *const *values, size_t n)
{
    wpd_error err;
    wpd_error_clear(&err);
    wpd_settings *settings = wpd_settings_new(&err);
    if (!settings) {
        cli_error("%s", err.message);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        /* the engine connection reads these from the environment */
        if (strcmp(names[i], "api-version") == 0) {
            setenv("WOODPECKER_BACKEND_DOCKER_API_VERSION", values[i], 1);
            continue;
        }
        if (strcmp(names[i], "cert-path") == 0)
            setenv("WOODPECKER_BACKEND_DOCKER_CERT_PATH", values[i], 1);
        if (strcmp(names[i], "tls-verify") == 0)
            setenv("WOODPECKER_BACKEND_DOCKER_TLS_VERIFY", values[i], 1);
        if (wpd_settings_set(settings, names[i], values[i], &err) != 0) {
            cli_error("%s: %s", cmd, err.message);
            wpd_settings_destroy(settings);
            return NULL;
        }
    }
    if (wpd_settings_validate(settings, &err) != 0) {
        cli_error("%s: %s", cmd, err.message);
        wpd_settings_destroy(settings);
        return NULL;
    }
    return settings;
}
