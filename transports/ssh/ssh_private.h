/* ssh_private.h - the ssh transport plugin's own state, shared by ssh.c
 * (the descriptor, endpoint parsing) and session.c (the ssh processes). */
#ifndef WPDOCK_SSH_PRIVATE_H
#define WPDOCK_SSH_PRIVATE_H

#include <stddef.h>
#include <sys/types.h>

#define SSH_MAX_CHILDREN 256

typedef struct ssh_target {
    char user[128];     /* "" = ssh's default (config, $USER) */
    char host[256];     /* as written; [v6] brackets removed */
    int port;           /* 0 = ssh's default */
    char path[1024];    /* remote engine socket; "" = docker system dial-stdio */
    char command[1024]; /* WPDOCK_SSH_COMMAND, default "ssh" */
    int dial_stdio;     /* WPDOCK_SSH_DIAL_STDIO=1: never forward the docker socket */
    char label[1500];   /* "user@host:port" for messages */
} ssh_target;

typedef struct ssh_session {
    ssh_target t;
    char dir[256];     /* private directory: control socket, local forward */
    char control[300]; /* ControlPath of the master connection */
    char local[300];   /* path mode: the master's forward of the remote socket */
    pid_t master;      /* 0 = not started */
    int ready;         /* the master is up and the remote end was checked */
    int forwarded;     /* no path given: the remote docker socket is forwarded to local */
    char failed[512];  /* set once the master could not be made: every connect says so */
    pid_t children[SSH_MAX_CHILDREN]; /* dial-stdio processes still running */
    size_t n_children;
} ssh_session;

/* Parse "ssh://[user@]host[:port][/path]"; 0, or -1 with err. */
int ssh_parse(const char *endpoint, ssh_target *t, char *err, size_t errlen);

ssh_session *ssh_session_new(const ssh_target *t, char *err, size_t errlen);
/* A connected stream socket to the engine, or -1 with err. */
int ssh_session_connect(ssh_session *s, char *err, size_t errlen);
/* Ends the master and every child, removes the private directory. */
void ssh_session_free(ssh_session *s);

#endif
