/* stream.h - calls whose answer is a container's output stream (attach,
 * logs, exec start): the body demultiplexed on the fly (engine layer). */
#ifndef WPDOCK_ENGINE_STREAM_H
#define WPDOCK_ENGINE_STREAM_H

#include "engine/call.h"

/* Send rq and deliver its body to cbs; raw: the container has a TTY, so
 * the body is plain bytes, not frames. Never NULL. */
wpd_call *wpd_stream_open(wpd_engine *e, const wpd_call_req *rq, bool raw,
                          const wpd_output_cbs *cbs);

#endif
