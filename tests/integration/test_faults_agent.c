/* test_faults_agent.c - `wpdock agent` when things go wrong or get busy,
 * against the project's Woodpecker test server on the Docker engine: a
 * stored agent id reused after a restart, a stateless agent unregistering,
 * a refused secret, a version mismatch, an unreachable server, the server
 * going away mid-workflow (stopped, Unavailable, tokens invalidated),
 * SIGTERM mid-workflow, the workflow timeout, capacity, label routing,
 * 10,000 log lines exact, the health endpoint, the sweep after a SIGKILL,
 * TLS to the server, a unix socket server, a 17 MiB payload, token expiry
 * with a retry window after a long poll, and Docker and Podman served by
 * one agent process. */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "testutil_wpserver.h"
#include "util/buf.h"
#include "util/jsonw.h"

/* Wait until the last tu_agent_one_step() workflow's step has a log line `line`. */
static void wait_log(tu_agent *r, const char *id, const char *line)
{
    char *path = wpd_xasprintf("logs.%s", r->uuid);
    long long deadline = tu_now_ms() + 90000;
    for (;;) {
        char *doc = tu_wps_workflow(&r->srv, id);
        int n = tu_json_len(doc, path);
        bool seen = false;
        for (int i = 0; i < n && !seen; i++) {
            char *p = wpd_xasprintf("%s.%d.data", path, i);
            char *d = tu_json_str(doc, p);
            seen = d && strcmp(d, line) == 0;
            free(d);
            free(p);
        }
        free(doc);
        if (seen)
            break;
        tu_proc_pump(&r->x.proc, 0);
        ck_assert_msg(tu_now_ms() < deadline, "line \"%s\" never arrived; agent: %s", line,
                      r->x.proc.err);
        usleep(200000);
    }
    free(path);
}

static int count_calls(tu_agent *r, const char *method)
{
    char path[128], *body = NULL;
    snprintf(path, sizeof path, "/calls?method=%s", method);
    ck_assert_int_eq(tu_wps_request(&r->srv, "GET", path, NULL, &body), 200);
    int n = tu_json_len(body, "");
    free(body);
    return n;
}

static void fault(tu_agent *r, const char *json)
{
    ck_assert_int_eq(tu_wps_request(&r->srv, "POST", "/faults", json, NULL), 200);
}

/* ---------------------------------------------------------------- startup */

START_TEST(test_stored_id_reused)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    char *payload = tu_agent_one_step(&r, "a", (const char *const[]){"true", NULL});
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    char *conf_path = wpd_xasprintf("%s/agent.conf", r.dir);
    char *conf = tu_read_file(conf_path, NULL);
    ck_assert_msg(conf != NULL, "no config file written");
    long long stored = tu_json_int(conf, "agent_id", -1);
    ck_assert_msg(stored > 0, "config file: %s", conf);
    free(conf);
    /* again: the same id is sent and no new agent row appears */
    free(payload);
    payload = tu_agent_one_step(&r, "a", (const char *const[]){"true", NULL});
    char *id2 = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    char *body = NULL;
    ck_assert_int_eq(tu_wps_request(&r.srv, "GET", "/calls?method=Auth", NULL, &body), 200);
    ck_assert_int_eq(tu_json_int(body, "0.request.agent_id", 0), -1);
    int n = tu_json_len(body, "");
    char *p = wpd_xasprintf("%d.request.agent_id", n - 1);
    ck_assert_int_eq(tu_json_int(body, p, 0), stored);
    free(p);
    free(body);
    ck_assert_int_eq(tu_wps_request(&r.srv, "GET", "/agents", NULL, &body), 200);
    ck_assert_int_eq(tu_json_len(body, ""), 1);
    free(body);
    free(conf_path);
    free(id);
    free(id2);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_stateless_unregisters)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    tu_rm_rf(r.dir);
    free(r.dir);
    r.dir = NULL; /* no config file: stateless */
    tu_agent_start(&r, NULL, NULL);
    /* registered: the agent row has our hostname */
    long long deadline = tu_now_ms() + 30000;
    for (;;) {
        char *body = NULL;
        tu_wps_request(&r.srv, "GET", "/agents", NULL, &body);
        bool reg = strstr(body, r.host) != NULL;
        free(body);
        if (reg)
            break;
        tu_proc_pump(&r.x.proc, 0);
        ck_assert_msg(tu_now_ms() < deadline, "never registered: %s", r.x.proc.err);
        usleep(100000);
    }
    tu_proc_signal(&r.x.proc, SIGTERM);
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    ck_assert_int_eq(count_calls(&r, "UnregisterAgent"), 1);
    char *body = NULL;
    tu_wps_request(&r.srv, "GET", "/agents", NULL, &body);
    ck_assert_int_eq(tu_json_len(body, ""), 0);
    free(body);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_refused_secret)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_AGENT_SECRET=wrong", NULL});
    int rc = tu_agent_finish(&r);
    ck_assert_msg(rc == 1, "exit %d: %s", rc, r.x.proc.err);
    ck_assert_msg(strstr(r.x.proc.err, r.srv.grpc) && strstr(r.x.proc.err, "not found by token"),
                  "message: %s", r.x.proc.err);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_version_mismatch)
{
    tu_agent r;
    tu_agent_setup(&r, (const char *const[]){"--grpc-version", "15", NULL});
    tu_agent_start(&r, NULL, NULL);
    int rc = tu_agent_finish(&r);
    ck_assert_msg(rc == 1, "exit %d: %s", rc, r.x.proc.err);
    /* the server rejects our proto-version (16) or reports 15: both name
     * the two versions */
    ck_assert_msg(strstr(r.x.proc.err, "15") && strstr(r.x.proc.err, "16") &&
                      strstr(r.x.proc.err, r.srv.grpc),
                  "message: %s", r.x.proc.err);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_unreachable_server)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    long long t0 = tu_now_ms();
    tu_agent_start(&r, NULL,
                   (const char *const[]){"WOODPECKER_SERVER=127.0.0.1:1",
                                         "WOODPECKER_CONNECT_RETRY_COUNT=3",
                                         "WOODPECKER_CONNECT_RETRY_DELAY=200ms", NULL});
    int rc = tu_agent_finish(&r);
    ck_assert_msg(rc == 1, "exit %d: %s", rc, r.x.proc.err);
    ck_assert_msg(strstr(r.x.proc.err, "127.0.0.1:1") && strstr(r.x.proc.err, "3 attempts"),
                  "message: %s", r.x.proc.err);
    ck_assert_msg(tu_now_ms() - t0 < 20000, "took %lld ms", tu_now_ms() - t0);
    tu_agent_teardown(&r);
}
END_TEST

/* ---------------------------------------------------------------- outages */

/* A step that prints, sleeps through the fault, prints again. */
static void outage(const char *fault_json)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    char *payload = tu_agent_one_step(
        &r, "s", (const char *const[]){"echo before", "sleep 8", "seq 1 200", "echo after", NULL});
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    wait_log(&r, id, "before");
    fault(&r, fault_json);
    char *doc = tu_wps_wait_done(&r.srv, id, 120);
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    tu_assert_workflow_state(doc, "success");
    char *p = wpd_xasprintf("logs.%s", r.uuid);
    /* + echo before, before, + sleep 8, + seq, 1..200, + echo after, after */
    ck_assert_int_eq(tu_json_len(doc, p), 206);
    free(p);
    ck_assert_int_eq(tu_json_int(doc, "log_duplicates", -1), 0);
    tu_agent_assert_clean(&r);
    free(doc);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
}

START_TEST(test_server_stopped_mid_workflow)
{
    outage("{\"stop_for\":4}");
}
END_TEST

START_TEST(test_server_unavailable_mid_workflow)
{
    outage("{\"unavailable_for\":4}");
}
END_TEST

START_TEST(test_tokens_invalidated_mid_workflow)
{
    outage("{\"expire_tokens\":true,\"unauthenticated_once\":true}");
}
END_TEST

START_TEST(test_sigterm_mid_workflow)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    char *payload =
        tu_agent_one_step(&r, "s", (const char *const[]){"echo running", "sleep 300", NULL});
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, NULL);
    wait_log(&r, id, "running");
    long long t0 = tu_now_ms();
    tu_proc_signal(&r.x.proc, SIGTERM);
    int rc = tu_agent_finish(&r);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, r.x.proc.err);
    ck_assert_msg(tu_now_ms() - t0 < 15000, "SIGTERM took %lld ms", tu_now_ms() - t0);
    char *doc = tu_wps_workflow(&r.srv, id);
    tu_assert_workflow_state(doc, "killed");
    ck_assert_int_eq(tu_json_int(doc, "done_count", 0), 1);
    tu_agent_assert_clean(&r);
    free(doc);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_workflow_timeout)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    char *payload = tu_agent_one_step(&r, "s", (const char *const[]){"sleep 600", NULL});
    char *id = tu_wps_queue(&r.srv, payload, NULL, 1);
    long long t0 = tu_now_ms();
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    char *doc = tu_wps_wait_done(&r.srv, id, 150);
    long long took = tu_now_ms() - t0;
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    tu_assert_workflow_state(doc, "killed");
    ck_assert_msg(took >= 59000 && took < 90000, "timed out after %lld ms", took);
    tu_agent_assert_clean(&r);
    free(doc);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

/* ---------------------------------------------------------------- scheduling */

/* The agent has exactly one connection to the server open. */
static void assert_one_connection(const tu_agent *r)
{
    const char *port = strrchr(r->srv.grpc, ':') + 1;
    char *cmd = wpd_xasprintf("ss -Htn state established '( dport = :%s )' | wc -l", port);
    char *out = NULL;
    ck_assert_int_eq(tu_run(cmd, 0, &out), 0);
    ck_assert_msg(atoi(out) == 1, "%s connections to the server", out);
    free(out);
    free(cmd);
}

START_TEST(test_capacity_and_labels)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    char *ids[3];
    for (int i = 0; i < 3; i++) {
        char *pl = tu_agent_one_step(&r, "s", (const char *const[]){"sleep 3", NULL});
        ids[i] = tu_wps_queue(&r.srv, pl, "{\"kind\":\"special\"}", 10);
        free(pl);
    }
    char *payload = tu_agent_one_step(&r, "s", (const char *const[]){"sleep 3", NULL});
    char *other = tu_wps_queue(&r.srv, payload, "{\"kind\":\"other\"}", 10);
    tu_agent_start(&r, NULL,
                   (const char *const[]){"WOODPECKER_MAX_WORKFLOWS=2",
                                         "WOODPECKER_AGENT_LABELS=kind=special", NULL});
    long long st[3], fin[3];
    for (int i = 0; i < 3; i++) {
        char *doc = tu_wps_wait_done(&r.srv, ids[i], 120);
        tu_assert_workflow_state(doc, "success");
        st[i] = tu_json_int(doc, "started", 0);
        fin[i] = tu_json_int(doc, "finished", 0);
        free(doc);
    }
    /* two ran at once, never three */
    int overlaps = 0;
    for (int i = 0; i < 3; i++)
        for (int k = i + 1; k < 3; k++)
            overlaps += st[i] < fin[k] && st[k] < fin[i];
    ck_assert_msg(overlaps >= 1 && overlaps < 3, "overlaps %d", overlaps);
    /* both runners' Next polls, the health reports and everything before
     * went over one connection to the server */
    assert_one_connection(&r);
    char *doc = tu_wps_workflow(&r.srv, other);
    tu_assert_workflow_state(doc, "pending");
    free(doc);
    /* registration: capacity and the custom labels */
    char *body = NULL;
    tu_wps_request(&r.srv, "GET", "/agents", NULL, &body);
    ck_assert_int_eq(tu_json_int(body, "0.capacity", 0), 2);
    char *kind = tu_json_str(body, "0.custom_labels.kind");
    ck_assert_msg(kind && strcmp(kind, "special") == 0, "agents: %s", body);
    free(kind);
    char *backend = tu_json_str(body, "0.backend");
    ck_assert_str_eq(backend, "docker");
    free(backend);
    free(body);
    tu_proc_signal(&r.x.proc, SIGTERM);
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    for (int i = 0; i < 3; i++)
        free(ids[i]);
    free(other);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_ten_thousand_lines)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    char *payload = tu_agent_one_step(&r, "s", (const char *const[]){"seq 1 10000", NULL});
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    char *doc = tu_wps_workflow(&r.srv, id);
    tu_assert_workflow_state(doc, "success");
    char *p = wpd_xasprintf("logs.%s", r.uuid);
    ck_assert_int_eq(tu_json_len(doc, p), 10001);
    for (int i = 1; i <= 10000; i += 1111) {
        char *q = wpd_xasprintf("%s.%d.data", p, i);
        char *d = tu_json_str(doc, q);
        char want[16];
        snprintf(want, sizeof want, "%d", i);
        ck_assert_str_eq(d, want);
        free(d);
        free(q);
    }
    char *q = wpd_xasprintf("%s.10000.data", p);
    char *d = tu_json_str(doc, q);
    ck_assert_str_eq(d, "10000");
    free(d);
    free(q);
    free(p);
    ck_assert_int_eq(tu_json_int(doc, "log_duplicates", -1), 0);
    free(doc);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

/* A step printing 24 MiB to a server that takes a Log call (1 MiB) every
 * 250 ms: the agent holds the step's output (back-pressure) instead of
 * queueing it all, and every line still arrives, once and in order. */
START_TEST(test_log_backpressure)
{
    tu_agent r;
    tu_agent_setup(&r, (const char *const[]){"--discard-logs", NULL});
    const int lines = 24 * 1024 * 1024 / 100;
    char *cmdline = wpd_xasprintf("yes %0100d | cut -c1-99 | head -n %d", 0, lines);
    char *payload = tu_agent_one_step(&r, "s", (const char *const[]){cmdline, NULL});
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    fault(&r, "{\"log_delay_ms\":250}");
    int port = 20000 + (int)(tu_now_ms() % 20000);
    char addrvar[96];
    snprintf(addrvar, sizeof addrvar, "WOODPECKER_HEALTHCHECK_ADDR=127.0.0.1:%d", port);
    tu_agent_start(&r, NULL,
                   (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true",
                                         "WOODPECKER_HEALTHCHECK=true", addrvar, NULL});
    char *varz = wpd_xasprintf("curl -sf http://127.0.0.1:%d/varz", port);
    char *key_peak = wpd_xasprintf("running.%s.log_backlog_peak_bytes", id);
    char *key_pauses = wpd_xasprintf("running.%s.log_output_pauses", id);
    long long peak = -1, pauses = -1, deadline = tu_now_ms() + 180000;
    for (;;) {
        char *out = NULL;
        if (tu_run(varz, 1, &out) == 0 || (out && *out)) {
            long long p = tu_json_int(out, key_peak, -1), n = tu_json_int(out, key_pauses, -1);
            if (p > peak)
                peak = p;
            if (n > pauses)
                pauses = n;
        }
        free(out);
        char *doc = tu_wps_workflow(&r.srv, id);
        char *state = tu_json_str(doc, "state");
        int over = state && strcmp(state, "running") != 0 && strcmp(state, "pending") != 0;
        free(state);
        free(doc);
        if (over)
            break;
        tu_proc_pump(&r.x.proc, 0);
        ck_assert_msg(tu_now_ms() < deadline, "the workflow did not end in 180 s: %s",
                      r.x.proc.err);
        usleep(100000);
    }
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    char *doc = tu_wps_workflow(&r.srv, id);
    tu_assert_workflow_state(doc, "success");
    /* the lines and the script's trace line ("+ yes ...") */
    char *k = wpd_xasprintf("log_stats.%s.lines", r.uuid);
    ck_assert_int_eq(tu_json_int(doc, k, -1), lines + 1);
    free(k);
    k = wpd_xasprintf("log_stats.%s.bytes", r.uuid);
    long long bytes = tu_json_int(doc, k, -1);
    ck_assert_msg(bytes > (long long)lines * 99 && bytes < (long long)lines * 99 + 200,
                  "%lld bytes of log", bytes);
    free(k);
    k = wpd_xasprintf("log_stats.%s.contiguous", r.uuid);
    char *contiguous = tu_json_str(doc, k);
    ck_assert_msg(contiguous && strcmp(contiguous, "true") == 0, "lines out of order: %s", doc);
    free(contiguous);
    free(k);
    ck_assert_int_eq(tu_json_int(doc, "log_duplicates", -1), 0);
    free(doc);
    /* held at 4 MiB (plus what was being read then), not 24 */
    ck_assert_msg(pauses >= 1, "the output was never held (pauses %lld)", pauses);
    ck_assert_msg(peak > 0 && peak < 5 * 1024 * 1024, "backlog peaked at %lld bytes", peak);
    free(key_peak);
    free(key_pauses);
    free(varz);
    free(id);
    free(payload);
    free(cmdline);
    tu_agent_teardown(&r);
}
END_TEST

/* ---------------------------------------------------------------- health, sweep */

START_TEST(test_health_endpoint)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    int port = 20000 + (int)(tu_now_ms() % 20000);
    char addr[64], addrvar[96];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(addrvar, sizeof addrvar, "WOODPECKER_HEALTHCHECK_ADDR=%s", addr);
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_HEALTHCHECK=true", addrvar, NULL});
    char *cmd = wpd_xasprintf("%s agent ping --healthcheck-addr %s", WPDOCK_CLI, addr);
    long long deadline = tu_now_ms() + 30000;
    char *out = NULL;
    while (tu_run(cmd, 1, &out) != 0) {
        tu_proc_pump(&r.x.proc, 0);
        ck_assert_msg(tu_now_ms() < deadline, "never healthy: %s / %s", out, r.x.proc.err);
        free(out);
        usleep(200000);
    }
    free(out);
    char *varz = wpd_xasprintf("curl -sf http://%s/varz", addr);
    ck_assert_int_eq(tu_run(varz, 0, &out), 0);
    ck_assert_int_eq(tu_json_int(out, "polling_count", -1), 1);
    ck_assert_int_eq(tu_json_int(out, "running_count", -1), 0);
    free(out);
    free(varz);
    char *ver = wpd_xasprintf("curl -sf http://%s/version", addr);
    ck_assert_int_eq(tu_run(ver, 0, &out), 0);
    ck_assert_msg(strstr(out, "\"version\""), "version: %s", out);
    free(out);
    free(ver);
    /* the server gone: unhealthy */
    fault(&r, "{\"stop_for\":30}");
    deadline = tu_now_ms() + 40000;
    while (tu_run(cmd, 1, &out) == 0) {
        ck_assert_msg(tu_now_ms() < deadline, "still healthy with the server gone");
        free(out);
        usleep(500000);
    }
    free(out);
    tu_proc_signal(&r.x.proc, SIGTERM);
    tu_agent_finish(&r);
    /* nothing listens any more */
    ck_assert_int_ne(tu_run(cmd, 1, &out), 0);
    free(out);
    free(cmd);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_sweep_after_sigkill)
{
    tu_agent r;
    tu_agent_setup(&r, NULL);
    char *payload = tu_agent_one_step(&r, "s", (const char *const[]){"echo up", "sleep 300", NULL});
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, NULL);
    wait_log(&r, id, "up");
    tu_proc_signal(&r.x.proc, SIGKILL);
    tu_agent_finish(&r);
    /* the network is still there, with our owner label */
    char *body = NULL;
    tu_engine_request("GET", "/networks?filters=%7B%22label%22%3A%5B%22io.wpdock.agent%22%5D%7D",
                      NULL, &body);
    char owner[96];
    snprintf(owner, sizeof owner, "\"%s/", r.host);
    ck_assert_msg(strstr(body, owner) != NULL, "nothing left to sweep? %s", body);
    free(body);
    /* the restarted agent (same id from the config file) sweeps first */
    tu_agent_start(&r, NULL, NULL);
    long long deadline = tu_now_ms() + 60000;
    while (!strstr(r.x.proc.err ? r.x.proc.err : "", "removed network")) {
        tu_proc_pump(&r.x.proc, 200);
        ck_assert_msg(tu_now_ms() < deadline, "no sweep: %s", r.x.proc.err);
    }
    ck_assert_msg(strstr(r.x.proc.err, "removed container") &&
                      strstr(r.x.proc.err, "removed volume"),
                  "sweep: %s", r.x.proc.err);
    /* the lease expired meanwhile or not: the server re-queues; stop here */
    tu_proc_signal(&r.x.proc, SIGTERM);
    tu_agent_finish(&r);
    tu_agent_assert_clean(&r);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

/* ---------------------------------------------------------------- transport */

/* A CA and a certificate for 127.0.0.1 in dir (openssl). */
static void make_certs(const char *dir)
{
    char *cmd = wpd_xasprintf(
        "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
        "-subj /CN=wpdock-test-ca 2>/dev/null && "
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
        "-subj /CN=127.0.0.1 2>/dev/null && "
        "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile ext.cnf 2>/dev/null",
        dir);
    char *out = NULL;
    ck_assert_msg(tu_run(cmd, 1, &out) == 0, "openssl: %s", out);
    free(out);
    free(cmd);
}

START_TEST(test_tls_to_server)
{
    char *certs = tu_mkdtemp();
    make_certs(certs);
    char *cert = wpd_xasprintf("%s/server.pem", certs),
         *key = wpd_xasprintf("%s/server.key", certs);
    char *cavar = wpd_xasprintf("WPDOCK_GRPC_CA_FILE=%s/ca.pem", certs);
    tu_agent r;
    tu_agent_setup(&r, (const char *const[]){"--tls-cert", cert, "--tls-key", key, NULL});
    /* verified against the CA: works */
    char *payload = tu_agent_one_step(&r, "s", (const char *const[]){"echo over tls", NULL});
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL,
                   (const char *const[]){"WOODPECKER_GRPC_SECURE=true", cavar,
                                         "WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    char *doc = tu_wps_workflow(&r.srv, id);
    tu_assert_workflow_state(doc, "success");
    free(doc);
    /* without the CA the certificate is refused, clearly */
    tu_agent_start(&r, NULL,
                   (const char *const[]){"WOODPECKER_GRPC_SECURE=true",
                                         "WOODPECKER_CONNECT_RETRY_COUNT=1", NULL});
    int rc = tu_agent_finish(&r);
    ck_assert_msg(rc == 1 && strstr(r.x.proc.err, "certificate"), "exit %d: %s", rc, r.x.proc.err);
    /* skipping verification works, with a warning */
    free(payload);
    free(id);
    payload = tu_agent_one_step(&r, "s", (const char *const[]){"echo unverified", NULL});
    id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL,
                   (const char *const[]){"WOODPECKER_GRPC_SECURE=true",
                                         "WOODPECKER_GRPC_SKIP_VERIFY=true",
                                         "WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    ck_assert_msg(strstr(r.x.proc.err, "verif"), "no warning: %s", r.x.proc.err);
    doc = tu_wps_workflow(&r.srv, id);
    tu_assert_workflow_state(doc, "success");
    free(doc);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
    tu_rm_rf(certs);
    free(certs);
    free(cert);
    free(key);
    free(cavar);
}
END_TEST

/* Over TLS too, both engines' agents (authenticating at once), their
 * polls and reports share one connection to the server. */
START_TEST(test_tls_mixed_engines_one_connection)
{
    const char *podman = getenv("WPDOCK_PODMAN_HOST");
    const char *docker = getenv("WPDOCK_DOCKER_HOST");
    ck_assert_msg(podman && *podman && docker && *docker,
                  "WPDOCK_PODMAN_HOST and WPDOCK_DOCKER_HOST must name the engines "
                  "(scripts/engines-up)");
    char *certs = tu_mkdtemp();
    make_certs(certs);
    char *cert = wpd_xasprintf("%s/server.pem", certs),
         *key = wpd_xasprintf("%s/server.key", certs);
    char *cavar = wpd_xasprintf("WPDOCK_GRPC_CA_FILE=%s/ca.pem", certs);
    tu_agent r;
    tu_agent_setup(&r, (const char *const[]){"--tls-cert", cert, "--tls-key", key, NULL});
    char *d = wpd_xasprintf("docker=%s", docker), *p = wpd_xasprintf("podman=%s", podman);
    const char *want[2] = {"docker", "podman"};
    char *ids[2];
    for (int i = 0; i < 2; i++) {
        char *pl = tu_agent_one_step(&r, "s", (const char *const[]){"echo over tls", NULL});
        char *labels = wpd_xasprintf("{\"engine\":\"%s\"}", want[i]);
        ids[i] = tu_wps_queue(&r.srv, pl, labels, 10);
        free(labels);
        free(pl);
    }
    tu_agent_start(&r, (const char *const[]){"--engine", d, "--engine", p, NULL},
                   (const char *const[]){"WOODPECKER_GRPC_SECURE=true", cavar, NULL});
    for (int i = 0; i < 2; i++) {
        char *doc = tu_wps_wait_done(&r.srv, ids[i], 120);
        tu_assert_workflow_state(doc, "success");
        free(doc);
        free(ids[i]);
    }
    assert_one_connection(&r);
    tu_proc_signal(&r.x.proc, SIGTERM);
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    tu_agent_teardown(&r);
    tu_rm_rf(certs);
    free(certs);
    free(cert);
    free(key);
    free(cavar);
    free(d);
    free(p);
}
END_TEST

START_TEST(test_unix_socket_server)
{
    char *sockdir = tu_mkdtemp();
    char *sock = wpd_xasprintf("%s/grpc.sock", sockdir);
    tu_agent r;
    tu_agent_setup(&r, (const char *const[]){"--grpc-unix", sock, NULL});
    ck_assert_msg(strncmp(r.srv.grpc, "unix://", 7) == 0, "grpc address %s", r.srv.grpc);
    char *payload = tu_agent_one_step(&r, "s", (const char *const[]){"echo over a socket", NULL});
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    char *doc = tu_wps_workflow(&r.srv, id);
    tu_assert_workflow_state(doc, "success");
    free(doc);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
    tu_rm_rf(sockdir);
    free(sockdir);
    free(sock);
}
END_TEST

START_TEST(test_big_payload)
{
    /* a Next answer of more than 16 MiB (the Go agent takes 4 MiB at most) */
    tu_agent r;
    tu_agent_setup(&r, NULL);
    tu_wf *b = tu_wf_new();
    tu_wf_step(b, "s", 0, (const char *const[]){"echo ${#BIG}", NULL});
    snprintf(r.uuid, sizeof r.uuid, "s-%s", r.tag);
    wpd_jw_kstr(tu_wf_json(b), "uuid", r.uuid);
    size_t n = (size_t)17 << 20;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    /* in a secret: not in the container's environment (Linux caps an
     * environment string at 128 KiB), but in the payload */
    tu_wf_end_pipeline(b);
    wpd_jsonw *w = tu_wf_json(b);
    wpd_jw_key(w, "secrets");
    wpd_jw_arr_begin(w);
    wpd_jw_obj_begin(w);
    wpd_jw_kstr(w, "name", "big");
    wpd_jw_kstr(w, "value", big);
    wpd_jw_obj_end(w);
    wpd_jw_arr_end(w);
    free(big);
    char *path = tu_wf_save(b);
    size_t len = 0;
    char *payload = tu_read_file(path, &len);
    unlink(path);
    free(path);
    ck_assert_msg(len > n, "payload of %zu bytes", len);
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_AGENT_SINGLE_WORKFLOW=true", NULL});
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    char *doc = tu_wps_workflow(&r.srv, id);
    tu_assert_workflow_state(doc, "success");
    free(doc);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_token_expiry_and_retry_window)
{
    /* tokens live 3 s: every call after that is Unauthenticated until the
     * agent authenticates again; a 3 s retry window counted from the first
     * failure (not from the start of a long poll) survives a short outage
     * after a long idle Next */
    tu_agent r;
    tu_agent_setup(&r, (const char *const[]){"--token-ttl", "3", NULL});
    tu_agent_start(&r, NULL, (const char *const[]){"WOODPECKER_RETRY_TIMEOUT=3s", NULL});
    long long deadline = tu_now_ms() + 30000;
    while (count_calls(&r, "Next") < 1) {
        tu_proc_pump(&r.x.proc, 100);
        ck_assert_msg(tu_now_ms() < deadline, "no Next: %s", r.x.proc.err);
    }
    sleep(5); /* the Next has been open longer than the window */
    fault(&r, "{\"unavailable_for\":1}");
    sleep(2);
    char *payload = tu_agent_one_step(&r, "s", (const char *const[]){"sleep 5", "echo done", NULL});
    char *id = tu_wps_queue(&r.srv, payload, NULL, 10);
    char *doc = tu_wps_wait_done(&r.srv, id, 120);
    tu_assert_workflow_state(doc, "success");
    free(doc);
    ck_assert_msg(count_calls(&r, "Auth") >= 2, "never authenticated again");
    tu_proc_signal(&r.x.proc, SIGTERM);
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    free(id);
    free(payload);
    tu_agent_teardown(&r);
}
END_TEST

START_TEST(test_mixed_engines)
{
    const char *podman = getenv("WPDOCK_PODMAN_HOST");
    const char *docker = getenv("WPDOCK_DOCKER_HOST");
    ck_assert_msg(podman && *podman && docker && *docker,
                  "WPDOCK_PODMAN_HOST and WPDOCK_DOCKER_HOST must name the engines "
                  "(scripts/engines-up)");
    tu_agent r;
    tu_agent_setup(&r, NULL);
    char *d = wpd_xasprintf("docker=%s", docker), *p = wpd_xasprintf("podman=%s,max=2", podman);
    char *ids[3];
    const char *want[3] = {"podman", "docker", "podman"};
    for (int i = 0; i < 3; i++) {
        char *pl = tu_agent_one_step(&r, "s", (const char *const[]){"echo on an engine", NULL});
        char *labels = wpd_xasprintf("{\"engine\":\"%s\"}", want[i]);
        ids[i] = tu_wps_queue(&r.srv, pl, labels, 10);
        free(labels);
        free(pl);
    }
    tu_agent_start(&r, (const char *const[]){"--engine", d, "--engine", p, NULL}, NULL);
    for (int i = 0; i < 3; i++) {
        char *doc = tu_wps_wait_done(&r.srv, ids[i], 120);
        tu_assert_workflow_state(doc, "success");
        long long agent = tu_json_int(doc, "agent_id", 0);
        char path[32], *body = NULL;
        snprintf(path, sizeof path, "/agents/%lld", agent);
        ck_assert_int_eq(tu_wps_request(&r.srv, "GET", path, NULL, &body), 200);
        char *name = tu_json_str(body, "name");
        char *suffix = wpd_xasprintf("/%s", want[i]);
        ck_assert_msg(name && strstr(name, suffix), "workflow for %s ran on agent %s", want[i],
                      body);
        free(suffix);
        free(name);
        free(body);
        free(doc);
    }
    char *body = NULL;
    tu_wps_request(&r.srv, "GET", "/agents", NULL, &body);
    ck_assert_int_eq(tu_json_len(body, ""), 2);
    free(body);
    /* both engines' agents (authenticating at once) on one connection */
    assert_one_connection(&r);
    tu_proc_signal(&r.x.proc, SIGTERM);
    ck_assert_int_eq(tu_agent_finish(&r), 0);
    char *conf_path = wpd_xasprintf("%s/agent.conf", r.dir);
    char *conf = tu_read_file(conf_path, NULL);
    ck_assert_msg(conf && tu_json_int(conf, "agents.docker", -1) > 0 &&
                      tu_json_int(conf, "agents.podman", -1) > 0,
                  "config file: %s", conf ? conf : "(none)");
    free(conf);
    free(conf_path);
    for (int i = 0; i < 3; i++)
        free(ids[i]);
    free(d);
    free(p);
    tu_agent_teardown(&r);
}
END_TEST

/* one case per test, so CK_RUN_CASE=test_name runs just that one */
#define ADD(s, t)                                                                                  \
    do {                                                                                           \
        TCase *tc = tcase_create(#t);                                                              \
        tcase_set_timeout(tc, 300);                                                                \
        tcase_add_test(tc, t);                                                                     \
        suite_add_tcase(s, tc);                                                                    \
    } while (0)

static Suite *suite(void)
{
    Suite *s = suite_create("faults_agent");
    ADD(s, test_stored_id_reused);
    ADD(s, test_stateless_unregisters);
    ADD(s, test_refused_secret);
    ADD(s, test_version_mismatch);
    ADD(s, test_unreachable_server);
    ADD(s, test_server_stopped_mid_workflow);
    ADD(s, test_server_unavailable_mid_workflow);
    ADD(s, test_tokens_invalidated_mid_workflow);
    ADD(s, test_sigterm_mid_workflow);
    ADD(s, test_workflow_timeout);
    ADD(s, test_capacity_and_labels);
    ADD(s, test_ten_thousand_lines);
    ADD(s, test_health_endpoint);
    ADD(s, test_sweep_after_sigkill);
    ADD(s, test_tls_to_server);
    ADD(s, test_unix_socket_server);
    ADD(s, test_big_payload);
    ADD(s, test_token_expiry_and_retry_window);
    ADD(s, test_mixed_engines);
    ADD(s, test_log_backpressure);
    ADD(s, test_tls_mixed_engines_one_connection);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
