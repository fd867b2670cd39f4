/* fuzz_agent_proto.c - the server answers the agent decodes (core/agent
 * rpc.c with the protobuf-c messages generated from woodpecker.proto) and
 * the workflow payload of a Next answer (wpd_workflow_parse, as
 * core/agent/runner.c calls it).
 *
 * Input: [message][protobuf bytes]. message % 6 picks AuthResponse,
 * VersionResponse, NextResponse, RegisterAgentResponse, WaitResponse or
 * Empty.
 * Asserts:
 *   - a decoded message passes protobuf_c_message_check; packed again it
 *     decodes again, and that packs to the same bytes (decoding is stable).
 *     One exception, of protobuf-c 1.4.1: it refuses field number 0 only
 *     in a one-byte key, so a longer key for it (81 00) is kept as an
 *     unknown field, which packs as the one-byte key 01 and is then
 *     refused. The agent never packs an answer again; such a message only
 *     skips the re-decoding;
 *   - a NextResponse workflow's payload either becomes a workflow or is
 *     refused with a message naming the workflow. */
#include <stdio.h>
#include <string.h>

#include "agent/woodpecker_messages.pb-c.h"
#include "fuzz.h"
#include "wpdock/runtime.h"

static const ProtobufCMessageDescriptor *const descs[] = {
    &proto__auth_response__descriptor, &proto__version_response__descriptor,
    &proto__next_response__descriptor, &proto__register_agent_response__descriptor,
    &proto__wait_response__descriptor, &proto__empty__descriptor,
};

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len ? *len : 1);
    if (!b)
        abort();
    FZ_ASSERT(protobuf_c_message_pack(m, b) == *len);
    return b;
}

/* An unknown field numbered 0 in m or a message inside it. */
static int has_field_zero(const ProtobufCMessage *m)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return 1;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
            continue;
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)((const char *)m + f->offset);
        if (sub && has_field_zero(sub))
            return 1;
    }
    return 0;
}

static void check_workflow(const Proto__Workflow *pw)
{
    char label[96];
    snprintf(label, sizeof label, "workflow %.64s", pw->id ? pw->id : "");
    wpd_error err;
    memset(&err, 0, sizeof err);
    wpd_workflow *wf =
        wpd_workflow_parse(label, (const char *)pw->payload.data, pw->payload.len, &err);
    if (wf) {
        FZ_ASSERT(strcmp(wpd_workflow_label(wf), label) == 0);
        wpd_workflow_free(wf);
    } else {
        FZ_ASSERT(err.kind == WPD_ERR_INPUT || err.kind == WPD_ERR_NOMEM);
        FZ_ASSERT(strncmp(err.message, label, strlen(label)) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = {data, size};
    const ProtobufCMessageDescriptor *desc = descs[fz_byte(&in) % (sizeof descs / sizeof descs[0])];
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, in.n, in.p);
    if (!m)
        return 0;
    FZ_ASSERT(m->descriptor == desc);
    FZ_ASSERT(protobuf_c_message_check(m));

    size_t len1, len2;
    uint8_t *b1 = pack(m, &len1);
    ProtobufCMessage *m2 = protobuf_c_message_unpack(desc, NULL, len1, b1);
    FZ_ASSERT(m2 != NULL || has_field_zero(m));
    if (m2) {
        uint8_t *b2 = pack(m2, &len2);
        FZ_ASSERT(len1 == len2 && memcmp(b1, b2, len1) == 0);
        protobuf_c_message_free_unpacked(m2, NULL);
        free(b2);
    }
    free(b1);

    if (desc == &proto__next_response__descriptor) {
        const Proto__NextResponse *nr = (const Proto__NextResponse *)m;
        if (nr->workflow)
            check_workflow(nr->workflow);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
