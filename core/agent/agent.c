/* agent.c - the agent's lifecycle: configuration, Auth, Version,
 * RegisterAgent, health reports, the runners, shutdown. */
#include <stdlib.h>
#include <string.h>
#include <wpdock/agent.h>

#include "util/buf.h"

struct wpd_agent {
    wpd_reactor *r;
    wpd_error err;
    bool failed;
};

void wpd_agent_config_init(wpd_agent_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->server = "localhost:9000";
    cfg->retry_timeout = 120;
    cfg->connect_retry_count = 5;
    cfg->connect_retry_delay = 2;
    cfg->healthcheck_addr = ":3000";
    cfg->log_level = WPD_AGENT_LOG_INFO;
}

wpd_agent *wpd_agent_new(wpd_reactor *r, const wpd_agent_config *cfg, wpd_error *err)
{
    (void)cfg;
    (void)err;
    wpd_agent *a = wpd_xcalloc(1, sizeof *a);
    a->r = r;
    return a;
}

void wpd_agent_start(wpd_agent *a, wpd_agent_stopped_fn stopped, void *arg)
{
    a->failed = true;
    wpd_error_set(&a->err, WPD_ERR_INTERNAL, 0, "the agent is not built yet");
    stopped(a, arg);
}

void wpd_agent_shutdown(wpd_agent *a)
{
    (void)a;
}

const wpd_error *wpd_agent_error(const wpd_agent *a)
{
    return a->failed ? &a->err : NULL;
}

void wpd_agent_free(wpd_agent *a)
{
    free(a);
}
